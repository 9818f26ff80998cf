"""Fuzzing: hostile values in every query argument of every GET route and in every field
of every form, as each role that can open the page. No answer may be a 5xx or show a
traceback; a 400 or a message next to the field is the right answer to nonsense.

Nothing here is listed by hand. Routes come from app.url_map; the query arguments of a
route are the ones its code reads (the request's args record every name asked for);
a form's fields are those of the form object the view builds (FlaskForm.__init__ is
watched), with the values a browser would send from the rendered page as the baseline
that one fuzzed field replaces. A new route, argument or form is fuzzed without a change
here, and a route with a URL variable no prepared state can fill fails the suite.

The cases are a fixed, seeded table (random.Random seeded by strings), so every run sends
the same requests and a failure names the exact request. Each case runs in a savepoint
that is rolled back, so a case that succeeds (a deleted report, a changed password)
leaves nothing for the next one. PDF rendering is replaced by a stub: what is fuzzed is
everything up to the HTML handed to WeasyPrint (test_pdf.py renders real documents).
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, Request
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict

from app import clock
from app.auth import reset, throttle
from app.auth import services as accounts
from app.cache import derived
from app.extensions import db
from app.lifecycle.steps import STEPS
from app.models import (
    Acronym,
    Attachment,
    Component,
    FactorKind,
    MfaFactor,
    PasswordResetToken,
    Role,
    TokenScope,
    User,
)
from app.opendata import services as opendata
from app.pdf import engine
from app.storage import DatabaseBlobStore, blob_store
from app.tokens import services as tokens
from tests.conftest import EMAILS, PASSWORD, login, rec, signed_in_now, user_by_email
from tests.factories import make_done_job

ANON = "anonymous"
# The first of these roles that can open a page has every kind of value sent to each of
# its fields in turn; the others send hostile values in all fields at once: what differs
# between roles is what they may see and do, not how their input is read. "liaison"
# serves I&A, the prepared recommendations' component; "fema" serves another.
ROLES = ("oig", "liaison", "admin", "fema", "viewer", ANON)
# The second step of signing in opens only between a password and a second factor, a
# state no fuzzer session holds; tests/test_mfa.py sends it wrong, stale and replayed codes.
# Single sign-on's two routes only ever redirect (or answer 404 with no provider, as here):
# no page opens for anyone, and tests/test_sso.py sends its callback hostile arguments.
SKIPPED_ENDPOINTS = {"static", "mfa.second_factor", "sso.start", "sso.callback"}

# --- the values --------------------------------------------------------------------------------


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _random_texts(seed: str, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = (
        "abcXYZ019 -_.,;:'\"%&*()[]{}<>/\\|^$#@!?=+~`"
        "\t\n\r\x00\x01\x1b\x7f\u0085\u00a0\u00e9\u0301\u200b\u200d\u202e\u2028\ufeff\ufffd中ж🙂"
    )
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(count)]


# Groups of hostile values; every fuzzed field or argument gets one of each group.
VALUE_GROUPS: dict[str, list[str | bytes]] = {
    "control": ["a\x00b", "\x00", "x\x01y", "\x1b[2J", "del\x7f", "nel\u0085", "vt\x0b", "ff\x0c"],
    "text": [
        "",
        " ",
        "line one\r\nline two\ttab",
        "' OR '1'='1",
        "1; DROP TABLE reports; --",
        '"unbalanced',
        "%_%\\",
        "NEAR(a b) OR -c* ^d:e",
        "<script>alert(1)</script>",
        "{{7*7}}${7*7}",
        "../../../etc/passwd",
        "//evil.example/path",
        "\ufeffBOM \u202eRTL \u200bZWSP",
        "🙂 e\u0301 \u4e2d\u6587 \u0436",
        "y" * 201,
        "z" * 5001,
        "w" * 20001,
        "v" * 70000,
        b"\xff\xfe",  # not UTF-8
        b"\xed\xa0\x80",  # an encoded surrogate
        b"\xc0\xaf",  # an overlong "/"
    ],
    "number": [
        "-1",
        "2147483648",
        "9" * 30,
        "1e309",
        "NaN",
        "1.5",
        "\u0661\u0662",  # Arabic-Indic digits: int() reads them
        "0" * 40 + "1",
    ],
    "date": [
        "0001-01-01",
        "1978-10-11",
        "9999-12-31",
        "10000-01-01",
        "2026-02-30",
        "-2026-01-01",
        "2026-W47-1",
        "2099-01-01",
    ],
    "cursor": [
        _cursor(["2025-01-15", 10**30, 1, 1]),
        _cursor(["9999-12-31", 2**31 - 1, 999, 2**31 - 1]),
        _cursor(["0001-01-01", -(2**31), -1, -1]),
        _cursor([0, "a\x00b", 1, 1, 1]),
        _cursor([1e308, None, True, "x"]),
        _cursor({"a": 1}),
        base64.urlsafe_b64encode(b"[" * 3000).decode(),
        "====",
    ],
    "random": _random_texts("rectrack fuzz", 24),
}
ALL_VALUES: list[str | bytes] = [v for group in VALUE_GROUPS.values() for v in group]


DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CURSOR_LIKE = re.compile(r"^[A-Za-z0-9_-]{12,}$")
FIELD_KINDS = {
    "FriendlyDateField": "date",
    "DateField": "date",
    "IntegerField": "number",
    "MoneyField": "number",
}


def kind_of(values: list[str]) -> str | None:
    """The kind ("date", "number" or "cursor") that every known value of an argument has."""
    values = [v for v in values if v]
    for kind, looks in (
        ("date", DATE_LIKE.match),
        ("number", str.isdigit),
        ("cursor", CURSOR_LIKE.match),
    ):
        if values and all(looks(v) for v in values):
            return kind
    return None


def _pick(key: str, kind: str | None) -> list[str | bytes]:
    """Values for one field or argument (`key` names it, its route and role), the same every
    run: one of each group, and all of its own group when its kind is known."""
    rng = random.Random(key)
    return [
        *(VALUE_GROUPS[kind] if kind else ()),
        *(rng.choice(group) for name, group in VALUE_GROUPS.items() if name != kind),
    ]


FILES: list[tuple[str, bytes]] = [
    ("", b""),
    ("empty.csv", b""),
    ("nul.csv", b"report_title,report_issued_on\r\n" + b"T" * 5000 + b"\x00,2024-01-01\r\n"),
    ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
    ("\u202egpj.exe", b"MZ\x90\x00" + bytes(range(256))),
    ("n" * 400 + ".pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
    ("noise.xlsx", random.Random("noise").randbytes(3000)),
    ("zip.docx", b"PK\x03\x04" + b"\x00" * 100),
]


def _doctype_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["report_title", "report_issued_on"])
    workbook.active.append(["Fuzz", "2024-01-01"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                part = b'<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + part.replace(
                    b"Fuzz", b"&e;"
                )
            target.writestr(info, part)
    return out.getvalue()


# --- watching the app -------------------------------------------------------------------------


class RecordingArgs(ImmutableMultiDict):
    """Query arguments that remember every name the code asks for."""

    asked: ClassVar[set[str]] = set()

    def get(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        RecordingArgs.asked.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        RecordingArgs.asked.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        RecordingArgs.asked.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)


class RecordingRequest(Request):
    parameter_storage_class = RecordingArgs


@pytest.fixture
def watched(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[FlaskForm]:
    """Record query names and form objects; stub the PDF renderer; pages of three rows, so
    lists have next and previous links (and their cursors)."""
    forms: list[FlaskForm] = []
    original = FlaskForm.__init__

    def init(self: FlaskForm, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        forms.append(self)

    monkeypatch.setattr(FlaskForm, "__init__", init)
    monkeypatch.setattr(app, "request_class", RecordingRequest)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    monkeypatch.setattr(engine, "render", lambda html, root, timeout: engine.RenderResult(b"%PDF-stub", ()))
    return forms


# --- pages and forms as a browser sees them -----------------------------------------------------


@dataclass
class HtmlForm:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # choices of selects and radios
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of a page and the values a browser would send from them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.links: list[str] = []
        self._form: HtmlForm | None = None
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "form":
            self._form = HtmlForm(a.get("action") or "", (a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name") or ""
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value") or "on")
                if "checked" in a:
                    form.fields.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                form.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "values": [], "chosen": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "form":
            self._form = None
        elif tag == "option" and self._select is not None and self._option is not None:
            value = (
                self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            )
            self._select["values"].append(value)
            if self._option["selected"]:
                self._select["chosen"].append(value)
            self._option = None
        elif tag == "select" and self._select is not None and form is not None:
            select, self._select = self._select, None
            form.options[select["name"]] = select["values"]
            chosen = select["chosen"] or ([] if select["multiple"] else select["values"][:1])
            form.fields.extend((select["name"], v) for v in chosen)
        elif tag == "textarea" and self._textarea is not None and form is not None:
            name, text = self._textarea
            # A browser drops one line break right after <textarea> (WTForms writes "\r\n").
            form.fields.append((name, text.removeprefix("\r").removeprefix("\n")))
            self._textarea = None


def page_forms(body: str) -> list[HtmlForm]:
    parser = FormParser()
    parser.feed(body)
    return parser.forms


def known_arguments(body: str) -> dict[str, set[str]]:
    """Query arguments a page sends itself: its links' and its GET forms' values."""
    parser = FormParser()
    parser.feed(body)
    out: dict[str, set[str]] = {}
    for link in parser.links:
        for name, value in parse_qsl(urlsplit(link).query):
            out.setdefault(name, set()).add(value)
    for form in parser.forms:
        if form.method == "get":
            for name, value in form.fields:
                out.setdefault(name, set()).add(value)
            for name, values in form.options.items():
                out.setdefault(name, set()).update(values)
    return out


def form_posting_to(body: str, path: str) -> HtmlForm | None:
    for form in page_forms(body):
        target = urlsplit(form.action).path or path
        if form.method == "post" and target == path:
            return form
    return None


def field_names(form: FlaskForm) -> dict[str, str]:
    """Every field of a form object (rows of a FieldList included): name -> field type."""
    out: dict[str, str] = {}

    def walk(fields: Any) -> None:
        for f in fields:
            if f.type == "FieldList":
                for entry in f.entries:
                    walk(entry if entry.type == "FormField" else [entry])
            elif f.type == "FormField":
                walk(f)
            elif f.type != "CSRFTokenField":
                out[f.name] = f.type

    walk(form)
    return out


# --- running a case ------------------------------------------------------------------------------


@dataclass
class Fuzzer:
    app: Flask
    connection: Any
    session_ids: dict[str, str]
    states: list[dict[str, int]]
    forms: list[FlaskForm]  # the form objects built by the last request
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, role: str, method: str) -> FlaskClient:
        """A client signed in as `role`. Only a POST can change a session (sign out, a new
        password), so a client is signed in afresh after each one."""
        client = self.clients.get(role)
        if client is None:
            client = self.clients[role] = self.app.test_client()
            if role != ANON:
                with client.session_transaction() as sess:
                    sess["_user_id"] = self.session_ids[role]
                    sess["_fresh"] = True
                    signed_in_now(sess)  # a fresh sign-in (app/auth/fresh.py)
        if method != "GET":
            self.clients.pop(role)
        return client

    @contextmanager
    def isolated(self) -> Iterator[None]:
        db.session.remove()  # no session savepoint may enclose ours
        savepoint = self.connection.begin_nested()
        self.app.extensions[throttle.EXTENSION_KEY].reset()
        derived.clear()
        try:
            yield
        finally:
            db.session.remove()
            if savepoint.is_active:
                savepoint.rollback()

    def send(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request in its own savepoint; a 5xx, an exception or a traceback is noted."""
        self.cases += 1
        label = f"{method} {path} {_short(kwargs)} as {role}"
        with self.isolated():
            try:
                response = self.client(role, method).open(path, method=method, **kwargs)
                body = response.get_data()  # streamed exports run to the end here
            except Exception as exc:
                self.failures.append(f"{label}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                return None
        if response.status_code >= 500 or b"Traceback (most recent call last)" in body:
            self.failures.append(f"{label}: {response.status_code}")
        return response

    def get_page(self, role: str, path: str) -> Any:
        """A plain GET whose answer is kept (no fuzz, no failure bookkeeping)."""
        with self.isolated():
            response = self.client(role, "GET").get(path)
            response.get_data()
        return response

    def check(self) -> None:
        print(f"fuzz: {self.cases} cases")  # shown with -s
        assert not self.failures, (
            f"{len(self.failures)} of {self.cases} fuzzed requests failed:\n" + "\n".join(self.failures[:40])
        )


def _short(kwargs: dict[str, Any]) -> str:
    text = repr(kwargs.get("query_string") or kwargs.get("data") or "")
    return text if len(text) < 300 else text[:300] + "…"


# --- states the lifecycle routes need ----------------------------------------------------------


def _submit(client: FlaskClient, path: str, values: dict[str, str]) -> None:
    """Post a page's form as a person would: its current values, some of them changed."""
    page = client.get(path)
    assert page.status_code == 200, path
    form = form_posting_to(page.get_data(as_text=True), path)
    assert form is not None, path
    data = dict(form.fields)
    data.update(values)
    response = client.post(path, data=data)
    assert response.status_code == 302, (path, response.status_code)


def _states(app: Flask) -> list[dict[str, int]]:
    """URL variables for recommendations in each lifecycle state, so that every step's page
    opens for someone: not yet answered, answered, resolved, closure requested, closed."""
    liaison, oig = app.test_client(), app.test_client()
    login(liaison, "liaison")
    login(oig, "oig")
    target = (clock.today() + timedelta(days=200)).isoformat()
    answer = {
        "concurrence": "concur",
        "response": "I&A concurs.",
        "corrective_action_plan": "Steps.",
        "target_date": target,
        "responsible_official": "Fuzz Official",
    }

    def step(r: Any, name: str) -> str:
        return f"/recommendations/{r.id}/components/{r.addressees[0].id}/{name}"

    fresh, answered, resolved, asked, closed = (
        rec("OIG-12-15", 1),
        rec("OIG-12-15", 2),
        rec("OIG-12-15", 4),
        rec("TEST-R-1", 1),
        rec("OIG-12-15", 3),
    )
    for r in (answered, resolved, asked):
        _submit(liaison, step(r, "respond"), answer)
    for r in (resolved, asked):
        _submit(oig, f"/recommendations/{r.id}/resolve", {"note": "Responsive."})
    _submit(liaison, step(asked, "request-closure"), {"justification": "Done."})
    _submit(oig, f"/recommendations/{closed.id}/close", {"outcome": "not_implemented", "note": "Withdrawn."})

    attachment = Attachment(
        recommendation_id=fresh.id,
        addressee_id=fresh.addressees[0].id,
        sha256=DatabaseBlobStore().put(db.session, b"evidence,1\n"),
        size_bytes=11,
        content_type="text/csv",
        original_name="evidence.csv",
    )
    db.session.add(attachment)
    # the open-data files, so that their downloads answer
    opendata.build(db.session, blob_store(app.config), now=clock.now(), today=clock.today())
    db.session.commit()
    common = {
        "attachment_id": attachment.id,
        "component_id": db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA")),
        "user_id": db.session.scalar(sa.select(User.id).where(User.email == EMAILS["viewer"])),
        "acronym_id": db.session.scalar(sa.select(Acronym.id).where(Acronym.acronym == "HSIN")),
        "job_id": make_done_job(user_by_email(EMAILS["viewer"])),
        "token_id": _api_token(),
        "factor_id": _factor(),
        "token": _reset_link(),
    }
    return [
        {**common, "report_id": r.report_id, "rec_id": r.id, "addressee_id": r.addressees[0].id}
        for r in (fresh, answered, resolved, asked, closed)
    ]


def _factor() -> int:
    """A second factor of the viewer's (an authenticator app)."""
    factor = MfaFactor(
        user_id=user_by_email(EMAILS["viewer"]).id,
        kind=FactorKind.TOTP,
        name="Fuzz phone",
        totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    )
    db.session.add(factor)
    db.session.commit()
    return factor.id


def _reset_link() -> str:
    """A live password-reset link's token, of an account of its own (a fuzzed form that
    happened to set a password would change no account the other requests use)."""
    token = "fuzz-reset-link-token"
    now = clock.now()
    user = accounts.create_user(
        db.session,
        email="fuzz.reset@test.example",
        display_name="Fuzz Reset",
        role=Role.VIEWER,
        password=PASSWORD,
    )
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=reset.token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    )
    db.session.commit()
    return token


