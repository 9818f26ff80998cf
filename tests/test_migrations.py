"""The schema comes only from migrations: one head, a working downgrade for every
revision, and models that match the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.database import AppSession, include_in_migrations
from app.extensions import db
from config import TestingConfig
from tests.conftest import FIXTURE_SEED

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _script() -> ScriptDirectory:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_there_is_one_head() -> None:
    assert len(_script().get_heads()) == 1


def test_every_revision_has_a_downgrade() -> None:
    for revision in _script().walk_revisions():
        source = Path(revision.path).read_text()
        body = source.split("def downgrade() -> None:", 1)[1]
        assert body.strip() != "pass", revision.revision


def test_models_match_migrations(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_in_migrations}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def _enum_columns() -> dict[tuple[str, str], list[str]]:
    """(table, column) -> the values of the model's enum, for every enum column."""
    found = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            enum_class = getattr(column.type, "enum_class", None)
            if isinstance(column.type, sa.Enum) and enum_class is not None:
                assert issubclass(enum_class, enum.Enum)
                found[(table.name, column.name)] = [m.value for m in enum_class]
    return found


_SQLITE_IN_LIST = re.compile(r"CHECK \((\w+) IN \(([^)]*)\)\)")
# PostgreSQL prints `col IN ('a', 'b')` on a VARCHAR as
# CHECK (((col)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))
_POSTGRESQL_IN_LIST = re.compile(r"CHECK \(+\"?(\w+)\"?\)?::text = ANY \(+ARRAY\[([^\]]*)\]")


