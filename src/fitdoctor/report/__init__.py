"""Renderers: turn a `Report` into terminal output, JSON (and HTML). They know nothing of checks."""
