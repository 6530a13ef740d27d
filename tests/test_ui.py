"""The HTML UI in real headless Chromium against a real server with the real model.

The four story pages and a hostile page are captured through POST /api/pages, then every page of the
UI is driven with Playwright. Tests run in file order: the ones that change data (dismiss, pairing,
forget) come last.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import HOSTILE_PAGE, STORY_PAGES, LiveServer, page_html

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HOSTILE_TITLE = "<script>window.__pwned = 'title'</script> Council approves the harbour budget"
HOSTILE_TEXT = "<img src=x onerror=window.__pwned='text'>"


# --- fixtures -------------------------------------------------------------------------------------

def _post_json(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def live(tmp_path_factory, real_embedder):
    from server.app import create_app
    from server.pairing import new_code

    data_dir = tmp_path_factory.mktemp("ui-data")
    app = create_app({"data_dir": data_dir}, embedder=real_embedder)
    server = LiveServer(app)
    store = app.extensions["crosscurrent"].store
    status, answer = _post_json(f"{server.url}/api/pair", {"code": new_code(store), "name": "UI test"})
    assert status == 200, answer
    token = answer["token"]
    ids = {}
    for name, url in STORY_PAGES:
        status, answer = _post_json(f"{server.url}/api/pages", {"url": url, "html": page_html(name)}, token)
        assert status == 201, answer
        ids[name] = answer["article"]["id"]
    name, url = HOSTILE_PAGE
    status, answer = _post_json(f"{server.url}/api/pages", {"url": url, "html": page_html(name)}, token)
    assert status == 201, answer
    ids["hostile"] = answer["article"]["id"]
    server.token, server.ids, server.app, server.data_dir = token, ids, app, data_dir
    yield server
    server.stop()
    store.close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class UiPage:
    """A signed-in tab that checks the CSP of every document and records dialogs and script errors."""

    def __init__(self, page, base_url: str):
        self.page, self.base = page, base_url
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def visit(self, path: str, status: int = 200):
        response = self.page.goto(self.base + path)
        assert response.status == status, f"{path}: {response.status}"
        self.check_csp(response)
        return response

    @staticmethod
    def check_csp(response) -> None:
        headers = response.headers
        assert headers.get("content-security-policy") == CSP, response.url
        assert headers.get("x-frame-options") == "DENY"

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("CROSSCURRENT_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / f"ui-{name}.png"), full_page=True)


@pytest.fixture
def ui(live, browser, tmp_path):
    from server.security import read_ui_key

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    tab = UiPage(page, live.url)
    tab.visit(f"/login?key={read_ui_key(live.data_dir)}")
    yield tab
    assert tab.errors == [], f"script errors on the page: {tab.errors}"
    assert tab.page.evaluate("typeof window.__pwned") == "undefined"
    assert tab.dialogs == []
    context.close()


# --- pages ----------------------------------------------------------------------------------------

@pytest.mark.browser
def test_signed_out_tab_gets_the_how_to_open_page(live, browser):
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(live.url + "/")
    assert response.status == 401
    UiPage.check_csp(response)
    assert "crosscurrent open" in page.inner_text("body")
    context.close()


@pytest.mark.browser
def test_history_lists_articles_newest_first_with_search_and_filters(ui):
    ui.visit("/")
    titles = ui.page.locator(".article-title").all_inner_texts()
    assert len(titles) == 5
    assert titles[0] == HOSTILE_TITLE  # captured last
    assert titles[-1].startswith("Harrow book")
    assert ui.page.locator(".day-heading").first.inner_text() == "TODAY"
    ui.screenshot("history")

    ui.page.fill("input[name=q]", "Riedel")
    ui.page.click("button[type=submit]")
    found = ui.page.locator(".article-title").all_inner_texts()
    assert found and all("Ostrand" in title for title in found)

    ui.visit("/?site=Lakeside+Herald")
    assert ui.page.locator(".article-title").count() == 1
    ui.visit("/?q=zebra+xylophone")
    assert "Nothing matches" in ui.page.inner_text("main")


@pytest.mark.browser
@pytest.mark.parametrize("typed, titles", [
    ("flood", ["Millbrook's old library reopens after a long cleanup"]),          # "Floodwaters"
    ("FLOODWATERS", ["Millbrook's old library reopens after a long cleanup"]),
    ("Ried spokes", ["Ostrand's office denies she and Vale have talked since 2021",
                     "Ostrand's office reportedly confirms Vale sent generators, denies phone calls since he left office"]),
    ("floodgates", []),
])
def test_history_search_matches_word_prefixes(ui, typed, titles):
    ui.visit("/")
    ui.page.fill("input[name=q]", typed)
    ui.page.click("button[type=submit]")
    assert ui.page.locator(".article-title").all_inner_texts() == titles


@pytest.mark.browser
def test_history_pages_older_articles(ui, monkeypatch):
    from server import ui as ui_module

    monkeypatch.setattr(ui_module, "PER_PAGE", 2)
    ui.visit("/")
    assert ui.page.locator(".article-row").count() == 2
    ui.page.click("text=Older →")
    assert "page=2" in ui.page.url
    assert ui.page.locator(".article-row").count() == 2
    ui.page.click("text=Older →")
    assert ui.page.locator(".article-row").count() == 1
    assert ui.page.locator("text=Older →").count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/stories", "/contradictions", "/stats", "/export", "/import", "/pairing"])
def test_every_page_has_the_navigation_bar(ui, path):
    ui.visit(path)
    assert ui.page.locator("nav.nav a").all_inner_texts() == [
        "History", "Stories", "Contradictions", "Stats", "Export", "Import", "Pairing"]
    assert ui.page.locator("nav.nav a.active").count() == 1
    # Companion-only controls stay hidden in a plain browser tab.
    assert not ui.page.locator("[data-action=reveal-data-folder]").is_visible()


@pytest.mark.browser
def test_article_marks_claims_and_shows_matches(live, ui):
    ui.visit(f"/articles/{live.ids['generators-confirmed.html']}")
    ui.screenshot("article")
    assert ui.page.locator("h1").inner_text().startswith("Ostrand's office reportedly confirms")
    byline = ui.page.locator(".byline").inner_text()
    assert "Wed 5 Mar 2025" in byline and "en" in byline
    assert ui.page.locator(".kicker").inner_text().upper() == "NORTHERN DAILY"

    disputed = ui.page.locator(".article-text a.claim-disputes").all_inner_texts()
    assert any("Riedel also denied" in text for text in disputed)
    supported = ui.page.locator(".article-text a.claim-supports").all_inner_texts()
    assert any("did send emergency generators" in text for text in supported)

    dispute_card = ui.page.locator(".claim-card.has-disputes").filter(has_text="Riedel also denied").first
    match = dispute_card.locator(".match-disputes").first
    assert "Bay Chronicle" in match.inner_text()
    assert "as many as seven times" in match.locator("blockquote").inner_text()
    assert "den" in match.locator(".reason").inner_text().lower()

    original = ui.page.locator("a.open-original")
    assert original.get_attribute("href").startswith("https://northerndaily.example/")
    assert original.get_attribute("rel") == "noopener noreferrer"


@pytest.mark.browser
def test_story_timeline_groups_the_three_reports(live, ui):
    ui.visit("/stories")
    ui.screenshot("stories")
    card = ui.page.locator(".card").filter(has_text="3 articles")
    assert card.count() == 1
    card.locator("a").click()
    ui.page.wait_for_selector(".timeline")
    UiPage.check_csp(ui.page.context.request.get(ui.page.url))
    ui.screenshot("story")
    outlets = ui.page.locator(".timeline-item .outlet").all_inner_texts()
    assert outlets == ["Bay Chronicle", "Northern Daily", "Valley Wire"]  # oldest first
    pairs = ui.page.locator(".pair")
    assert pairs.filter(has=ui.page.locator(".chip-disputes")).count() >= 1
    assert pairs.filter(has=ui.page.locator(".chip-supports")).count() >= 1
    assert "Lakeside Herald" not in ui.page.inner_text("main")


@pytest.mark.browser
def test_stats_page_draws_svg_charts(ui):
    ui.visit("/stats")
    ui.screenshot("stats")
    titles = ui.page.locator("svg.chart > title").all_text_contents()
    for expected in ("Articles per day", "Articles per week", "Contradictions per week", "Outlets read",
                     "Stories followed", "5 articles"):
        assert expected in titles
    assert "Northern Daily" in ui.page.locator("svg.chart", has_text="Outlets read").inner_html()


# What must hold at a phone's width and at a laptop's.
WIDTHS = {"phone": (390, 844), "laptop": (1280, 720)}

MEASURE_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && (box.right > width + 1 || box.left < -1);
  }).map((el) => `${el.tagName.toLowerCase()}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`);
  const nav = [...document.querySelectorAll('nav.nav a')].map((a) => {
    const box = a.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return {text: a.textContent, inside: box.left >= 0 && box.right <= width, visible: !!hit && a.contains(hit)};
  });
  const fonts = [...document.querySelectorAll('.chart-card svg')].flatMap((svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map((t) => parseFloat(t.getAttribute('font-size')) * scale);
  });
  return {width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 6), nav,
          smallestChartFont: fonts.length ? Math.min(...fonts) : null};
}"""


