"""Unbound extension objects, initialised in create_app(). Models and services import
`db` from here, never from the app package."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect

from app.database import AppSession, Base

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    class _SQLAlchemy(SQLAlchemy):
        # `db.session` is a scoped_session that hands every Session method to the current
        # app context's session; services take it as the Session it stands for.
        session: Session  # type: ignore[assignment]

    # mypy cannot take the instance attribute `db.Model` as a base class. At run time models
    # derive from db.Model, Flask-SQLAlchemy's subclass of Base, which adds no typed API
    # the code uses.
    Model = Base
else:
    _SQLAlchemy = SQLAlchemy


class RequestSession(AppSession, FlaskSession):
    """`db.session`'s class: the app's session (its write hooks) with Flask-SQLAlchemy's
    choice of engine."""


db = _SQLAlchemy(model_class=Base, session_options={"class_": RequestSession})
if not TYPE_CHECKING:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