def _check_lists(conn: sa.Connection) -> dict[tuple[str, str], list[str]]:
    """(table, column) -> the values a CHECK constraint of the database allows there,
    read from the database's own catalogue."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        pattern = _SQLITE_IN_LIST
    else:
        rows = conn.execute(
            sa.text(
                "SELECT t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE c.contype = 'c' AND t.relnamespace = 'public'::regnamespace"
            )
        ).all()
        pattern = _POSTGRESQL_IN_LIST
    found: dict[tuple[str, str], list[str]] = {}
    for table, sql in rows:
        for column, values in pattern.findall(sql or ""):
            assert (table, column) not in found, f"two value lists for {table}.{column}"
            found[(table, column)] = re.findall(r"'((?:[^']|'')*)'", values)
    return found


def test_each_enum_check_list_matches_its_model_enum(app: Flask) -> None:
    """Adding a member to an enum without a migration that widens its CHECK fails here
    (compare_metadata does not look inside CHECK constraints)."""
    with app.app_context(), db.engine.connect() as conn:
        in_database = _check_lists(conn)
    in_models = _enum_columns()
    assert len(in_models) >= 10  # every enum column, not a few found by chance
    for key, values in in_models.items():
        assert key in in_database, f"{key[0]}.{key[1]} has no CHECK constraint listing its values"
        missing = sorted(set(values) - set(in_database[key]))
        extra = sorted(set(in_database[key]) - set(values))
        assert sorted(in_database[key]) == sorted(values), (
            f"{key[0]}.{key[1]}: the model's enum has {missing or 'nothing'} that the CHECK lacks, "
            f"the CHECK allows {extra or 'nothing'} that the enum lacks; a migration must change the CHECK"
        )


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        (
            "sqlite",
            "CREATE TABLE addressees (id INTEGER NOT NULL, response_state VARCHAR(32) NOT NULL, "
            "CONSTRAINT response_state CHECK (response_state IN ('none', 'submitted', 'it''s')), "
            "CONSTRAINT number_positive CHECK (number > 0))",
            {"response_state": ["none", "submitted", "it''s"]},
        ),
        (
            "postgresql",
            "CHECK (((response_state)::text = ANY ((ARRAY['none'::character varying, "
            "'submitted'::character varying])::text[])))",
            {"response_state": ["none", "submitted"]},
        ),
        ("postgresql", "CHECK ((number > 0))", {}),
    ],
)
def test_the_check_list_reader_reads_each_dialects_catalogue(dialect: str, sql: str, expected: dict) -> None:
    """The enum test above reads CHECK lists with these patterns; written-out catalogue
    text of both databases (the PostgreSQL form as pg_get_constraintdef prints it), so a
    pattern that finds nothing cannot pass unnoticed on either."""
    pattern = _SQLITE_IN_LIST if dialect == "sqlite" else _POSTGRESQL_IN_LIST
    found = {column: re.findall(r"'((?:[^']|'')*)'", values) for column, values in pattern.findall(sql)}
    assert found == expected


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A separate empty database for upgrade/downgrade round trips."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    # Named after the suite's database, so two suites on one server never share it.
    name = f"{url.database}_migration"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


# Downgrades below 0007 drop audit data; they need the operator's explicit flag.
DROP_AUDIT_TRAIL = ["drop-audit-trail=yes"]


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_round_trip_one_step_at_a_time(scratch_url: str) -> None:
    app = create_app(TestingConfig(scratch_url))
    revisions = [r.revision for r in reversed(list(_script().walk_revisions()))]
    with app.app_context():
        for revision in revisions:  # up one revision at a time
            upgrade(revision=revision)
        assert "audit_events" in _tables(scratch_url)
        for _ in revisions:  # and back down one at a time
            downgrade(revision="-1", x_arg=DROP_AUDIT_TRAIL)
        assert _tables(scratch_url) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_in_migrations}
            )
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()


def _version(conn: sa.Connection) -> str:
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def test_downgrade_refuses_to_drop_the_audit_trail_without_the_flag(
    scratch_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A downgrade that would drop audit_events (0001) or its object_label column (0007)
    stops with a message naming the flag, and leaves the schema and every event as they
    were; with `-x drop-audit-trail=yes` it goes ahead."""
    app = create_app(TestingConfig(scratch_url))
    event = (
        "INSERT INTO audit_events (occurred_at, actor_label, actor_role, action, changes, outcome, "
        "object_label) VALUES ('2026-11-16 17:00:00', 'cli: test', 'system', 'test event', '{}', "
        "'success', 'kept label')"
    )
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(sa.text(event))
            head = _version(conn)
        for target in ("0006_login_throttle", "base"):
            with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
                downgrade(revision=target)
            logged = capfd.readouterr().err
            assert "Refusing to downgrade 0007_audit_access" in logged
            assert "audit_events.object_label (1 audit event(s))" in logged
            assert "-x drop-audit-trail=yes" in logged
            with db.engine.connect() as conn:
                assert _version(conn) == head  # not even the later revisions went down
                assert conn.execute(sa.text("SELECT action, object_label FROM audit_events")).all() == [
                    ("test event", "kept label")
                ]
        downgrade(revision="0006_login_throttle", x_arg=DROP_AUDIT_TRAIL)  # the label goes, the event stays
        with db.engine.connect() as conn:
            assert _version(conn) == "0006_login_throttle"
            assert conn.execute(sa.text("SELECT action FROM audit_events")).scalars().all() == ["test event"]
        with pytest.raises(SystemExit):
            downgrade(revision="base")
        logged = capfd.readouterr().err
        assert "Refusing to downgrade 0001_initial" in logged
        assert "table audit_events (1 audit event(s))" in logged
        with db.engine.connect() as conn:
            assert _version(conn) == "0006_login_throttle"
            assert conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 1
        downgrade(revision="base", x_arg=DROP_AUDIT_TRAIL)
        db.engine.dispose()
    assert _tables(scratch_url) <= {"alembic_version"}


