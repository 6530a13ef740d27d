"""Export formats: csv (formula-safe), json, Markdown notes in a zip, Netscape bookmarks."""

import csv
import io
import json
import zipfile
from html.parser import HTMLParser

import pytest

from server.export import FORMATS, render, safe_filename


def article(**overrides):
    base = {
        "id": 1,
        "url": "https://news.example/a?utm_source=x",
        "canonical_url": "https://news.example/a",
        "domain": "news.example",
        "title": "Kremlin confirms test machines",
        "site": "Daily News",
        "author": "A. Writer",
        "published": "2024-10-09",
        "language": "en",
        "captured_at": "2024-10-10T08:30:00+00:00",
        "story_id": 3,
        "source_id": 1,
        "word_count": 120,
        "claim_count": 1,
        "text": "First paragraph.\nSecond paragraph.",
        "claims": [{
            "id": 10, "position": 1, "text": "Peskov denied the calls.", "is_headline": False,
            "speaker": "Peskov", "polarity": "denies", "proposition": "the calls", "details": {},
            "matches": [
                {"id": 5, "label": "disputes", "confidence": 0.9, "reason": "Peskov denies it",
                 "similarity": 0.8, "dismissed": False, "claim": {"id": 10, "text": "Peskov denied the calls."},
                 "other": {"id": 2, "text": "They spoke seven times.",
                           "article": {"id": 2, "title": "Book", "site": "Capital Ledger",
                                       "published": "2024-10-08", "url": "https://ledger.example/b"}}},
                {"id": 6, "label": "disputes", "confidence": 0.5, "reason": "dismissed one",
                 "similarity": 0.6, "dismissed": True, "claim": {"id": 10, "text": "x"},
                 "other": {"id": 3, "text": "y", "article": {"id": 3}}},
            ],
        }],
    }
    base.update(overrides)
    return base


def csv_rows(export):
    text = export.body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("fmt, mimetype, extension", [
    ("csv", "text/csv; charset=utf-8", ".csv"),
    ("json", "application/json", ".json"),
    ("md", "application/zip", ".zip"),
    ("html", "text/html; charset=utf-8", ".html"),
])
def test_each_format_names_its_file_and_type(fmt, mimetype, extension):
    export = render(fmt, [article()])
    assert export.mimetype == mimetype
    assert export.filename.startswith("crosscurrent-") and export.filename.endswith(extension)
    assert export.body


@pytest.mark.parametrize("fmt", ["xlsx", "", "CSV", "../etc/passwd"])
def test_unknown_format_is_refused(fmt):
    with pytest.raises(ValueError, match="Unknown export format"):
        render(fmt, [article()])


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_log_is_still_a_valid_file(fmt):
    export = render(fmt, [])
    if fmt == "csv":
        assert csv_rows(export) == []
        assert export.body.decode("utf-8-sig").startswith("date,title,outlet")
    elif fmt == "json":
        assert json.loads(export.body) == []
    elif fmt == "md":
        assert zipfile.ZipFile(io.BytesIO(export.body)).namelist() == []
    else:
        assert export.body.startswith(b"<!DOCTYPE NETSCAPE-Bookmark-file-1>")


@pytest.mark.parametrize("title, expected", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Plain title", "Plain title"),
    ("Costs = 5", "Costs = 5"),
])
def test_csv_neutralises_formulas(title, expected):
    (row,) = csv_rows(render("csv", [article(title=title)]))
    assert row["title"] == expected


def test_csv_row_columns():
    (row,) = csv_rows(render("csv", [article()]))
    assert row == {"date": "2024-10-09", "title": "Kremlin confirms test machines", "outlet": "Daily News",
                   "author": "A. Writer", "url": "https://news.example/a", "claims": "1", "story": "3",
                   "contradictions": "1", "read": "2024-10-10", "tags": ""}


@pytest.mark.parametrize("overrides, date, read", [
    ({}, "2024-10-09", "2024-10-10"),                                  # published, then read a day later
    ({"published": None}, "2024-10-10", "2024-10-10"),                 # no publication date: the day read
    ({"captured_at": None}, "2024-10-09", ""),
])
def test_csv_says_when_published_and_when_read(overrides, date, read):
    (row,) = csv_rows(render("csv", [article(**overrides)]))
    assert (row["date"], row["read"]) == (date, read)


def test_json_round_trips():
    items = [article(), article(id=2, title="Other")]
    assert json.loads(render("json", items).body) == items


class _Bookmarks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.texts, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs))

    def handle_data(self, data):
        self.texts.append(data)


