"""Views stay thin: no function in a views module is longer than 25 lines.

What counts: every top-level function of every `app/**/views.py`, routed or not, so
that a long view cannot hide in a private helper beside it (logic that makes a view long
belongs in a service or a helper module of the feature package). A function's length runs
from its `def` line to the last line of its body, docstring, comments and blank lines
inside it included; decorators are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 25


def function_lengths(source: str) -> dict[str, int]:
    """Each top-level function of a module, with its length in lines as defined above."""
    return {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def view_function_lengths() -> dict[str, int]:
    lengths = {}
    for path in sorted((ROOT / "app").rglob("views.py")):
        name = path.relative_to(ROOT).as_posix()
        for function, length in function_lengths(path.read_text(encoding="utf-8")).items():
            lengths[f"{name}::{function}"] = length
    return lengths


def test_the_counter_counts_from_def_to_the_last_line() -> None:
    source = (
        "@bp.route('/x')\n"  # a decorator: not counted
        "def short():\n"
        '    """Doc."""\n'
        "\n"
        "    return 1\n"
        "\n"
        "\n"
        "def long():\n" + "    x = 1\n" * 24 + "    return x\n"
    )
    assert function_lengths(source) == {"short": 4, "long": 26}


def test_the_walk_sees_every_views_module() -> None:
    lengths = view_function_lengths()
    modules = {key.split("::")[0] for key in lengths}
    assert {"app/auth/views.py", "app/admin/views.py", "app/imports/views.py", "app/pdf/views.py"} <= modules
    assert "app/auth/views.py::login" in lengths
    assert len(modules) >= 11


def test_no_view_function_is_longer_than_25_lines() -> None:
    too_long = {key: length for key, length in view_function_lengths().items() if length > MAX_LINES}
    assert too_long == {}, f"view functions over {MAX_LINES} lines: move the logic into a service"
