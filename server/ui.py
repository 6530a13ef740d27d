"""The HTML pages the companion window (or a browser tab) shows: history, article, stories,
contradictions, stats, export, import and pairing.

Everything derived from web pages reaches the templates as plain strings and is escaped by Jinja's
autoescape; claims are marked by splitting the article text into spans, never by building HTML.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from server import __version__, charts, export, imports, security
from server import import_job
from server import pairing as pair_codes
from server.state import get_engine, get_state, get_store

log = logging.getLogger(__name__)

bp = Blueprint("ui", __name__)
bp.before_request(security.ui_session_required)

PER_PAGE = 30
STORY_AGREEMENTS_SHOWN = 6
LABEL_ORDER = ("disputes", "supports", "related")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- helpers shared by the templates ------------------------------------------------------

def parse_day(value: str | None) -> str | None:
    """A YYYY-MM-DD date from a form field, or None when missing or malformed."""
    value = (value or "").strip()
    if not DATE_RE.match(value):
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        return None
    return value


MAX_PAGE_NUMBER = 1_000_000


def page_number(value: str | None) -> int:
    """A 1-based page number from the address; nonsense reads as page 1, huge numbers as the last page."""
    try:
        return min(max(int(value or 1), 1), MAX_PAGE_NUMBER)
    except ValueError:
        return 1


def is_web_url(url: str | None) -> bool:
    """Only http(s) links become clickable: a captured page may carry javascript: or file: URLs."""
    try:
        return bool(url) and urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


@bp.app_template_filter("day")
def format_day(value: str | None) -> str:
    """'2024-10-09' or an ISO timestamp -> 'Wed 9 Oct 2024'."""
    if not value:
        return ""
    try:
        moment = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


@bp.app_template_filter("moment")
def format_moment(value: str | None) -> str:
    """'2024-10-09T08:05:00Z' -> 'Wed 9 Oct 2024 08:05 UTC': pairing requests are told apart by the minute."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return str(value or "")
    return f"{format_day(moment.date().isoformat())} {moment:%H:%M} UTC"


@bp.app_template_filter("day_heading")
def format_day_heading(value: str) -> str:
    today = datetime.now(timezone.utc).date()
    if value == today.isoformat():
        return "Today"
    if value == (today - timedelta(days=1)).isoformat():
        return "Yesterday"
    return format_day(value)


@bp.app_template_filter("percent")
def format_percent(value: float | None) -> str:
    return f"{round((value or 0) * 100)}%"


@bp.app_context_processor
def template_helpers() -> dict:
    return {"is_web_url": is_web_url, "version": __version__, "csrf_token": security.csrf_token,
            "contradiction_sides": contradiction_sides}


def best_label(claim: dict) -> str | None:
    labels = {m["label"] for m in claim.get("matches") or [] if not m.get("dismissed")}
    return next((label for label in LABEL_ORDER if label in labels), None)


@dataclass(frozen=True)
class Span:
    text: str
    claim_id: int | None = None
    label: str | None = None


_RUN = re.compile(r"\S+")
# Claims are looked up by their first few characters in one pass over the text, so marking costs
# time in proportion to the text and the claims, never to their product.
KEY_CHARS = 12


