"""Crosscurrent's desktop window: a pywebview window over the local server's UI."""