PRE_LIFECYCLE_ROWS = [
    "INSERT INTO components (id, abbreviation, name, active) "
    "VALUES (1, 'I&A', 'x', true), (2, 'FEMA', 'y', true)",
    "INSERT INTO reports (id, title, issued_on, issued_on_approximate, sensitivity, created_at, updated_at) "
    "VALUES (1, 'Fusion centers', '2011-12-06', false, 'public', '2020-01-01', '2020-01-01')",
    "INSERT INTO recommendations (id, report_id, number, text, text_source, significant, sensitivity, "
    "status, created_at, updated_at) VALUES (1, 1, 3, 'CPG-502', 'summary', false, 'public', "
    "'open_unresolved', '2020-01-01', '2020-01-01')",
    "INSERT INTO addressees (recommendation_id, component_id, is_lead, concurrence, response, response_date) "
    "VALUES (1, 1, false, 'non_concur', '', NULL), (1, 2, false, 'concur', '', '2012-01-15')",
]


def test_lifecycle_migration_backfills_history(scratch_url: str) -> None:
    """Data entered before the lifecycle existed gets the start of its history."""
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0001_initial")
        with db.engine.begin() as conn:
            for statement in PRE_LIFECYCLE_ROWS:
                conn.execute(sa.text(statement))
        upgrade(revision="0002_lifecycle")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT kind, effective_on, status_after, concurrence_after "
                    "FROM recommendation_events ORDER BY id"
                )
            ).all()
            states = conn.execute(
                sa.text("SELECT response_state, closure_state, version FROM addressees")
            ).all()
        assert [(k, str(d), s, c) for k, d, s, c in rows] == [
            ("created", "2011-12-06", "open_unresolved", None),
            ("concurrence_recorded", "2011-12-06", None, "non_concur"),
            ("concurrence_recorded", "2012-01-15", None, "concur"),
        ]
        assert set(states) == {("none", "none", 1)}
        downgrade(revision="0001_initial")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM addressees")).scalar() == 2
        db.engine.dispose()


def test_audit_label_migration_names_older_events_as_the_app_does(scratch_url: str) -> None:
    """0006 names the events written before audit_events.object_label existed; its SQL
    gives each record the same name as app/audit_labels.py."""
    from app import audit
    from app.auth.services import create_user
    from app.models import Addressee, Attachment, AuditEvent, Component, Recommendation, Report, Role
    from app.seed.services import load_seed

    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade()
        actor = audit.AuditActor.system("tests: migration")
        # db.session is the suite's own (conftest); this database gets a session of its own.
        with AppSession(db.engine, info={"audit_actor": actor}) as session:
            load_seed(session, actor, FIXTURE_SEED, today=date(2026, 11, 16))
            create_user(
                session,
                email="named@test.example",
                display_name="Named",
                role=Role.OIG,
                password="correct horse battery staple",
            )
            cpg = session.scalar(
                sa.select(Recommendation)
                .join(Report)
                .where(Report.number == "OIG-12-15", Recommendation.number == 3)
            )
            fema_part = session.scalar(
                sa.select(Addressee)
                .join(Component)
                .where(Addressee.recommendation_id == cpg.id, Component.abbreviation == "FEMA")
            )
            for addressee, name in ((fema_part, "plan.pdf"), (None, "oig memo.txt")):
                session.add(
                    Attachment(
                        recommendation=cpg,
                        addressee=addressee,
                        sha256="0" * 64,
                        size_bytes=1,
                        content_type="text/plain",
                        original_name=name,
                    )
                )
            session.commit()
            written = dict(session.execute(sa.select(AuditEvent.id, AuditEvent.object_label)).all())
        downgrade(revision="0005_data_version", x_arg=DROP_AUDIT_TRAIL)
        upgrade()
        with db.engine.connect() as conn:
            named = dict(conn.execute(sa.text("SELECT id, object_label FROM audit_events")).all())
        db.engine.dispose()
    assert named == written
    assert {
        "OIG-12-15",
        "OIG-12-15 #3",
        "OIG-12-15 #3 / FEMA",
        "OIG-12-15 #3: created",
        "OIG-12-15 #3 / FEMA: concurrence recorded",
        "OIG-12-15 #3 / FEMA: plan.pdf",
        "OIG-12-15 #3: oig memo.txt",
        "named@test.example",
        "I&A",
        "DHS Partners Did Not Always Use DHS Technology to Obtain Em… #1 / OSA",  # 59 + "…"
    } <= set(named.values())
    assert None not in named.values()


