"""The reader's log in portable formats: csv, json, Markdown notes (zip) and browser bookmarks.

Pure functions over article dicts (the article shape plus "text" and "claims"). The API,
the CLI and the companion's "Save…" button all call :func:`render`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

log = logging.getLogger(__name__)

FORMATS = ("csv", "json", "md", "html")
# "date" is the day the article was published (else the day it was read); "read" the day it was read.
# "tags": the labels an import carried (Pocket, Wallabag, ...), separated by "|" as in Pocket's export.
CSV_COLUMNS = ("date", "title", "outlet", "author", "url", "claims", "story", "contradictions", "read", "tags")
# Spreadsheets treat cells that start with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Fixed timestamp inside the zip so that the same log gives the same bytes.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Export:
    body: bytes
    mimetype: str
    filename: str


def render(fmt: str, articles: Iterable[dict]) -> Export:
    """Render ``articles`` as ``fmt`` (csv | json | md | html); ValueError on anything else."""
    renderers = {"csv": _csv, "json": _json, "md": _markdown_zip, "html": _bookmarks}
    if fmt not in renderers:
        raise ValueError(f"Unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    body, mimetype, extension = renderers[fmt](list(articles))
    return Export(body=body, mimetype=mimetype, filename=f"crosscurrent-{stamp}.{extension}")


# --- helpers -----------------------------------------------------------------------------

def article_date(article: dict) -> str:
    """The date a reader knows the article by: published, else the day it was captured."""
    return (article.get("published") or (article.get("captured_at") or "")[:10] or "")


def read_date(article: dict) -> str:
    """The day the reader captured the article."""
    return (article.get("captured_at") or "")[:10]


def contradiction_count(article: dict) -> int:
    return sum(
        1
        for claim in article.get("claims") or []
        for link in claim.get("matches") or []
        if link.get("label") == "disputes" and not link.get("dismissed")
    )


def neutralise_formula(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_filename(title: str | None, fallback: str, max_length: int = 80) -> str:
    """A file name every OS accepts: no separators, no control or reserved characters."""
    text = unicodedata.normalize("NFKC", title or "")
    text = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', " ", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    text = text[:max_length].rstrip(" .")
    if not text or text.upper().split(".")[0] in _WINDOWS_RESERVED:
        text = fallback
    return text


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def _yaml_string(value: object) -> str:
    # JSON strings are valid YAML double-quoted scalars: quotes, newlines and colons are safe.
    return json.dumps("" if value is None else str(value), ensure_ascii=False)


def _tag(value: str) -> str:
    return re.sub(r"[^\w-]+", "-", value.lower()).strip("-")


def reader_tags(article: dict) -> list[str]:
    """The tags the reader gave the article in the tool it was imported from."""
    return [t for t in article.get("tags") or [] if isinstance(t, str) and t.strip()]


# --- formats -----------------------------------------------------------------------------

def _csv(articles: list[dict]) -> tuple[bytes, str, str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for article in articles:
        row = (
            article_date(article),
            article.get("title"),
            article.get("site"),
            article.get("author"),
            article.get("canonical_url") or article.get("url"),
            len(article.get("claims") or []),
            article.get("story_title") or article.get("story_id") or "",
            contradiction_count(article),
            read_date(article),
            "|".join(reader_tags(article)),
        )
        writer.writerow([neutralise_formula(cell) for cell in row])
    # The BOM lets spreadsheet programs read UTF-8 titles correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", "csv"


def _json(articles: list[dict]) -> tuple[bytes, str, str]:
    body = json.dumps(articles, ensure_ascii=False, indent=2, default=str)
    return body.encode("utf-8"), "application/json", "json"


def _markdown_note(article: dict) -> str:
    tags = ["crosscurrent"]
    if article.get("site"):
        tags.append(_tag(article["site"]))
    if contradiction_count(article):
        tags.append("disputed")
    tags.extend(_tag(t) for t in reader_tags(article))
    tags = list(dict.fromkeys(tags))
    lines = [
        "---",
        f"title: {_yaml_string(article.get('title') or 'Untitled')}",
        f"url: {_yaml_string(article.get('canonical_url') or article.get('url'))}",
        f"outlet: {_yaml_string(article.get('site'))}",
        f"date: {_yaml_string(article_date(article))}",
        f"read: {_yaml_string(read_date(article))}",
        f"tags: [{', '.join(_yaml_string(tag) for tag in tags if tag)}]",
        "---",
        "",
        f"# {(article.get('title') or 'Untitled').strip()}",
        "",
    ]
    byline = " · ".join(str(part) for part in (article.get("site"), article.get("author"),
                                                article_date(article)) if part)
    if byline:
        lines += [f"*{byline}*", ""]
    claims = article.get("claims") or []
    if claims:
        lines += ["## Claims", ""]
        for claim in claims:
            lines.append(f"- {claim.get('text', '').strip()}")
            for link in claim.get("matches") or []:
                if link.get("dismissed"):
                    continue
                other = (link.get("other") or {}).get("article") or {}
                lines.append(f"  - **{link.get('label')}** — {other.get('site') or 'another article'}: "
                             f"{(link.get('other') or {}).get('text', '')} ({link.get('reason', '')})")
        lines.append("")
    if article.get("text"):
        lines += ["## Text", "", *[f"{p}\n" for p in article["text"].split("\n") if p.strip()]]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_zip(articles: list[dict]) -> tuple[bytes, str, str]:
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for article in articles:
            base = safe_filename(article.get("title"), fallback=f"article-{article.get('id', len(used) + 1)}")
            name, counter = base, 2
            while name.lower() in used:
                name, counter = f"{base} ({counter})", counter + 1
            used.add(name.lower())
            info = zipfile.ZipInfo(f"{name}.md", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _markdown_note(article).encode("utf-8"))
    return buffer.getvalue(), "application/zip", "zip"


def _add_date(article: dict) -> int:
    for value in (article.get("captured_at"), article.get("published")):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return int(moment.timestamp())
    return 0


def _bookmarks(articles: list[dict]) -> tuple[bytes, str, str]:
    lines = [
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>",
        "<!-- This is an automatically generated file. It will be read and overwritten. DO NOT EDIT! -->",
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">',
        "<TITLE>Bookmarks</TITLE>",
        "<H1>Crosscurrent reading log</H1>",
        "<DL><p>",
        "    <DT><H3>Crosscurrent</H3>",
        "    <DL><p>",
    ]
    for article in articles:
        url = article.get("canonical_url") or article.get("url") or ""
        # Only web links become bookmarks: a javascript: URL must never be clickable.
        if not url.lower().startswith(("http://", "https://")):
            url = ""
        title = article.get("title") or url or "Untitled"
        # The reader's own tags as they were (a comma would split one in two), after Crosscurrent's.
        own = [re.sub(r"\s*,\s*", " ", t).strip() for t in reader_tags(article)]
        tags = ",".join(dict.fromkeys(t for t in ("crosscurrent", _tag(article.get("site") or ""), *own) if t))
        lines.append(
            f'        <DT><A HREF="{escape(url, quote=True)}" ADD_DATE="{_add_date(article)}" '
            f'TAGS="{escape(tags, quote=True)}">{escape(title)}</A>'
        )
        if article.get("site"):
            lines.append(f"        <DD>{escape(article['site'])} · {escape(article_date(article))}")
    lines += ["    </DL><p>", "</DL><p>", ""]
    return "\n".join(lines).encode("utf-8"), "text/html; charset=utf-8", "html"
