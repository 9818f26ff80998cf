"""PDF status reports."""