BEFORE_ATTACHMENT_COMPONENT_ROWS = [
    *PRE_LIFECYCLE_ROWS,
    # Events as the app writes them: the component named in details. Event 2 names none.
    "INSERT INTO recommendation_events (id, recommendation_id, addressee_id, kind, actor_label, "
    "actor_role, occurred_at, effective_on, note, details) VALUES "
    "(1, 1, NULL, 'closure_requested', 'ia@x', 'liaison', '2020-02-01', '2020-02-01', 'Done', "
    """'{"component": "I&A"}'), """
    "(2, 1, NULL, 'resolved', 'oig@x', 'oig', '2020-01-20', '2020-01-20', '', '{}')",
]


def test_attachment_component_migration_keeps_each_document_its_component(scratch_url: str) -> None:
    """Existing documents get their component from their addressee, or, when the
    addressee is gone, from the event they were uploaded with; the downgrade removes it."""
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0008_edit_versions")
        with db.engine.begin() as conn:
            for statement in BEFORE_ATTACHMENT_COMPONENT_ROWS:
                conn.execute(sa.text(statement))
            conn.execute(
                sa.text(
                    "INSERT INTO attachments (id, recommendation_id, addressee_id, event_id, sha256, "
                    "size_bytes, content_type, original_name, uploaded_at) VALUES "
                    "(:id, 1, :addressee, :event, :sha, 1, 'text/plain', 'x.txt', '2020-02-01')"
                ),
                [  # 1: FEMA's, its addressee still there; 2: I&A's, its addressee removed;
                    # 3 and 4: addressee removed and nothing names the component
                    {"id": 1, "addressee": 2, "event": None, "sha": "0" * 64},
                    {"id": 2, "addressee": None, "event": 1, "sha": "0" * 64},
                    {"id": 3, "addressee": None, "event": None, "sha": "0" * 64},
                    {"id": 4, "addressee": None, "event": 2, "sha": "0" * 64},
                ],
            )
        upgrade(revision="0009_attachment_component")
        with db.engine.connect() as conn:
            owners = conn.execute(sa.text("SELECT id, component_id FROM attachments ORDER BY id")).all()
        assert [tuple(row) for row in owners] == [(1, 2), (2, 1), (3, None), (4, None)]  # FEMA is 2, I&A 1
        downgrade(revision="0008_edit_versions")
        assert "component_id" not in {c["name"] for c in sa.inspect(db.engine).get_columns("attachments")}
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM attachments")).scalar() == 4
        db.engine.dispose()


def test_search_acronyms_migration_indexes_officials_and_its_downgrade_takes_them_out(
    scratch_url: str,
) -> None:
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0001_initial")
        with db.engine.begin() as conn:
            for statement in PRE_LIFECYCLE_ROWS:
                conn.execute(sa.text(statement))
        upgrade(revision="0009_attachment_component")
        body = "SELECT body FROM search_documents WHERE kind = 'recommendation' AND ref_id = 1"
        with db.engine.begin() as conn:
            before = conn.execute(sa.text(body)).scalar()
            conn.execute(
                sa.text("UPDATE addressees SET responsible_official = 'Pat Quill' WHERE component_id = 2")
            )
        assert before == "CPG-502\nI&A\nFEMA"
        upgrade(revision="0010_search_acronyms")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text(body)).scalar() == "CPG-502\nI&A\nFEMA\nPat Quill"
            acronyms = dict(conn.execute(sa.text("SELECT acronym, expansion FROM acronyms")).all())
        assert acronyms["HSIN"] == "Homeland Security Information Network"
        downgrade(revision="0009_attachment_component")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text(body)).scalar() == before
        db.engine.dispose()


