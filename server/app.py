"""The Flask app factory: settings, then the store and engine, then blueprints and error handlers.

Nothing heavy happens at import or in create_app: the model and the claim index load on first use
(or in the background when the server starts).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import __version__, security, storage
from .embeddings import make_embedder
from .errors import HTTP_CODES, ApiError, error_response
from .pipeline import Engine
from .settings import load_settings
from .state import get_state, get_store
from .store import Store

log = logging.getLogger(__name__)

DB_NAME = "crosscurrent.db"


@dataclass
class State:
    """What one running server holds, reachable as current_app.extensions["crosscurrent"]."""
    settings: dict
    store: Store
    engine: Engine
    ui_keys: security.UiKey
    tickets: security.Tickets = field(default_factory=security.Tickets)
    companion: object | None = None     # set by the companion window when it hosts this server

    @property
    def ui_key(self) -> str:
        return self.ui_keys.current()


class RowId(IntegerConverter):
    """<int:...> in every route: ids SQLite can hold, so /articles/<30 digits> is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


session_bp = Blueprint("session", __name__)
session_bp.add_url_rule("/login", "login", security.login_view)


def create_app(test_config: dict | None = None, embedder=None) -> Flask:
    """test_config: setting overrides (data_dir, port, model, ...) plus Flask keys such as TESTING."""
    test_config = dict(test_config or {})
    flask_config = {k: test_config.pop(k) for k in list(test_config) if k.isupper()}
    settings = load_settings(test_config)
    data_dir = settings["data_dir"]
    data_dir.mkdir(mode=storage.PRIVATE_FOLDER, parents=True, exist_ok=True)
    storage.make_private(data_dir / DB_NAME)
    security.quiet_access_log()

    app = Flask(__name__)
    app.url_map.converters["int"] = RowId
    max_page = settings["max_page_mb"] * 1024 * 1024
    # JSON escaping can double a page's size; the exact 15 MB check is on the HTML itself.
    app.config.update(MAX_CONTENT_LENGTH=2 * max_page + 1024 * 1024, JSON_SORT_KEYS=False)
    app.config.update(flask_config)
    app.json.sort_keys = False

    store = Store(data_dir / DB_NAME)
    engine = Engine(store, embedder or make_embedder(settings["model"], settings["cache_dir"]), max_page_bytes=max_page)
    app.extensions["crosscurrent"] = State(settings, store, engine, security.UiKey(data_dir))

    from .api import bp as api_bp
    from .ui import bp as ui_bp

    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(session_bp)
    app.register_blueprint(ui_bp)
    app.jinja_env.globals["csrf_token"] = security.csrf_token
    app.jinja_env.globals["version"] = __version__

    app.before_request(security.check_host)
    app.after_request(security.add_security_headers)
    register_error_handlers(app)
    return app


def wants_json() -> bool:
    return request.path.startswith("/api") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        if wants_json():
            return error_response(exc.status, exc.code, exc.message)
        return _html_error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"The page is larger than {get_state().settings['max_page_mb']} MB."
        if wants_json():
            return error_response(status, HTTP_CODES.get(status, "error"), message)
        return _html_error(status, message)

    @app.errorhandler(storage.StorageError)
    @app.errorhandler(sqlite3.Error)
    @app.errorhandler(OSError)
    def storage_error(exc: Exception):
        problem = storage.describe(exc, get_store().path)
        if problem is None:
            return unexpected(exc)
        log.error("%s %s: %s", request.method, request.path, problem.message)
        if wants_json():
            return error_response(problem.status, problem.code, problem.message)
        return _html_error(problem.status, problem.message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal_error", "Something went wrong inside Crosscurrent; nothing was stored.")
        return _html_error(500, "Something went wrong inside Crosscurrent.")


def _html_error(status: int, message: str):
    from flask import render_template_string

    page = render_template_string(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crosscurrent</title>'
        '<link rel="stylesheet" href="/static/app.css"></head><body><main class="locked">'
        "<h1>{{ status }}</h1><p>{{ message }}</p><p><a href=\"/\">Back to your reading</a></p></main></body></html>",
        status=status, message=message)
    return page, status
