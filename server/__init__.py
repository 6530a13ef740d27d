"""Crosscurrent's local server: capture, claims, matching and the reader's history."""

__version__ = "0.1.0"
