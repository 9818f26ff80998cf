"""Atom feeds (RFC 4287) of the status changes of public recommendations: per report, per
component and for everything public. They need no sign-in, so they list public items only."""
