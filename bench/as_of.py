"""Time the recommendation list as of a past date against today's, straight on a
database (no web server): the count, the first keyset page and the replay of that page's
rows, as `/recommendations?as_of=...` does them. Build the database first, e.g.

    DATABASE_URL=sqlite:////tmp/rt100k.db flask --app app db upgrade
    DATABASE_URL=sqlite:////tmp/rt100k.db flask --app app seed --components-only
    DATABASE_URL=sqlite:////tmp/rt100k.db flask --app app demo-data --reports 10000 --recommendations 100000

then `DATABASE_URL=sqlite:////tmp/rt100k.db SECRET_KEY=... python bench/as_of.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import clock, create_app
from app.auth.policy import Reader
from app.extensions import db
from app.filters import RecFilters
from app.lifecycle.queries import count_of
from app.models import Role
from app.recommendations.queries import SORTS, recommendation_list, states_on
from app.web import keyset_page

PAST = date(2024, 3, 31)
CASES = [
    ("no filter", RecFilters()),
    ("status=open", RecFilters(status="open")),
    ("clock=response_overdue", RecFilters(clock="response_overdue")),
    ("clock=update_overdue", RecFilters(clock="update_overdue")),
    ("clock=gao_ig_act", RecFilters(clock="gao_ig_act")),
]


def main() -> None:
    app = create_app()
    with app.test_request_context("/recommendations"):
        session, today, sort = db.session, clock.today(), SORTS["newest"]
        for role in (Role.OIG, Role.VIEWER):
            for label, live in CASES:
                for filters in (live, RecFilters(**{**live.__dict__, "as_of": PAST})):
                    times = []
                    for _ in range(5):
                        started = time.perf_counter()
                        stmt = recommendation_list(Reader(role), filters, filters.day(today), 90)
                        total = session.scalar(count_of(stmt))
                        page = keyset_page(session, stmt, sort.keys, sort.values)
                        states_on(session, [r.id for r in page.items], filters.as_of)
                        times.append((time.perf_counter() - started) * 1000)
                        session.rollback()
                    when = f"as of {PAST}" if filters.as_of else "today"
                    print(
                        f"{role.value:7} {when:17} {label:24} {total:7,} rows  p50 {statistics.median(times):6.1f} ms"
                    )


if __name__ == "__main__":
    main()