def _layout_paths(live) -> dict[str, str]:
    store = live.app.extensions["crosscurrent"].store
    article_id = live.ids["generators-confirmed.html"]
    return {"history": "/", "article": f"/articles/{article_id}", "stories": "/stories",
            "story": f"/stories/{store.get_article(article_id)['story_id']}", "contradictions": "/contradictions",
            "stats": "/stats", "export": "/export", "import": "/import",
            "pairing": "/pairing"}


@pytest.mark.browser
@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page_fits_phone_and_laptop_widths(live, ui, tmp_path, size):
    width, height = WIDTHS[size]
    ui.page.set_viewport_size({"width": width, "height": height})
    for name, path in _layout_paths(live).items():
        ui.visit(path)
        ui.page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
        ui.screenshot(f"{name}-{width}")
        found = ui.page.evaluate(MEASURE_JS)
        assert found["scrollWidth"] <= found["width"], (name, found)
        assert found["wide"] == [], (name, found["wide"])
        # Every menu entry whole and on screen, none hidden in a scrolling strip.
        assert [item["text"] for item in found["nav"]] == [
            "History", "Stories", "Contradictions", "Stats", "Export", "Import", "Pairing"]
        assert all(item["inside"] and item["visible"] for item in found["nav"]), (name, found["nav"])
        if name == "stats":
            assert found["smallestChartFont"] >= 10, found
        if name == "history":
            assert ui.page.locator("select[name=site]").bounding_box()["width"] <= width
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{n}-{width}.png" for n in _layout_paths(live))


