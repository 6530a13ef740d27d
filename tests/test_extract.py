"""Article extraction on the test pages (tests/pages) and on pages that are not articles."""

import subprocess
import sys

import pytest

from helpers import HOSTILE_PAGE, PAGES
from server.extract import NotAnArticle, decode_html, extract_article

_cache: dict[str, object] = {}


def extracted(name: str):
    if name not in _cache:
        _cache[name] = extract_article(decode_html((PAGES / name).read_bytes()))
    return _cache[name]


BOOK = "harrow-book-report.html"
LIBRARY = "library-reopens.html"
CONFIRMS = "generators-confirmed.html"
DENIES = "ostrand-denies-calls.html"
FERRY = "ferry-fares.html"
HOSTILE = HOSTILE_PAGE[0]


@pytest.mark.parametrize(
    "page, must_appear",
    [
        (CONFIRMS, "Former governor Marcus Vale did send emergency generators"),
        (CONFIRMS, "Riedel also denied Harrow’s claim that Vale and Ostrand have spoken"),
        (CONFIRMS, "The book, which is set to be published Nov. 4"),
        (CONFIRMS, "they’d know how to reach each other.”"),
        (CONFIRMS, "Vale has called Ostrand “very shrewd”"),
        (BOOK, "as many as seven times since Vale left the statehouse in 2021"),
        (DENIES, "Riedel said Vale and the senator had not spoken by phone since 2021"),
        (LIBRARY, "Floodwaters from the Quarry Creek"),
        (FERRY, "a petition against it gathered 2,300 signatures"),
        (HOSTILE, "Engineers wrote <img src=x onerror=window.__pwned='text'> into the council's web form"),
    ],
)
def test_article_text_is_kept(page, must_appear):
    assert must_appear in extracted(page).text


@pytest.mark.parametrize(
    "page, boilerplate",
    [
        (CONFIRMS, "You Might Also Like"),
        (CONFIRMS, "share Share"),
        (CONFIRMS, "More Stories Like This"),
        (CONFIRMS, "Leave a Reply"),
        (CONFIRMS, "Your email address will not be published"),
        (CONFIRMS, "News From Every Valley"),
        # The headline is the title, not the first paragraph.
        (CONFIRMS, "Ostrand's office reportedly confirms Vale sent generators"),
        (BOOK, "uses cookies"),
        (BOOK, "Sign up for our free newsletter"),
        (LIBRARY, "We use cookies"),
        (FERRY, "Join the discussion"),
        (FERRY, "Bridge tolls frozen"),
        (HOSTILE, "window.__pwned = 'inline'"),
        (HOSTILE, "window.__pwned='img'"),
        (HOSTILE, "iframe"),
    ],
)
def test_boilerplate_is_dropped(page, boilerplate):
    assert boilerplate not in extracted(page).text


def test_all_thirteen_paragraphs_of_the_long_article():
    paragraphs = extracted(CONFIRMS).text.split("\n")
    assert len(paragraphs) == 13
    assert paragraphs[0].startswith("Former governor Marcus Vale did send")
    assert paragraphs[-1].startswith("Vale’s critics have long taken issue")


@pytest.mark.parametrize(
    "page, field, expected",
    [
        (CONFIRMS, "site", "Northern Daily"),
        (CONFIRMS, "published", "2025-03-05"),
        (CONFIRMS, "language", "en"),
        (CONFIRMS, "title", "Ostrand's office reportedly confirms Vale sent generators, denies phone calls since he left office"),
        (CONFIRMS, "canonical_url", "https://northerndaily.example/politics/ostrand-vale-generators"),
        (BOOK, "site", "Bay Chronicle"),
        (BOOK, "published", "2025-03-04"),
        (BOOK, "author", "Nora Quill"),
        (LIBRARY, "site", "Lakeside Herald"),
        (LIBRARY, "published", "2025-03-06"),
        (DENIES, "site", "Valley Wire"),
        (DENIES, "published", "2025-03-07"),
        (FERRY, "site", "Coastal Times"),
        (FERRY, "author", "Ruth Okafor"),
        (HOSTILE, "title", "<script>window.__pwned = 'title'</script> Council approves the harbour budget"),
    ],
)
def test_metadata(page, field, expected):
    assert getattr(extracted(page), field) == expected


