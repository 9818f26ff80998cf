"""Background jobs: a PDF or a large export asked for from a page becomes a job the user
can follow and download; a job is its owner's; the same work asked twice is one job and
one file; a worker that died has its job taken over; results expire; with no broker the
pages keep working and a job request gets a clear message."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from app import clock
from app.extensions import db
from app.jobs import queue, services
from app.jobs.execute import execute
from app.jobs.registry import Output
from app.models import AuditEvent, Job, JobState, PdfCacheEntry, Recommendation, Report, Role, WorkerHeartbeat
from app.models.storage import Blob
from tests.conftest import EMAILS, report_by_number, user_by_email, visible_text

PDF = "application/pdf"


def _jobs() -> list[Job]:
    return list(db.session.scalars(sa.select(Job).order_by(Job.created_at, Job.id)))


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A queue no worker takes from: jobs wait until the test runs them."""
    sent: list[str] = []
    monkeypatch.setattr(queue, "submit", lambda _session, job: sent.append(job.id))
    return sent


# --- from the page to the file ----------------------------------------------------------


@pytest.mark.usefixtures("on_november_16")
def test_a_pdf_asked_for_is_a_job_listed_on_my_downloads(as_role) -> None:
    client = as_role("viewer")
    report_id = report_by_number("OIG-12-15").id
    response = client.get(f"/reports/{report_id}/status.pdf")
    assert (response.status_code, response.mimetype) == (200, PDF)  # inline: made before the answer
    (job,) = _jobs()
    assert (job.kind, job.state, job.result_name) == (
        "pdf",
        JobState.DONE,
        "rectrack-OIG-12-15-status-2026-11-16.pdf",
    )
    assert job.user_id == user_by_email(EMAILS["viewer"]).id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "pdf")).all()[-1]
    assert (event.object_type, event.object_id, event.changes["job"]) == ("reports", report_id, job.id)
    page = visible_text(client.get("/downloads"))
    assert "Status PDF of OIG-12-15, as of November 16, 2026" in page
    assert "Ready rectrack-OIG-12-15-status-2026-11-16.pdf" in page


def test_a_queued_job_shows_its_progress_then_turns_into_the_download(
    as_role, queued: list[str], app: Flask
) -> None:
    client = as_role("viewer")
    report_id = report_by_number("OIG-12-15").id
    response = client.get(f"/reports/{report_id}/status.pdf")
    assert response.status_code == 303
    (job_id,) = queued
    assert response.headers["Location"] == f"/jobs/{job_id}"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    # with scripts off the page refreshes itself; with them on, app.js polls the status
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert f'data-status-url="/jobs/{job_id}/status.json"' in page
    assert "Waiting for a worker" in page
    status = client.get(f"/jobs/{job_id}/status.json").get_json()
    assert (status["state"], status["download"]) == ("queued", None)
    # the same PDF asked again while it waits: the same job, no second one
    assert client.get(f"/reports/{report_id}/status.pdf").headers["Location"] == f"/jobs/{job_id}"
    assert len(_jobs()) == 1

    with app.app_context():
        assert execute(job_id, worker="test-worker", inline=True) == "done"
        db.session.commit()  # as the worker does (inline, execute leaves it to the caller)
    status = client.get(f"/jobs/{job_id}/status.json").get_json()
    assert status["state"] == "done"
    assert status["download"] == f"/jobs/{job_id}/download"
    assert status["stage"] == "Ready"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "refresh" not in page.split("</head>")[0]  # done: no more refreshing
    assert f'href="/jobs/{job_id}/download"' in page
    download = client.get(f"/jobs/{job_id}/download")
    assert (download.status_code, download.mimetype) == (200, PDF)
    assert download.data.startswith(b"%PDF-")


