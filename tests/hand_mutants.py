# ruff: noqa: E501  (the mutants are one replacement a line, quoted in full)
"""Hand-written mutants of the parts of the domain core that mutmut 3 does not mutate.

app/lifecycle/clocks.py: the `@property` bodies (Clock.days_left, overdue, text,
inline_text; Period.label; AgeBucket.label), `long_date` (only an f-string) and the module
constants, against tests/test_clocks.py. app/lifecycle/deadlines.py: the module constants
and class bodies (the list filters `_FILTERS`, LATE_CLOCKS, ADDRESSEE_CLOCKS, the stored
column lists, DeadlinePolicy's defaults, ...), against tests/test_deadline_registry.py.

Each mutant is one text replacement in a copy of the project; its group's tests run
against it and must fail. Prints each mutant's fate and exits 1 when one survives that is
not listed in EXPECTED_SURVIVORS (with its reason in docs/mutation-equivalents.md).

Usage: python tests/hand_mutants.py [clocks|deadlines ...]  (default both; not a test
module; minutes)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCKS = "app/lifecycle/clocks.py"
DEADLINES = "app/lifecycle/deadlines.py"

# The two `if days < 0:` of Clock.text: the approximate clock's, then the exact one's.
APPROX_RETURN, EXACT_RETURN = "\n" + " " * 16 + "return", "\n" + " " * 12 + "return"

# (text in clocks.py, its replacement); the first occurrence is replaced.
CLOCK_MUTANTS = [
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

# (file, text in it, its replacement); the first occurrence is replaced.
DEADLINE_MUTANTS = [
    (DEADLINES, "AWAITING_RESPONSE = (ResponseState.NONE, ResponseState.RETURNED)", "AWAITING_RESPONSE = (ResponseState.NONE,)"),
    (DEADLINES, "AWAITING_RESPONSE = (ResponseState.NONE, ResponseState.RETURNED)", "AWAITING_RESPONSE = (ResponseState.NONE, ResponseState.RETURNED, ResponseState.SUBMITTED)"),
    (DEADLINES, 'NO_UPDATES_NON_CONCUR = "No progress updates due:', 'NO_UPDATES_NON_CONCUR = "No progress update due:'),
    (DEADLINES, "update_interval_days: int = clocks.UPDATE_INTERVAL_DAYS", "update_interval_days: int = clocks.REVISED_RESPONSE_DAYS"),
    (DEADLINES, "revised_response_days: int = clocks.REVISED_RESPONSE_DAYS", "revised_response_days: int = clocks.UPDATE_INTERVAL_DAYS"),
    (DEADLINES, 'REC_DUE_COLUMNS = ("resolution_due", "gao_ig_act_from")', 'REC_DUE_COLUMNS = ("resolution_due",)'),
    (DEADLINES, 'ADDRESSEE_DUE_COLUMNS = ("response_due", "update_due", "target_due")', 'ADDRESSEE_DUE_COLUMNS = ("response_due", "update_due")'),
    (DEADLINES, "days_after_today: int = 0", "days_after_today: int = 1"),
    (DEADLINES, '"response_overdue", "Response overdue", "addressee", "response_due"', '"response_overdue", "Response overdue", "addressee", "target_due"'),
    (DEADLINES, '"Response overdue", "addressee"', '"Response overdue!", "addressee"'),
    (DEADLINES, '"Resolution past 6 months", "recommendation", "resolution_due"', '"Resolution past 6 months", "recommendation", "gao_ig_act_from"'),
    (DEADLINES, '"Target date passed", "addressee", "target_due"', '"Target date passed", "addressee", "update_due"'),
    (DEADLINES, "clocks.UPDATE_DUE_SOON_DAYS + 1", "clocks.UPDATE_DUE_SOON_DAYS"),
    (DEADLINES, "clocks.UPDATE_DUE_SOON_DAYS + 1", "clocks.UPDATE_DUE_SOON_DAYS + 2"),
    (DEADLINES, '"Update overdue", "addressee", "update_due"', '"Update overdue", "addressee", "update_due", 1'),
    (DEADLINES, '"recommendation", "gao_ig_act_from", 1)', '"recommendation", "gao_ig_act_from", 0)'),
    (DEADLINES, '"recommendation", "gao_ig_act_from", 1)', '"recommendation", "gao_ig_act_from", 2)'),
    (DEADLINES, "CLOCK_FILTERS = {f.name: f.label for f in _FILTERS}", "CLOCK_FILTERS = {f.name: f.name for f in _FILTERS}"),
    (DEADLINES, 'LATE_CLOCKS = ("response_overdue", "resolution_overdue", "target_overdue", "update_overdue")', 'LATE_CLOCKS = ("response_overdue", "resolution_overdue", "target_overdue", "update_due")'),
    (DEADLINES, 'f.name for f in _FILTERS if f.level == "addressee"', 'f.name for f in _FILTERS if f.level != "recommendation" and f.days_after_today == 0'),
    (DEADLINES, "CLOCKS_ON_ISSUE_DATE: frozenset[str] = frozenset()", 'CLOCKS_ON_ISSUE_DATE: frozenset[str] = frozenset({"gao_ig_act"})'),
    # read by deadlines.py's "update due" filter, which test_clocks.py cannot see
    (CLOCKS, "UPDATE_DUE_SOON_DAYS = 30", "UPDATE_DUE_SOON_DAYS = 31"),
]  # fmt: skip

# (the tests to run, the mutants) by group.
GROUPS = {
    "clocks": (["tests/test_clocks.py"], [(CLOCKS, old, new) for old, new in CLOCK_MUTANTS]),
    "deadlines": (["tests/test_deadline_registry.py"], DEADLINE_MUTANTS),
}

# Not read in clocks.py (deadlines.py and queries.py use it), so test_clocks cannot see
# it; the "deadlines" group runs it again against tests/test_deadline_registry.py.
EXPECTED_SURVIVORS = {("clocks", "UPDATE_DUE_SOON_DAYS = 31")}


def main(groups: list[str]) -> int:
    groups = groups or list(GROUPS)
    skip = shutil.ignore_patterns(".git", ".venv", "node_modules", "static", "mutants", "__pycache__")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    unexpected = total = 0
    with tempfile.TemporaryDirectory(prefix="hand-mutants-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(ROOT, work, ignore=skip)
        env["RECTRACK_TEST_DB_TEMPLATE"] = str(Path(tmp) / "test-db.sqlite")  # migrated once
        for group in groups:
            tests, mutants = GROUPS[group]
            for path, old, new in mutants:
                total += 1
                target = work / path
                original = target.read_text()
                if old not in original:
                    print(f"not found in {path} (update the list): {old!r}")
                    unexpected += 1
                    continue
                target.write_text(original.replace(old, new, 1))
                pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly"]
                try:
                    run = subprocess.run(
                        [*pytest, *tests],
                        cwd=work,
                        env=env,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                finally:
                    target.write_text(original)
                fate = {0: "SURVIVED", 1: "killed"}.get(
                    run.returncode, f"error (pytest exit {run.returncode})"
                )
                if run.returncode != 1 and (group, new) not in EXPECTED_SURVIVORS:
                    unexpected += 1
                print(f"{group:9} {fate:9} {new.strip()[:80]!r}", flush=True)
    print(f"{total} hand mutants; unexpected survivors or errors: {unexpected}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
