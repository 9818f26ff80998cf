"""The worker's entry point: `celery -A app.jobs.worker worker` (and `beat`).

Each worker node writes a heartbeat (its Celery node name, every third of
JOB_WORKER_STALE_SECONDS) from a thread of its main process, so admins see which workers
are alive and a job left running by a dead worker can be taken over."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from app import clock, create_app
from app.extensions import db
from app.jobs import services
from app.jobs import tasks as _tasks  # noqa: F401 (registers the tasks with this worker)

log = logging.getLogger(__name__)

flask_app = create_app()
if flask_app.config["ENV_NAME"] == "production":  # as the web server (wsgi.py) does
    from app.startup import require_schema_at_head

    require_schema_at_head(flask_app)
celery = flask_app.extensions["celery"]
_stop = threading.Event()


def _beat_forever(hostname: str, every: float) -> None:
    while not _stop.is_set():
        try:
            with flask_app.app_context():
                services.beat(db.session, hostname, now=clock.now())
                db.session.commit()
        except Exception:  # the database may be away for a moment; try again next time
            log.warning("worker heartbeat could not be written", exc_info=True)
        _stop.wait(every)


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    every = max(1.0, flask_app.config["JOB_WORKER_STALE_SECONDS"] / 3)
    threading.Thread(target=_beat_forever, args=(hostname, every), daemon=True, name="heartbeat").start()


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    _stop.set()