# --- synthetic pages ---------------------------------------------------------------------------

PARAGRAPHS = [
    "The city council voted on Tuesday to rebuild the old river bridge, which was closed last spring "
    "after engineers found cracks in two of its supporting piers.",
    "Construction is expected to start in March and take about eighteen months, the mayor said, "
    "adding that a ferry will carry pedestrians across the river in the meantime.",
    "Residents who live near the bridge said the closure had doubled their commute and hurt the shops "
    "along the waterfront, some of which have reduced their opening hours.",
]


def article_page(title="Council votes to rebuild river bridge | Valley Times", head="", lang="en"):
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Council votes to rebuild river bridge</h1>{body}</article>"
        f"<footer>Copyright Valley Times. All rights reserved.</footer></body></html>"
    )


def links_page(prefix: str, count: int = 30) -> str:
    items = "".join(
        f'<li><a href="/story/{i}">{prefix} number {i} about the city budget and the river bridge</a></li>'
        for i in range(count)
    )
    return f"<html><head><title>Valley Times</title></head><body><h1>Latest</h1><ul>{items}</ul></body></html>"


@pytest.mark.parametrize(
    "html, message_word",
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("\x00\x01\x02\x89PNG\x1a\x00\x00" * 300, "web page"),
        ("<html><body><p>Page not found.</p></body></html>", "too little text"),
        ("<html><body><p>Subscribe to read the full story.</p><p>Log in</p></body></html>", "too little text"),
        (links_page("Headline"), "list of links"),
        (links_page("Search result"), "list of links"),
        ("<html><body><div><p>Broken <b><i>markup</p></div></span></table><<<>>", "too little text"),
        ('<html lang="zh"><body><p>页面不存在。请返回首页。</p></body></html>', "too little text"),
    ],
    ids=["empty", "whitespace", "binary", "not-found", "paywall-stub", "home-page", "search-results", "malformed",
         "chinese-not-found"],
)
def test_not_an_article(html, message_word):
    with pytest.raises(NotAnArticle) as error:
        extract_article(html, url="https://valleytimes.example/")
    assert message_word in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    "head, url, field, expected",
    [
        ("", None, "title", "Council votes to rebuild river bridge"),
        ('<meta property="og:title" content="Bridge to be rebuilt - Valley Times">', None, "title",
         "Bridge to be rebuilt"),
        ('<meta property="og:site_name" content="Valley Times">', None, "site", "Valley Times"),
        ("", "https://www.valleytimes.example/a/1", "site", "valleytimes.example"),
        ('<link rel="canonical" href="/news/bridge">', "https://valleytimes.example/a/1?utm_source=x",
         "canonical_url", "https://valleytimes.example/news/bridge"),
        ('<meta property="og:url" content="https://valleytimes.example/news/bridge">', None, "canonical_url",
         "https://valleytimes.example/news/bridge"),
        ('<meta name="description" content="The bridge will reopen in 2026.">', None, "description",
         "The bridge will reopen in 2026."),
        ('<meta property="article:published_time" content="2024-10-09T08:30:00Z">', None, "published",
         "2024-10-09"),
    ],
)
def test_synthetic_metadata(head, url, field, expected):
    assert getattr(extract_article(article_page(head=head), url=url), field) == expected


def test_a_short_chinese_news_brief_is_an_article():
    # 140 characters of Chinese say as much as a 400-letter English brief.
    brief = ("遭美国通缉的马来西亚籍国防承包商法兰西斯星期三（9月21日）在委内瑞拉被捕，他当时正准备登上飞往俄罗斯的航班。"
             "这名绰号“胖子伦纳德”的法兰西斯来自槟城，曾向美国海军军官行贿，以换取机密资料和合约。"
             "美国司法部表示，将尽快向委内瑞拉提出引渡要求。")
    html = (f'<html lang="zh"><head><meta charset="utf-8"><title>国防承包商在委内瑞拉被捕</title></head>'
            f"<body><article><h1>国防承包商在委内瑞拉被捕</h1><p>{brief}</p></article></body></html>")
    assert extract_article(html, url="https://news.example/zh/1").text == brief