@pytest.mark.browser
def test_match_panel_shows_every_card_whole(live, ui):
    ui.page.set_viewport_size({"width": 1280, "height": 720})
    ui.visit(f"/articles/{live.ids['generators-confirmed.html']}")
    ui.page.locator(".other-claims summary").click()
    bottoms = ui.page.evaluate("""() => {
      const panel = document.querySelector('.claims-panel');
      const cards = [...panel.querySelectorAll('.claim-card')];
      return {panel: panel.getBoundingClientRect().bottom, hidden: panel.scrollHeight - panel.clientHeight,
              last: Math.max(...cards.map((c) => c.getBoundingClientRect().bottom))};
    }""")
    assert bottoms["hidden"] <= 1 and bottoms["last"] <= bottoms["panel"] + 1, bottoms


@pytest.mark.browser
def test_story_cards_show_when_the_reports_were_published(live, ui):
    from server.ui import format_day

    ui.visit("/stories")
    card = ui.page.locator(".card").filter(has_text="3 articles").inner_text()
    # The three reports were published 4 to 7 March 2025; they were read today.
    assert "published Tue 4 Mar 2025 – Fri 7 Mar 2025" in card, card
    assert format_day(datetime.now(timezone.utc).date().isoformat()) not in card
    assert {"Bay Chronicle", "Northern Daily", "Valley Wire"} <= set(
        ui.page.locator(".card").filter(has_text="3 articles").locator(".outlet-tag").all_inner_texts())


@pytest.mark.browser
def test_story_pairs_put_the_newer_report_first(live, ui):
    store = live.app.extensions["crosscurrent"].store
    ui.visit(f"/stories/{store.get_article(live.ids['generators-confirmed.html'])['story_id']}")
    pairs = ui.page.locator(".pair").all()
    assert pairs
    for pair in pairs:
        days = [datetime.strptime(cite.split(" · ")[-1], "%a %d %b %Y")
                for cite in pair.locator("cite").all_text_contents()]
        assert len(days) == 2 and days[0] >= days[1], days