def test_deadline_policy_migration_fills_the_dates_from_history(scratch_url: str) -> None:
    """Existing addressees get the revised response's due date and the closure request's
    date from their history, as replay() rebuilds them; the downgrade removes them."""
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0010_search_acronyms")
        with db.engine.begin() as conn:
            for statement in PRE_LIFECYCLE_ROWS:  # addressee 1 is I&A's, 2 FEMA's
                conn.execute(sa.text(statement))
            conn.execute(
                sa.text(
                    "INSERT INTO recommendation_events (id, recommendation_id, addressee_id, kind, "
                    "actor_label, actor_role, occurred_at, effective_on, note, details) VALUES "
                    "(:id, 1, :addressee, :kind, 'oig@x', 'oig', '2020-06-01', :day, '', :details)"
                ),
                [  # reopened Feb 1, 2020 (leap year): a new response due May 1, 2020
                    {"id": 1, "addressee": None, "kind": "reopened", "day": "2020-02-01", "details": "{}"},
                    # I&A's returned March 1 with its due date kept in the event
                    {
                        "id": 2,
                        "addressee": 1,
                        "kind": "response_returned",
                        "day": "2020-03-01",
                        "details": '{"revised_response_due": "2020-04-15"}',
                    },
                    {
                        "id": 3,
                        "addressee": 2,
                        "kind": "closure_requested",
                        "day": "2020-04-01",
                        "details": "{}",
                    },
                    {
                        "id": 4,
                        "addressee": 2,
                        "kind": "closure_returned",
                        "day": "2020-05-10",
                        "details": "{}",
                    },
                ],
            )
        upgrade(revision="0011_deadline_policy")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, response_due_on, closure_state_on FROM addressees ORDER BY id")
            ).all()
        assert [(i, str(d), str(c) if c else None) for i, d, c in rows] == [
            (1, "2020-04-15", None),
            (2, "2020-05-01", "2020-05-10"),
        ]
        downgrade(revision="0010_search_acronyms")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("addressees")}
        assert not {"response_due_on", "closure_state_on"} & columns
        db.engine.dispose()


# Rows of the schema before 0012: one report issued January 15, 2024, three
# recommendations and four addressees (the stored due dates migrations' tests).
_DUE_ROWS = (
    "INSERT INTO components (id, abbreviation, name, active) "
    "VALUES (1, 'I&A', 'x', true), (2, 'FEMA', 'y', true)",
    "INSERT INTO reports (id, title, issued_on, issued_on_approximate, sensitivity, created_at, "
    "updated_at) VALUES "
    "(1, 'Due dates', '2024-01-15', false, 'public', '2024-01-15', '2024-01-15')",
    "INSERT INTO recommendations (id, report_id, number, text, text_source, significant, "
    "sensitivity, status, resolved_on, created_at, updated_at) VALUES "
    "(1, 1, 1, 'One', 'verbatim', false, 'public', 'open_unresolved', NULL, '2024-01-15', "
    "'2024-01-15'), "
    "(2, 1, 2, 'Two', 'verbatim', false, 'public', 'open_resolved', '2024-03-01', '2024-01-15', "
    "'2024-01-15'), "
    "(3, 1, 3, 'Three', 'verbatim', false, 'public', 'closed_implemented', '2024-03-01', "
    "'2024-01-15', '2024-01-15')",
    # 1: I&A owes its first response; 2: FEMA's was returned, revision due May 5;
    # 3: FEMA resolved March 1, last update April 1, target December 31; 4: closed
    "INSERT INTO addressees (id, recommendation_id, component_id, is_lead, concurrence, "
    "response_state, response_due_on, corrective_action_plan, target_date, last_update_on, "
    "closure_state) VALUES "
    "(1, 1, 1, true, 'pending', 'none', NULL, '', NULL, NULL, 'none'), "
    "(2, 1, 2, false, 'concur', 'returned', '2024-05-05', 'A plan', '2024-12-31', NULL, 'none'), "
    "(3, 2, 2, true, 'concur', 'accepted', NULL, 'A plan', '2024-12-31', '2024-04-01', 'none'), "
    "(4, 3, 2, true, 'concur', 'accepted', NULL, 'A plan', '2024-12-31', NULL, 'accepted')",
)


