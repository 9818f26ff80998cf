"""The fields of the open-data files, in file order, with what the data dictionary page
says of each. The CSV header and the JSON "fields" list are these names."""

from __future__ import annotations

from dataclasses import dataclass

OVERSIGHT = "Oversight.gov"
RECTRACK = "RecTrack"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    meaning: str
    source: str  # who publishes a field of this name: Oversight.gov's, or RecTrack's own
    blank: str  # what an empty value (JSON null) means


FIELDS: tuple[Field, ...] = (
    Field("report_number", "text", "The OIG's report number, such as OIG-12-15.", OVERSIGHT,
          "Not known: no source read gives the number (the title then identifies the report)."),
    Field("report_title", "text", "The report's title.", OVERSIGHT, "Never blank."),
    Field("report_date", "date (ISO 8601)",
          "The report's issue date, as precise as its source: 2011-12-06 (a day), 2024-09 (a "
          "month) or 2023-10-01/2024-09-30 (an interval: only the federal fiscal year is known).",
          OVERSIGHT, "Not known: no source gives even the fiscal year."),
    Field("report_date_precision", "text", "day, month or fiscal_year: how much of report_date is known.",
          RECTRACK, "The issue date is not known."),
    Field("report_date_approximate", "boolean (yes/no in CSV)",
          "yes when the issue date was inferred (for instance from press coverage), not read on the report.",
          RECTRACK, "Never blank."),
    Field("report_url", "URL", "The report's public web address.", OVERSIGHT, "Not recorded in RecTrack."),
    Field("recommendation_number", "integer", "The recommendation's number in its report.", OVERSIGHT,
          "Not known: no source gives it (the text then identifies it)."),
    Field("recommendation_text", "text", "The recommendation's text as RecTrack holds it.", OVERSIGHT,
          "Never blank."),
    Field("recommendation_text_source", "text",
          "verbatim (the OIG's own words), summary (the OIG's public summary of it) or partial "
          "(verbatim but cut off in every copy read).", RECTRACK, "Never blank."),
    Field("significant", "boolean (yes/no in CSV)",
          "Whether the OIG lists the recommendation as significant.", OVERSIGHT,
          "Not recorded in RecTrack for this recommendation: the sources read do not say."),
    Field("questioned_costs", "decimal, US dollars", "Costs the OIG questioned under this recommendation.",
          OVERSIGHT, "Not recorded in RecTrack for this recommendation."),
    Field("funds_for_better_use", "decimal, US dollars",
          "Funds the OIG found could be put to better use under this recommendation.", OVERSIGHT,
          "Not recorded in RecTrack for this recommendation."),
    Field("status", "text",
          "Open–Unresolved, Open–Resolved, Closed–Implemented or Closed–Not implemented, on as_of.",
          OVERSIGHT, "Never blank."),
    Field("components", "list of text (CSV: separated by \"; \")",
          "Abbreviations of the components the recommendation is addressed to, the lead first.",
          RECTRACK, "No component recorded."),
    Field("lead_component", "text", "The lead component's abbreviation.", RECTRACK, "No lead named."),
    Field("concurrence", "object of component: text (CSV: \"FEMA: Concur; I&A: Non-concur\")",
          "Each component's concurrence: Pending, Concur, Partially concur or Non-concur.", RECTRACK,
          "No component recorded."),
    Field("priority", "boolean (yes/no in CSV)",
          "yes for a priority recommendation (CIGIE's definition).", RECTRACK, "Never blank."),
    Field("target_dates", "object of component: date (CSV: \"FEMA: 2027-03-31\")",
          "Each component's target completion date, for the components that gave one.", RECTRACK,
          "No component has given a target date."),
    Field("tracked_since", "date (ISO 8601)",
          "The day RecTrack began tracking the recommendation; deadlines before it are not recorded.",
          RECTRACK, "Never blank."),
    Field("resolved_on", "date (ISO 8601)", "The day the OIG resolved the recommendation.", RECTRACK,
          "Not resolved (or resolved before tracked_since and not recorded)."),
    Field("closed_on", "date (ISO 8601)", "The day the OIG closed the recommendation.", RECTRACK,
          "Not closed."),
    Field("last_status_change", "date (ISO 8601)",
          "The effective date of the latest change of status (issuance counts as the first).", RECTRACK,
          "No status change recorded."),
)  # fmt: skip

NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