@pytest.mark.browser
def test_contradictions_have_column_headings_and_a_steady_side(ui):
    ui.page.set_viewport_size({"width": 1280, "height": 900})
    ui.visit("/contradictions")
    assert ui.page.locator(".pair-columns").inner_text().split("\n") == ["NEWER REPORT", "EARLIER REPORT IT DISPUTES"]
    for card in ui.page.locator(".contradiction").all():
        newer = card.locator(".side-newer figcaption").inner_text()
        earlier = card.locator(".side-earlier figcaption").inner_text()
        assert card.locator(".side").first.get_attribute("class").endswith("side-newer")
        assert newer and earlier
    ui.page.set_viewport_size({"width": 390, "height": 844})
    labels = ui.page.locator(".contradiction").first.locator(".side-label").all_inner_texts()
    assert [label.upper() for label in labels] == ["NEWER REPORT", "EARLIER REPORT"]


@pytest.mark.browser
@pytest.mark.parametrize("fmt", ["csv", "json", "md", "html"])
def test_export_downloads_each_format(ui, fmt):
    ui.visit("/export")
    if fmt == "csv":
        ui.screenshot("export")
    ui.page.check(f"input[name=format][value={fmt}]")
    with ui.page.expect_download() as info:
        ui.page.click("button[type=submit]")
    body = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename.startswith("crosscurrent-")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        assert len(rows) == 5
        assert {row["outlet"] for row in rows} >= {"Bay Chronicle", "Northern Daily", "Valley Wire"}
    elif fmt == "json":
        items = json.loads(body)
        assert len(items) == 5 and all("claims" in item and "text" in item for item in items)
    elif fmt == "md":
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert len(names) == 5 and all(name.endswith(".md") and "/" not in name for name in names)
    else:
        assert body.startswith(b"<!DOCTYPE NETSCAPE-Bookmark-file-1>")
        assert b"<script>" not in body and b"javascript:" not in body


@pytest.mark.browser
def test_hostile_page_is_shown_as_text_and_runs_nothing(live, ui):
    ui.visit(f"/articles/{live.ids['hostile']}")
    ui.screenshot("hostile")
    assert ui.page.locator("h1").inner_text() == HOSTILE_TITLE
    assert HOSTILE_TEXT in ui.page.locator(".article-text").inner_text()
    assert ui.page.locator(".article-text img, .article-text script, main script, main iframe").count() == 0
    assert ui.page.locator("a[href^='javascript:' i]").count() == 0
    assert ui.page.locator("a.open-original").get_attribute("href").startswith("https://hostile.example/")
    assert ui.page.evaluate("typeof window.__pwned") == "undefined"
    ui.visit("/")
    assert ui.page.locator(".article-title").first.inner_text() == HOSTILE_TITLE
    assert ui.page.evaluate("typeof window.__pwned") == "undefined"


@pytest.mark.browser
def test_dismissing_a_contradiction_removes_it(live, ui):
    ui.visit("/contradictions")
    ui.screenshot("contradictions")
    items = ui.page.locator(".contradiction")
    before = items.count()
    assert before >= 2
    confidences = [int(t.split("%")[0]) for t in ui.page.locator(".contradiction .confidence").all_inner_texts()]
    assert confidences == sorted(confidences, reverse=True)
    first = items.first
    dismissed_id = first.get_attribute("id")
    sides = first.locator("blockquote").all_inner_texts()
    assert len(sides) == 2 and all(sides)
    first.locator("button", has_text="Dismiss").click()
    ui.page.wait_for_load_state()
    assert ui.page.url.endswith("/contradictions")
    assert ui.page.locator(".contradiction").count() == before - 1
    assert ui.page.locator(f"#{dismissed_id}").count() == 0


@pytest.mark.browser
def test_dismiss_without_csrf_token_is_refused(live, ui):
    response = ui.page.context.request.post(f"{live.url}/contradictions/1/dismiss", form={"csrf": "forged"})
    assert response.status == 403