def test_stored_due_dates_migration_fills_existing_rows(scratch_url: str) -> None:
    """Existing rows get their due dates from the one definition of the rules; the
    downgrade removes the columns and their indexes."""
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0011_deadline_policy")
        with db.engine.begin() as conn:
            for statement in _DUE_ROWS:
                conn.execute(sa.text(statement))
        upgrade(revision="0012_stored_due_dates")
        with db.engine.connect() as conn:
            recs = conn.execute(
                sa.text("SELECT id, resolution_due, gao_ig_act_from FROM recommendations ORDER BY id")
            ).all()
            parts = conn.execute(
                sa.text("SELECT id, response_due, update_due, target_due FROM addressees ORDER BY id")
            ).all()

        def text(row: tuple) -> tuple:
            return tuple(str(v) if v is not None else None for v in row)

        # issued January 15, 2024: six months on July 15, 2024; one year on January 15, 2025
        assert [text(r) for r in recs] == [
            ("1", "2024-07-15", "2025-01-15"),
            ("2", None, "2025-01-15"),
            ("3", None, None),
        ]
        assert [text(p) for p in parts] == [
            ("1", "2024-04-14", None, None),  # 90 days after January 15, 2024
            ("2", "2024-05-05", None, "2024-12-31"),  # the revised response's own date
            ("3", None, "2024-06-30", "2024-12-31"),  # April 1 + 90 days
            ("4", None, None, None),
        ]
        downgrade(revision="0011_deadline_policy")
        inspector = sa.inspect(db.engine)
        rec_columns = {c["name"] for c in inspector.get_columns("recommendations")}
        part_columns = {c["name"] for c in inspector.get_columns("addressees")}
        assert not {"resolution_due", "gao_ig_act_from"} & rec_columns
        assert not {"response_due", "update_due", "target_due"} & part_columns
        indexes = {i["name"] for t in ("recommendations", "addressees") for i in inspector.get_indexes(t)}
        assert not any(name and name.endswith("_due") for name in indexes)
        db.engine.dispose()


def test_tracked_clocks_migration_recomputes_with_the_tracking_dates(scratch_url: str) -> None:
    """0016 recomputes the stored due dates with tracked_since (0013 sets it to the day a
    row was created: January 15, 2024 here, the issue date); its downgrade recomputes them
    from issuance again."""
    app = create_app(TestingConfig(scratch_url))
    with app.app_context():
        upgrade(revision="0011_deadline_policy")
        with db.engine.begin() as conn:
            for statement in _DUE_ROWS:
                conn.execute(sa.text(statement))
        upgrade(revision="0013_real_record")
        with db.engine.begin() as conn:
            # 1: tracked from June 1, 2024 (after its response dates, before its resolution);
            # 2: from August 1, 2024 (after its next update, due June 30, 2024)
            conn.execute(sa.text("UPDATE recommendations SET tracked_since = '2024-06-01' WHERE id = 1"))
            conn.execute(sa.text("UPDATE recommendations SET tracked_since = '2024-08-01' WHERE id = 2"))

        def stored() -> tuple[list[tuple], list[tuple]]:
            with db.engine.connect() as conn:
                recs = conn.execute(
                    sa.text("SELECT id, resolution_due, gao_ig_act_from FROM recommendations ORDER BY id")
                ).all()
                parts = conn.execute(
                    sa.text("SELECT id, response_due, update_due, target_due FROM addressees ORDER BY id")
                ).all()
            return (
                [tuple(str(v) if v is not None else None for v in r) for r in recs],
                [tuple(str(v) if v is not None else None for v in p) for p in parts],
            )

        from_issuance = (
            [("1", "2024-07-15", "2025-01-15"), ("2", None, "2025-01-15"), ("3", None, None)],
            [
                ("1", "2024-04-14", None, None),
                ("2", "2024-05-05", None, "2024-12-31"),
                ("3", None, "2024-06-30", "2024-12-31"),
                ("4", None, None, None),
            ],
        )
        assert stored() == from_issuance
        upgrade(revision="0016_tracked_clocks")
        assert stored() == (
            # the resolution (July 15, 2024) falls after June 1, 2024: it runs
            [("1", "2024-07-15", "2025-01-15"), ("2", None, "2025-01-15"), ("3", None, None)],
            [
                ("1", None, None, None),  # due April 14, 2024: before tracking
                ("2", None, None, "2024-12-31"),  # revised response due May 5, 2024: before
                ("3", None, "2024-10-30", "2024-12-31"),  # August 1, 2024 + 90 days
                ("4", None, None, None),
            ],
        )
        downgrade(revision="0015_state_periods")
        assert stored() == from_issuance
        db.engine.dispose()


