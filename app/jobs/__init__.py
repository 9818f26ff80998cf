"""Background jobs: slow work (uncached PDFs, large exports) run by a worker, off the web
workers, with progress the user can watch and a result kept for a while.

The job record (app/models/job.py) is the same whichever engine runs it: Celery on Redis
in production, Celery on a SQLite-file broker for `make run`, or in the request itself
(`JOBS_BACKEND = "inline"`, the test suite's). Features register what each kind of job
does (`registry.register`); this package never imports a feature."""