def test_progress_names_the_stage_and_the_count_of_recommendations(
    as_role, queued: list[str], app: Flask
) -> None:
    client = as_role("oig")
    client.get("/recommendations/status.pdf?year=2011")
    (job_id,) = queued
    seen: list[tuple[str, int | None, int | None]] = []
    from app.pdf import jobs as pdf_jobs

    def watching(session, user, params, progress):  # the real runner, with its progress recorded
        def spy(stage: str, done: int | None, total: int | None) -> None:
            seen.append((stage, done, total))
            progress(stage, done, total)

        return real(session, user, params, spy)

    from app.jobs import registry

    real = registry.RUNNERS["pdf"]
    registry.RUNNERS["pdf"] = watching
    try:
        with app.app_context():
            execute(job_id, worker="test-worker", inline=True)
            db.session.commit()
    finally:
        registry.RUNNERS["pdf"] = pdf_jobs.run
    # OIG-12-15 (issued 2011) holds 4 recommendations in the suite's data
    assert seen[:3] == [
        ("Reading the recommendations", None, None),
        ("Laying out 4 recommendations", 0, 4),
        ("Rendering the PDF", None, None),
    ]


# --- a job is its owner's ---------------------------------------------------------------


def test_someone_elses_job_is_a_404_everywhere(as_role, client) -> None:
    as_role("viewer").get("/recommendations/status.pdf")
    (job,) = _jobs()
    job_id = job.id
    other = as_role("oig")
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/status.json", f"/jobs/{job_id}/download"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/jobs/{job_id}/retry").status_code == 404
    for bad in ("nope", "0" * 31, "../../etc/passwd"):
        assert other.get(f"/jobs/{bad}").status_code == 404
    assert "Portfolio status PDF" not in visible_text(other.get("/downloads"))


def test_a_job_runs_as_the_user_is_when_it_runs(as_role, queued: list[str], app: Flask) -> None:
    """A liaison who asks for a restricted report's PDF and loses access before it runs
    gets no PDF, and a message saying why."""
    from tests.factories import make_report

    report = make_report(restricted=True, title="A restricted report")
    report_id = report.id
    db.session.commit()
    client = as_role("oig")
    client.get(f"/reports/{report_id}/status.pdf")
    (job_id,) = queued
    oig = user_by_email(EMAILS["oig"])
    oig.role = Role.VIEWER
    db.session.commit()
    with app.app_context():
        assert execute(job_id, worker="test-worker", inline=True) == "failed"
        db.session.commit()
    job = db.session.get(Job, job_id)
    assert (job.state, job.result_sha256) == (JobState.FAILED, None)
    assert job.error == "You can no longer see this report, so its PDF was not made."


# --- one piece of work, one result ------------------------------------------------------


def test_a_reader_with_the_same_view_gets_the_file_already_made(as_role, client) -> None:
    from tests.factories import login_as, make_user

    second_id = make_user(Role.VIEWER, email="second-viewer@test.example").get_id()
    db.session.commit()
    as_role("viewer").get("/recommendations/status.pdf")
    assert len(_jobs()) == 1

    second = login_as(client, second_id)
    response = second.get("/recommendations/status.pdf")
    assert (response.status_code, response.mimetype) == (200, PDF)
    assert len(_jobs()) == 1  # served from the first reader's job: the same key, the same rights


def _job(state: JobState = JobState.QUEUED, worker: str = "", key: str = "k" * 64) -> Job:
    user = user_by_email(EMAILS["viewer"])
    job, _ = services.request_job(
        db.session, user, kind="pdf", title="t", params={}, key=key, now=clock.now()
    )
    job.state, job.worker = state, worker
    db.session.flush()
    return job


def test_a_job_finished_or_running_in_a_live_worker_is_not_run_again() -> None:
    now = clock.now()
    done = _job(JobState.DONE)
    assert services.claim(db.session, done.id, worker="w2", now=now) is None
    running = _job(JobState.RUNNING, worker="w1", key="r" * 64)
    services.beat(db.session, "w1", now=now - timedelta(seconds=89))
    assert services.claim(db.session, running.id, worker="w2", now=now) is None  # heard 89 s ago
    # 90 s of silence: w1 is taken for dead and w2 takes the job over
    claimed = services.claim(db.session, running.id, worker="w2", now=now + timedelta(seconds=1))
    assert claimed is not None
    assert (claimed.worker, claimed.attempts, claimed.state) == ("w2", 1, JobState.RUNNING)


