"""Print the mutation score of each mutated file from `mutmut results --all true`, leaving
out the equivalent mutants listed (in backquotes) in docs/mutation-equivalents.md, and
fail when a file's score is under the minimum or a survivor is neither killed nor listed.

Usage: python tests/mutation_score.py RESULTS EQUIVALENTS_MD FILE... [--min 95]
(`make mutation` runs it; not a test module.)
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".") + "."


def main(argv: list[str]) -> int:
    minimum = 95.0
    if "--min" in argv:
        at = argv.index("--min")
        minimum = float(argv[at + 1])
        del argv[at : at + 2]
    results, equivalents_md, *files = argv
    lines = [line.rsplit(":", 1) for line in Path(results).read_text().splitlines() if ":" in line]
    statuses = {name.strip(): status.strip() for name, status in lines}
    equivalent = set(re.findall(r"`([\w.]+__mutmut_\d+)`", Path(equivalents_md).read_text()))
    stale = sorted(n for n in equivalent if statuses.get(n) in KILLED)
    failed = False
    print(f"{'file':32} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'alive':>5} {'score':>7}")
    for path in files:
        mine = {n: s for n, s in statuses.items() if n.startswith(module_of(path))}
        counts = Counter("killed" if s in KILLED else s for s in mine.values())
        alive = sorted(
            n for n, s in mine.items() if s not in KILLED and s != "skipped" and n not in equivalent
        )
        listed = sum(1 for n, s in mine.items() if n in equivalent and s not in KILLED)
        scored = len(mine) - counts["skipped"] - listed
        score = 100.0 * counts["killed"] / scored if scored else 0.0
        print(f"{path:32} {len(mine):7} {counts['killed']:6} {listed:6} {len(alive):5} {score:6.1f}%")
        for name in alive:
            print(f"    alive, not listed as equivalent: {name} ({mine[name]})")
        failed |= score < minimum or not mine
    for name in stale:
        print(f"    listed as equivalent but killed now (remove it from the list): {name}")
    print(f"Minimum: {minimum:.0f}% of the non-equivalent mutants killed in each file.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
