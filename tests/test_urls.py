import pytest

from server.urls import BadUrl, canonical_url, domain_of


@pytest.mark.parametrize("url, hint, expected", [
    ("https://eveningwire.example/world/k?utm_source=feed&utm_medium=rss", None, "https://eveningwire.example/world/k"),
    ("HTTPS://News.Example:443/a?id=7&fbclid=xyz#comments", None, "https://news.example/a?id=7"),
    ("http://news.example:8080/a", None, "http://news.example:8080/a"),
    ("https://news.example", None, "https://news.example/"),
    ("https://m.news.example/a?gclid=1&page=2", None, "https://m.news.example/a?page=2"),
    ("https://amp.news.example/a", "https://news.example/a?utm_campaign=x", "https://news.example/a"),
    ("https://news.example/a", "/politics/a", "https://news.example/politics/a"),
    ("https://news.example/a", "javascript:alert(1)", "https://news.example/a"),
])
def test_canonical_url(url, hint, expected):
    assert canonical_url(url, hint) == expected


@pytest.mark.parametrize("url, message", [
    ("", "no URL"),
    ("file:///etc/passwd", "only http and https"),
    ("chrome://settings", "only http and https"),
    ("https:///nohost", "no host"),
])
def test_bad_urls(url, message):
    with pytest.raises(BadUrl, match=message):
        canonical_url(url)


def test_domain_drops_www():
    assert domain_of("https://www.News.example/x") == "news.example"