def test_a_job_finished_twice_keeps_its_first_result() -> None:
    now = clock.now()
    job = _job()
    services.claim(db.session, job.id, worker="w1", now=now)
    output = Output(b"%PDF-first", "a.pdf", PDF)
    assert services.finish(db.session, job, output, "a" * 64, now=now, ttl=timedelta(hours=1))
    assert not services.finish(db.session, job, output, "b" * 64, now=now, ttl=timedelta(hours=1))
    db.session.refresh(job)
    assert (job.state, job.result_sha256) == (JobState.DONE, "a" * 64)


# --- expiry -----------------------------------------------------------------------------


def test_a_result_is_kept_for_the_configured_time_then_offered_again(
    as_role, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["JOB_RESULT_TTL_HOURS"] = 1  # within a sign-in's 12 hours
    # the user stays active meanwhile: the idle limit (30 minutes) is not what this tests
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 120)
    client = as_role("viewer")
    try:
        client.get("/recommendations/status.pdf")
    finally:
        app.config["JOB_RESULT_TTL_HOURS"] = 24
    (job,) = _jobs()
    job_id, finished = job.id, job.finished_at
    assert job.expires_at == finished + timedelta(hours=1)
    expires = job.expires_at
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        assert client.get(f"/jobs/{job_id}/download").status_code == 200  # a second before
        assert services.expire_results(db.session, now=clock.now()) == 0
    with time_machine.travel(expires, tick=False):
        gone = client.get(f"/jobs/{job_id}/download")  # on the second it expires
        assert gone.status_code == 410
        assert "This file is no longer kept" in visible_text(gone)
        assert services.expire_results(db.session, now=clock.now()) == 1
        db.session.commit()
        again = client.post(f"/jobs/{job_id}/retry")
        assert again.status_code == 303
        new_id = again.headers["Location"].rsplit("/", 1)[1]
        assert new_id != job_id
        assert db.session.get(Job, new_id).state == JobState.DONE
    assert db.session.get(Job, job_id).result_sha256 is None


# --- large exports ------------------------------------------------------------------------


def test_an_export_over_the_threshold_is_a_job_with_the_same_rows(as_role, app: Flask) -> None:
    client = as_role("oig")
    streamed = client.get("/recommendations/export.csv?year=2011").get_data(as_text=True)
    assert _jobs() == []  # small: streamed at once
    app.config["EXPORT_JOB_THRESHOLD"], threshold = 3, app.config["EXPORT_JOB_THRESHOLD"]
    try:
        response = client.get("/recommendations/export.csv?year=2011")  # 4 recommendations
    finally:
        app.config["EXPORT_JOB_THRESHOLD"] = threshold
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    (job,) = _jobs()
    assert job.kind == "export"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == list(csv.reader(io.StringIO(streamed.lstrip("\ufeff"))))
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()[-1]
    assert (event.changes["format"], event.changes["rows"], event.changes["job"]) == (
        "csv",
        len(rows) - 1,
        job.id,
    )


# --- no broker ------------------------------------------------------------------------------


@pytest.fixture
def no_broker(app: Flask):
    """Celery on a broker nobody listens on (a closed port)."""
    before = (app.config["JOBS_BACKEND"], app.config["CELERY_BROKER_URL"])
    celery = app.extensions["celery"]
    app.config["JOBS_BACKEND"] = "celery"
    celery.conf.broker_url = app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    yield
    app.config["JOBS_BACKEND"], app.config["CELERY_BROKER_URL"] = before
    celery.conf.broker_url = before[1]


def test_with_no_broker_pages_work_and_a_pdf_request_says_why_not(as_role, no_broker: None) -> None:
    client = as_role("viewer")
    assert client.get("/").status_code == 200
    response = client.get("/recommendations/status.pdf")
    assert response.status_code == 503
    assert "Background work is unavailable right now" in visible_text(response)
    assert _jobs() == []
    assert client.get("/healthz").status_code == 200  # alive; not ready
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "schema": "ok",
        "broker": "unavailable",
        "draining": "no",
    }


def test_healthz_and_readyz_answer_without_sign_in(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ok",
        "database": "ok",
        "schema": "ok",
        "broker": "ok",
        "draining": "no",
    }


# --- administrators -----------------------------------------------------------------------


def test_administrators_see_the_queue_the_workers_and_failures(as_role) -> None:
    # the clock stands still: the suite's ticking clock may have passed 17:00:10 by now
    now = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        _administrators_page(as_role, now)


