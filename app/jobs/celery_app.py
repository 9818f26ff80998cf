"""Celery, the Flask way (Flask's "Background Tasks with Celery" pattern): every task runs
inside an app context, with the app's configuration."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask


def transport_options(visibility_timeout: int) -> dict[str, int]:
    """The broker's settings. With Redis a message a dead worker never acknowledged goes
    back on the queue only when a live worker sweeps for old unacknowledged messages;
    kombu's default sweeps about every 100 s, so sweep every few seconds (a cheap query),
    at most half the visibility timeout apart."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(10, visibility_timeout // 2)),
        "unacked_restore_throttle": 1,  # sweep at every interval, not every 10th
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # Celery ships no type hints: Task is Any to mypy
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # include: a worker imports the tasks' module at start (nothing else in a worker does,
    # and a task never imported is "unregistered": its messages are thrown away).
    celery = Celery(
        app.name,
        task_cls=FlaskTask,
        include=[
            "app.jobs.tasks",
            "app.storage.tasks",
            "app.mail.tasks",
            "app.opendata.tasks",
            "app.auth.tasks",
        ],
    )
    config = app.config
    celery.conf.update(
        broker_url=config["CELERY_BROKER_URL"],
        task_ignore_result=True,  # results live in the jobs table and the blob store
        # A job is acknowledged only once it ran: a worker killed mid-job leaves its
        # message to be delivered again (the job's own state makes the rerun safe).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=config["CELERY_CONNECT_TIMEOUT"],
        task_default_queue="rectrack",
        worker_hijack_root_logger=False,
        beat_schedule={
            "expire-job-results": {"task": "rectrack.expire_results", "schedule": 300.0},
            "expire-pdf-cache": {"task": "rectrack.expire_pdf_cache", "schedule": 300.0},
            # expired import uploads (STAGED_IMPORT_TTL_HOURS) and unreferenced blobs
            "sweep-storage": {"task": "rectrack.sweep_storage", "schedule": 900.0},
            # E-mail (app/mail): the day's digests at MAIL_DIGEST_HOUR in the OIG's time
            # zone (`timezone` below); the outbox, new mail and retries, every minute.
            "mail-digests": {
                "task": "rectrack.mail_plan_digests",
                "schedule": crontab(hour=config["MAIL_DIGEST_HOUR"], minute=0),
            },
            "mail-deliver": {"task": "rectrack.mail_deliver", "schedule": 60.0},
            # Dormant accounts (app/auth/dormancy.py): warned, then disabled.
            "accounts-dormant": {
                "task": "rectrack.accounts_dormant",
                "schedule": crontab(hour=config["ACCOUNT_DORMANT_HOUR"], minute=30),
            },
            # Open data (app/opendata): the day's files of public recommendations.
            "opendata-build": {
                "task": "rectrack.opendata_build",
                "schedule": crontab(hour=config["OPEN_DATA_HOUR"], minute=15),
            },
        },
        timezone=config["APP_TIMEZONE"],
    )
    if config["CELERY_BROKER_URL"].startswith(("redis://", "rediss://")):
        # The SQLAlchemy transport of `make run` passes its options to create_engine: Redis only.
        celery.conf.broker_transport_options = transport_options(config["CELERY_VISIBILITY_TIMEOUT"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