def test_synthetic_article_text_without_headline_or_footer():
    result = extract_article(article_page())
    assert result.text.split("\n") == PARAGRAPHS


@pytest.mark.parametrize(
    "lang, expected",
    [("en-GB", "en"), ("de", "de"), ("", "en")],  # no lang attribute: guessed from the words
)
def test_language(lang, expected):
    assert extract_article(article_page(lang=lang)).language == expected


def test_language_guess_for_german_text():
    german = "".join(
        f"<p>{p}</p>"
        for p in [
            "Der Stadtrat hat am Dienstag beschlossen, die alte Brücke über den Fluss neu zu bauen, "
            "die im Frühjahr gesperrt wurde.",
            "Die Bauarbeiten sollen im März beginnen und etwa achtzehn Monate dauern, sagte die "
            "Bürgermeisterin, und eine Fähre bringt die Fußgänger in der Zwischenzeit über den Fluss.",
        ]
    )
    html = f"<html><head><title>Brücke</title></head><body><article>{german}</article></body></html>"
    assert extract_article(html).language == "de"


@pytest.mark.parametrize(
    "data, expected",
    [
        ('<meta charset="windows-1252"><p>Caf\u00e9 \u201cNo\u00ebl\u201d</p>'.encode("cp1252"),
         "Caf\u00e9 \u201cNo\u00ebl\u201d"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>Stra\u00dfe</p>'
         .encode("latin-1"), "Stra\u00dfe"),
        ("<p>Stra\u00dfe \u2014 \u65e5\u672c</p>".encode("utf-8"), "Stra\u00dfe \u2014 \u65e5\u672c"),
        (b"\xef\xbb\xbf<p>Caf\xc3\xa9</p>", "<p>Caf\u00e9</p>"),
        ("<p>Caf\u00e9</p>".encode("utf-16"), "<p>Caf\u00e9</p>"),
        ("<p>Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, no charset declared</p>".encode("cp1252"),
         "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"),
    ],
    ids=["cp1252-meta", "latin1-http-equiv", "utf8-undeclared", "utf8-bom", "utf16-bom", "cp1252-undeclared"],
)
def test_decode_html(data, expected):
    assert expected in decode_html(data)


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe\x80" * 100, bytes(range(256)) * 20,
                                  b'<meta charset="no-such-charset"><p>x\xff</p>'])
def test_decode_html_never_raises_on_junk(data):
    assert isinstance(decode_html(data), str)


def test_junk_bytes_decoded_are_not_an_article():
    with pytest.raises(NotAnArticle):
        extract_article(decode_html(bytes(range(256)) * 50))


# --- metadata a reader can trust: structured data first, outlets and authors that are names -------

def ld_json(data) -> str:
    import json

    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


NEWS_ARTICLE = {
    "@context": "https://schema.org", "@type": "NewsArticle", "headline": "River bridge will be rebuilt by 2026",
    "publisher": {"@type": "NewsMediaOrganization", "name": "Valley Times"},
    "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"}],
    "datePublished": "2024-10-09T08:30:00+02:00",
}
GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "Organization", "@id": "#org", "name": "Valley Times"},
    {"@type": "WebSite", "@id": "#site", "name": "Valley Times Online", "publisher": {"@id": "#org"}},
    {"@type": ["Article"], "headline": "Bridge vote passes", "publisher": {"@id": "#org"},
     "author": {"@type": "Organization", "name": "Valley Times Newsroom"}},
]}
# <title> bears the headline out, cluttered as titles are: the clean headline comes from JSON-LD.
NEWS_TITLE = "River bridge will be rebuilt by 2026 | Local news | Valley Times"
LOGO_HEADER = '<header><h1><a href="/"><img src="/logo.png" alt="Valley Times">Valley Times</a></h1></header>'