def test_issue_date_not_known_migration_allows_null_and_its_downgrade_refuses_to_invent_one(
    scratch_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """0017 lets a report's issue date be NULL (not known). Its downgrade restores NOT NULL
    when every report has a date, and refuses, naming the report, while one has none."""
    app = create_app(TestingConfig(scratch_url))
    insert = (
        "INSERT INTO reports (id, title, issued_on, issued_on_approximate, sensitivity, created_at, "
        "updated_at) VALUES (9, 'Undated report', NULL, false, 'public', '2024-01-15', '2024-01-15')"
    )
    with app.app_context():
        upgrade(revision="0016_tracked_clocks")
        with pytest.raises(sa.exc.IntegrityError, match="issued_on"), db.engine.begin() as conn:
            conn.execute(sa.text(insert))
        upgrade(revision="0017_issue_date_not_known")
        with db.engine.begin() as conn:
            conn.execute(sa.text(insert))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            downgrade(revision="0016_tracked_clocks")
        logged = capfd.readouterr().err  # Alembic's logging writes to stderr
        assert "1 report(s) have no known issue date" in logged
        assert "#9 Undated report" in logged
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                "0017_issue_date_not_known"
            )
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE reports SET issued_on = '2024-01-15' WHERE id = 9"))
        downgrade(revision="0016_tracked_clocks")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                "0016_tracked_clocks"
            )
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM reports WHERE id = 9"))
        with pytest.raises(sa.exc.IntegrityError, match="issued_on"), db.engine.begin() as conn:
            conn.execute(sa.text(insert))
        db.engine.dispose()