class _Text:
    """The article's paragraphs with every whitespace run squeezed to one space.

    `squeezed` joins the squeezed paragraphs with "\\n"; `origin[i]` is where its character i sits
    in its own paragraph, so a match found in the squeezed text maps back to the paragraph as written.
    """

    def __init__(self, paragraphs: list[str]):
        self.paragraphs = paragraphs
        parts: list[str] = []
        self.origin: list[int] = []
        self.starts: list[int] = []  # offset of each paragraph in `squeezed`
        offset = 0
        for paragraph in paragraphs:
            self.starts.append(offset)
            words = [(m.group(), m.start()) for m in _RUN.finditer(paragraph)]
            for index, (word, start) in enumerate(words):
                if index:
                    parts.append(" ")
                    self.origin.append(start - 1)
                parts.append(word)
                self.origin.extend(range(start, start + len(word)))
            parts.append("\n")
            self.origin.append(len(paragraph))
            offset = len(self.origin)
        self.squeezed = "".join(parts)

    def first_occurrences(self, needles: set[str]) -> dict[str, int]:
        """Where each needle first occurs in the squeezed text (absent when nowhere)."""
        text = self.squeezed
        found: dict[str, int] = {}
        # Needles by their first characters, then by length: at a place that starts like some of them,
        # one slice per distinct length tells which one (if any) is there, however many share the start.
        by_key: dict[str, dict[int, set[str]]] = {}
        for needle in needles:
            if len(needle) >= KEY_CHARS:
                by_key.setdefault(needle[:KEY_CHARS], {}).setdefault(len(needle), set()).add(needle)
            elif (at := text.find(needle)) >= 0:  # short needles are rare: a plain search each
                found[needle] = at
        for index in range(len(text) - KEY_CHARS + 1):
            if not by_key:
                break
            key = text[index:index + KEY_CHARS]
            lengths = by_key.get(key)
            if lengths is None:
                continue
            for length, waiting in list(lengths.items()):
                candidate = text[index:index + length]
                if candidate in waiting:
                    found[candidate] = index
                    waiting.discard(candidate)
                    if not waiting:
                        del lengths[length]
            if not lengths:
                del by_key[key]
        return found

    def paragraph_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def span(self, number: int, at: int, needle: str, written: str) -> tuple[int, int]:
        """The claim's span in paragraph `number`: as written when it appears so, else the squeezed match."""
        exact = self.paragraphs[number].find(written)
        if exact >= 0:
            return exact, exact + len(written)
        return self.origin[at], self.origin[at + len(needle) - 1] + 1


def mark_claims(text: str, claims: list[dict]) -> list[list[Span]]:
    """Split the text into paragraphs of spans, the claim sentences as their own spans.

    Each claim (in position order) marks the first paragraph where its words appear, whitespace aside,
    without overlapping a claim marked there before it.
    """
    body_claims = sorted((c for c in claims if not c.get("is_headline")), key=lambda c: c.get("position", 0))
    paragraphs = [p.strip() for p in (text or "").split("\n") if p.strip()]
    squeezed = _Text(paragraphs)
    needles = {id(c): " ".join(c["text"].split()) for c in body_claims}
    first = squeezed.first_occurrences({n for n in needles.values() if n})
    hits: list[list[tuple[int, int, dict]]] = [[] for _ in paragraphs]
    for claim in body_claims:
        needle = needles[id(claim)]
        at = first.get(needle, -1)
        while at >= 0:
            number = squeezed.paragraph_at(at)
            start, end = squeezed.span(number, at, needle, claim["text"].strip())
            if not any(s < end and start < e for s, e, _ in hits[number]):
                hits[number].append((start, end, claim))
                break
            # Taken in this paragraph by an earlier claim: its first place in a later paragraph.
            following = number + 1
            at = squeezed.squeezed.find(needle, squeezed.starts[following]) if following < len(paragraphs) else -1
    result: list[list[Span]] = []
    for paragraph, found in zip(paragraphs, hits):
        found.sort(key=lambda hit: hit[0])
        spans, cursor = [], 0
        for start, end, claim in found:
            if start > cursor:
                spans.append(Span(paragraph[cursor:start]))
            spans.append(Span(paragraph[start:end], claim["id"], best_label(claim) or "none"))
            cursor = end
        if cursor < len(paragraph):
            spans.append(Span(paragraph[cursor:]))
        result.append(spans)
    return result


def group_by_day(articles: list[dict]) -> list[tuple[str, list[dict]]]:
    groups: list[tuple[str, list[dict]]] = []
    for article in articles:
        day = (article.get("captured_at") or "")[:10] or "unknown"
        if not groups or groups[-1][0] != day:
            groups.append((day, []))
        groups[-1][1].append(article)
    return groups


