"""Digests benchmark (issue 18: a day's digests for 2,000 users ≤ 60 s at 100,000
recommendations): time and peak memory of computing and queuing one day's mail.

`measure(env, users=2000)` takes a built database (bench/run.py `build`), adds `users`
accounts spread over roles and components, then runs in a child process (so its peak
RSS is its own) what the scheduled task rectrack.mail_plan_digests (app/mail/tasks.py)
does before delivery: outbox.plan_digests and follows.summary.plan_summaries for one
day, and the commit. Delivery (SMTP) is not timed. The day is the most recent Monday on
or before the app's today: daily digests, weekly digests and the followers' weekly
summaries all fall on it, so it is the heaviest day of the week.

The accounts (prefix bench-digest-): about 70% component liaisons (each of a component
drawn by the component's share of addressees, one in ten of two components), 15% OIG
staff, 1% administrators, 14% read-only viewers who follow 1–5 reports and one
component in three. Preferences: most keep the default (daily for liaisons and staff,
off for viewers); one in five liaisons and staff chose weekly, one in twenty off. Some
liaisons and staff follow a report or component too. They are inserted with SQL (not the
CLI, which would hash a password for each): ONE password hash, made once, is shared by
all of them; nobody signs in as them.

Standalone (`.venv/bin/python bench/digests.py`): a SQLite database of
BENCH_DIGESTS_SCALE (10,000) recommendations and BENCH_DIGESTS_USERS (200) accounts
under bench/out (BENCH_DIGESTS_REUSE=1: the one made before, with its accounts);
BENCH_DIGESTS_PROFILE=<file> writes a pyinstrument profile of the timed run there;
BENCH_DIGESTS_CODE=<dir> runs the digests with the app found there (an earlier
version, for a before/after); BENCH_DIGESTS_DATABASE=postgresql uses BENCH_PG_URL's server (database
rectrack_exports_digests_<scale>, dropped afterwards).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import OUT, PG_URL, ROOT, VENV, build, log

TARGET_SECONDS = 60
PREFIX = "bench-digest-"


def add_users(env: dict[str, str], count: int, seed: int = 18) -> dict[str, Any]:
    """Insert `count` accounts with their components, preferences and follows (none if
    they are there already); a summary of what was made."""
    os.environ.update(
        {k: v for k, v in env.items() if k in ("DATABASE_URL", "SECRET_KEY", "APP_ENV", "INSTANCE_PATH")}
    )
    import sqlalchemy as sa

    from app import create_app
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.models import Addressee, DigestFrequency, Follow, MailPreference, Report, Role, User
    from app.models.user import user_components

    app = create_app()
    made: dict[str, Any] = {}
    with app.app_context():
        session = db.session
        if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email.like(f"{PREFIX}%"))):
            made["reused"] = True
        else:
            rng = random.Random(seed)
            shares = session.execute(
                sa.select(Addressee.component_id, sa.func.count()).group_by(Addressee.component_id)
            ).all()
            components, weights = [c for c, _n in shares], [n for _c, n in shares]
            report_ids = list(session.scalars(sa.select(Report.id)))
            password = hash_password("bench digests, nobody signs in")  # ONE hash for every account
            roles = [Role.LIAISON] * 70 + [Role.OIG] * 15 + [Role.ADMIN] * 1 + [Role.VIEWER] * 14
            users, links, prefs, follows = [], [], [], []
            for n in range(count):
                role = roles[n % len(roles)] if n < len(roles) else rng.choice(roles)
                users.append(
                    {
                        "email": f"{PREFIX}{n:05d}@rectrack.example",
                        "display_name": f"Digest reader {n}",
                        "role": role,
                        "active": True,
                        "password_hash": password,
                    }
                )
            session.execute(sa.insert(User), users)
            ids = dict(
                session.execute(sa.select(User.email, User.id).where(User.email.like(f"{PREFIX}%"))).all()
            )
            counts: dict[str, int] = {}
            for row in users:
                uid, role = ids[row["email"]], row["role"]
                counts[role.value] = counts.get(role.value, 0) + 1
                if role == Role.LIAISON:
                    mine = {rng.choices(components, weights)[0]}
                    if rng.random() < 0.1:
                        mine.add(rng.choices(components, weights)[0])
                    links += [{"user_id": uid, "component_id": c} for c in mine]
                if role != Role.VIEWER:
                    pick = rng.random()
                    if pick < 0.2:
                        prefs.append({"user_id": uid, "digest": DigestFrequency.WEEKLY, "notices": []})
                    elif pick < 0.25:
                        prefs.append({"user_id": uid, "digest": DigestFrequency.OFF, "notices": []})
                    if rng.random() < 0.1:
                        follows.append({"user_id": uid, "report_id": rng.choice(report_ids)})
                else:
                    for rid in rng.sample(report_ids, rng.randint(1, 5)):
                        follows.append({"user_id": uid, "report_id": rid})
                    if rng.random() < 1 / 3:
                        follows.append({"user_id": uid, "component_id": rng.choices(components, weights)[0]})
            if links:
                session.execute(sa.insert(user_components), links)
            if prefs:
                session.execute(sa.insert(MailPreference), prefs)
            if follows:
                session.execute(sa.insert(Follow), follows)
            session.commit()
            made.update(
                {
                    "reused": False,
                    "roles": counts,
                    "liaison_component_links": len(links),
                    "chosen_preferences": len(prefs),
                    "follows": len(follows),
                }
            )
        session.remove()
        db.engine.dispose()
    return made


def child() -> None:
    """Run in its own process: plan one day's mail as the scheduled task does, commit,
    print the figures as JSON."""
    import resource

    if os.environ.get("BENCH_DIGESTS_CODE"):  # another version of the app (a "before" run)
        sys.path.insert(0, os.environ["BENCH_DIGESTS_CODE"])
    import sqlalchemy as sa

    from app import audit, clock, create_app
    from app.extensions import db
    from app.follows import summary as follow_summary
    from app.mail import delivery, outbox
    from app.models import OutboxMessage

    app = create_app()
    with app.app_context():
        session = db.session
        day = follow_summary.last_monday(clock.today())
        # A fresh day: what an earlier run of this bench queued is removed first.
        session.execute(
            sa.delete(OutboxMessage).where(
                sa.or_(
                    OutboxMessage.key.like(f"digest:%:{day.isoformat()}"),
                    OutboxMessage.key.like("follow-summary:%"),
                )
            )
        )
        session.commit()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        audit.set_actor(session, delivery.ACTOR)
        profiler = None
        if os.environ.get("BENCH_DIGESTS_PROFILE"):  # a pyinstrument profile of the run, as HTML
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        digests = outbox.plan_digests(session, day)
        digests_done = time.perf_counter()
        summaries = follow_summary.plan_summaries(session, day)
        summaries_done = time.perf_counter()
        session.commit()
        ended = time.perf_counter()
        if profiler is not None:
            profiler.stop()
            Path(os.environ["BENCH_DIGESTS_PROFILE"]).write_text(
                profiler.output_text(unicode=True, color=False)
            )
        queued = session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                sa.or_(
                    OutboxMessage.key.like(f"digest:%:{day.isoformat()}"),
                    OutboxMessage.key.like("follow-summary:%"),
                )
            )
        )
        print(
            json.dumps(
                {
                    "day": day.isoformat(),
                    "seconds": round(ended - started, 2),
                    "digests_seconds": round(digests_done - started, 2),
                    "summaries_seconds": round(summaries_done - digests_done, 2),
                    "commit_seconds": round(ended - summaries_done, 2),
                    "digests": vars(digests),
                    "summaries": vars(summaries),
                    "messages_queued": digests.queued + summaries.queued,
                    "outbox_rows_of_the_day": queued,
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                    "rss_before_planning_mb": round(rss_before, 1),
                }
            )
        )


def measure(env: dict[str, str], users: int = 2000) -> dict[str, Any]:
    """Add `users` accounts to the database of `env`, then time one day's digests."""
    made = add_users(env, users)
    log(f"digests: accounts {made}")
    out = subprocess.run(
        [str(VENV / "python"), str(Path(__file__).resolve()), "--child"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the digest run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"digests: {figures}")
    return {
        "users": users,
        "accounts": made,
        **figures,
        "targets": {
            "digests_seconds": {
                "measured": figures["seconds"],
                "target": TARGET_SECONDS,
                "met": figures["seconds"] <= TARGET_SECONDS,
            }
        },
    }


def main() -> None:
    scale = int(os.environ.get("BENCH_DIGESTS_SCALE", "10000"))
    users = int(os.environ.get("BENCH_DIGESTS_USERS", "200"))
    kind = os.environ.get("BENCH_DIGESTS_DATABASE", "sqlite")
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"rectrack_exports_digests_{scale}"
    import sqlalchemy as sa

    if kind == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    else:
        path = OUT / f"bench-digests-{scale}.sqlite"
        keep = os.environ.get("BENCH_DIGESTS_REUSE") == "1" and path.exists()
        url = f"sqlite:///{path}"
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        if kind == "sqlite" and os.environ.get("BENCH_DIGESTS_REUSE") == "1" and keep:
            from run import app_env

            env = app_env(url, scale, "digests-sqlite")
            built: dict[str, Any] = {"reused_database": True}
        else:
            env, built = build(kind, scale, url=url, instance=f"digests-{kind}")
        result = {"database": kind, "recommendations": scale, **built, **measure(env, users)}
    finally:
        if kind == "postgresql" and os.environ.get("BENCH_DIGESTS_KEEP") != "1":
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()
    path = OUT / f"digests-{kind}-{scale}-{users}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(
        json.dumps({k: result[k] for k in ("seconds", "peak_rss_mb", "messages_queued", "targets")}, indent=2)
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()
