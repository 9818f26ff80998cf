"""README.md's settings table (Deploying, Settings) against the environment variables the
code reads: a setting added without a row, or a row left after its setting went, fails."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Read by the code, deliberately not in the table (the README names them under it).
TEST_ONLY = {"TEST_DATABASE_URL", "JOB_TEST_DELAY_SECONDS", "BENCH_ROUTES"}


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def variables_read(source: str) -> set[str]:
    """Names in os.environ.get("X"), os.getenv("X"), _int_env("X", …), os.environ["X"] and
    "X" in os.environ."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (
                (isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value))
                or (isinstance(func, ast.Attribute) and func.attr == "getenv")
                or (isinstance(func, ast.Name) and func.id == "_int_env")
            ):
                name = _literal(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _literal(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            name = _literal(node.left)
        if name:
            names.add(name)
    return names


def code_settings() -> set[str]:
    files = [
        ROOT / "config.py",
        ROOT / "wsgi.py",
        ROOT / "gunicorn.conf.py",
        *sorted((ROOT / "app").rglob("*.py")),
    ]
    return set().union(*(variables_read(f.read_text()) for f in files))


def table_settings() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Settings\n", 1)[1]
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section.split("\n#", 1)[0], flags=re.M)
    assert len(rows) == len(set(rows)), "a setting has two rows"
    return set(rows)


def test_every_setting_the_code_reads_is_in_the_table_and_no_other() -> None:
    read, table = code_settings(), table_settings()
    assert read - TEST_ONLY - table == set(), "settings the README table lacks"
    assert table - read == set(), "rows for settings nothing reads any more"
    assert read >= TEST_ONLY, "a test-only setting is no longer read: drop it from TEST_ONLY"
    assert TEST_ONLY.isdisjoint(table)


def test_the_parser_finds_each_way_of_reading_a_setting() -> None:
    source = """
import os
A = os.environ.get("ONE", "x")
B = _int_env("TWO", 3)
C = os.environ["THREE"]
D = "FOUR" in os.environ
E = os.getenv("FIVE")
F = {"SIX": 1}.get("SIX")
"""
    assert variables_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}