def _api_token() -> int:
    """An API token of the viewer's."""
    now = clock.now()
    made = tokens.create(
        db.session,
        user_by_email(EMAILS["viewer"]),
        name="Fuzz",
        scope=TokenScope.READ,
        expires_at=now + timedelta(days=30),
        now=now,
    )
    db.session.commit()
    return made.token.id


def _path(rule: str, params: dict[str, int]) -> str:
    for name, value in params.items():
        rule = rule.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    assert "<" not in rule, f"no prepared state fills the variables of {rule}; add one to _states()"
    return rule


@dataclass
class Target:
    endpoint: str
    rule: str
    methods: set[str]


def _targets(app: Flask) -> list[Target]:
    """Every route; the step route once for each step of the step table it serves."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if rule.rule.startswith("/api/"):
            continue  # the JSON API takes tokens, not sessions: schemathesis fuzzes it (make test-api)
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        if "slug" not in rule.arguments:
            out.append(Target(rule.endpoint, rule.rule, methods))
            continue
        for step in STEPS.values():
            if step.on_addressee == ("addressee_id" in rule.arguments):
                path = re.sub(r"<[^>]*:slug>", step.slug, rule.rule)
                out.append(Target(f"{rule.endpoint}:{step.name}", path, methods))
    return out


@pytest.fixture
def fuzzer(app: Flask, db_session: Any, watched: list[FlaskForm]) -> Fuzzer:
    states = _states(app)
    ids = {role: user_by_email(email).get_id() for role, email in EMAILS.items()}
    return Fuzzer(app, db_session.get_bind(), ids, states, watched)


@dataclass
class Opened:
    """A page a role could open: where, what it showed, which query arguments its code
    asked for and which form fields its form objects have."""

    role: str
    path: str
    page: Any
    asked: list[str]
    fields: dict[str, str]


def _open_for(fz: Fuzzer, target: Target, role: str) -> Opened | None:
    """The page in the first prepared state in which `role` can open it. A refusal (403,
    or the sign-in redirect) holds in every state; "not in this state" (409, 404) does not."""
    for params in fz.states:
        path = _path(target.rule, params)
        RecordingArgs.asked = set()
        fz.forms.clear()
        response = fz.get_page(role, path)
        if response.status_code == 200:
            asked = sorted(n for n in RecordingArgs.asked if isinstance(n, str))
            fields: dict[str, str] = {}
            for form in fz.forms:
                fields.update(field_names(form))
            return Opened(role, path, response, asked, fields)
        if "<int:" not in target.rule or response.status_code in (302, 403):
            return None
    return None


# --- the tests -----------------------------------------------------------------------------------


def _roles_opening(fz: Fuzzer, target: Target) -> list[Opened]:
    """The page as each role that can open it in some prepared state sees it."""
    return [found for role in ROLES if (found := _open_for(fz, target, role)) is not None]


def _real_others(
    rng: random.Random, real: dict[str, list[str]], names: list[str], but: str, share: float
) -> list[tuple[str, str]]:
    """Real values for about `share` of the arguments other than `but`."""
    return [(o, rng.choice(real[o])) for o in names if o != but and real.get(o) and rng.random() < share]


def test_fuzzed_query_arguments_never_cause_a_server_error(fuzzer: Fuzzer) -> None:
    """Every GET route. As the first role that can open it, each argument its code reads
    gets one value of each kind (every date to a date, and so on), the other arguments
    mostly real values that the pages send (links, filter forms), so hostile values meet
    real ones; then, as every role that can open it, all arguments at once and twice."""
    unreached, pages = [], []
    known: dict[str, set[str]] = {}
    for target in _targets(fuzzer.app):
        if "GET" in target.methods:
            pages.append((target, opened := _roles_opening(fuzzer, target)))
            if not opened:
                unreached.append(target.rule)
            for page in opened:
                if page.page.mimetype == "text/html":
                    for name, values in known_arguments(page.page.get_data(as_text=True)).items():
                        known.setdefault(name, set()).update(values)
    real = {name: sorted(values) for name, values in known.items()}
    for target, opened in pages:
        for n, page in enumerate(opened):
            names = [*page.asked, "zz_unknown"]
            rng = random.Random(f"{target.endpoint}|{page.role}")

            for name in names if n == 0 else ():
                for value in _pick(f"{target.endpoint}|{name}", kind_of(real.get(name, []))):
                    query = [(name, value), *_real_others(rng, real, names, name, 0.7)]
                    fuzzer.send(page.role, "GET", page.path, query_string=urlencode(query))
            query = [(name, rng.choice(ALL_VALUES)) for name in names if rng.random() < 0.5]
            fuzzer.send(
                page.role,
                "GET",
                page.path,
                query_string=urlencode([*query, *_real_others(rng, real, names, "", 0.5)]),
            )
            fuzzer.send(
                page.role, "GET", page.path, query_string=urlencode([(name, "1") for name in names] * 2)
            )
    fuzzer.check()
    assert not unreached, f"no role opens these pages in any prepared state (see _states()): {unreached}"


def _baseline(fields: dict[str, str], html_form: HtmlForm | None) -> list[tuple[str, str]]:
    """What a browser sends from the page, with empty fields filled by type so that the
    form gets past its own checks and a fuzzed value reaches the services."""
    pairs = list(html_form.fields) if html_form else []
    have = {name for name, value in pairs if value}
    fill = {
        "StringField": "Fuzz baseline text",
        "TextAreaField": "Fuzz baseline text.",
        "EmailField": "fuzz.baseline@test.example",
        "PasswordField": PASSWORD,
        "URLField": "https://www.oig.dhs.gov/fuzz",
        "IntegerField": "7",
        "FriendlyDateField": (clock.today() - timedelta(days=30)).isoformat(),
    }
    for name, kind in fields.items():
        if name not in have and kind in fill:
            pairs = [(n, v) for n, v in pairs if n != name] + [(name, fill[kind])]
    return pairs


def _replace(pairs: list[tuple[str, str]], name: str, value: str | bytes) -> list[tuple[str, Any]]:
    return [(n, v) for n, v in pairs if n != name] + [(name, value)]


FORM_POST = {"content_type": "application/x-www-form-urlencoded"}
ODD_NAMES = ("addressees-999999-component_id", "addressees--1-response", "addressees-x-", "a\x00b")


def _form_fields(fz: Fuzzer) -> dict[str, str]:
    fields: dict[str, str] = {}
    for form in fz.forms:
        fields.update(field_names(form))
    return fields


def test_fuzzed_form_fields_never_cause_a_server_error(fuzzer: Fuzzer) -> None:
    """Every form, as each role that can open it: each field of the form object in turn
    gets hostile values while the others keep what the page holds; then every field at
    once; then odd field names; then hostile uploads in its file fields. A POST-only
    route is fuzzed with the fields of the form it builds."""
    for target in _targets(fuzzer.app):
        if "POST" not in target.methods:
            continue
        if "GET" in target.methods:
            opened = [
                (
                    page.role,
                    page.path,
                    form_posting_to(page.page.get_data(as_text=True), page.path),
                    page.fields,
                )
                for page in _roles_opening(fuzzer, target)
            ]
        else:
            path = _path(target.rule, fuzzer.states[0])
            opened = []
            for role in ROLES:
                fuzzer.forms.clear()
                response = fuzzer.send(role, "POST", path, data={})
                if response is not None and response.status_code not in (302, 403):
                    opened.append((role, path, None, _form_fields(fuzzer)))
        for n, (role, path, html_form, fields) in enumerate(opened):
            pairs = _baseline(fields, html_form)
            fuzzer.send(role, "POST", path, data=urlencode(pairs), **FORM_POST)
            rng = random.Random(f"{target.endpoint}|all|{role}")
            everything = [(name, rng.choice(ALL_VALUES)) for name in fields]
            fuzzer.send(role, "POST", path, data=urlencode(everything), **FORM_POST)
            if n > 0:
                continue
            for name in sorted(fields):
                for value in _pick(f"{target.endpoint}|{name}", FIELD_KINDS.get(fields[name])):
                    fuzzer.send(role, "POST", path, data=urlencode(_replace(pairs, name, value)), **FORM_POST)
            for odd in ODD_NAMES:
                fuzzer.send(role, "POST", path, data=urlencode([*pairs, (odd, "1")]), **FORM_POST)
            for name in (f for f, kind in fields.items() if kind in ("FileField", "MultipleFileField")):
                for filename, content in [*FILES, ("doctype.xlsx", _doctype_xlsx())]:
                    data: dict[str, Any] = dict(pairs)
                    data[name] = (io.BytesIO(content), filename)
                    fuzzer.send(role, "POST", path, data=data, content_type="multipart/form-data")
    fuzzer.check()
