from datetime import date
import sqlalchemy as sa
from app.extensions import db
from app.filters import RecFilters
from app.lifecycle import deadlines
from app.lifecycle.history import states_as_of
from app.recommendations.queries import recommendation_list
from app.auth.policy import Reader
from app.models import Role, RecStatus
from app.lifecycle.clocks import AgeBucket


def test_scratch():
    user = Reader(Role.OIG)
    for day in (date(2015, 1, 1), date(2019, 6, 30), date(2024, 3, 31)):
        snaps = states_as_of(db.session, day)
        for status in ["", "open", "closed", *[s.value for s in RecStatus]]:
            f = RecFilters(status=status, as_of=day)
            ids = set(db.session.scalars(recommendation_list(user, f, date(2026, 11, 16), 90).with_only_columns(sa.literal_column("recommendations.id"))))
            exp = {i for i, s in snaps.items() if not status or (status == "open" and s.status.is_open) or (status == "closed" and not s.status.is_open) or s.status.value == status}
            assert ids == exp, (day, status)
        for clock in deadlines.CLOCK_FILTERS:
            f = RecFilters(clock=clock, as_of=day)
            stmt = recommendation_list(user, f, date(2026, 11, 16), 90)
            print(stmt.compile(compile_kwargs={"literal_binds": True})) if clock == "update_due" and day.year == 2015 else None
            ids = set(db.session.scalars(stmt.with_only_columns(sa.literal_column("recommendations.id"))))
            exp = set()
            for i, s in snaps.items():
                rc = deadlines.recommendation_clocks(s, s.rec.report.issued_on, day)
                parts = [deadlines.addressee_clocks(s, a, s.rec.report.issued_on, day, 90) for a in s.addressees]
                if deadlines.clock_matches(clock, rc, parts):
                    exp.add(i)
            print(day, clock, len(ids), len(exp))
            assert ids == exp, (day, clock, ids ^ exp)
