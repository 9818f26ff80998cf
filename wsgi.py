"""The production entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (README, "Deploying").

It refuses to start unless APP_ENV=production, so a deploy never runs the development
configuration by accident, and on a database whose schema is not at the migration head."""

from app.startup import production_app

app = production_app()