@pytest.mark.browser
def test_pairing_approve_and_revoke(live, ui):
    status, pending = _post_json(f"{live.url}/api/pair", {"name": "Firefox on this laptop"})
    assert status == 202
    ui.visit("/pairing")
    ui.screenshot("pairing")
    request_row = ui.page.locator(".pair-request", has_text="Firefox on this laptop")
    request_row.locator("button", has_text="Approve").click()
    ui.page.wait_for_load_state()
    assert ui.page.locator(".pair-request").count() == 0

    status, approved = _post_json(f"{live.url}/api/pair", {"request_id": pending["request_id"], "poll": pending["poll"]})
    assert status == 200 and approved["status"] == "approved"
    ui.visit("/pairing")
    paired = ui.page.locator(".paired-browser", has_text="Firefox on this laptop")
    assert paired.count() == 1
    paired.locator("button", has_text="Revoke").click()
    ui.page.wait_for_load_state()
    assert ui.page.locator(".paired-browser", has_text="Firefox on this laptop").count() == 0
    status, answer = _post_json(f"{live.url}/api/pages", {"url": "https://x.example/", "html": "<p>x</p>"},
                                approved["token"])
    assert (status, answer["error"]) == (401, "token_revoked")


@pytest.mark.browser
def test_pairing_refuse_and_one_time_code(live, ui):
    status, pending = _post_json(f"{live.url}/api/pair", {"name": "Chromium at work"})
    ui.visit("/pairing")
    ui.page.locator(".pair-request", has_text="Chromium at work").locator("button", has_text="Refuse").click()
    ui.page.wait_for_load_state()
    status, answer = _post_json(f"{live.url}/api/pair", {"request_id": pending["request_id"], "poll": pending["poll"]})
    assert (status, answer["error"]) == (403, "pair_refused")

    ui.page.click("text=Show a one-time code")
    ui.page.wait_for_selector(".one-time-code")
    ui.screenshot("pairing-code")
    code = ui.page.locator(".one-time-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    status, answer = _post_json(f"{live.url}/api/pair", {"code": code, "name": "Typed code"})
    assert status == 200 and answer["token"]
    status, answer = _post_json(f"{live.url}/api/pair", {"code": code, "name": "Again"})
    assert status == 403


@pytest.mark.browser
def test_forget_article_asks_first_then_removes_it(live, ui):
    ui.visit(f"/articles/{live.ids['hostile']}")
    ui.page.click("summary:has-text('Forget this article')")
    ui.page.click("button:has-text('Yes, forget it')")
    ui.page.wait_for_load_state()
    assert "was forgotten" in ui.page.inner_text("main")
    assert ui.page.locator(".article-title").count() == 4
    ui.visit(f"/articles/{live.ids['hostile']}", status=404)


# --- pure helpers (no browser) ---------------------------------------------------------------------

def _claim(claim_id, text, label=None, is_headline=False, position=1):
    matches = [{"label": label, "dismissed": False}] if label else []
    return {"id": claim_id, "text": text, "is_headline": is_headline, "position": position, "matches": matches}


@pytest.mark.parametrize("text, claims, expected", [
    ("One. Two.", [], [[("One. Two.", None)]]),
    ("Peskov denied it. Others agreed.", [_claim(1, "Peskov denied it.", "disputes")],
     [[("Peskov denied it.", "disputes"), (" Others agreed.", None)]]),
    ("A <b>x</b> claim.\nSecond para.", [_claim(2, "A <b>x</b> claim.")], [[("A <b>x</b> claim.", "none")],
                                                                           [("Second para.", None)]]),
    ("Spaced   out  sentence here.", [_claim(3, "Spaced out sentence here.", "supports")],
     [[("Spaced   out  sentence here.", "supports")]]),
    ("Headline text. Body.", [_claim(4, "Headline text.", "related", is_headline=True)],
     [[("Headline text. Body.", None)]]),
    ("Not in the text.", [_claim(5, "Something else.")], [[("Not in the text.", None)]]),
    # A sentence said twice: the first claim takes the first place, the second the next paragraph.
    ("Prices rose sharply.\nPrices rose sharply.", [_claim(6, "Prices rose sharply.", position=1),
                                                     _claim(7, "Prices rose sharply.", "disputes", position=2)],
     [[("Prices rose sharply.", "none")], [("Prices rose sharply.", "disputes")]]),
    # Position order decides who gets a contested place, not list order.
    ("The mayor said the bridge will reopen.", [_claim(8, "the bridge will reopen.", position=3),
                                                _claim(9, "The mayor said the bridge will reopen.", "supports",
                                                       position=2)],
     [[("The mayor said the bridge will reopen.", "supports")]]),
    # Several claims in one paragraph, one of them with a line break inside.
    ("Rain fell. Rivers rose\tfast. Roads closed.",
     [_claim(10, "Roads closed.", position=3), _claim(11, "Rain fell.", position=1),
      _claim(12, "Rivers rose\nfast.", "related", position=2)],
     [[("Rain fell.", "none"), (" ", None), ("Rivers rose\tfast.", "related"), (" ", None),
       ("Roads closed.", "none")]]),
    # Short claims (under the lookup key's length) and claims sharing a long opening.
    ("No. The ministry said the talks failed. The ministry said the talks went well.",
     [_claim(13, "No.", position=1), _claim(14, "The ministry said the talks went well.", position=3),
      _claim(15, "The ministry said the talks failed.", "disputes", position=2)],
     [[("No.", "none"), (" ", None), ("The ministry said the talks failed.", "disputes"), (" ", None),
       ("The ministry said the talks went well.", "none")]]),
    # Written with other spacing in one place and exactly in a later one: the first place wins.
    ("Talks  ended  early.\nTalks ended early.", [_claim(16, "Talks ended early.")],
     [[("Talks  ended  early.", "none")], [("Talks ended early.", None)]]),
])
def test_mark_claims_splits_text_into_spans(text, claims, expected):
    from server.ui import mark_claims

    spans = mark_claims(text, claims)
    assert [[(span.text, span.label) for span in paragraph] for paragraph in spans] == expected
    assert "".join(span.text for span in spans[0]) == text.split("\n")[0].strip()


def _long_article(sentences: int) -> tuple[str, list[dict]]:
    """Invented prose: varied openings, some shared by many sentences, four sentences a paragraph."""
    openings = ["The council said", "Officials added that", "The ministry said", "Residents reported that",
                "According to the report,", "The mayor denied that"]
    lines = [f"{openings[i % len(openings)]} item {i} of the budget cost {i * 37 % 1000} thousand dollars in "
             f"{2000 + i % 25}." for i in range(sentences)]
    text = "\n".join(" ".join(lines[i:i + 4]) for i in range(0, sentences, 4))
    return text, [_claim(i + 1, line, "supports" if i % 3 else None, position=i) for i, line in enumerate(lines)]


def _marking_seconds(sentences: int) -> float:
    from server.ui import mark_claims

    text, claims = _long_article(sentences)
    best = float("inf")
    for _ in range(5):  # the best of five: a busy machine only ever makes a run slower
        started = time.perf_counter()
        spans = mark_claims(text, claims)
        best = min(best, time.perf_counter() - started)
    assert sum(1 for paragraph in spans for span in paragraph if span.claim_id) == sentences
    return best


def test_marking_many_claims_grows_in_step_with_the_article():
    # Ten times the claims (and text) may cost about ten times the work; a search per claim over the
    # whole text costs a hundred times and more.
    ratio = _marking_seconds(2000) / _marking_seconds(200)
    assert ratio < 35, f"2,000 claims took {ratio:.0f} times as long as 200"


@pytest.mark.parametrize("value, expected", [
    ("2024-10-09", "2024-10-09"), ("2024-02-30", None), ("09/10/2024", None), ("", None), (None, None),
    ("2024-10-09' OR 1=1", None),
])
def test_parse_day(value, expected):
    from server.ui import parse_day

    assert parse_day(value) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://news.example/a", True), ("http://news.example/a", True), ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False), ("file:///etc/passwd", False), ("data:text/html,x", False), (None, False),
    ("", False),
])
def test_only_web_urls_become_links(url, expected):
    from server.ui import is_web_url

    assert is_web_url(url) is expected


