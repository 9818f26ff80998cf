"""Administration: accounts and the audit trail (administrators only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import queries
from app.admin.forms import NewUserForm, PasswordResetForm, UserForm
from app.audit import AuditActor
from app.auth import policy
from app.auth import services as accounts
from app.auth.fresh import require_fresh
from app.database import utcnow
from app.extensions import db
from app.forms import ConfirmForm, select_choices
from app.mfa import services as mfa_services
from app.models import Component, MfaFactor, Role, User
from app.models.component import all_components
from app.pagination import paginate
from app.web import client_ip, int_arg, save

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _component_choices(form: UserForm) -> list[Component]:
    components = list(db.session.scalars(all_components()))
    form.components.choices = select_choices((c.id, f"{c.abbreviation}: {c.name}") for c in components)
    return components


def _account(form: UserForm, components: list[Component]) -> dict[str, Any]:
    """What both account forms set, as the account services take it (`components`:
    the choices, of which the form names some)."""
    wanted = set(form.components.data or [])
    return {
        "display_name": form.display_name.data or "",
        "role": Role(form.role.data),
        "components": [c for c in components if c.id in wanted],
        "active": form.active.data,
    }


@bp.route("/users")
def users() -> str:
    """Every account, with its role and components."""
    policy.require(policy.can_manage_users(current_user))
    factors: dict[int, list[MfaFactor]] = {}
    for factor in db.session.scalars(queries.factors()):
        factors.setdefault(factor.user_id, []).append(factor)
    return render_template(
        "admin/users.html", users=db.session.scalars(queries.users()).all(), factors=factors
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> str | Response | tuple[str, int]:
    """Create an account."""
    policy.require(policy.can_manage_users(current_user))
    form = NewUserForm()
    components = _component_choices(form)
    if form.validate_on_submit():
        done = save(
            form,
            lambda: accounts.create_user(
                db.session,
                email=form.email.data or "",
                password=form.password.data or "",
                temporary=True,  # the new user changes it at their first sign-in
                **_account(form, components),
            ),
            success=lambda user: f"Account {user.email} was created.",
            redirect_to=url_for("admin.users"),
        )
        if done is not None:
            return done
    return render_template("admin/user_form.html", form=form, user=None)


def _edit_form(user: User) -> UserForm:
    """The account form filled from the account as it is now."""
    form = UserForm(formdata=None, obj=user)
    _component_choices(form)
    form.components.data = [c.id for c in user.components]
    form.role.data = user.role.value
    return form


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    """Change an account's name, role, components or active flag; refused (409) if the
    account was changed since the form was loaded. It changes roles: a fresh sign-in first."""
    user = db.first_or_404(queries.user(user_id))
    policy.require(policy.can_manage_users(current_user))
    if (stale := require_fresh()) is not None:
        return stale
    if request.method == "GET":
        return render_template("admin/user_form.html", form=_edit_form(user), user=user)
    form = UserForm()
    components = _component_choices(form)
    if form.validate_on_submit():
        email = user.email
        changes = {**_account(form, components), "version": form.version.data, "now": utcnow()}
        done = save(
            form,
            lambda: accounts.update_user(db.session, current_user, user, **changes),
            success=f"Account {email} was saved.",
            redirect_to=url_for("admin.users"),
            current=lambda: _edit_form(db.first_or_404(queries.user(user_id))),
        )
        if done is not None:
            return done
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int) -> str | Response | tuple[str, int]:
    """Set a new password for an account; its sessions end."""
    user = db.first_or_404(queries.user(user_id))
    policy.require(policy.can_manage_users(current_user))
    form = PasswordResetForm()
    if form.validate_on_submit():
        done = save(
            form,
            lambda: accounts.reset_password(
                db.session, user, form.password.data or "", form.confirm.data or ""
            ),
            success=f"The password of {user.email} was reset.",
            redirect_to=url_for("admin.users"),
        )
        if done is not None:
            return done
    return render_template("admin/password.html", form=form, user=user)


@bp.route("/users/<int:user_id>/factors", methods=["GET", "POST"])
def reset_factors(user_id: int) -> str | Response | tuple[str, int]:
    """An account's factors; resetting them all (a lost key) ends its sessions. Fresh sign-in first."""
    user = db.first_or_404(queries.user(user_id))
    policy.require(policy.can_manage_users(current_user))
    if (stale := require_fresh()) is not None:
        return stale
    form = ConfirmForm()
    if form.validate_on_submit():
        acting = AuditActor.for_user(current_user, client_ip())
        done = save(
            None,
            lambda: mfa_services.reset_factors(db.session, acting, user),
            success=f"The second factors of {user.email} were reset (recovery codes too).",
            redirect_to=url_for("admin.users"),
        )
        if done is not None:
            return done
    return render_template(
        "admin/factors.html",
        form=form,
        user=user,
        factors=mfa_services.factors_of(db.session, user.id),
        recovery_left=mfa_services.unused_recovery_codes(db.session, user.id),
    )


@bp.route("/audit")
def audit_log() -> str:
    """The append-only audit trail, newest first."""
    policy.require(policy.can_view_audit_log(current_user))
    args = request.args
    action, object_type, actor = args.get("action", ""), args.get("object_type", ""), args.get("actor", "")
    record = args.get("object", "").strip()[:200]
    page = paginate(
        db.session,
        queries.audit_events(action, object_type, actor, record),
        int_arg("page", default=1),
        current_app.config["PAGE_SIZE"],
    )
    actions_q, types_q = queries.audit_facets()
    return render_template(
        "admin/audit.html",
        page=page,
        action=action,
        object_type=object_type,
        actor=actor,
        record=record,
        actions=db.session.scalars(actions_q).all(),
        object_types=db.session.scalars(types_q).all(),
    )