def published_span(articles: list[dict]) -> tuple[str | None, str | None]:
    """The first and last day the articles were published (not when they were read)."""
    days = sorted(a["published"] for a in articles if a.get("published"))
    return (days[0], days[-1]) if days else (None, None)


def with_story_dates(stories: list[dict], store) -> list[dict]:
    """Story cards carry their articles' outlets and publication span."""
    for story in stories:
        articles = store.story_articles(story["id"])
        story["published_from"], story["published_to"] = published_span(articles)
        story["outlets"] = list(dict.fromkeys(a.get("site") or a.get("domain") for a in articles))
    return stories


def _report_day(article: dict) -> str:
    return article.get("published") or (article.get("captured_at") or "")[:10]


def contradiction_sides(link: dict) -> tuple[dict, dict]:
    """(newer, earlier) sides of a dispute, by publication day (read day when unknown), so every card
    puts the newer report on the same side whichever article was read first."""
    claim = {"text": link["claim"]["text"], "article": link["claim"].get("article") or {}}
    other = {"text": link["other"]["text"], "article": link["other"].get("article") or {}}
    if _report_day(other["article"]) > _report_day(claim["article"]):
        return other, claim
    return claim, other


LOOPBACK_OUTLET = re.compile(r"^(?:localhost|127(?:\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)(?::\d+)?$", re.IGNORECASE)


def is_reading_outlet(site: str | None) -> bool:
    """Pages read from this computer itself (local test pages, the UI) are not an outlet."""
    return not LOOPBACK_OUTLET.match((site or "").strip())


def args_for_page(page: int) -> dict:
    """The current query string with another page number (for "older" / "newer" links)."""
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    if page > 1:
        args["page"] = page
    return args


def not_found(what: str):
    return render_template("ui/not_found.html", what=what), 404


# --- pages --------------------------------------------------------------------------------

@bp.get("/")
def history():
    store = get_store()
    filters = {
        "q": (request.args.get("q") or "").strip() or None,
        "site": (request.args.get("site") or "").strip() or None,
        "date_from": parse_day(request.args.get("from")),
        "date_to": parse_day(request.args.get("to")),
    }
    page = page_number(request.args.get("page"))
    result = store.list_articles(**filters, page=page, per_page=PER_PAGE)
    tags = store.tags_by_article([a["id"] for a in result["items"]])    # what an import carried
    for item in result["items"]:
        item["tags"] = tags.get(item["id"], [])
    return render_template(
        "ui/history.html",
        groups=group_by_day(result["items"]),
        result=result,
        filters=filters,
        filtering=any(filters.values()),
        sites=store.list_sites(),
        older=url_for("ui.history", **args_for_page(page + 1)) if result.get("has_more") else None,
        newer=url_for("ui.history", **args_for_page(page - 1)) if page > 1 else None,
    )


@bp.get("/articles/<int:article_id>")
def article(article_id: int):
    item = get_store().get_article(article_id)
    if item is None:
        return not_found("article")
    claims = sorted(item.get("claims") or [], key=lambda c: c.get("position", 0))
    return render_template(
        "ui/article.html",
        article=item,
        headline=next((c for c in claims if c.get("is_headline")), None),
        paragraphs=mark_claims(item.get("text") or "", claims),
        claims=[c for c in claims if not c.get("is_headline")],
        matched_claims=sorted(
            (c for c in claims if not c.get("is_headline") and best_label(c)),
            key=lambda c: (LABEL_ORDER.index(best_label(c)), c.get("position", 0))),
        best_label=best_label,
        original_url=next((u for u in (item.get("canonical_url"), item.get("url")) if is_web_url(u)), None),
    )


@bp.post("/articles/<int:article_id>/forget")
def forget(article_id: int):
    security.check_csrf()
    # Through the engine, so the claim index forgets the article too.
    if not get_engine().forget(article_id):
        return not_found("article")
    log.info("article %s forgotten from the UI", article_id)
    return redirect(url_for("ui.history", forgotten=1))


