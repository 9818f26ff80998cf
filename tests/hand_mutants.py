"""Hand-written mutants of the parts of app/lifecycle/clocks.py that mutmut 3 does not
mutate: the `@property` bodies (Clock.days_left, overdue, text, inline_text; Period.label;
AgeBucket.label), `long_date` (only an f-string) and the module constants.

Each mutant is one text replacement in a copy of the project; tests/test_clocks.py runs
against it and must fail. Prints each mutant's fate and exits 1 when one survives that is
not listed in EXPECTED_SURVIVORS (with its reason in docs/mutation-equivalents.md).

Usage: python tests/hand_mutants.py [TEST ...]     (not a test module; minutes)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = "app/lifecycle/clocks.py"

# The two `if days < 0:` of Clock.text: the approximate clock's, then the exact one's.
APPROX_RETURN, EXACT_RETURN = "\n" + " " * 16 + "return", "\n" + " " * 12 + "return"

# (text in clocks.py, its replacement); the first occurrence is replaced.
MUTANTS = [
    ("RESPONSE_DAYS = 90", "RESPONSE_DAYS = 91"),
    ("RESOLUTION_MONTHS = 6", "RESOLUTION_MONTHS = 7"),
    ("UPDATE_INTERVAL_DAYS = 90", "UPDATE_INTERVAL_DAYS = 91"),
    ("GAO_IG_ACT_MONTHS = 12", "GAO_IG_ACT_MONTHS = 13"),
    ("REOPENED_RESPONSE_DAYS = 90", "REOPENED_RESPONSE_DAYS = 91"),
    ("REVISED_RESPONSE_DAYS = 30", "REVISED_RESPONSE_DAYS = 31"),
    ("UPDATE_DUE_SOON_DAYS = 30", "UPDATE_DUE_SOON_DAYS = 31"),
    ('AgeBucket.UNDER_6_MONTHS: "Under 6 months"', 'AgeBucket.UNDER_6_MONTHS: "XX"'),
    ('AgeBucket.OVER_5_YEARS: "Over 5 years"', 'AgeBucket.OVER_5_YEARS: "XX"'),
    ("(AgeBucket.UNDER_6_MONTHS, 6)", "(AgeBucket.UNDER_6_MONTHS, 7)"),
    ("(AgeBucket.MONTHS_6_TO_12, 12)", "(AgeBucket.MONTHS_6_TO_12, 13)"),
    ("(AgeBucket.YEARS_1_TO_2, 24)", "(AgeBucket.YEARS_1_TO_2, 25)"),
    ("(AgeBucket.YEARS_2_TO_5, 60)", "(AgeBucket.YEARS_2_TO_5, 61)"),
    ("return AGE_LABELS[self]", "return self.value"),
    ("{start.day}, {start.year} –", "{start.day}, {end.year} –"),
    ("return (self.due - self.today).days", "return (self.today - self.due).days"),
    ("return (self.due - self.today).days", "return (self.due - self.today).days + 1"),
    ("return self.days_left < 0", "return self.days_left <= 0"),
    ("return self.days_left < 0", "return self.days_left < -1"),
    ("        if self.approximate:", "        if not self.approximate:"),
    ("if days < 0:" + APPROX_RETURN, "if days <= 0:" + APPROX_RETURN),
    ("if days < 0:" + APPROX_RETURN, "if days < -1:" + APPROX_RETURN),
    ('when = f"about {self.due:%B} {self.due.year}"', 'when = f"about {self.today:%B} {self.today.year}"'),
    ("if days < 0:" + EXACT_RETURN, "if days <= 0:" + EXACT_RETURN),
    ("if days < 0:" + EXACT_RETURN, "if days < -1:" + EXACT_RETURN),
    ("overdue by {_days(-days)}", "overdue by {_days(days)}"),
    ("        if days == 0:", "        if days == 1:"),
    ("        if days == 1:", "        if days == 2:"),
    ("        if days == 1:", "        if days == 0:"),
    ('f"{self.label} due in {_days(days)}"', 'f"{self.label} due in {_days(days + 1)}"'),
    ("return text[:1].lower() + text[1:]", "return text[:1] + text[1:]"),
    ("return text[:1].lower() + text[1:]", "return text.lower()"),
    ('return wording.count(n, "day")', 'return wording.count(n, "days")'),
    ('return f"{day:%B} {day.day}, {day.year}"', 'return f"{day:%B} {day.month}, {day.year}"'),
    ('return f"{day:%B} {day.day}, {day.year}"', 'return f"{day:%b} {day.day}, {day.year}"'),
]  # fmt: skip

# Not read in clocks.py (deadlines.py and queries.py use it), so test_clocks cannot see it.
EXPECTED_SURVIVORS = {"UPDATE_DUE_SOON_DAYS = 31"}


def main(tests: list[str]) -> int:
    tests = tests or ["tests/test_clocks.py"]
    skip = shutil.ignore_patterns(".git", ".venv", "node_modules", "static", "mutants", "__pycache__")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    unexpected = 0
    with tempfile.TemporaryDirectory(prefix="hand-mutants-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(ROOT, work, ignore=skip)
        env["RECTRACK_TEST_DB_TEMPLATE"] = str(Path(tmp) / "test-db.sqlite")  # migrated once
        target = work / TARGET
        original = target.read_text()
        for old, new in MUTANTS:
            if old not in original:
                print(f"not found in {TARGET} (update the list): {old!r}")
                unexpected += 1
                continue
            target.write_text(original.replace(old, new, 1))
            pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly"]
            run = subprocess.run(
                [*pytest, *tests],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            fate = {0: "SURVIVED", 1: "killed"}.get(run.returncode, f"error (pytest exit {run.returncode})")
            if run.returncode != 1 and new not in EXPECTED_SURVIVORS:
                unexpected += 1
            print(f"{fate:9} {new.strip()[:80]!r}", flush=True)
        target.write_text(original)
    print(f"{len(MUTANTS)} hand mutants; unexpected survivors or errors: {unexpected}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