def _administrators_page(as_role, now: datetime) -> None:
    services.beat(db.session, "celery@alive", now=now - timedelta(seconds=10))
    services.beat(db.session, "celery@silent", now=now - timedelta(minutes=5))
    _job(JobState.QUEUED)
    failed = _job(JobState.FAILED, key="f" * 64)
    failed.error, failed.finished_at = "The PDF could not be made: boom", now
    db.session.commit()
    text = visible_text(as_role("admin").get("/admin/background"))
    assert "1 Waiting for a worker 0 Running 1 Failed in the last day" in text
    # (the minutes shown move with the suite's ticking clock)
    assert re.search(r"celery@alive 2026-11-16 \d\d:\d\d UTC Alive", text)
    assert re.search(r"celery@silent 2026-11-16 \d\d:\d\d UTC Not heard from", text)
    assert "The PDF could not be made: boom" in text
    assert as_role("oig").get("/admin/background").status_code == 403


def test_no_blob_is_left_by_a_job_that_failed(as_role, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.pdf import engine

    before = db.session.scalar(sa.select(sa.func.count()).select_from(Blob))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise engine.PdfError("renderer crashed")

    monkeypatch.setattr(engine, "render", broken)
    as_role("viewer").get("/recommendations/status.pdf")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Blob)) == before
    assert [j.state for j in _jobs()] == [JobState.FAILED]


def test_heartbeats_are_written_per_worker() -> None:
    now = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    services.beat(db.session, "celery@a", now=now)
    services.beat(db.session, "celery@a", now=now + timedelta(seconds=30), jobs_done=1)
    row = db.session.get(WorkerHeartbeat, "celery@a")
    assert (row.seen_at, row.started_at, row.jobs_done) == (now + timedelta(seconds=30), now, 1)


# --- the shared PDF cache and rendering ahead -------------------------------------------------


def test_a_cached_pdf_expires_with_the_configured_time(app: Flask) -> None:
    from app.pdf.cache import PdfCache, remove_expired
    from app.storage import DatabaseBlobStore

    cache = PdfCache(db.session, DatabaseBlobStore(), timedelta(hours=2))
    cache.put("c" * 64, b"%PDF-cached")
    cache.put("c" * 64, b"%PDF-again")  # a second worker's copy: the first is kept
    made = clock.now()
    assert cache.get("c" * 64) == b"%PDF-cached"
    with time_machine.travel(made + timedelta(hours=2) - timedelta(seconds=1), tick=False):
        assert cache.get("c" * 64) == b"%PDF-cached"
        assert remove_expired(db.session, clock.now()) == 0
    with time_machine.travel(made + timedelta(hours=2), tick=False):
        assert cache.get("c" * 64) is None
        assert remove_expired(db.session, clock.now()) == 1


