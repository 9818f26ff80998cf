"""Boundaries: the import contracts hold, commands live in their feature packages, and the
"as of" date is read by one function for the PDF pages and the `pdf` command."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import click
import pytest
from flask import Flask

from app.filters import AsOfError, parse_as_of
from tests.conftest import report_by_number

ROOT = Path(__file__).resolve().parent.parent
NOW = date(2026, 3, 31)


def test_import_contracts_hold() -> None:
    """The same check `make lint` runs: a view importing another view, or the core importing
    a feature, breaks a contract."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, NOW),
        ("", NOW),
        ("2026-03-30", date(2026, 3, 30)),
        ("2026-03-31", NOW),
        ("1999-12-31", date(1999, 12, 31)),
    ],
)
def test_as_of_today_or_earlier_is_accepted(value: str | None, expected: date) -> None:
    assert parse_as_of(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-04-01", "The “as of” date cannot be in the future."),
        ("2026-02-30", "The “as of” date must be a real date written YYYY-MM-DD."),
        ("31/03/2026", "The “as of” date must be a real date written YYYY-MM-DD."),
    ],
)
def test_as_of_after_today_or_not_a_date_is_refused(value: str, message: str) -> None:
    with pytest.raises(AsOfError) as refused:
        parse_as_of(value, NOW)
    assert str(refused.value) == message


def test_page_and_command_word_a_bad_as_of_alike(app: Flask, as_role, tmp_path: Path) -> None:
    """One parser: the PDF page and the `pdf` command refuse 30 February in the same words."""
    message = "The “as of” date must be a real date written YYYY-MM-DD."
    report = report_by_number("OIG-12-15")
    page = as_role("viewer").get(f"/reports/{report.id}/status.pdf?as_of=2024-02-30")
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    target = tmp_path / "x.pdf"
    result = app.test_cli_runner().invoke(
        args=["pdf", "report", "OIG-12-15", "--as-of", "2024-02-30", "--output", str(target)]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert not target.exists()


@pytest.mark.parametrize(
    ("path", "module"),
    [
        (["seed"], "app.seed.cli"),
        (["demo-users"], "app.seed.cli"),
        (["users", "create"], "app.auth.cli"),
        (["users", "sso-unlink"], "app.auth.cli"),
        (["import"], "app.imports.cli"),
        (["pdf", "report"], "app.pdf.cli"),
        (["pdf", "component"], "app.pdf.cli"),
        (["pdf", "portfolio"], "app.pdf.cli"),
        (["demo-data"], "app.demo.cli"),
        (["db-roles", "create-runtime"], "app.admin.cli"),
    ],
)
def test_each_command_is_registered_from_its_feature_package(
    app: Flask, path: list[str], module: str
) -> None:
    command = app.cli.commands[path[0]]
    for name in path[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.callback.__module__ == module
