"""The browser extension: its packaging, and the real extension in headless Chromium against a real server."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from extension_helpers import (
    CHROMIUM, EXTENSION_DIR, PAGES_DIR, REPO, CrosscurrentServer, ExtensionBrowser, serve_directory,
)

sys.path.insert(0, str(REPO / "packaging"))
import build_extensions  # noqa: E402

# The story pages (tests/pages), in the order a reader captures them.
PAGE_1 = "harrow-book-report.html"
PAGE_2 = "library-reopens.html"
PAGE_3 = "generators-confirmed.html"
PAGE_4 = "ostrand-denies-calls.html"

ALLOWED_PERMISSIONS = {"activeTab", "scripting", "storage", "alarms"}
LOCAL_HOSTS = {"http://127.0.0.1/*", "http://localhost/*"}


# --- packaging and static rules (fast) -------------------------------------------------------------

@pytest.mark.parametrize(
    "target, patch, expected",
    [
        ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ({"background": {"service_worker": "bg.js", "type": "module"}},
         {"background": {"service_worker": None, "scripts": ["bg.js"]}},
         {"background": {"type": "module", "scripts": ["bg.js"]}}),
        ({"permissions": ["a", "b"]}, {"permissions": ["c"]}, {"permissions": ["c"]}),
        ({"a": {"b": 1}}, {"a": None}, {}),
    ],
)
def test_merge_patch(target, patch, expected):
    assert build_extensions.merge_patch(target, patch) == expected


@pytest.mark.parametrize("browser", ["chrome", "firefox"])
def test_manifest_asks_only_for_what_it_needs(browser):
    manifest = build_extensions.manifest_for(browser)
    assert manifest["manifest_version"] == 3
    assert set(manifest["permissions"]) == ALLOWED_PERMISSIONS
    assert set(manifest["host_permissions"]) == LOCAL_HOSTS
    assert manifest["commands"]["_execute_action"]["suggested_key"]["default"] == "Alt+Shift+C"
    for path in [manifest["action"]["default_popup"], manifest["options_ui"]["page"], *manifest["icons"].values()]:
        assert (EXTENSION_DIR / path).is_file(), path


@pytest.mark.parametrize(
    "browser, has_service_worker, has_scripts, has_gecko",
    [("chrome", True, False, False), ("firefox", False, True, True)],
)
def test_packages_are_deterministic_and_per_browser(tmp_path, browser, has_service_worker, has_scripts, has_gecko):
    first = build_extensions.build(tmp_path / "one")
    second = build_extensions.build(tmp_path / "two")
    archive = f"crosscurrent-{browser}.zip"
    assert (tmp_path / "one" / archive).read_bytes() == (tmp_path / "two" / archive).read_bytes()
    assert len(first) == len(second) == 2
    with zipfile.ZipFile(tmp_path / "one" / archive) as package:
        names = package.namelist()
        manifest = json.loads(package.read("manifest.json"))
    assert "manifest.firefox.json" not in names
    assert {"popup.html", "options.html", "background.js", "webext.js"} <= set(names)
    assert ("service_worker" in manifest["background"]) == has_service_worker
    assert ("scripts" in manifest["background"]) == has_scripts
    assert ("browser_specific_settings" in manifest) == has_gecko


SCRIPTS = sorted(EXTENSION_DIR.glob("*.js"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_scripts_follow_the_extension_rules(script):
    source = script.read_text(encoding="utf-8")
    # Server and page data are hostile: no HTML parsing of strings anywhere.
    assert not re.search(r"\b(innerHTML|outerHTML\s*=|insertAdjacentHTML|document\.write)\b", source)
    # One shim touches the API namespace; everything else imports it.
    if script.name != "webext.js":
        assert not re.search(r"\b(chrome|browser)\.(runtime|storage|tabs|scripting|action|alarms|permissions)\b", source)


PAIRING_TEMPLATE = REPO / "server" / "templates" / "ui" / "pairing.html"


def _button_labels(html: str) -> set[str]:
    return {re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<button[^>]*>([^<]+)</button>", html)}


@pytest.mark.parametrize("page", [EXTENSION_DIR / "options.html", PAIRING_TEMPLATE], ids=["options", "pairing-page"])
def test_pairing_instructions_name_real_buttons(page):
    buttons = _button_labels((EXTENSION_DIR / "options.html").read_text()) | _button_labels(PAIRING_TEMPLATE.read_text())
    named = re.findall(r"“([^”]+)”", page.read_text())
    assert named and set(named) <= buttons, (named, buttons)


@pytest.mark.parametrize("must_mention", ["crosscurrent pair", "crosscurrent pair --code", "/pairing", "Pairing"])
def test_options_say_how_to_approve_without_the_window(must_mention):
    # A `crosscurrent serve` setup has no window: the terminal and the /pairing page are all it has.
    assert must_mention in (EXTENSION_DIR / "options.html").read_text()


# --- the real extension in Chromium ----------------------------------------------------------------

browser_test = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def pages_url():
    with serve_directory(PAGES_DIR) as url:
        yield url


@pytest.fixture
def screenshots():
    folder = os.environ.get("CROSSCURRENT_SCREENSHOTS")
    return Path(folder) if folder else None


@pytest.fixture
def browser(playwright, tmp_path, screenshots):
    instance = ExtensionBrowser(playwright, tmp_path / "profile", screenshots)
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = CrosscurrentServer(tmp_path_factory.mktemp("crosscurrent-data"))
    instance.start()
    yield instance
    instance.stop()


def wait_for(check, timeout=30.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {check}")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@browser_test
@pytest.mark.browser
def test_capture_shows_related_coverage_and_the_contradiction(browser, server, pages_url):
    token = browser.pair_with_code(server.url, server.one_time_code())

    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_1}"), working_shot="popup-working")
    assert state == "saved", popup.inner_text("#view")
    assert "Bay Chronicle" in popup.inner_text(".article-outlet")

    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_3}"), shot="popup-answer")
    assert state == "saved", popup.inner_text("#view")
    stored = {article["url"] for article in server.articles(token)}
    assert {f"{pages_url}/{PAGE_1}", f"{pages_url}/{PAGE_3}"} <= stored

    disputes = popup.inner_text(".card-disputes")
    assert "Riedel" in disputes and "seven times" in disputes
    assert re.search(r"den(y|ies|ial|ied)", popup.inner_text(".card-disputes .reason"), re.I)
    related = popup.inner_text(".stories")
    assert "Bay Chronicle" in related and "supports" in related

    # "Open in Crosscurrent" opens the signed-in UI on this article in a new tab.
    with browser.context.expect_page() as opened:
        popup.click("text=Open in Crosscurrent")
    ui = opened.value
    ui.wait_for_url(re.compile(re.escape(server.url) + r"/articles/\d+"), timeout=15000)
    assert "Ostrand" in ui.title() + ui.inner_text("body")

    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_3}"))
    assert state == "duplicate"
    assert popup.text_content(".tag") == "Already saved"

    # A directory listing has no article in it.
    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/"), shot="popup-not-an-article")
    assert state == "not-article"
    assert browser.badge_text() == ""


@browser_test
@pytest.mark.browser
def test_capture_waits_while_the_server_is_down_and_keeps_its_time(browser, server, pages_url):
    token = browser.pair_with_code(server.url, server.one_time_code())
    server.stop()
    try:
        news_tab = browser.open_news_tab(f"{pages_url}/{PAGE_4}", select="article p:nth-of-type(2)")
        popup, state = browser.capture(news_tab, shot="popup-queued")
        assert state == "queued", popup.inner_text("#view")
        assert "1 page is waiting" in popup.inner_text("#view")
        assert browser.badge_text() == "1"
        [queued] = browser.storage("outbox")
        clicked_at = parse_time(queued["page"]["captured_at"])
        assert queued["page"]["selection"] == "Ostrand spokesperson Tomas Riedel said Vale and the senator had not spoken by phone since 2021."
        assert queued["page"]["html"].startswith("<!DOCTYPE html>")
    finally:
        server.start()

    # The worker scheduled the retry with an alarm (30 s and up); bring that same alarm forward.
    browser.worker.evaluate("chrome.alarms.create('outbox-retry', {when: Date.now() + 100})")
    wait_for(lambda: browser.badge_text() == "", timeout=60)
    assert browser.storage("outbox") == []
    [delivered] = [a for a in server.articles(token) if a["url"].startswith(f"{pages_url}/{PAGE_4}")]
    assert abs((parse_time(delivered["captured_at"]) - clicked_at).total_seconds()) < 1


@browser_test
@pytest.mark.browser
def test_ask_to_pair_then_revoke(browser, server, pages_url):
    options = browser.context.new_page()
    options.goto(browser.extension_url("options.html"))
    options.fill("#server-address", server.url)
    options.click("#ask-to-pair")
    options.wait_for_selector("#pairing-status[data-tone='wait']")
    waiting, _ = server.pairing_ids()
    server.cli("pair", "approve", str(max(waiting)))  # what the reader does in the Crosscurrent window
    options.wait_for_selector("#pairing-state[data-state='paired']", timeout=30000)

    _, paired = server.pairing_ids()
    server.cli("pair", "revoke", str(max(paired)))
    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_2}"), shot="popup-revoked")
    assert state == "revoked", popup.inner_text("#view")
    assert browser.badge_text() == "1"
    options.reload()
    options.wait_for_selector("#pairing-state[data-state='revoked']")


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize(
    "target, expected_state, expected_text, badge, shot",
    [
        (PAGE_2, "not-paired", "Not paired", "1", "popup-not-paired"),
        ("about:blank", "forbidden", "Can't read this page", "", "popup-forbidden"),
    ],
)
def test_popup_explains_what_it_cannot_do(browser, pages_url, target, expected_state, expected_text, badge, shot):
    url = target if ":" in target else f"{pages_url}/{target}"
    popup, state = browser.capture(browser.open_news_tab(url), shot=shot)
    assert state == expected_state
    assert expected_text in popup.inner_text("#view")
    assert browser.badge_text() == badge


@pytest.fixture(scope="module")
def options_page(playwright, tmp_path_factory):
    instance = ExtensionBrowser(playwright, tmp_path_factory.mktemp("options-profile"))
    page = instance.context.new_page()
    page.goto(instance.extension_url("options.html"))
    yield page
    instance.close()


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize(
    "typed, message, saved",
    [
        ("127.0.0.1:7500", "Saved.", "http://127.0.0.1:7500"),
        ("http://localhost:7412/some/path", "Saved.", "http://localhost:7412"),
        ("https://127.0.0.1:7412", "http://", None),
        ("http://news.example.com", "only talks to this computer", None),
        ("", "Enter the server address", None),
    ],
)
def test_options_validate_the_server_address(options_page, typed, message, saved):
    options_page.fill("#server-address", typed)
    options_page.click("#server-form button[type=submit]")
    options_page.wait_for_function(
        "(text) => document.getElementById('server-status').textContent.includes(text)", arg=message
    )
    if saved:
        assert options_page.input_value("#server-address") == saved


@browser_test
@pytest.mark.browser
def test_options_find_the_server(options_page, server):
    options_page.fill("#server-address", server.url)
    options_page.click("#find-server")
    options_page.wait_for_selector("#server-status[data-tone='good']", timeout=15000)
    assert "Found Crosscurrent" in options_page.inner_text("#server-status")


# --- the popup answers within Chromium's 600 px ---------------------------------------------------

POPUP_MAX_HEIGHT = 600

# A crowded answer, invented: six contradictions over three claims, four stories of five reports each.
CROWDED_ANSWER_JS = """async (moduleUrl) => {
  const { answerView } = await import(moduleUrl);
  const report = (i) => ({ id: 100 + i, site: `Outlet ${i}`, published: `2024-10-0${(i % 9) + 1}`,
    title: `Earlier report number ${i} on the harbour budget and what the council decided about it`,
    url: `https://outlet${i}.example/news/${i}` });
  const contradictions = Array.from({ length: 6 }, (_, i) => ({
    id: i, label: "disputes", confidence: 0.95 - i / 20,
    reason: "A different amount: 12 million dollars here, 15 million dollars there, for the same harbour budget.",
    claim: { id: i % 3, text: `The council approved a budget of 12 million dollars for the harbour, the mayor said (${i % 3}).` },
    other: { id: 50 + i, text: "The council approved a budget of 15 million dollars for the harbour, the port authority said.",
             article: report(i) },
  }));
  const related = Array.from({ length: 4 }, (_, s) => ({
    id: s, title: `Harbour budget story ${s}`, article_count: 5, site_count: 5,
    articles: Array.from({ length: 5 }, (_, i) => report(s * 5 + i)),
  }));
  const article = { id: 1, site: "Harbour Gazette", published: "2024-10-12", author: "Jane Doe",
    title: "Council approves the harbour budget after a long evening session, with repairs to the sea wall first in line",
    url: "https://harbourgazette.example/budget" };
  const claims = Array.from({ length: 14 }, (_, i) => ({ id: i, matches: [] }));
  document.getElementById("view").replaceChildren(
    answerView({ state: "saved", data: { article, claims, contradictions, related } }, { onOpen: () => {} }));
}"""

POPUP_FIT_JS = """() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Open in Crosscurrent');
  const box = button.getBoundingClientRect();
  return { body: document.body.getBoundingClientRect().height, page: document.documentElement.scrollHeight,
           buttonTop: box.top, buttonBottom: box.bottom, viewport: window.innerHeight };
}"""


def _assert_fits(popup, where: str) -> dict:
    # As tall as the toolbar popup may grow: the page itself must fit, the button must be on screen.
    popup.set_viewport_size({"width": 380, "height": POPUP_MAX_HEIGHT})
    fit = popup.evaluate(POPUP_FIT_JS)
    assert fit["page"] <= POPUP_MAX_HEIGHT and fit["body"] <= POPUP_MAX_HEIGHT, (where, fit)
    assert 0 <= fit["buttonTop"] and fit["buttonBottom"] <= fit["viewport"], (where, fit)
    return fit


@browser_test
@pytest.mark.browser
def test_popup_fits_600_px_with_the_button_in_view(browser, server, pages_url, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()
    browser.pair_with_code(server.url, server.one_time_code())
    first, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_1}"))
    assert state in ("saved", "duplicate"), first.inner_text("#view")
    _assert_fits(first, "a page with nothing earlier")
    first.screenshot(path=str(shots / "popup-first-380x600.png"))
    if state == "saved":       # first captured here (other tests of this module may have saved it before)
        assert "Nothing earlier" in first.inner_text("#view")
    popup, state = browser.capture(browser.open_news_tab(f"{pages_url}/{PAGE_3}"))
    assert state in ("saved", "duplicate"), popup.inner_text("#view")
    _assert_fits(popup, "story pages")
    popup.screenshot(path=str(shots / "popup-answer-380x600.png"))
    # Summary, the contradiction and the first related report all show before any scrolling.
    assert popup.evaluate("""() => {
      const fold = document.querySelector('.answer-body').getBoundingClientRect().bottom;
      return ['.summary', '.card-disputes', '.stories .story-article'].map(
        (selector) => document.querySelector(selector).getBoundingClientRect().bottom <= fold);
    }""") == [True, True, True]

    popup.evaluate(CROWDED_ANSWER_JS, browser.extension_url("popup-view.js"))
    _assert_fits(popup, "crowded answer")
    # Above the fold: the summary, one contradiction, the top story; the rest waits under "More".
    assert popup.locator(".answer-body > .cards > .card-disputes").count() == 1
    assert popup.locator(".answer-body > .stories .story-article").count() == 2
    more = popup.locator("details.more")
    assert more.get_attribute("open") is None
    assert more.locator("summary").text_content() == "More: 5 contradictions, 3 stories, 3 more reports"
    popup.screenshot(path=str(shots / "popup-crowded-380x600.png"))

    more.locator("summary").click()
    popup.locator(".answer-body").evaluate("(body) => body.scrollTo(0, body.scrollHeight)")
    _assert_fits(popup, "crowded answer, more open")
    assert popup.locator("details.more .card-disputes").count() == 3
    popup.screenshot(path=str(shots / "popup-crowded-more-380x600.png"))
    assert sorted(path.name for path in shots.iterdir()) == [
        "popup-answer-380x600.png", "popup-crowded-380x600.png", "popup-crowded-more-380x600.png", "popup-first-380x600.png"]


# --- importing the browser's history ---------------------------------------------------------------

@pytest.mark.parametrize("browser", ["chrome", "firefox"])
def test_history_is_an_optional_permission(browser):
    manifest = build_extensions.manifest_for(browser)
    assert manifest["optional_permissions"] == ["history"]
    assert "history" not in manifest["permissions"]


def test_only_the_history_module_reads_the_history():
    readers = [path.name for path in SCRIPTS if re.search(r"\bwebext\.history\b", path.read_text(encoding="utf-8"))]
    assert readers == ["history.js"]


HISTORY_JS = """async ([moduleUrl, call, args]) => (await import(moduleUrl))[call](...args)"""
DAY_MS = 86_400_000
VISITS = [
    {"url": "https://www.harbour-gazette.example/news/budget", "lastVisitTime": 5 * DAY_MS, "visitCount": 2, "title": "Budget"},
    {"url": "https://harbour-gazette.example/news/budget#comments", "lastVisitTime": 6 * DAY_MS, "visitCount": 1},
    {"url": "https://harbour-gazette.example/", "lastVisitTime": 7 * DAY_MS, "visitCount": 9},
    {"url": "https://sport.harbour-gazette.example/match", "lastVisitTime": 4 * DAY_MS, "visitCount": 1},
    {"url": "https://notharbour-gazette.example/news/x", "lastVisitTime": 4 * DAY_MS, "visitCount": 1},
    {"url": "https://mail.example/inbox/42", "lastVisitTime": 3 * DAY_MS, "visitCount": 30},
    {"url": "chrome://settings/", "lastVisitTime": 3 * DAY_MS, "visitCount": 50},
    {"url": "http://127.0.0.1:7412/articles/3", "lastVisitTime": 3 * DAY_MS, "visitCount": 40},   # Crosscurrent's own
]


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize("call, args, expected", [
    ("parseSites", ["https://www.Harbour-Gazette.example/news, valley.example\nvalley.example;  "],
     ["harbour-gazette.example", "valley.example"]),
    ("parseSites", ["news.example/world/1 ::: http://[bad"], ["news.example"]),      # what is no host is dropped
    ("clampDays", ["500"], 90), ("clampDays", ["0"], 1), ("clampDays", ["seven"], 7),
    # Subdomains count, front pages and other sites do not; an address once, at its last visit, newest first.
    ("itemsToImport", [VISITS, ["harbour-gazette.example", "127.0.0.1"], "http://127.0.0.1:7412"], [
        {"url": "https://harbour-gazette.example/news/budget", "visited_at": 6 * DAY_MS, "title": ""},
        {"url": "https://www.harbour-gazette.example/news/budget", "visited_at": 5 * DAY_MS, "title": "Budget"},
        {"url": "https://sport.harbour-gazette.example/match", "visited_at": 4 * DAY_MS, "title": ""}]),
    ("itemsToImport", [VISITS, []], []),
    ("topSites", [VISITS, 3, "http://127.0.0.1:7412"], [{"site": "mail.example", "count": 30}, {"site": "harbour-gazette.example", "count": 12},
                              {"site": "notharbour-gazette.example", "count": 1}]),
])
def test_the_history_import_chooses_its_addresses(options_page, call, args, expected):
    module = options_page.url.replace("options.html", "history.js")
    assert options_page.evaluate(HISTORY_JS, [module, call, args]) == expected


@browser_test
@pytest.mark.browser
def test_nothing_of_the_history_is_readable_before_the_reader_grants_it(options_page):
    assert options_page.evaluate("typeof chrome.history") == "undefined"
    assert options_page.evaluate("chrome.permissions.contains({permissions: ['history']})") is False
    assert options_page.is_visible("#history-top-sites") and options_page.is_visible("#history-import")


@pytest.fixture
def history_granted(tmp_path):
    """The extension as it runs once the reader has granted the history permission: a headless browser
    cannot click the permission prompt, so this copy lists the permission as granted at install."""
    copy = tmp_path / "extension-history-granted"
    import shutil

    shutil.copytree(EXTENSION_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["permissions"].append(manifest.pop("optional_permissions").pop())
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


HISTORY_PAGES = ["ferry-fares.html", PAGE_2, PAGE_4]


@browser_test
@pytest.mark.browser
def test_options_import_the_history_of_the_chosen_sites(playwright, tmp_path, history_granted, server, pages_url, screenshots):
    browser = ExtensionBrowser(playwright, tmp_path / "profile", screenshots, extension_dir=history_granted)
    try:
        token = browser.pair_with_code(server.url, server.one_time_code())
        visited = browser.context.new_page()
        for name in ["", *HISTORY_PAGES]:       # the front page is visited too, and left out
            visited.goto(f"{pages_url}/{name}")
        options = browser.context.new_page()
        options.set_viewport_size({"width": 900, "height": 1200})
        options.goto(browser.extension_url("options.html"))
        options.click("#history-top-sites")
        choice = options.locator("#history-site-choices input[value='127.0.0.1']")
        choice.wait_for(timeout=15000)
        choice.check()
        assert options.input_value("#history-sites") == "127.0.0.1"
        options.fill("#history-days", "3")
        options.click("#history-import")
        options.wait_for_selector("#history-status[data-tone='good']", timeout=90000)
        browser.screenshot(options, "options-history-imported")
        counts = options.inner_text("#history-counts")
        assert counts.startswith(f"{len(HISTORY_PAGES)} of {len(HISTORY_PAGES)} pages:"), counts
        assert options.locator("#history-bar").evaluate("(bar) => bar.value === bar.max")
        stored = {article["url"] for article in server.articles(token)}
        assert {f"{pages_url}/{name}" for name in HISTORY_PAGES} <= stored
        assert browser.storage("historySites") == ["127.0.0.1"]
    finally:
        browser.close()
