"""Take the CPG-502 recommendation (OIG-12-15, recommendation 3) from FEMA's response to
closure through the JSON API alone, with two personal access tokens: a FEMA liaison's
and an OIG staff member's (each made on its owner's account page, read and write).

    RECTRACK_URL=http://127.0.0.1:5000 FEMA_TOKEN=rt_... OIG_TOKEN=rt_... python docs/api_cpg502.py

Only the standard library is used. Every change sends the version it last read, as the
pages do; the recommendation's page then shows the same history as if it were done in
the browser (the audit trail also names the tokens). tests/test_api.py
(test_the_whole_lifecycle_through_the_api) takes the same steps.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from typing import Any

BASE = os.environ.get("RECTRACK_URL", "http://127.0.0.1:5000").rstrip("/") + "/api/v1"
if not BASE.startswith(("http://", "https://")):
    sys.exit("RECTRACK_URL must be an http:// or https:// address.")


def call(token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)  # noqa: S310 (http(s) only, above)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:  # a problem document (RFC 9457)
        problem = json.load(error)
        sys.exit(f"{method} {path}: {problem['status']} {problem['title']}: {problem['detail']}")


def main() -> None:
    fema, oig = os.environ["FEMA_TOKEN"], os.environ["OIG_TOKEN"]
    found = call(oig, "GET", "/search?" + urllib.parse.urlencode({"q": "CPG-502"}))
    rec_id = next(h["id"] for h in found["hits"] if h["kind"] == "recommendation")
    path = f"/recommendations/{rec_id}"

    def fema_part() -> dict[str, Any]:
        rec = call(oig, "GET", path)
        return next(a for a in rec["addressees"] if a["component"]["abbreviation"] == "FEMA")

    steps = f"{path}/addressees/{fema_part()['id']}/steps"
    target = (date.today() + timedelta(days=180)).isoformat()
    call(
        fema,
        "POST",
        f"{steps}/respond",
        {
            "concurrence": "concur",
            "response": "FEMA concurs.",
            "corrective_action_plan": "The corrective action plan, as FEMA wrote it.",
            "target_date": target,
            "responsible_official": "The responsible official FEMA named",
            "version": fema_part()["version"],
        },
    )
    call(
        oig,
        "POST",
        f"{path}/steps/resolve",
        {"note": "The plan is responsive.", "version": call(oig, "GET", path)["version"]},
    )
    call(
        fema,
        "POST",
        f"{steps}/update",
        {"text": "The progress FEMA reports.", "version": fema_part()["version"]},
    )
    call(
        fema,
        "POST",
        f"{steps}/request-closure",
        {
            "justification": "Why FEMA considers the recommendation implemented.",
            "version": fema_part()["version"],
        },
    )
    done = call(
        oig,
        "POST",
        f"{path}/steps/close",
        {
            "outcome": "implemented",
            "note": "Evidence reviewed.",
            "version": call(oig, "GET", path)["version"],
        },
    )
    rec = done["recommendation"]
    print(f"{rec['report']['number']} {rec['tag']}: {rec['status']}")
    for event in rec["events"]:
        print(f"  {event['effective_on']}  {event['label']}  {event['actor'] or event['actor_role']}")


if __name__ == "__main__":
    main()