@bp.get("/stories")
def stories():
    page = page_number(request.args.get("page"))
    store = get_store()
    result = store.list_stories(page=page, per_page=PER_PAGE)
    with_story_dates(result["items"], store)
    return render_template(
        "ui/stories.html",
        result=result,
        older=url_for("ui.stories", page=page + 1) if result.get("has_more") else None,
        newer=url_for("ui.stories", **({"page": page - 1} if page > 2 else {})) if page > 1 else None,
    )


def _article_day(article: dict) -> str:
    return article.get("published") or (article.get("captured_at") or "")[:10]


@bp.get("/stories/<int:story_id>")
def story(story_id: int):
    item = get_store().get_story(story_id)
    if item is None:
        return not_found("story")
    timeline = sorted(item.get("articles") or [], key=lambda a: (_article_day(a), a.get("captured_at") or ""))
    links = [link for link in item.get("links") or [] if not link.get("dismissed")]
    links.sort(key=lambda link: (LABEL_ORDER.index(link["label"]) if link.get("label") in LABEL_ORDER else 9,
                                 -(link.get("confidence") or 0)))
    # Every dispute stays in view; agreements beyond a few fold away.
    shown = max(sum(1 for link in links if link.get("label") == "disputes"), 0) + STORY_AGREEMENTS_SHOWN
    return render_template("ui/story.html", story=item, timeline=timeline, links=links, shown_pairs=shown)


@bp.get("/contradictions")
def contradictions():
    page = page_number(request.args.get("page"))
    result = get_store().list_contradictions(page=page, per_page=PER_PAGE)
    return render_template(
        "ui/contradictions.html",
        result=result,
        older=url_for("ui.contradictions", page=page + 1) if result.get("has_more") else None,
        newer=url_for("ui.contradictions", **({"page": page - 1} if page > 2 else {})) if page > 1 else None,
    )


@bp.post("/contradictions/<int:link_id>/dismiss")
def dismiss(link_id: int):
    security.check_csrf()
    if not get_store().dismiss_link(link_id):
        return not_found("contradiction")
    # Only a path on this server: never bounce the reader to another site.
    back = security.safe_next(request.form.get("next"))
    return redirect(back if back != "/" else url_for("ui.contradictions"))


@bp.get("/stats")
def stats():
    data = get_store().stats()
    per_day = [(row["day"][5:], row["count"]) for row in data.get("per_day", [])][-60:]
    per_week = [(row["week"], row["count"]) for row in data.get("per_week", [])][-26:]
    disputes_per_week = [(row["week"], row["count"]) for row in data.get("contradictions_per_week", [])][-26:]
    totals = data.get("totals", {})
    figures = [
        ("articles", totals.get("articles", 0)),
        ("outlets", totals.get("sites", 0) - sum(not is_reading_outlet(row["site"]) for row in data.get("sites", []))),
        ("stories", totals.get("stories", 0)), ("contradictions", totals.get("contradictions", 0)),
    ]
    # The SVG is built and escaped in charts.py, so it is safe to insert as markup.
    return render_template(
        "ui/stats.html",
        totals=totals,
        figures=[Markup(charts.big_number(value, label)) for label, value in figures],
        per_day=Markup(charts.bar_chart(per_day, title="Articles per day", empty_message="No articles yet")),
        per_week=Markup(charts.bar_chart(per_week, title="Articles per week", empty_message="No articles yet")),
        disputes_per_week=Markup(charts.bar_chart(disputes_per_week, title="Contradictions per week",
                                                  unit="contradictions", empty_message="No contradictions yet")),
        outlets=Markup(charts.horizontal_bars(
            [(row["site"] or "Unknown outlet", row["count"]) for row in data.get("sites", [])
             if is_reading_outlet(row["site"])],
            title="Outlets read", empty_message="No outlets yet")),
        stories=Markup(charts.horizontal_bars(
            [(row["title"] or f"Story {row['id']}", row["article_count"]) for row in data.get("stories", [])],
            title="Stories followed", empty_message="No stories yet")),
    )


