"""The JSON API under /api: what the extension and scripts talk to. Contract in docs/architecture.md."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from . import __version__, export, import_job, imports, security
from .errors import ApiError
from .state import get_state
from .pairing import PairingError, poll_pairing, redeem_code, request_pairing
from .pipeline import CaptureError

bp = Blueprint("api", __name__)
bp.before_request(security.check_api_request)
bp.after_request(security.add_cors)



def _json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, "bad_request", "The JSON body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object.")
    return body


MAX_URL_CHARS = 8000
MAX_PAGE_NUMBER = 1_000_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL = re.compile("[\x00-\x1f\x7f]")


def _optional_str(body: dict, name: str, limit: int | None = None) -> str | None:
    """A text field from the page: broken UTF-16 (lone surrogates) becomes U+FFFD rather than failing."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"'{name}' must be a string.")
    return LONE_SURROGATE.sub("\ufffd", value[:limit] if limit else value)


def _url_field(body: dict) -> str:
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ApiError(400, "bad_request", "'url' is required: the page's address.")
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise ApiError(400, "bad_request", f"'url' is longer than {MAX_URL_CHARS} characters.")
    if LONE_SURROGATE.search(url) or CONTROL.search(url):
        raise ApiError(400, "bad_request", "'url' holds characters no web address has (control characters or "
                                           "broken UTF-16).")
    try:
        urlsplit(url).port      # parses the host too: "http://[::1/x" and ":99999" fail here
    except ValueError as exc:
        raise ApiError(400, "bad_url", f"'url' is not a usable web address: {exc}.") from None
    return url


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"'{name}' must be a whole number.") from None
    if not 1 <= value <= MAX_PAGE_NUMBER:
        raise ApiError(400, "bad_request", f"'{name}' must be between 1 and {MAX_PAGE_NUMBER:,}.")
    return value


def _date_arg(name: str) -> str | None:
    import datetime as dt

    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(raw[:10]).isoformat()
    except ValueError:
        raise ApiError(400, "bad_request", f"'{name}' must be a date like 2024-10-09.") from None


@bp.get("/health")
def health():
    state = get_state()
    problem = state.store.check_writable()
    return jsonify({
        "name": "crosscurrent",
        "version": __version__,
        "model": state.engine.embedder.model_name,
        "model_loaded": bool(state.engine.embedder.loaded),
        # "onnx" normally; "torch" when the model could not be prepared for ONNX Runtime on this machine.
        "model_runtime": state.engine.embedder.runtime,
        "counts": {k: v for k, v in state.store.counts().items() if k in ("articles", "claims", "stories")},
        # Whether a capture would be stored now; the message says why not (full disk, read-only folder).
        "storage": {"writable": problem is None, "error": problem and problem.code,
                    "message": problem and problem.message},
    })


@bp.post("/pair")
def pair():
    body = _json_body()
    store = get_state().store
    origin = request.headers.get("Origin")
    origin = origin[:200] if origin and origin.startswith(security.EXTENSION_SCHEMES) else None
    try:
        if "code" in body:
            return jsonify(redeem_code(store, body["code"], body.get("name"), origin))
        if "request_id" in body:
            return jsonify(poll_pairing(store, body.get("request_id"), body.get("poll")))
        return jsonify(request_pairing(store, body.get("name"), origin)), 202
    except PairingError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


@bp.post("/pages")
def capture_page():
    body = _json_body()
    html = body.get("html")
    if not isinstance(html, str) or not html.strip():
        raise ApiError(400, "bad_request", "'html' is required: the page's HTML as a string.")
    url = _url_field(body)
    engine = get_state().engine
    try:
        result = engine.capture(
            url, _optional_str(body, "html"),
            title=_optional_str(body, "title", 1000),
            captured_at=_optional_str(body, "captured_at", 64),   # a U+FFFD in it reads as "not ISO 8601"
            selection=_optional_str(body, "selection", 200_000),
        )
    except CaptureError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    answer = engine.view(result.article_id)
    answer["status"] = "created" if result.created else "duplicate"
    answer["elapsed_ms"] = round(result.seconds * 1000)
    return jsonify(answer), 201 if result.created else 200


