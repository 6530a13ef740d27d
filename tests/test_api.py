"""The JSON API contract, with the fast hash embedder: auth, validation, every endpoint."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import pytest

from helpers import HOSTILE_PAGE, STORY_PAGES, TRACKED_COPY, issue_token, page_html

BOOK, LIBRARY, CONFIRMS, DENIES = STORY_PAGES


def capture(client, auth, page, **extra):
    name, url = page
    return client.post("/api/pages", json={"url": url, "html": page_html(name), **extra}, headers=auth)


@pytest.fixture
def client(hash_app):
    return hash_app.test_client()


# -- who may call ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, headers, body, status, code", [
    ("GET", "/api/articles", {}, None, 401, "unauthorized"),
    ("GET", "/api/articles", {"Authorization": "Bearer nope"}, None, 401, "unauthorized"),
    ("GET", "/api/articles", {"Authorization": "Basic abc"}, None, 401, "unauthorized"),
    ("POST", "/api/pages", {}, {"url": "https://a.example/", "html": "<p>x</p>"}, 401, "unauthorized"),
    ("GET", "/api/articles", {"Host": "evil.example"}, None, 403, "bad_host"),
    ("GET", "/api/health", {"Host": "attacker.example:7412"}, None, 403, "bad_host"),
    ("GET", "/api/health", {"Host": "127.0.0.1:7490@evil.example"}, None, 403, "bad_host"),
    ("GET", "/api/health", {"Host": "[::1]evil"}, None, 403, "bad_host"),
    ("GET", "/api/stories", {}, None, 401, "unauthorized"),
    ("GET", "/api/export?format=csv", {}, None, 401, "unauthorized"),
    ("DELETE", "/api/articles/1", {}, None, 401, "unauthorized"),
])
def test_refused_without_credentials(client, method, path, headers, body, status, code):
    response = client.open(path, method=method, headers=headers, json=body)
    assert response.status_code == status
    assert response.json == {"error": code, "message": response.json["message"]}
    assert response.json["message"]


@pytest.mark.parametrize("host", ["127.0.0.1:7412", "localhost", "localhost:9", "[::1]:7412"])
def test_loopback_hosts_are_accepted(client, host):
    response = client.get("/api/health", headers={"Host": host})
    assert response.status_code == 200
    assert response.json["name"] == "crosscurrent"
    assert set(response.json["counts"]) == {"articles", "claims", "stories"}


def test_revoked_token_says_so(client, hash_app):
    token = issue_token(hash_app)
    store = hash_app.extensions["crosscurrent"].store
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    store.revoke_token(store.list_tokens()[0]["id"])
    response = client.get("/api/articles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["error"] == "token_revoked"


def test_tokens_are_stored_hashed(hash_app):
    token = issue_token(hash_app)
    store = hash_app.extensions["crosscurrent"].store
    dump = "\n".join(store._writer.iterdump())
    assert token not in dump


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, content_type, status, code, words", [
    ("{not json", "application/json", 400, "bad_request", "JSON object"),
    ("[1, 2]", "application/json", 400, "bad_request", "JSON object"),
    ('{"url": "https://a.example/x"}', "application/json", 400, "bad_request", "'html' is required"),
    ('{"html": "<p>hi</p>"}', "application/json", 400, "bad_request", "'url' is required"),
    ('{"url": "https://a.example/x", "html": 42}', "application/json", 400, "bad_request", "'html' is required"),
    ('{"url": 5, "html": "<p>x</p>"}', "application/json", 400, "bad_request", "'url' is required"),
    ("url=x&html=y", "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"),
    ('{"url": "https://a.example/", "html": "<p>x</p>"}', "text/plain", 415, "unsupported_media_type", "application/json"),
    ('{"url": "https://a.example/", "html": "\\u0000\\u0001\\u0002\\u00ff\\u00fe binary"}', "application/json",
     422, "not_an_article", ""),
    ('{"url": "https://a.example/", "html": "<html><body><nav><a href=/a>A</a> <a href=/b>B</a></nav></body></html>"}',
     "application/json", 422, "not_an_article", ""),
    ('{"url": "https://a.example/", "html": "<html><body><p>Too short.</p>"}', "application/json", 422, "not_an_article", ""),
])
def test_bad_captures_get_clear_errors(client, auth, body, content_type, status, code, words):
    response = client.post("/api/pages", data=body, headers={**auth, "Content-Type": content_type})
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert words in response.json["message"]
    assert client.get("/api/articles", headers=auth).json["items"] == []


@pytest.mark.parametrize("extra, status, words", [
    ({"url": "ftp://files.example/a"}, 400, "only http and https"),
    ({"captured_at": "yesterday"}, 400, "ISO 8601"),
    ({"captured_at": "2999-01-01T00:00:00Z"}, 400, "future"),
    ({"captured_at": 12}, 400, "captured_at"),
    ({"title": ["x"]}, 400, "'title' must be a string"),
    ({"captured_at": "0001-01-01T00:00:00+05:00"}, 400, "years 1 to 9999"),
    ({"captured_at": "9999-12-31T23:59:59-05:00"}, 400, "years 1 to 9999"),
    ({"url": "http://[::1/x"}, 400, "not a usable web address"),
    ({"url": "https://test.example/s\ud800"}, 400, "broken UTF-16"),
    ({"url": "https://test.example/\x00"}, 400, "control characters"),
])
def test_bad_fields(client, auth, extra, status, words):
    name, url = BOOK
    body = {"url": url, "html": page_html(name), **extra}
    response = client.post("/api/pages", json=body, headers=auth)
    assert response.status_code == status
    assert words in response.json["message"]


def test_page_over_the_limit_is_refused(client, auth):
    name, url = BOOK
    html = page_html(name).replace("</body>", "<!--" + "x" * (15 * 1024 * 1024) + "--></body>")
    response = client.post("/api/pages", json={"url": url, "html": html}, headers=auth)
    assert response.status_code == 413
    assert response.json["error"] == "too_large"
    assert client.get("/api/health").json["counts"]["articles"] == 0


def test_body_far_over_the_limit_is_refused_before_parsing(client, auth):
    response = client.post("/api/pages", data=b"{" + b" " * (32 * 1024 * 1024) + b"}",
                           headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["error"] == "too_large"


# -- capture and reading ---------------------------------------------------------------------------------
def test_capture_then_duplicates(client, auth):
    first = capture(client, auth, DENIES)
    assert first.status_code == 201
    body = first.json
    assert body["status"] == "created"
    assert set(body) >= {"article", "claims", "related", "contradictions"}
    assert body["article"]["canonical_url"] == "https://valleywire.example/state/ostrand-denies-vale-calls"
    assert body["article"]["site"] == "Valley Wire"
    # Again, and without its tracking parameters: nothing new is stored.
    again = capture(client, auth, DENIES)
    clean = capture(client, auth, (DENIES[0], "https://valleywire.example/state/ostrand-denies-vale-calls"))
    assert again.status_code == clean.status_code == 200
    assert again.json["status"] == "duplicate"
    assert again.json["article"]["id"] == body["article"]["id"] == clean.json["article"]["id"]
    assert client.get("/api/health").json["counts"]["articles"] == 1


def test_same_text_at_another_address_is_a_duplicate(client, auth):
    name, _ = CONFIRMS
    html = page_html(name).replace('<link rel="canonical" href="https://northerndaily.example/politics/ostrand-vale-generators">', "")
    a = client.post("/api/pages", json={"url": "https://northerndaily.example/a", "html": html}, headers=auth)
    b = client.post("/api/pages", json={"url": "https://mirror.example/b", "html": html}, headers=auth)
    assert (a.status_code, b.status_code) == (201, 200)


def test_a_copy_read_from_a_tracking_link_is_a_duplicate(client, auth):
    first = capture(client, auth, BOOK)
    copy = capture(client, auth, TRACKED_COPY)
    assert (first.status_code, copy.status_code) == (201, 200)
    assert copy.json["status"] == "duplicate" and copy.json["article"]["id"] == first.json["article"]["id"]
    assert "utm_" not in copy.json["article"]["canonical_url"] and "fbclid" not in copy.json["article"]["canonical_url"]


def test_a_hostile_page_is_stored_as_text(client, auth):
    answer = capture(client, auth, HOSTILE_PAGE)
    assert answer.status_code == 201, answer.json
    article = client.get(f"/api/articles/{answer.json['article']['id']}", headers=auth).json
    # Markup written as text stays text; markup in the page is gone.
    assert "<img src=x onerror=window.__pwned='text'>" in article["text"]
    assert "__pwned = 'inline'" not in article["text"] and "iframe" not in article["text"]
    assert not (article["canonical_url"] or "").startswith("javascript:")


def test_concurrent_captures_of_one_page_store_it_once(hash_app, auth):
    results = []

    def send():
        results.append(capture(hash_app.test_client(), auth, CONFIRMS).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200, 200, 201]
    store = hash_app.extensions["crosscurrent"].store
    assert store.counts()["articles"] == 1
    assert store.reader.execute("SELECT count(*) FROM pages").fetchone()[0] == 1


def test_history_search_filters_and_pages(client, auth):
    for page in STORY_PAGES:
        assert capture(client, auth, page, captured_at="2025-03-1%dT08:00:00Z" % STORY_PAGES.index(page)).status_code == 201
    items = client.get("/api/articles", headers=auth).json["items"]
    assert [a["site"] for a in items] == ["Valley Wire", "Northern Daily", "Lakeside Herald", "Bay Chronicle"]
    cases = [
        ("q=Quarry", ["Lakeside Herald"]),
        ("q=fundraiser", ["Northern Daily"]),               # text only
        ("site=Bay%20Chronicle", ["Bay Chronicle"]),
        ("from=2025-03-12&to=2025-03-13", ["Valley Wire", "Northern Daily"]),
        ("q=Riedel&from=2025-03-13", ["Valley Wire"]),
        ("q=%22unbalanced", []),                            # FTS syntax in the box is just words
        ("q=flood", ["Lakeside Herald"]),                   # words match as prefixes: "Floodwaters"
        ("q=FLOODWATERS", ["Lakeside Herald"]),
        ("q=floodgates", []),
        ("q=gener", ["Valley Wire", "Northern Daily", "Bay Chronicle"]),
        ("q=spokes%20Ried", ["Valley Wire", "Northern Daily"]),  # every word, in any order
        ("q=flood%20Riedel", []),
    ]
    for query, sites in cases:
        got = client.get(f"/api/articles?{query}", headers=auth).json["items"]
        assert [a["site"] for a in got] == sites, query
    page1 = client.get("/api/articles?per_page=3", headers=auth).json
    page2 = client.get("/api/articles?per_page=3&page=2", headers=auth).json
    assert page1["has_more"] and not page2["has_more"] and len(page2["items"]) == 1
    for bad in ("page=0", "page=x", "from=notadate"):
        assert client.get(f"/api/articles?{bad}", headers=auth).status_code == 400


def test_article_story_contradiction_endpoints(client, auth):
    ids = [capture(client, auth, page).json["article"]["id"] for page in STORY_PAGES]
    article = client.get(f"/api/articles/{ids[2]}", headers=auth).json
    assert article["text"].startswith("Former governor Marcus Vale did send")
    assert all({"matches", "speaker", "polarity", "proposition"} <= set(c) for c in article["claims"])
    assert client.get("/api/articles/999", headers=auth).status_code == 404
    stories = client.get("/api/stories", headers=auth).json["items"]
    assert stories and all(s["article_count"] >= 1 for s in stories)
    story = client.get(f"/api/stories/{stories[0]['id']}", headers=auth).json
    assert story["articles"]
    assert client.get("/api/stories/999", headers=auth).status_code == 404
    assert client.post("/api/contradictions/999/dismiss", json={}, headers=auth).status_code == 404


def test_dismissing_a_contradiction(hash_app, client, auth):
    ids = [capture(client, auth, page).json["article"]["id"] for page in STORY_PAGES]
    store = hash_app.extensions["crosscurrent"].store
    claims = store.article_claims(ids[2])
    # The hash embedder may find no dispute: plant one through the store, as the judge would.
    with store.write() as conn:
        store.insert_links(conn, [{"claim_id": claims[1]["id"], "other_claim_id": store.article_claims(ids[0])[1]["id"],
                                   "label": "disputes", "confidence": 0.9, "reason": "Different number",
                                   "similarity": 0.8}])
    listed = client.get("/api/contradictions", headers=auth).json["items"]
    target = next(l for l in listed if l["reason"] == "Different number")
    response = client.post(f"/api/contradictions/{target['id']}/dismiss", json={}, headers=auth)
    assert response.status_code == 200 and response.json["dismissed"] is True
    assert target["id"] not in [l["id"] for l in client.get("/api/contradictions", headers=auth).json["items"]]
    assert target["id"] in [l["id"] for l in client.get("/api/contradictions?include_dismissed=1", headers=auth).json["items"]]


def test_forgetting_an_article(client, auth):
    ids = [capture(client, auth, page).json["article"]["id"] for page in STORY_PAGES]
    assert client.delete(f"/api/articles/{ids[0]}", headers=auth).json == {"deleted": ids[0]}
    assert client.get(f"/api/articles/{ids[0]}", headers=auth).status_code == 404
    assert client.delete(f"/api/articles/{ids[0]}", headers=auth).status_code == 404
    assert client.get("/api/articles?q=Larchmont", headers=auth).json["items"] == []
    # It can be captured again afterwards.
    assert capture(client, auth, BOOK).status_code == 201


@pytest.mark.parametrize("fmt, mimetype, starts", [
    ("csv", "text/csv", "date,"),
    ("json", "application/json", "["),
    ("html", "text/html", "<!DOCTYPE NETSCAPE-Bookmark-file-1>"),
    ("md", "application/zip", "PK"),
])
def test_export_formats(client, auth, fmt, mimetype, starts):
    capture(client, auth, BOOK)
    response = client.get(f"/api/export?format={fmt}", headers=auth)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").startswith(starts)
    assert "attachment" in response.headers["Content-Disposition"]


def test_export_rejects_unknown_format(client, auth):
    response = client.get("/api/export?format=xlsx", headers=auth)
    assert response.status_code == 400 and "csv" in response.json["message"]


@pytest.mark.parametrize("query, sites", [
    ("from=2025-03-09&to=2025-03-09", ["Northern Daily"]),          # from/to: the days read
    ("read_from=2025-03-09&read_to=2025-03-09", ["Northern Daily"]),
    ("read_from=2025-03-09", ["Northern Daily", "Lakeside Herald"]),
    ("published_from=2025-03-04&published_to=2025-03-04", ["Bay Chronicle"]),
    ("published_from=2025-03-05", ["Northern Daily", "Lakeside Herald"]),
    ("published_to=2025-03-31&read_to=2025-03-08", ["Bay Chronicle"]),
    ("published_from=2025-04-01", []),
])
def test_export_filters_on_read_and_published_days(client, auth, query, sites):
    capture(client, auth, BOOK, captured_at="2025-03-08T10:00:00Z")      # published 2025-03-04
    capture(client, auth, CONFIRMS, captured_at="2025-03-09T10:00:00Z")  # published 2025-03-05
    capture(client, auth, LIBRARY, captured_at="2025-03-10T10:00:00Z")   # published 2025-03-06
    rows = json.loads(client.get(f"/api/export?format=json&{query}", headers=auth).data)
    assert [r["site"] for r in rows] == sites


@pytest.mark.parametrize("query", ["published_from=March", "read_to=2025-13-01", "from=yesterday"])
def test_export_refuses_a_bad_day(client, auth, query):
    response = client.get(f"/api/export?format=json&{query}", headers=auth)
    assert response.status_code == 400 and response.json["error"] == "bad_request"
    assert query.split("=")[0] in response.json["message"]


# -- pairing ---------------------------------------------------------------------------------------------
def test_pairing_by_request(client, hash_app):
    store = hash_app.extensions["crosscurrent"].store
    origin = {"Origin": "chrome-extension://abcdefgh"}
    asked = client.post("/api/pair", json={"name": "Chromium"}, headers=origin)
    assert asked.status_code == 202 and asked.json["status"] == "pending"
    assert asked.headers["Access-Control-Allow-Origin"] == "chrome-extension://abcdefgh"
    poll = {"request_id": asked.json["request_id"], "poll": asked.json["poll"]}
    assert client.post("/api/pair", json=poll).json == {"status": "pending"}
    assert client.post("/api/pair", json={**poll, "poll": "guess"}).status_code == 404
    assert store.pending_pair_requests()[0]["name"] == "Chromium"
    store.decide_pair_request(poll["request_id"], True)
    token = client.post("/api/pair", json=poll).json["token"]
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}", **origin}).headers[
        "Access-Control-Allow-Origin"] == "chrome-extension://abcdefgh"
    # The token is handed out once.
    assert client.post("/api/pair", json=poll).status_code == 404


def test_pairing_refused(client, hash_app):
    asked = client.post("/api/pair", json={"name": "Firefox"}).json
    hash_app.extensions["crosscurrent"].store.decide_pair_request(asked["request_id"], False)
    response = client.post("/api/pair", json={"request_id": asked["request_id"], "poll": asked["poll"]})
    assert response.status_code == 403 and response.json["error"] == "pair_refused"


@pytest.mark.parametrize("code", ["000000", "12", "abcdef", None, ""])
def test_pairing_with_a_wrong_code(client, code):
    response = client.post("/api/pair", json={"code": code})
    assert response.status_code == 403 and response.json["error"] == "bad_code"


def test_pairing_code_works_once(client, hash_app):
    from server.pairing import new_code

    code = new_code(hash_app.extensions["crosscurrent"].store)
    assert client.post("/api/pair", json={"code": code}).json["status"] == "approved"
    assert client.post("/api/pair", json={"code": code}).status_code == 403


def test_cors_is_only_for_extensions(client, auth):
    for origin in ("https://evil.example", "http://127.0.0.1:9999", "null"):
        response = client.get("/api/health", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers
    # An extension that is not paired gets no CORS on data endpoints.
    response = client.get("/api/articles", headers={**auth, "Origin": "chrome-extension://someoneelse"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_every_response_carries_the_csp(client, auth):
    for path in ("/api/health", "/api/articles", "/api/nothing-here"):
        response = client.get(path, headers=auth)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code in (401, 404)
    assert set(response.json) == {"error", "message"}


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_ui_link_signs_a_browser_tab_in_once(client, auth):
    link = client.post("/api/ui-link", json={"path": "/articles/1"}, headers=auth).json
    assert link["companion"] is False
    first = client.get(_path_of(link["url"]))
    assert first.status_code == 302 and first.headers["Location"] == "/articles/1"
    assert "cc_ui=" in first.headers["Set-Cookie"] and "HttpOnly" in first.headers["Set-Cookie"]
    assert "SameSite=Strict" in first.headers["Set-Cookie"]
    assert client.application.test_client().get(_path_of(link["url"])).status_code == 401


@pytest.mark.parametrize("target, expected", [
    ("/stories", "/stories"), ("//evil.example/x", "/"), ("https://evil.example", "/"), ("\\\\evil", "/"),
])
def test_ui_link_keeps_to_this_server(client, auth, target, expected):
    link = client.post("/api/ui-link", json={"path": target}, headers=auth).json["url"]
    assert client.get(_path_of(link)).headers["Location"] == expected


def test_a_very_long_page_is_matched_on_its_first_claims_only(hash_app, auth):
    from server.claims import MAX_CLAIMS_PER_PAGE

    paragraphs = "".join(
        f"<p>The council of district {n} approved {n + 3} new bus routes on Tuesday, the transport office said.</p>"
        for n in range(MAX_CLAIMS_PER_PAGE * 3))
    page = f"<html><head><title>Bus routes</title></head><body><article><h1>Bus routes</h1>{paragraphs}</article></body></html>"
    response = hash_app.test_client().post("/api/pages", json={"url": "https://long.example/a", "html": page}, headers=auth)
    assert response.status_code == 201, response.json
    assert len(response.json["claims"]) == MAX_CLAIMS_PER_PAGE
    assert "district 899" in hash_app.extensions["crosscurrent"].store.get_article(response.json["article"]["id"])["text"]