@pytest.mark.parametrize("title, url, expected_href", [
    ("<script>alert(1)</script>", "https://news.example/a", "https://news.example/a"),
    ('Quote " & <b>bold</b>', 'https://news.example/a?x="><script>', 'https://news.example/a?x="><script>'),
    ("Javascript link", "javascript:alert(1)", ""),
])
def test_bookmarks_escape_every_value(title, url, expected_href):
    export = render("html", [article(title=title, url=url, canonical_url=None, site='<img src=x onerror=1>')])
    parser = _Bookmarks()
    parser.feed(export.body.decode("utf-8"))
    assert "script" not in parser.tags and "img" not in parser.tags and "b" not in parser.tags
    (link,) = parser.links
    assert link["href"] == expected_href
    assert link["add_date"] == "1728549000"
    assert title in "".join(parser.texts)


@pytest.mark.parametrize("titles, expected_names", [
    (["Kremlin confirms"], ["Kremlin confirms.md"]),
    (["../../etc/passwd"], ["etc passwd.md"]),
    (["a/b\\c:d*e?f\"g<h>i|j"], ["a b c d e f g h i j.md"]),
    (["Same", "same"], ["Same.md", "same (2).md"]),
    ([None, ""], ["article-1.md", "article-1 (2).md"]),
    (["CON"], ["article-1.md"]),
])
def test_markdown_zip_has_safe_unique_names(titles, expected_names):
    export = render("md", [article(title=t) for t in titles])
    names = zipfile.ZipFile(io.BytesIO(export.body)).namelist()
    assert names == expected_names
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_markdown_note_has_front_matter_and_claims():
    export = render("md", [article(title='Title: with "quotes"\nand newline')])
    archive = zipfile.ZipFile(io.BytesIO(export.body))
    note = archive.read(archive.namelist()[0]).decode("utf-8")
    front, body = note.split("---\n")[1], note.split("---\n", 2)[2]
    assert 'title: "Title: with \\"quotes\\"\\nand newline"' in front
    assert 'url: "https://news.example/a"' in front
    assert 'outlet: "Daily News"' in front
    assert 'date: "2024-10-09"' in front
    assert 'read: "2024-10-10"' in front
    assert 'tags: ["crosscurrent", "daily-news", "disputed"]' in front
    assert "- Peskov denied the calls." in body
    assert "**disputes** — Capital Ledger" in body
    assert "dismissed one" not in body
    assert "Second paragraph." in body


@pytest.mark.parametrize("title, fallback, expected", [
    ("  dots...  ", "x", "dots"),
    ("x" * 200, "f", "x" * 80),
    ("\x00\x1f", "fallback", "fallback"),
    ("NUL.txt", "fallback", "fallback"),
])
def test_safe_filename(title, fallback, expected):
    assert safe_filename(title, fallback) == expected


@pytest.mark.parametrize("extra, story", [({}, "3"), ({"story_title": "Kremlin and the book"}, "Kremlin and the book"),
                                          ({"story_id": None}, "")])
def test_csv_story_column_prefers_the_story_title(extra, story):
    (row,) = csv_rows(render("csv", [article(**extra)]))
    assert row["story"] == story


# The tags an import carried, in each format that has a place for them.
TAGGED = ["harbour", "City Hall, budget", "=cmd"]


def _bookmark_tags(export) -> str:
    parser = _Bookmarks()
    parser.feed(export.body.decode("utf-8"))
    return parser.links[0]["tags"]


def _front_matter(export) -> str:
    archive = zipfile.ZipFile(io.BytesIO(export.body))
    return archive.read(archive.namelist()[0]).decode("utf-8").split("---\n")[1]


@pytest.mark.parametrize("fmt, read, expected", [
    ("csv", lambda e: csv_rows(e)[0]["tags"], "harbour|City Hall, budget|=cmd"),   # formulas only at a cell's start
    ("json", lambda e: json.loads(e.body)[0]["tags"], TAGGED),
    ("html", _bookmark_tags, "crosscurrent,daily-news,harbour,City Hall budget,=cmd"),  # a comma would split a tag
    ("md", lambda e: [line for line in _front_matter(e).splitlines() if line.startswith("tags:")][0],
     'tags: ["crosscurrent", "daily-news", "disputed", "harbour", "city-hall-budget", "cmd"]'),
])
def test_each_format_carries_the_imported_tags(fmt, read, expected):
    assert read(render(fmt, [article(tags=TAGGED)])) == expected


@pytest.mark.parametrize("fmt", ["csv", "html", "md"])
def test_an_untagged_article_exports_as_before(fmt):
    assert render(fmt, [article(tags=[])]).body == render(fmt, [article()]).body


def test_the_stored_tags_reach_the_export(hash_app):
    from helpers import STORY_PAGES, page_html

    state = hash_app.extensions["crosscurrent"]
    name, url = STORY_PAGES[0]
    article_id = state.engine.capture(url, page_html(name)).article_id
    state.store.tag_article(article_id, ["politics", "to read again"])
    (exported,) = state.store.export_articles()
    assert exported["tags"] == ["politics", "to read again"]
    assert csv_rows(render("csv", [exported]))[0]["tags"] == "politics|to read again"
