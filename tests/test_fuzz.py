"""Hostile input on every endpoint and form: never a 500, always the error shape, nothing stored half-way.

A table of values that broke or could break a parser (huge ints, NaN, Infinity, lone surrogates, NUL,
malformed IPv6, overlong strings, wrong types) is sent in every JSON field, every id in a path, every
query argument and every form field. A 4xx must leave the reader's data exactly as it was.
"""

from __future__ import annotations

import json

import pytest

from server import security

PARAGRAPHS = [
    "The harbour board of Eastmere voted on Tuesday to close the old ferry pier for repairs, a decision "
    "that will send commuters to the northern terminal for at least four months.",
    "Board chair Lena Okafor said the pier's timber supports had rotted faster than engineers expected "
    "after two wet winters, and that the repairs would cost about 2.4 million dollars.",
    "Ferry operators said the northern terminal could handle the extra crossings but warned that morning "
    "queues would grow, especially on market days when traffic doubles.",
    "Residents of the harbour district asked the board to add a shuttle bus between the two terminals, and "
    "the board promised to publish a plan before the end of the month.",
    "The pier first opened in 1911 and was last rebuilt in 1978, when a storm tore away its outer section "
    "and left the town without a crossing for most of a summer.",
]
ARTICLE = ("<html><head><title>Eastmere closes its old ferry pier for repairs</title></head><body><article>"
           "<h1>Eastmere closes its old ferry pier for repairs</h1>"
           + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>")

HOSTILE = [
    10**30, -10**30, 2**63, 2**63 - 1, -1, 0, 1.5, 1e308, float("nan"), float("inf"), float("-inf"),
    True, False, None, [], {}, [1, "a"], {"nested": {"deeper": [None]}},
    "", " ", "\ud800", "a\udfffb", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\ufeff",
    "http://[::1/x", "https://test.example/s\ud800", "javascript:alert(1)", "//evil.example", "/\t/evil.example",
    "x" * 100_000, "9" * 30, "-9" * 15, "NaN", "Infinity", "1e309",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2024-02-30T00:00:00Z", "../../etc/passwd",
    "<script>alert(1)</script>", "'; DROP TABLE articles; --", '" OR 1=1 --', "%00", "%ED%A0%80",
]
# Pages a browser could really send: the article with a NUL, a lone surrogate or a broken canonical link.
HOSTILE_HTML = [
    ARTICLE.replace("Board chair", "Board\x00 chair"),
    ARTICLE.replace("Board chair", "Board\ud83d chair"),
    ARTICLE.replace("<title>", '<link rel="canonical" href="http://[::1/x"><title>'),
    ARTICLE.replace("<title>", '<link rel="canonical" href="https://test.example/\ud800"><title>'),
    ARTICLE.replace("<title>Eastmere closes its old ferry pier for repairs</title>", ""),
    ARTICLE.replace("<h1>Eastmere closes its old ferry pier for repairs</h1>", "<h1>\ud800</h1>"),
]

JSON_ENDPOINTS = [
    ("/api/pages", {"url": "https://fuzz.example/pier", "html": ARTICLE},
     ["url", "html", "title", "captured_at", "selection"]),
    ("/api/pair", {"name": "Fuzzed browser"}, ["name"]),
    ("/api/pair", {"code": "123456"}, ["code", "name"]),
    ("/api/pair", {"request_id": 1, "poll": "not-the-poll"}, ["request_id", "poll"]),
    ("/api/ui-link", {"path": "/stories"}, ["path"]),
    ("/api/contradictions/{link}/dismiss", {}, ["anything"]),
]

ID_ROUTES = [
    ("GET", "/api/articles/{}"), ("DELETE", "/api/articles/{}"), ("GET", "/api/stories/{}"),
    ("POST", "/api/contradictions/{}/dismiss"),
    ("GET", "/articles/{}"), ("POST", "/articles/{}/forget"), ("GET", "/stories/{}"),
    ("POST", "/contradictions/{}/dismiss"), ("POST", "/pairing/requests/{}"), ("POST", "/pairing/tokens/{}/revoke"),
]
HOSTILE_IDS = ["9" * 25, "9" * 30, str(2**63), str(2**63 - 1), "0", "-1", "1.5", "1e3", "%00", "%ED%A0%80",
               "%F0%9F", "NaN", "Infinity", "1" + "0" * 5000]

QUERY_PAGES = ["/api/articles", "/api/stories", "/api/contradictions", "/api/export",
               "/", "/stories", "/contradictions", "/export", "/import", "/import/status", "/stats",
               "/pairing", "/login"]
QUERY_ARGS = ["page", "per_page", "q", "site", "from", "to", "format", "include_dismissed", "next", "key", "ticket"]
HOSTILE_QUERY = ["9" * 30, "-1", "0", "NaN", "Infinity", "1e309", "%00", "%ED%A0%80", "%F0%9F", "x" * 5000,
                 "2024-13-45", "0001-01-01", "9999-12-31T23:59:59-05:00", "%2F%2Fevil.example", "%09", "'%22<>",
                 "%E2%80%AE", "csv%00", "*", "NEAR(a b)"]

FORMS = [
    ("/contradictions/{link}/dismiss", ["next"]), ("/articles/{article}/forget", ["anything"]),
    ("/pairing/requests/1", ["decision"]), ("/pairing/tokens/1/revoke", ["anything"]),
    ("/pairing/code", ["anything"]), ("/import", ["file"]),
]


def snapshot(app) -> list:
    """What a failed request must not change: articles, claims, links, stories, tokens, pair requests."""
    conn = app.extensions["crosscurrent"].store.reader
    queries = [
        "SELECT id, url, canonical_url, title, text, captured_at, story_id FROM articles ORDER BY id",
        "SELECT id, article_id, text FROM claims ORDER BY id",
        "SELECT id, claim_id, other_claim_id, label, dismissed_at FROM links ORDER BY id",
        "SELECT id, title FROM stories ORDER BY id",
        "SELECT article_id FROM pages ORDER BY article_id",
        "SELECT id, name, origin, revoked_at FROM tokens ORDER BY id",
        "SELECT id, name, origin, status FROM pair_requests ORDER BY id",
    ]
    return [[tuple(row) for row in conn.execute(sql)] for sql in queries]


class Checker:
    """Sends requests and checks each answer: no 5xx, the error shape, and no change after a refusal."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.before = snapshot(app)
        self.failures: list[str] = []

    def send(self, what: str, method: str, path: str, **kwargs):
        response = self.client.open(path, method=method, **kwargs)
        status = response.status_code
        after = snapshot(self.app)
        if status >= 500:
            self.failures.append(f"{what}: {status} {response.get_data(as_text=True)[:200]}")
        elif status >= 400:
            if path.startswith("/api") and (not response.is_json or set(response.json) != {"error", "message"}
                                            or not response.json["message"]):
                self.failures.append(f"{what}: {status} without the JSON error shape")
            if after != self.before:
                self.failures.append(f"{what}: {status} but the stored data changed")
        self.before = after
        return response


@pytest.fixture
def checker(hash_app, auth):
    client = hash_app.test_client()
    with hash_app.test_request_context():
        key, csrf = hash_app.extensions["crosscurrent"].ui_key, security.csrf_token()
    assert client.get(f"/login?key={key}").status_code == 302
    # Something to read, dismiss and forget, so the hostile values meet real rows too.
    ids = []
    for n, html in enumerate([ARTICLE, ARTICLE.replace("Eastmere", "Westmere").replace("four", "six")]):
        answer = client.post("/api/pages", json={"url": f"https://fuzz.example/{n}", "html": html}, headers=auth)
        assert answer.status_code == 201
        ids.append(answer.json["article"]["id"])
    store = hash_app.extensions["crosscurrent"].store
    with store.write() as conn:     # a contradiction to dismiss, as the judge would store it
        store.insert_links(conn, [{"claim_id": store.article_claims(ids[1])[2]["id"],
                                   "other_claim_id": store.article_claims(ids[0])[2]["id"], "label": "disputes",
                                   "confidence": 0.9, "reason": "Different number", "similarity": 0.8}])
    link = store.list_contradictions()["items"][0]["id"]
    check = Checker(hash_app, client)
    check.auth, check.csrf, check.ids = auth, csrf, {"article": ids[0], "link": link}
    return check


def _body(template: dict, field: str, value) -> bytes:
    return json.dumps({**template, field: value}, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("path, template, fields", JSON_ENDPOINTS, ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_json_fields(checker, path, template, fields):
    path = path.format(**checker.ids)
    headers = {**checker.auth, "Content-Type": "application/json"}
    for field in fields:
        values = HOSTILE + (HOSTILE_HTML if field == "html" else [])
        for value in values:
            checker.send(f"{path} {field}={value!r:.60}", "POST", path, data=_body(template, field, value),
                         headers=headers)
    assert checker.failures == []


@pytest.mark.parametrize("path", sorted({p for p, _, _ in JSON_ENDPOINTS}))
def test_hostile_json_bodies(checker, path):
    path = path.format(**checker.ids)
    headers = {**checker.auth, "Content-Type": "application/json"}
    bodies = [json.dumps(v, allow_nan=True).encode("utf-8", "surrogatepass") for v in HOSTILE] + [
        b"", b"{", b"\xff\xfe", b'{"url": "\\ud800"', b"[" * 10_000 + b"]" * 10_000, b'{"a": 1' + b"0" * 5000 + b"}",
    ]
    for body in bodies:
        checker.send(f"{path} body={body[:60]!r}", "POST", path, data=body, headers=headers)
    assert checker.failures == []


@pytest.mark.parametrize("method, route", ID_ROUTES, ids=lambda v: v)
def test_hostile_ids_in_paths(checker, method, route):
    for value in HOSTILE_IDS:
        path = route.format(value)
        kwargs = {"data": {"csrf": checker.csrf}} if method == "POST" and not path.startswith("/api") else {}
        if path.startswith("/api") and method == "POST":
            kwargs = {"json": {}}
        response = checker.send(f"{method} {path:.80}", method, path, headers=checker.auth, **kwargs)
        assert response.status_code in (400, 404, 405), (path[:80], response.status_code)
    assert checker.failures == []


@pytest.mark.parametrize("page", QUERY_PAGES)
def test_hostile_query_arguments(checker, page):
    for arg in QUERY_ARGS:
        for value in HOSTILE_QUERY:
            checker.send(f"GET {page}?{arg}={value:.40}", "GET", f"{page}?{arg}={value}", headers=checker.auth)
    assert checker.failures == []


@pytest.mark.parametrize("path, fields", FORMS, ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_form_fields(checker, path, fields):
    path = path.format(**checker.ids)
    for field in fields + ["csrf"]:
        for value in HOSTILE:
            text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
            form = {"csrf": checker.csrf, field: text.encode("utf-8", "surrogatepass")}
            response = checker.send(f"POST {path} {field}={text!r:.60}", "POST", path, data=form)
            if response.status_code in (301, 302, 303):
                location = response.headers["Location"]
                assert location.startswith("/") and not location.startswith("//"), location
                assert not any(ch in location for ch in "\t\n\r\\"), location
    assert checker.failures == []


HOSTILE_HEADERS = [
    ("Authorization", "Bearer " + "x" * 20_000), ("Authorization", "Bearer \x00"), ("Authorization", "Bearer é"),
    ("Authorization", "Bearer"), ("Authorization", "Bearer  "), ("Authorization", "Basic Og=="),
    ("Origin", "chrome-extension://" + "a" * 10_000), ("Origin", "null"), ("Origin", "chrome-extension://\x00"),
    ("Cookie", "cc_ui=é" + "x" * 5000), ("Cookie", "cc_ui=\x00"), ("Content-Type", "application/json; charset=utf-7"),
    ("Host", "127.0.0.1:7412@evil.example"), ("Host", "[::1]evil"), ("Host", "localhost:99999999999999999999"),
    ("Host", "é"), ("X-CSRF-Token", "é" * 100),
]


@pytest.mark.parametrize("method, path", [("GET", "/api/articles"), ("POST", "/api/pair"), ("GET", "/"),
                                          ("POST", "/pairing/code"), ("GET", "/login?key=x")])
def test_hostile_headers(checker, method, path):
    for name, value in HOSTILE_HEADERS:
        headers = {**({} if name == "Authorization" else checker.auth), name: value}
        kwargs = {"data": b'{"name": "x"}'} if path.startswith("/api") and method == "POST" else {}
        if kwargs and name != "Content-Type":
            headers.setdefault("Content-Type", "application/json")
        checker.send(f"{method} {path} {name}: {value!r:.40}", method, path, headers=headers, **kwargs)
    assert checker.failures == []