def test_rec_number_not_known_migration_allows_null_and_its_downgrade_refuses_to_invent_one(
    scratch_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """0018 lets a recommendation's number be NULL (not known) while a known number stays
    positive. Its downgrade restores NOT NULL when every number is known, and refuses,
    naming the recommendation, while one is not."""
    app = create_app(TestingConfig(scratch_url))
    report = (
        "INSERT INTO reports (id, title, issued_on, issued_on_approximate, sensitivity, created_at, "
        "updated_at) VALUES (1, 'A report', '2024-01-15', false, 'public', '2024-01-15', '2024-01-15')"
    )

    insert_rec = sa.text(
        "INSERT INTO recommendations (id, report_id, number, text, text_source, significant, "
        "sensitivity, status, tracked_since, created_at, updated_at) VALUES "
        "(7, 1, :number, 'Seven', 'verbatim', false, 'public', 'open_unresolved', '2024-01-15', "
        "'2024-01-15', '2024-01-15')"
    )

    with app.app_context():
        upgrade(revision="0017_issue_date_not_known")
        with db.engine.begin() as conn:
            conn.execute(sa.text(report))
        with pytest.raises(sa.exc.IntegrityError, match="number"), db.engine.begin() as conn:
            conn.execute(insert_rec, {"number": None})
        upgrade(revision="0018_rec_number_not_known")
        with pytest.raises(sa.exc.IntegrityError, match="number_positive"), db.engine.begin() as conn:
            conn.execute(insert_rec, {"number": 0})  # a known number is still positive
        with db.engine.begin() as conn:
            conn.execute(insert_rec, {"number": None})
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            downgrade(revision="0017_issue_date_not_known")
        logged = capfd.readouterr().err
        assert "1 recommendation(s) have no known number" in logged
        assert "#7 of A report" in logged
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE recommendations SET number = 3 WHERE id = 7"))
        downgrade(revision="0017_issue_date_not_known")
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM recommendations WHERE id = 7"))
        with pytest.raises(sa.exc.IntegrityError, match="number"), db.engine.begin() as conn:
            conn.execute(insert_rec, {"number": None})
        db.engine.dispose()


def test_blob_storage_migration_copies_document_files_in_and_its_downgrade_writes_them_back(
    scratch_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """0019 copies each document's file from ATTACHMENT_DIR into `blobs`, skipping (with a
    warning) a file that is missing; its downgrade writes the bytes back as files."""
    import hashlib

    files = tmp_path / "attachments"
    config = TestingConfig(scratch_url)
    config.ATTACHMENT_DIR = str(files)
    app = create_app(config)
    kept, lost = b"FEMA's plan\n", b"a file deleted by hand\n"
    kept_sha, lost_sha = hashlib.sha256(kept).hexdigest(), hashlib.sha256(lost).hexdigest()
    (files / kept_sha[:2]).mkdir(parents=True)
    (files / kept_sha[:2] / kept_sha).write_bytes(kept)
    with app.app_context():
        upgrade(revision="0018_rec_number_not_known")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO reports (id, title, issued_on, issued_on_approximate, sensitivity, "
                    "created_at, updated_at) VALUES (1, 'A report', '2024-01-15', false, 'public', "
                    "'2024-01-15', '2024-01-15')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO recommendations (id, report_id, number, text, text_source, significant, "
                    "sensitivity, status, tracked_since, created_at, updated_at) VALUES (1, 1, 1, 'One', "
                    "'verbatim', false, 'public', 'open_unresolved', '2024-01-15', '2024-01-15', "
                    "'2024-01-15')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO attachments (id, recommendation_id, sha256, size_bytes, content_type, "
                    "original_name, uploaded_at) VALUES (:id, 1, :sha, :size, 'text/plain', 'x.txt', "
                    "'2020-02-01')"
                ),
                [
                    {"id": 1, "sha": kept_sha, "size": len(kept)},
                    {"id": 2, "sha": kept_sha, "size": len(kept)},  # the same file twice: one blob
                    {"id": 3, "sha": lost_sha, "size": len(lost)},
                ],
            )
        upgrade(revision="0019_blob_storage")
        logged = capfd.readouterr().err  # Alembic's logging goes to standard error
        assert f"no file {files / lost_sha[:2] / lost_sha} for a document; skipped" in logged
        assert "copied 1 of 2 document file(s)" in logged
        with db.engine.connect() as conn:
            blobs = conn.execute(sa.text("SELECT sha256, size_bytes, data FROM blobs")).all()
        assert [(sha, size, bytes(data)) for sha, size, data in blobs] == [(kept_sha, 12, kept)]

        (files / kept_sha[:2] / kept_sha).unlink()  # the files are no longer needed...
        downgrade(revision="0018_rec_number_not_known")  # ...until the downgrade writes them back
        assert (files / kept_sha[:2] / kept_sha).read_bytes() == kept
        assert not (files / lost_sha[:2] / lost_sha).exists()
        assert {"blobs", "staged_uploads"}.isdisjoint(_tables(scratch_url))
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM attachments")).scalar() == 3
        db.engine.dispose()
