"""The spreadsheet columns RecTrack exports and imports: one row per recommendation and
addressed component (and one row for a report with no recommendation entered).

Import reads the columns marked `imported`; the others are exported for reading (the
lifecycle is recorded through RecTrack, not by import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    description: str
    imported: bool = True
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "report_number",
        "Report number, such as OIG-12-15. Blank when unknown (the title then identifies it).",
    ),
    Column("report_title", "The report's title.", required=True),
    Column("report_issuing_office", "Issuing office; DHS OIG when blank."),
    Column(
        "report_issued_on",
        "Issue date as precise as the source: 2024-09-27 (a day), 2024-09 (a month) "
        "or FY2024 (a federal fiscal year, October 1, 2023 to September 30, 2024), "
        "or not known when no source gives even the fiscal year.",
        required=True,
    ),
    Column("report_issued_on_approximate", "yes when the issue date was inferred, not read."),
    Column(
        "report_type",
        "audit, inspection, evaluation, review, management_alert, management_advisory, "
        "verification_review, special_report, investigation, other, or blank.",
    ),
    Column("report_sensitivity", "public or restricted; public when blank."),
    Column("report_url", "Public web address of the report."),
    Column("report_recommendations_published", "How many recommendations the report made, if known."),
    Column("report_components", "Components the report covers, separated by semicolons (I&A; FEMA)."),
    Column(
        "rec_number",
        "Recommendation number; not known when no source gives it (the text then identifies it). "
        "Blank for a report with no recommendation entered.",
    ),
    Column("rec_text", "The recommendation's text, exactly as the source gives it."),
    Column("rec_text_source", "verbatim, summary or partial; verbatim when blank."),
    Column("rec_source_url", "Web address where the text was read, when not the report's own page."),
    Column("rec_significant", "yes or no; blank when not listed (the source does not say)."),
    Column("rec_questioned_costs", "Dollars; blank when not recorded."),
    Column("rec_funds_put_to_better_use", "Dollars; blank when not recorded."),
    Column("rec_sensitivity", "public or restricted; the report's when blank."),
    Column("priority", "yes for a priority recommendation (CIGIE's definition); no when blank."),
    Column("priority_reason", "Why it is, or is no longer, a priority. Required with priority yes."),
    Column(
        "repeats_report",
        "The earlier report whose recommendation this one repeats or rolls forward: its number "
        "(its exact title when it has none). Blank: no link.",
    ),
    Column("repeats_number", "The number of that earlier recommendation in its report."),
    Column("component", "Abbreviation of the component addressed, such as FEMA. One row per component."),
    Column("lead", "yes for the lead component (at most one per recommendation)."),
    Column("concurrence", "pending, concur, partially concur or non-concur; pending when blank."),
    Column("response", "The component's management response as quoted in the report."),
    Column("response_date", "Date of that response, YYYY-MM-DD."),
    Column(
        "status",
        "Exported only: Open–Unresolved, Open–Resolved, Closed–Implemented, Closed–Not implemented.",
        False,
    ),
    Column("resolved_on", "Exported only.", False),
    Column("closed_on", "Exported only.", False),
    Column("response_state", "Exported only: where the component's response stands.", False),
    Column("corrective_action_plan", "Exported only.", False),
    Column("target_date", "Exported only: target completion date.", False),
    Column("responsible_official", "Exported only.", False),
    Column("last_update_on", "Exported only: date of the last progress update.", False),
    Column("closure_state", "Exported only.", False),
    Column("rec_tracked_since", "Exported only: the day RecTrack began tracking the recommendation.", False),
)

KEYS = tuple(c.key for c in COLUMNS)
IMPORTED = tuple(c.key for c in COLUMNS if c.imported)
REQUIRED = tuple(c.key for c in COLUMNS if c.required)
PLACEHOLDER = "Restricted: not available in this version."
# Text a spreadsheet would run as a formula; exports prefix it with an apostrophe and
# imports take the apostrophe off again.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