@bp.get("/articles")
def list_articles():
    result = get_state().store.list_articles(
        q=request.args.get("q"), site=request.args.get("site") or None,
        date_from=_date_arg("from"), date_to=_date_arg("to"),
        page=_int_arg("page", 1), per_page=_int_arg("per_page", 50),
    )
    return jsonify(result)


@bp.get("/articles/<int:article_id>")
def get_article(article_id: int):
    article = get_state().store.get_article(article_id)
    if article is None:
        raise ApiError(404, "not_found", f"No article {article_id}.")
    return jsonify(article)


@bp.delete("/articles/<int:article_id>")
def delete_article(article_id: int):
    if not get_state().engine.forget(article_id):
        raise ApiError(404, "not_found", f"No article {article_id}.")
    return jsonify({"deleted": article_id})


@bp.get("/stories")
def list_stories():
    return jsonify(get_state().store.list_stories(page=_int_arg("page", 1), per_page=_int_arg("per_page", 50)))


@bp.get("/stories/<int:story_id>")
def get_story(story_id: int):
    story = get_state().store.get_story(story_id)
    if story is None:
        raise ApiError(404, "not_found", f"No story {story_id}.")
    return jsonify(story)


@bp.get("/contradictions")
def list_contradictions():
    include = request.args.get("include_dismissed", "").lower() in ("1", "true", "yes")
    return jsonify(get_state().store.list_contradictions(
        page=_int_arg("page", 1), per_page=_int_arg("per_page", 50), include_dismissed=include))


@bp.post("/contradictions/<int:link_id>/dismiss")
def dismiss_contradiction(link_id: int):
    store = get_state().store
    link = store.get_link(link_id)
    if link is None or link["label"] != "disputes":
        raise ApiError(404, "not_found", f"No contradiction {link_id}.")
    store.dismiss_link(link_id)
    return jsonify(store.get_link(link_id))


@bp.get("/export")
def export_log():
    fmt = request.args.get("format", "json")
    if fmt not in export.FORMATS:
        raise ApiError(400, "bad_request", f"format must be one of {', '.join(export.FORMATS)}.")
    # read_*: the days the articles were read ("from"/"to" are the same); published_*: their publication days.
    articles = get_state().store.export_articles(
        _date_arg("read_from") or _date_arg("from"), _date_arg("read_to") or _date_arg("to"),
        published_from=_date_arg("published_from"), published_to=_date_arg("published_to"))
    result = export.render(fmt, articles)
    response = Response(result.body, mimetype=result.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@bp.post("/ui-ticket")
def ui_ticket():
    """A single-use sign-in ticket for `crosscurrent open`, which holds the data folder's UI key and sends
    it in a header (security.KEY_HEADER), so the key never lands in the browser's address bar or history."""
    return jsonify({"ticket": get_state().tickets.issue()})


@bp.post("/imports/history")
def import_history():
    """The browser history the extension read with the reader's consent: fetched and captured in the
    background by the same import job as the window's Import page, oldest visit first."""
    body = _json_body()
    try:
        items = imports.history_items(body.get("items"))
    except imports.ImportFormatError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    name = (_optional_str(body, "name", 200) or "Browser history").strip() or "Browser history"
    job = import_job.job_for(current_app)
    try:
        job.start_items(get_state().engine, CONTROL.sub(" ", name), "browser history", items)
    except import_job.ImportBusy:
        raise ApiError(409, "import_running", "An import is already running: wait for it to finish, "
                                              "then start the next.") from None
    return jsonify(job.status()), 202


@bp.get("/imports/current")
def import_status():
    return jsonify(import_job.job_for(current_app).status())


@bp.post("/ui-link")
def ui_link():
    body = _json_body()
    path = security.safe_next(_optional_str(body, "path", 500))
    state = get_state()
    query = urlencode({"ticket": state.tickets.issue(), "next": path})
    url = f"{request.host_url.rstrip('/')}/login?{query}"
    shown = False
    if state.companion is not None:
        try:
            shown = bool(state.companion.show(path))
        except Exception:  # the window may be closing; the browser tab still works
            shown = False
    return jsonify({"url": url, "companion": shown})