def _side(text, published=None, captured_at="2024-12-01T10:00:00Z"):
    return {"text": text, "article": {"id": 1, "published": published, "captured_at": captured_at}}


@pytest.mark.parametrize("claim, other, newer_text", [
    # Read in publication order: the claim just read is the newer report.
    (_side("new", "2024-10-11"), _side("old", "2024-10-08"), "new"),
    # An older report read later: it still goes on the earlier side.
    (_side("late read", "2024-10-08"), _side("early read", "2024-10-11"), "early read"),
    # No publication dates: the reading days decide.
    (_side("b", captured_at="2024-12-02T08:00:00Z"), _side("a", captured_at="2024-12-01T08:00:00Z"), "b"),
    (_side("same day"), _side("also same day"), "same day"),
])
def test_contradiction_sides_put_the_newer_report_first(claim, other, newer_text):
    from server.ui import contradiction_sides

    newer, earlier = contradiction_sides({"claim": claim, "other": other})
    assert newer["text"] == newer_text and earlier["text"] != newer_text


@pytest.mark.parametrize("site, expected", [
    ("127.0.0.1:7496", False), ("127.0.0.1", False), ("localhost", False), ("LOCALHOST:8000", False),
    ("[::1]:7412", False), ("0.0.0.0", False), ("Daily News", True), ("localnews.example", True),
    ("127.example", True), (None, True),
])
def test_loopback_is_not_an_outlet(site, expected):
    from server.ui import is_reading_outlet

    assert is_reading_outlet(site) is expected