def test_a_write_schedules_rendering_ahead_of_its_report_and_components(
    as_role, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.pdf import prerender

    sent: list[dict] = []
    monkeypatch.setattr(prerender.prerender, "apply_async", lambda **kw: sent.append(kw))
    app.config["JOBS_BACKEND"] = "celery"
    try:
        with app.app_context():  # as in a request or a command
            first = report_by_number("OIG-12-15").recommendations[0]
            rec_id, report_id = first.id, first.report_id
            first.text = first.text + " (corrected)"
            db.session.commit()
    finally:
        app.config["JOBS_BACKEND"] = "inline"
    (call,) = sent
    recs, reports, _components, _version = call["args"]
    assert (recs, reports, call["countdown"]) == (
        [rec_id],
        [report_id],
        app.config["PRERENDER_DELAY_SECONDS"],
    )


def test_a_savepoint_schedules_nothing_until_the_outer_commit(
    as_role, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import releases a savepoint per row: rendering ahead waits for the real commit,
    and a savepoint rolled back inside it does not forget what the rest of it wrote."""
    from app.pdf import prerender

    sent: list[dict] = []
    monkeypatch.setattr(prerender.prerender, "apply_async", lambda **kw: sent.append(kw))
    app.config["JOBS_BACKEND"] = "celery"
    try:
        with app.app_context():
            recs = report_by_number("OIG-12-15").recommendations
            first, second = recs[0], recs[1]
            ids = sorted([first.id, second.id])
            with db.session.begin_nested():
                first.text = first.text + " (corrected)"
            assert sent == []  # released, not committed
            savepoint = db.session.begin_nested()
            second.text = second.text + " (corrected)"
            db.session.flush()
            savepoint.rollback()
            assert sent == []
            second.text = second.text + " (corrected again)"
            db.session.commit()
    finally:
        app.config["JOBS_BACKEND"] = "inline"
    (call,) = sent
    assert call["args"][0] == ids


def test_rendered_ahead_the_next_download_needs_no_job(
    as_role, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cache import data_version
    from app.pdf import prerender

    report = report_by_number("OIG-12-15")
    report_id = report.id
    version = data_version(db.session)
    with app.app_context():
        assert prerender.prerender.run([], [report_id], [], version - 1) == "superseded"
        made = prerender.prerender.run([], [report_id], [], version)
    assert made == 3  # the report for congressional staff, OIG staff and the portal's visitors
    response = as_role("viewer").get(f"/reports/{report_id}/status.pdf")
    assert (response.status_code, response.mimetype) == (200, PDF)
    assert _jobs() == []  # served from the cache: no job
    from app.pdf import services as pdf_services

    def not_again(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("made again: not rendered ahead for the portal's visitors")

    monkeypatch.setattr(pdf_services, "make_pdf", not_again)
    anonymous = app.test_client().get(f"/reports/{report_id}/status.pdf")
    assert (anonymous.status_code, anonymous.mimetype) == (200, PDF)


# --- import commits and search reindexing -------------------------------------------------


def _staged_import(client, report_number: str) -> str:
    """Upload a one-row import (a new report) and return the token of its passed dry run."""
    data = (
        b"report_number,report_title,report_issued_on,report_components,rec_number,rec_text,component,lead\r\n"
        + report_number.encode()
        + b",A synthetic imported report (test fixture),2020-03-02,FEMA,1,"
        b"A synthetic imported recommendation.,FEMA,yes\r\n"
    )
    page = client.post(
        "/import", data={"file": (io.BytesIO(data), "job.csv")}, content_type="multipart/form-data"
    )
    found = re.search(r'name="token" type="hidden" value="([0-9a-f]{64})"', page.get_data(as_text=True))
    return found.group(1)


def test_an_import_commit_is_a_job_that_applies_the_file_once(as_role, queued: list[str], app: Flask) -> None:
    client = as_role("oig")
    token = _staged_import(client, "OIG-JOB-01")
    response = client.post("/import/commit", data={"token": token})
    assert response.status_code == 303
    (job_id,) = queued
    assert response.headers["Location"] == f"/jobs/{job_id}"
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.number == "OIG-JOB-01"))
        == 0
    )
    with app.app_context():
        assert execute(job_id, worker="test-worker", inline=True) == "done"
        db.session.commit()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.number == "OIG-JOB-01"))
        == 1
    )
    text = visible_text(client.get(f"/jobs/{job_id}"))
    assert "Imported job.csv. reports: 1 new, 0 changed, 0 unchanged" in text
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")).all()[-1]
    assert (event.actor_label, event.changes["file"]) == ("oig@test.example", "job.csv")
    # the staged file was used up by the job
    assert client.post("/import/commit", data={"token": token}).status_code == 409


def test_administrators_rebuild_the_search_index_as_a_job(as_role) -> None:
    response = as_role("admin").post("/admin/search-index")
    assert response.status_code == 303
    (job,) = _jobs()
    assert (job.kind, job.state) == ("reindex", JobState.DONE)
    indexed = db.session.scalar(sa.select(sa.func.count()).select_from(Report)) + db.session.scalar(
        sa.select(sa.func.count()).select_from(Recommendation)
    )
    assert job.params["result"]["summary"] == (
        f"The search index was rebuilt: {indexed:,} reports and recommendations indexed."
    )


def test_a_bulk_change_is_not_rendered_ahead(app: Flask) -> None:
    from app.cache import data_version
    from app.models import Component
    from app.pdf import prerender

    version = data_version(db.session)
    report_ids = list(db.session.scalars(sa.select(Report.id)))
    component_ids = list(db.session.scalars(sa.select(Component.id)))
    assert len(report_ids) + len(component_ids) > prerender.MAX_SUBJECTS  # the suite's base data
    with app.app_context():
        outcome = prerender.prerender.run([], report_ids, component_ids, version)
    assert outcome == "bulk change: not rendered ahead"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCacheEntry)) == 0


def test_a_worker_knows_the_tasks_the_web_servers_send(app: Flask) -> None:
    # A worker imports only the modules Celery is told to include: without them every
    # job message was "unregistered" and thrown away.
    celery = app.extensions["celery"]
    assert "app.jobs.tasks" in celery.conf.include
    celery.loader.import_default_modules()
    assert {"rectrack.run_job", "rectrack.expire_results"} <= set(celery.tasks)


def test_redis_hands_a_dead_workers_message_on_within_seconds() -> None:
    # kombu sweeps for unacknowledged messages every interval × throttle seconds (10 × 10
    # by default); a dead worker's job would wait over a minute after its visibility timeout.
    from app.jobs.celery_app import transport_options

    assert transport_options(3600) == {
        "visibility_timeout": 3600,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    assert transport_options(10)["unacked_restore_interval"] == 5
    assert transport_options(1)["unacked_restore_interval"] == 1


def test_on_sqlite_a_download_that_may_ask_for_a_job_takes_the_write_lock_first(app: Flask, tmp_path) -> None:
    """Two PDF downloads at once on SQLite: each GET begins IMMEDIATE (it may write a job),
    so the second waits for the first instead of failing with "database is locked"."""
    from app.database import configure_engine

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    configure_engine(engine)
    begun: list[str] = []
    sa.event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, stmt, *_a: begun.append(stmt) if "BEGIN" in stmt else None,
    )
    for path, method, expected in (
        ("/recommendations/status.pdf", "GET", "BEGIN IMMEDIATE"),
        ("/recommendations/export.csv", "GET", "BEGIN IMMEDIATE"),
        ("/recommendations", "GET", "BEGIN"),
        ("/reports/new", "POST", "BEGIN IMMEDIATE"),
    ):
        begun.clear()
        with app.test_request_context(path, method=method), engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert begun == [expected], path
    engine.dispose()


def test_a_job_is_sent_after_the_outermost_commit_not_a_savepoints(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs noted for sending go to the broker once the whole write commits: a released
    savepoint sends nothing yet (the worker could not see the row), and a savepoint rolled
    back does not drop the jobs the rest of the write asked for."""
    sent: list[str] = []
    monkeypatch.setattr(queue, "send", sent.append)
    with app.app_context():
        db.session.info["jobs_to_send"] = ["job-a"]
        with db.session.begin_nested():
            pass
        assert sent == []
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        assert sent == []
        db.session.commit()
        assert sent == ["job-a"]
        db.session.scalar(sa.select(Job.id).limit(1))  # a transaction of its own
        db.session.info["jobs_to_send"] = ["job-b"]
        db.session.rollback()
        db.session.commit()
    assert sent == ["job-a"]


def test_on_sqlite_an_import_job_in_a_worker_takes_the_write_lock_with_its_first_read(
    as_role, queued: list[str], app: Flask
) -> None:
    """A worker's import began its transaction with a plain read (the asking user); when a
    web request wrote before the import's first write, SQLite refused the upgrade at once
    ("database is locked") and the job failed. Its transaction now begins IMMEDIATE."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's locking")
    client = as_role("oig")
    token = _staged_import(client, "OIG-JOB-02")
    client.post("/import/commit", data={"token": token})
    (job_id,) = queued
    from app import database

    statements: list[tuple[str, bool]] = []

    def note(_c: object, _cur: object, statement: str, *_a: object) -> None:
        statements.append((statement, database._WRITING.get()))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert execute(job_id, worker="test-worker") == "done"
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)
    first_insert = next(i for i, (s, _w) in enumerate(statements) if s.startswith("INSERT INTO reports"))
    claim = next(i for i, (s, _w) in enumerate(statements) if s.startswith("UPDATE jobs"))
    # from the claim to the import's first write, every statement ran where SQLite was told
    # the transaction writes: the first read after the claim's commit (it reloaded the
    # job, expired by that commit) began a deferred transaction, and in the bench the
    # import's first INSERT failed at once with "database is locked"
    assert all(writes for _s, writes in statements[claim : first_insert + 1])