@bp.get("/export")
def export_page():
    fmt = request.args.get("format")
    if not fmt:
        return render_template("ui/export.html", formats=EXPORT_FORMATS)
    date_from, date_to = parse_day(request.args.get("from")), parse_day(request.args.get("to"))
    try:
        result = export.render(fmt, get_store().export_articles(date_from=date_from, date_to=date_to))
    except ValueError as error:
        return render_template("ui/export.html", formats=EXPORT_FORMATS, error=str(error)), 400
    return Response(result.body, content_type=result.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})


EXPORT_FORMATS = (
    ("csv", "Spreadsheet (CSV)", "One row per article: date, title, outlet, claims, contradictions."),
    ("json", "JSON", "Everything, including the text and every claim with its matches."),
    ("md", "Markdown notes (zip)", "One note per article with front matter, ready for Obsidian."),
    ("html", "Browser bookmarks", "A bookmarks file any browser can import."),
)


# Read-later exports with their articles' text outgrow a captured page's limit.
MAX_IMPORT_BYTES = 512 * 1024 * 1024

IMPORT_FORMATS = (
    ("Saved pages", "a page saved with the browser's Save page as (.html)"),
    ("Pocket", "CSV from Pocket's export page"),
    ("Instapaper", "CSV from Settings → Export"),
    ("Bookmarks", "any browser's bookmarks export (.html), or Crosscurrent's own"),
    ("Wallabag", "JSON of all entries; the article text comes along"),
    ("Omnivore", "ZIP from Settings → Export data"),
    ("Karakeep (Hoarder)", "JSON from Import / Export → Export links and notes"),
)


def _import_page(error: str | None = None, status: int = 200):
    job = import_job.job_for(current_app).status()
    return render_template("ui/import.html", formats=IMPORT_FORMATS, job=job, error=error), status


@bp.get("/import")
def import_page():
    return _import_page()


@bp.get("/import/status")
def import_status():
    response = jsonify(import_job.job_for(current_app).status())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/import")
def start_import():
    request.max_content_length = MAX_IMPORT_BYTES
    security.check_csrf()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page("Choose a file to import.", 400)
    job = import_job.job_for(current_app)
    data_dir = get_state().settings["data_dir"]
    try:
        job.start(get_engine(), data_dir, upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200], upload)
    except import_job.ImportBusy:
        return _import_page("An import is already running: wait for it to finish, then start the next.", 409)
    except imports.ImportFormatError as exc:
        return _import_page(str(exc), 400)
    return redirect(url_for("ui.import_page"))


@bp.get("/pairing")
def pairing():
    store = get_store()
    return render_template("ui/pairing.html", requests=store.pending_pair_requests(pair_codes.REQUEST_MINUTES),
                           tokens=store.list_tokens(), code=None)


@bp.post("/pairing/requests/<int:request_id>")
def decide_pairing(request_id: int):
    security.check_csrf()
    approve = request.form.get("decision") == "approve"
    if not get_store().decide_pair_request(request_id, approve, pair_codes.REQUEST_MINUTES):
        return not_found("pairing request")
    return redirect(url_for("ui.pairing"))


@bp.post("/pairing/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    security.check_csrf()
    if not get_store().revoke_token(token_id):
        return not_found("paired browser")
    return redirect(url_for("ui.pairing"))


@bp.post("/pairing/code")
def pairing_code():
    security.check_csrf()
    store = get_store()
    code = pair_codes.new_code(store)
    # Shown once, never stored in a URL or a cookie.
    response = Response(render_template("ui/pairing.html", requests=store.pending_pair_requests(pair_codes.REQUEST_MINUTES),
                                        tokens=store.list_tokens(), code=code))
    response.headers["Cache-Control"] = "no-store"
    return response