@pytest.mark.parametrize("published, expected", [
    ([], (None, None)), ([None, None], (None, None)), (["2024-10-09"], ("2024-10-09", "2024-10-09")),
    (["2024-10-11", None, "2024-10-08", "2024-10-09"], ("2024-10-08", "2024-10-11")),
])
def test_published_span(published, expected):
    from server.ui import published_span

    assert published_span([{"published": day} for day in published]) == expected


LOCAL_PAGE = """<html><head><title>Harbour budget approved</title></head><body><article>
<p>The city council approved a budget of twelve million dollars for the harbour on Tuesday, the mayor said in
a statement to reporters gathered outside the town hall after a long evening session.</p>
<p>The harbour master said the money would pay for new pontoons and repairs to the sea wall that was damaged
in last winter's storms, and that work would start in the spring.</p></article></body></html>"""


def test_stats_page_leaves_out_this_computer_and_charts_contradictions(hash_app, auth, isolated_data):
    from server.security import read_ui_key

    client = hash_app.test_client()
    for url in ("http://127.0.0.1:7496/saved/harbour.html", "https://harbourgazette.example/budget"):
        page = LOCAL_PAGE.replace("Tuesday", "Tuesday" if "127" in url else "Wednesday")
        response = client.post("/api/pages", json={"url": url, "html": page}, headers=auth)
        assert response.status_code == 201, response.json
    assert client.get(f"/login?key={read_ui_key(isolated_data)}").status_code in (200, 302, 303)
    html = client.get("/stats").get_data(as_text=True)
    outlets = html[html.index("Outlets read"):]
    outlets = outlets[:outlets.index("</svg>")]
    assert "harbourgazette.example" in outlets and "127.0.0.1" not in outlets
    assert 'aria-label="1 outlets"' in html
    assert "Contradictions per week" in html


@pytest.mark.browser
def test_import_page_follows_the_import_to_its_report(live, ui, monkeypatch):
    from server import imports

    release = threading.Event()
    real_add = imports.Importer.add

    def held_add(self, item):      # held until the page has shown the import running
        assert release.wait(30)
        real_add(self, item)

    monkeypatch.setattr(imports.Importer, "add", held_add)
    ui.visit("/import")
    ui.page.set_input_files("input[type=file]", str(Path(__file__).parent / "imports" / "wallabag.json"))
    try:
        ui.page.click("button[type=submit]")
        ui.page.wait_for_selector(".import-progress[data-import-state=running]")
        assert ui.page.locator(".import-form button[type=submit]").is_disabled()
    finally:
        release.set()
    # The page's script polls the status and shows the report once the import ends.
    ui.page.wait_for_selector(".import-progress[data-import-state=finished]")
    ui.screenshot("import")
    counts = ui.page.locator(".import-counts").inner_text()
    assert "2 of 2 items: 2 new, 0 already stored, 0 skipped." in " ".join(counts.split())


# --- last: a new key signs this tab out (changes the module's server) ---------------------------------

@pytest.mark.browser
def test_new_key_signs_the_tab_out_and_no_secret_reaches_the_log(live, ui, caplog):
    import logging

    from server.security import read_ui_key, rotate_ui_key

    caplog.set_level(logging.INFO)
    old_key = read_ui_key(live.data_dir)
    ui.visit("/?q=Ostrand")
    assert ui.page.locator(".article-title").count() >= 1
    new_key = rotate_ui_key(live.data_dir)
    ui.visit("/", status=401)
    ui.visit(f"/login?key={old_key}", status=401)
    ui.visit(f"/login?key={new_key}")
    assert ui.page.url == f"{live.url}/"
    logged = caplog.text
    assert "GET /login" in logged and "GET / HTTP" in logged
    assert old_key not in logged and new_key not in logged and "Ostrand" not in logged
