"""The four story pages (tests/pages), captured in order with the real model, behave as a reader expects."""

from __future__ import annotations

import pytest

from helpers import STORY_PAGES, issue_token, page_html

pytestmark = pytest.mark.model

BOOK, LIBRARY, CONFIRMS, DENIES = range(4)


@pytest.fixture(scope="module")
def captured(tmp_path_factory, real_embedder):
    from server.app import create_app

    real_app = create_app({"data_dir": tmp_path_factory.mktemp("story"), "TESTING": True}, embedder=real_embedder)
    client = real_app.test_client()
    auth = {"Authorization": f"Bearer {issue_token(real_app)}"}
    answers = []
    for name, url in STORY_PAGES:
        response = client.post("/api/pages", json={"url": url, "html": page_html(name)}, headers=auth)
        assert response.status_code == 201, response.json
        answers.append(response.json)
    yield client, auth, answers
    real_app.extensions["crosscurrent"].store.close()


def find_links(answer: dict, mine: str, theirs: str) -> list[dict]:
    return [m for c in answer["claims"] if mine in c["text"] for m in c["matches"] if theirs in m["other"]["text"]]


def test_extraction_of_the_long_article(captured):
    client, auth, answers = captured
    article = client.get(f"/api/articles/{answers[CONFIRMS]['article']['id']}", headers=auth).json
    assert (article["site"], article["published"], article["language"]) == ("Northern Daily", "2025-03-05", "en")
    assert len([p for p in article["text"].split("\n") if p.strip()]) == 13
    for junk in ("You Might Also Like", "share Share", "More Stories Like This", "Leave a Reply",
                 "Your email address will not be published", "News From Every Valley"):
        assert junk not in article["text"]


@pytest.mark.parametrize("page, mine, theirs, label, reason_words", [
    (CONFIRMS, "Former governor Marcus Vale did send emergency generators",
     "Vale secretly sent state-owned emergency generators", "supports", ()),
    (CONFIRMS, "Riedel also denied Harrow", "as many as seven times", "disputes", ("den",)),
    (CONFIRMS, "The book, which is set to be published Nov. 4", "The book is set to be published on Nov. 4",
     "supports", ()),
    (DENIES, "Riedel said Vale and the senator had not spoken by phone since 2021", "as many as seven times",
     "disputes", ()),
    (DENIES, "Riedel said Vale and the senator had not spoken by phone since 2021", "Riedel also denied Harrow",
     "supports", ()),
])
def test_expected_labels(captured, page, mine, theirs, label, reason_words):
    _, _, answers = captured
    links = find_links(answers[page], mine, theirs)
    assert links, f"no match between {mine!r} and {theirs!r}"
    assert links[0]["label"] == label, links[0]
    assert links[0]["reason"]
    for word in reason_words:
        assert word in links[0]["reason"].lower()


def test_disputes_reach_the_contradictions(captured):
    client, auth, answers = captured
    pairs = [(l["claim"]["text"], l["other"]["text"]) for l in answers[CONFIRMS]["contradictions"]]
    assert any("Riedel also denied" in mine and "seven times" in theirs for mine, theirs in pairs)
    listed = client.get("/api/contradictions", headers=auth).json["items"]
    assert listed == sorted(listed, key=lambda l: -l["confidence"])


def test_the_unrelated_page_matches_nothing_and_stands_alone(captured):
    client, auth, answers = captured
    library_id = answers[LIBRARY]["article"]["id"]
    article = client.get(f"/api/articles/{library_id}", headers=auth).json
    assert all(c["matches"] == [] for c in article["claims"])
    for answer in answers:
        for claim in answer["claims"]:
            assert all(m["other"]["article"]["id"] != library_id for m in claim["matches"])
    stories = {a["article"]["id"]: client.get(f"/api/articles/{a['article']['id']}", headers=auth).json["story_id"]
               for a in answers}
    ids = [a["article"]["id"] for a in answers]
    assert stories[ids[BOOK]] == stories[ids[CONFIRMS]] == stories[ids[DENIES]]
    assert stories[ids[LIBRARY]] not in (stories[ids[BOOK]],)
    story = client.get(f"/api/stories/{stories[ids[LIBRARY]]}", headers=auth).json
    assert [a["id"] for a in story["articles"]] == [library_id]


def test_related_coverage_groups_the_story(captured):
    _, _, answers = captured
    related = answers[DENIES]["related"]
    assert related and {a["site"] for a in related[0]["articles"]} == {"Bay Chronicle", "Northern Daily"}
    dates = [a["published"] for a in related[0]["articles"]]
    assert dates == sorted(dates, reverse=True)


def test_capturing_again_stores_nothing(captured):
    client, auth, answers = captured
    name, url = STORY_PAGES[DENIES]
    for address in (url, url.split("?")[0]):
        response = client.post("/api/pages", json={"url": address, "html": page_html(name)}, headers=auth)
        assert response.status_code == 200 and response.json["status"] == "duplicate"
        assert response.json["article"]["id"] == answers[DENIES]["article"]["id"]
    assert client.get("/api/health").json["counts"]["articles"] == 4