def page_with(head="", title="Council votes to rebuild river bridge | Valley Times", header="", h1=True):
    heading = "<h1>Council votes to rebuild river bridge</h1>" if h1 else ""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body>{header}<article>{heading}{body}</article></body></html>")


@pytest.mark.parametrize(
    "html, url, field, expected",
    [
        # The page's structured data names headline, outlet, authors and date.
        (page_with(ld_json(NEWS_ARTICLE), title=NEWS_TITLE), None, "title", "River bridge will be rebuilt by 2026"),
        (page_with(ld_json(NEWS_ARTICLE)), None, "site", "Valley Times"),
        (page_with(ld_json(NEWS_ARTICLE)), None, "author", "Jane Doe and John Roe"),
        (page_with(ld_json(NEWS_ARTICLE)), None, "published", "2024-10-09"),
        # Publisher by reference inside @graph; an organisation as author is not a byline.
        (page_with(ld_json(GRAPH)), None, "site", "Valley Times"),
        (page_with(ld_json(GRAPH), title="Bridge vote passes | Local news | Valley Times"), None, "title",
         "Bridge vote passes"),
        (page_with(ld_json(GRAPH)), None, "author", None),
        # Structured publisher wins over a sharing name that is really an address or a menu.
        (page_with(ld_json(NEWS_ARTICLE) + '<meta property="og:site_name" content="https://www.valleytimes.example">'),
         None, "site", "Valley Times"),
        (page_with('<meta property="og:site_name" content="https://www.valleytimes.example">'),
         "https://www.valleytimes.example/a/1", "site", "valleytimes.example"),
        (page_with('<meta property="og:site_name" content="Autoracing | F1 | Indy | MotoGP | StockCar">'),
         "https://speed.example/a/1", "site", "speed.example"),
        (page_with('<meta property="og:site_name" content="127.0.0.1:7496">'), "http://127.0.0.1:7496/a/1",
         "site", "127.0.0.1"),
        # Broken structured data is ignored, the rest still counts.
        (page_with('<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
                   '<meta property="og:site_name" content="Valley Times">'), None, "site", "Valley Times"),
        # A lone <h1> that is the logo never becomes the headline.
        (page_with(title="시의회, 강 다리 재건 결정 | 밸리 타임스", header=LOGO_HEADER.replace("Valley Times", "밸리 타임스"),
                   h1=False), None, "title", "시의회, 강 다리 재건 결정"),
        (page_with(title="Valley Times", header=LOGO_HEADER, h1=False,
                   head='<meta property="og:title" content="Council votes to rebuild river bridge">'),
         None, "title", "Council votes to rebuild river bridge"),
        (page_with(title="Valley Times", header=LOGO_HEADER, h1=False), None, "title", None),
        # og:site_name names the brand; a publisher is often the company behind it.
        (page_with(ld_json({**NEWS_ARTICLE, "publisher": {"name": "Valley Media Group"}})
                   + '<meta property="og:site_name" content="Valley Times">'), None, "site", "Valley Times"),
        (page_with(ld_json({**NEWS_ARTICLE, "publisher": {"name": "Valley Times GmbH"}})), None, "site",
         "Valley Times"),
        (page_with('<meta property="og:site_name" content="ValleyTimes.example">'), None, "site",
         "ValleyTimes.example"),
        # JSON-LD text carries HTML entities.
        (page_with(ld_json({**NEWS_ARTICLE, "headline": "Bridge &#8211; council says &raquo;yes&laquo;"}),
                   title="Bridge – council says »yes« | Local news | Valley Times"), None, "title",
         "Bridge – council says »yes«"),
        # The JSON-LD headline that <title> does not bear out loses to the one it does.
        (page_with(ld_json({**NEWS_ARTICLE, "headline": "A technique for rebuilding bridges"})), None, "title",
         "Council votes to rebuild river bridge"),
    ],
    ids=["ld-headline", "ld-publisher", "ld-authors", "ld-date", "graph-publisher", "graph-headline",
         "graph-org-author", "ld-over-url-site", "url-site-to-domain", "menu-site-to-domain", "loopback-site",
         "broken-ld", "logo-h1-korean", "logo-h1-og-title", "logo-h1-only", "og-site-over-publisher",
         "legal-form", "brand-like-domain", "ld-entities", "ld-headline-not-in-title"],
)
def test_structured_metadata(html, url, field, expected):
    assert getattr(extract_article(html, url=url), field) == expected


