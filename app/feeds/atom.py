"""Atom (RFC 4287) documents written with the standard library's ElementTree: it escapes
every text and attribute value itself, so a title can never break the XML or inject
markup, and it adds no dependency (feedgen would, for the handful of elements used here)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"

# Characters XML 1.0 does not allow at all; ElementTree would write them as they are.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def rfc3339(moment: datetime) -> str:
    """A timestamp as RFC 3339 in UTC: 2026-12-01T14:30:00Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    link: str
    author: str
    summary: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_url: str
    page_url: str  # the page the feed follows (rel="alternate")
    author: str
    updated: datetime  # the newest entry's, or a fallback for an empty feed
    entries: list[Entry]


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = _NOT_XML.sub("", text)
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str | None = None) -> None:
    attrs = {"rel": rel, "href": href}
    if media_type:
        attrs["type"] = media_type
    ET.SubElement(parent, "link", attrs)


def render(feed: Feed) -> bytes:
    """The feed as a UTF-8 XML document."""
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    _text(root, "updated", rfc3339(feed.updated))
    _link(root, feed.self_url, "self", "application/atom+xml")
    _link(root, feed.page_url, "alternate", "text/html")
    _text(ET.SubElement(root, "author"), "name", feed.author)
    _text(root, "generator", "RecTrack")
    for item in feed.entries:
        entry = ET.SubElement(root, "entry")
        _text(entry, "id", item.id)
        _text(entry, "title", item.title, type="text")
        _text(entry, "updated", rfc3339(item.updated))
        _link(entry, item.link, "alternate", "text/html")
        _text(ET.SubElement(entry, "author"), "name", item.author)
        _text(entry, "summary", item.summary, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
