"""The running server's state (`app.State`: settings, store, engine, keys), reached the same way from
every module that serves a request. A module of its own so that the blueprints and security, which the
app factory imports, can import it without a cycle."""

from __future__ import annotations

from flask import current_app


def get_state():
    return current_app.extensions["crosscurrent"]


def get_store():
    return get_state().store


def get_engine():
    return get_state().engine