@pytest.mark.parametrize(
    "author, expected",
    [
        ("Jane Doe", "Jane Doe"),
        ("Jane Doe and John Roe", "Jane Doe and John Roe"),
        ("By Jane Doe", "Jane Doe"),
        ("Jane Doe, John Roe & Ana de la Cruz", "Jane Doe, John Roe and Ana de la Cruz"),
        ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
        ("김철수", "김철수"),
        ("Мария Иванова", "Мария Иванова"),
        ("The Russian; Syrian defense ministries", None),
        ("Syrian Defense Ministry", None),
        ("Home | World | Politics", None),
        ("WORLD NEWS", None),
        ("Reuters Staff", None),
        ("https://www.facebook.com/janedoe", None),
        ("jane@valleytimes.example", None),
        ("the editors of the paper", None),
        ("Posted on 9 October 2024", None),
        ("Zainab", "Zainab"),  # a writer known by one name
        ("VTN", None),
        ("Rédaction", None),
        ("Subscribe", None),
        ("Jane Doe, Sports", None),
    ],
)
def test_authors_look_like_people(author, expected):
    html = page_with(f'<meta name="author" content="{author}">')
    assert extract_article(html).author == expected


def test_a_page_of_too_many_elements_is_extracted_from_its_beginning(monkeypatch):
    import server.extract

    monkeypatch.setattr(server.extract, "MAX_ELEMENTS", 400)
    paragraphs = "".join(f"<p>The council of district {n} approved {n + 3} new bus routes on Tuesday, the office "
                         f"said.</p>" for n in range(1000))
    page = (f"<html><head><title>Bus routes</title></head><body><article><h1>Bus routes</h1>{paragraphs}"
            f"</article></body></html>")
    text = extract_article(page, "https://long.example/a").text
    assert "district 0 approved" in text and "district 300 approved" in text
    assert "district 999 approved" not in text


# A page whose date is written out in words: htmldate hands it to dateparser.
WORDED_DATE_PAGE = """<html lang="de"><head><title>Neue Fähre für die Insel</title></head><body><article>
<h1>Neue Fähre für die Insel</h1><p class="meta">Veröffentlicht am 14.März 2023 um 18:20</p>
<p>Die Gemeinde hat am Dienstag eine neue Fähre in Dienst gestellt. Sie fährt zwölfmal am Tag zwischen dem
Hafen und der Insel.</p><p>Der Bürgermeister sagte, die Verbindung sei für die Bewohner seit Jahren das
wichtigste Anliegen gewesen. Die alte Fähre war im Herbst ausgefallen.</p><p>Die Fahrt dauert zwanzig
Minuten. Kinder fahren kostenlos, Erwachsene zahlen drei Euro pro Fahrt.</p></article></body></html>"""

# Run in a fresh interpreter (the date parser's patterns are process-wide): how many locale patterns the
# extraction of the page compiles, after loading the date parser first or not.
PATTERNS_COMPILED = """
import sys
from dateparser.languages.dictionary import Dictionary
from server.extract import extract_article, load_date_parser
if sys.argv[1] == "loaded":
    load_date_parser()
compiled, compile_patterns = [], Dictionary._construct_split_regex
Dictionary._construct_split_regex = lambda self: compiled.append(1) or compile_patterns(self)
extract_article(sys.stdin.read(), "https://zeitung.example/faehre")
print(len(compiled))
"""


@pytest.mark.parametrize("loaded_first, compiles_patterns", [("not", True), ("loaded", False)])
def test_the_date_parser_loaded_ahead_compiles_nothing_during_a_capture(loaded_first, compiles_patterns):
    done = subprocess.run([sys.executable, "-c", PATTERNS_COMPILED, loaded_first], input=WORDED_DATE_PAGE,
                          capture_output=True, text=True, timeout=120, check=True)
    assert (int(done.stdout) > 0) is compiles_patterns
