"""HTML -> article text and metadata, or NotAnArticle.

The only module that imports trafilatura. The page is parsed once; trafilatura's extractor runs on
that tree with one shared, read-only options object, and our own checks decide whether what came
out is an article (enough prose, not a list of links) and fill in metadata trafilatura leaves open.
"""

from __future__ import annotations

import codecs
import html
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor

from .cjk import latin_length
from .stopwords import BY_LANGUAGE

logger = logging.getLogger(__name__)

# Shared across calls and threads: trafilatura copies them before changing anything.
_BALANCED = Extractor(output_format="python", comments=False, tables=True)
_PRECISE = Extractor(output_format="python", comments=False, tables=True, precision=True)
# The precise pass wins when it keeps at least this share of the balanced text: it then dropped
# only boilerplate (bylines, captions, teasers); below it, it usually cut article paragraphs.
PRECISE_KEEPS_SHARE = 0.9

# Below this much body text (in Latin letters, see cjk.py) a page is a teaser, a stub or an error page.
# A short blog post of two or three sentences still counts: readers capture those too.
MIN_ARTICLE_CHARS = 200
MIN_ARTICLE_SENTENCES = 2
# Verse, recipes and lists often lack sentence punctuation: that many lines stand in for sentences.
MIN_ARTICLE_LINES = 6
# Share of the body text that is also link text, above which the page is a list of links.
MAX_LINKED_SHARE = 0.6


class NotAnArticle(ValueError):
    """The page has no article to extract; str(error) says why in words a reader understands."""


@dataclass
class Extracted:
    title: str | None
    text: str  # body paragraphs joined by "\n" (one paragraph per line)
    site: str | None
    author: str | None
    published: str | None  # ISO date "YYYY-MM-DD"
    language: str | None  # ISO 639-1
    canonical_url: str | None
    description: str | None


NO_CONTENT = "This page is empty: there is nothing to read on it."
NOT_A_WEB_PAGE = "This does not look like a web page: it could not be read as HTML."
TOO_SHORT = "This page has too little text to be an article: it may be a teaser, a stub or an error page."
LINK_LIST = "This page has no article text: it looks like a home page, search results or a list of links."


# ---------------------------------------------------------------------------------------------
# Decoding saved files
# ---------------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)


def _codec(name: str | bytes | None) -> str | None:
    """A Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # Browsers read "latin-1" and "ascii" pages as windows-1252 (WHATWG encoding standard).
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


# Guessing tells Latin single-byte charsets apart poorly on short text; the web's default for
# undeclared Western pages is windows-1252, so it wins over any of these guesses.
_LATIN_GUESSES = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4",
    "iso8859_9", "iso8859_13", "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2",
}


def decode_html(data: bytes) -> str:
    """Decode a saved page: byte-order mark, then the declared charset, then UTF-8, then a guess.

    Never raises: undecodable bytes become U+FFFD.
    """
    if not data:
        return ""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    declared = _META_CHARSET.search(data[:8192])
    candidates = [_codec(declared.group(1)) if declared else None, "utf-8"]
    for codec in candidates:
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding not in _LATIN_GUESSES:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # a guessing library must not make a capture fail
        logger.debug("charset guess failed", exc_info=True)
    return data.decode("cp1252", errors="replace")


# ---------------------------------------------------------------------------------------------
# Body text
# ---------------------------------------------------------------------------------------------

_JUNK_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")
# Latin full stops need a following space (not "3.5", "e.g"); CJK and Indic stops need none.
_SENTENCE_END = re.compile(r"[.!?…]['\"”’»)]*(?:\s|$)|[。！？।۔؟]")
_SPACES = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _looks_binary(html: str) -> bool:
    sample = html[:20000]
    return len(_JUNK_CHARS.findall(sample)) > 0.05 * len(sample) or "<" not in sample


def _parse(html: str) -> HtmlElement:
    try:
        tree = trafilatura.load_html(html)
    except Exception as error:  # lxml raises a variety of errors on hostile markup
        logger.debug("parse failed: %s", error)
        tree = None
    if tree is None:
        raise NotAnArticle(NOT_A_WEB_PAGE)
    return _bounded(tree)


# A news page holds a few thousand elements. Past this many, extraction slows down much faster than the
# page grows (per pass, two passes a page: 20,000 paragraphs 1 s, 40,000 5 s, 90,000 30 s), so a bigger
# page keeps its first MAX_ELEMENTS: the article starts there, and a capture reads only its first claims.
MAX_ELEMENTS = 25_000


def _bounded(tree: HtmlElement) -> HtmlElement:
    elements = list(tree.iter())
    if len(elements) <= MAX_ELEMENTS:
        return tree
    cut = set()
    for element in elements[MAX_ELEMENTS:]:       # document order: an element's ancestors come first
        parent = element.getparent()
        if parent is not None and parent not in cut:
            parent.remove(element)
        cut.add(element)
    logger.info("a page of %d elements: extracted from its first %d", len(elements), MAX_ELEMENTS)
    return tree


def _run_trafilatura(tree: HtmlElement, options: Extractor) -> str:
    try:
        document = trafilatura.bare_extraction(tree, options=options)
    except Exception:  # trafilatura bugs on odd pages must not become server errors
        logger.warning("extraction failed", exc_info=True)
        document = None
    return document.text if document is not None and document.text else ""


def _body_text(tree: HtmlElement) -> str:
    """Balanced extraction, replaced by the precise one when that loses next to nothing."""
    balanced = _run_trafilatura(tree, _BALANCED)
    if not balanced:
        return ""
    precise = _run_trafilatura(tree, _PRECISE)
    return precise if len(precise) >= PRECISE_KEEPS_SHARE * len(balanced) else balanced


def _drop_headline(lines: list[str], headlines: set[str]) -> list[str]:
    """The headline is the title, not part of the body: drop it where it opens the text."""
    while lines and _norm(lines[0]) in headlines:
        lines = lines[1:]
    return lines


def _link_texts(tree: HtmlElement) -> set[str]:
    anchors = {_norm(a.text_content()) for a in tree.iter("a")}
    anchors.discard("")
    return anchors


# Links to other stories ("More on this", a related headline) trail the article body; a whole
# line that is one link and no sentence is such a teaser when it sits among the last lines.
TRAILING_LINES = 3
MIN_TEASER_CHARS = 20


def _drop_trailing_teasers(lines: list[str], anchors: set[str]) -> list[str]:
    first_tail = len(lines) - TRAILING_LINES
    return [
        line
        for index, line in enumerate(lines)
        if not (
            index >= first_tail
            and len(line) >= MIN_TEASER_CHARS
            and _norm(line) in anchors
            and not _SENTENCE_END.search(line)
        )
    ]


def _linked_share(text: str, anchors: set[str]) -> float:
    """How much of the extracted text is link text: high on home pages and result lists."""
    lines = [_norm(line) for line in text.split("\n") if line.strip()]
    total = sum(len(line) for line in lines)
    linked = sum(len(line) for line in lines if line in anchors)
    return linked / total if total else 0.0


def _check_article(text: str, anchors: set[str]) -> None:
    sentences = len(_SENTENCE_END.findall(text))
    lines = text.count("\n") + 1
    if latin_length(text) < MIN_ARTICLE_CHARS or (sentences < MIN_ARTICLE_SENTENCES and lines < MIN_ARTICLE_LINES):
        raise NotAnArticle(TOO_SHORT)
    if _linked_share(text, anchors) > MAX_LINKED_SHARE:
        raise NotAnArticle(LINK_LIST)


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|·|::|»|/)\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _meta(tree: HtmlElement, *names: str) -> str | None:
    """First non-empty <meta> content whose name or property is one of names."""
    for name in names:
        for element in tree.xpath(
            "//meta[translate(@property,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')=$n"
            " or translate(@name,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')=$n"
            " or translate(@http-equiv,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')=$n]",
            n=name,
        ):
            content = _SPACES.sub(" ", element.get("content") or "").strip()
            if content:
                return content
    return None


# --- structured data (JSON-LD): the page's own statement of headline, outlet and authors -------

_ARTICLE_TYPES = ("BlogPosting", "LiveBlogPosting", "Report")


def _is_article_type(item: dict) -> bool:
    types = item.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and (t.endswith("Article") or t in _ARTICLE_TYPES) for t in types)


def _json_ld(tree: HtmlElement) -> list[dict]:
    """Every object of the page's JSON-LD blocks (top level and @graph), in page order."""
    found: list[dict] = []
    for script in tree.xpath("//script[contains(translate(@type,'LDJSON','ldjson'),'ld+json')]"):
        try:
            data = json.loads(script.text_content() or "null", strict=False)
        except ValueError:  # broken structured data is common and never fatal
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = item
            elif isinstance(item, dict):
                found.append(item)
                if isinstance(item.get("@graph"), list):
                    stack[:0] = item["@graph"]
    return found


def _names(value, index: dict[str, dict], people: bool = False) -> list[str]:
    """Names from a JSON-LD publisher or author: a string, an object, an @id reference or a list of them."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        if isinstance(item, dict) and set(item) <= {"@id", "@type"} and item.get("@id") in index:
            item = index[item["@id"]]
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            kind = item.get("@type")
            # An organisation named as an article's author is not a person who wrote it.
            if people and isinstance(kind, str) and kind != "Person":
                continue
            names.append(item["name"])
    return [_plain(name) for name in names if name.strip()]


def _plain(value: str) -> str:
    """JSON-LD strings often carry HTML entities ("&#8211;", "&raquo;"): decode them, squeeze spaces."""
    return _SPACES.sub(" ", html.unescape(value)).strip()


@dataclass
class _Structured:
    headline: str | None = None
    publisher: str | None = None
    authors: list[str] | None = None
    published: str | None = None
    site_name: str | None = None  # a WebSite or news organisation described on the page


def _structured(tree: HtmlElement) -> _Structured:
    items = _json_ld(tree)
    index = {item["@id"]: item for item in items if isinstance(item.get("@id"), str)}
    found = _Structured()
    for item in items:
        kind = item.get("@type")
        if found.site_name is None and kind in ("WebSite", "NewsMediaOrganization") and isinstance(item.get("name"), str):
            found.site_name = _plain(item["name"]) or None
        if found.headline is not None or not _is_article_type(item):
            continue
        headline = item.get("headline")
        found.headline = (_plain(headline) or None) if isinstance(headline, str) else None
        found.publisher = next(iter(_names(item.get("publisher"), index)), None)
        found.authors = _names(item.get("author"), index, people=True)
        day = str(item.get("datePublished") or "")[:10]
        found.published = day if _ISO_DATE.match(day) else None
    return found


# --- what an outlet name, a headline and an author look like -----------------------------------

_URLISH = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)|^[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/.*)?$", re.IGNORECASE)
# An address is no outlet name; a brand written like a domain ("Express.de") is one.
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.|localhost\b)|^[\w.-]+:\d+$|^\d{1,3}(?:\.\d{1,3}){3}$", re.IGNORECASE)
_MENU_SEPARATORS = re.compile(r"[|•·»>/\\]")
# A publisher's legal form is not part of the outlet's name ("Valley Times GmbH" is "Valley Times").
_LEGAL_FORM = re.compile(r",?\s+(?:AG|GmbH|Inc\.?|Ltd\.?|LLC|L\.L\.C\.|plc|S\.A\.|SA|S\.L\.|SE|KG|Corp\.?|Co\.)$", re.IGNORECASE)
MAX_OUTLET_WORDS = 6


def _outlet(name: str | None) -> str | None:
    """An outlet's name as a reader would say it, or None for an address, a menu or a slogan."""
    name = _LEGAL_FORM.sub("", _SPACES.sub(" ", name or "").strip(" -–—:"))
    if not name or len(name) > 60 or _ADDRESS.search(name):
        return None
    if _MENU_SEPARATORS.search(name) or len(name.split()) > MAX_OUTLET_WORDS:
        return None
    return name


# Words that name an institution, a desk or a section, never the person who wrote the article.
_NOT_A_PERSON = {
    "agency", "agencies", "army", "board", "bureau", "committee", "council", "department", "desk",
    "editor", "editorial", "editors", "government", "ministries", "ministry", "network", "news",
    "newsroom", "office", "police", "press", "reporters", "service", "staff", "team", "wire",
    "redaction", "rédaction", "redacción", "redaktion", "redazione",
    # Words of a page's controls that land in author fields.
    "admin", "administrator", "follow", "home", "menu", "share", "subscribe",
}
# Lower-case particles that belong inside names ("Ludwig van Beethoven", "Ana de la Cruz").
_NAME_PARTICLES = {"al", "bin", "da", "das", "de", "del", "della", "der", "di", "do", "dos", "du", "e", "el",
                   "ibn", "la", "le", "st.", "ten", "ter", "van", "von", "y", "zu"}
_PEOPLE_SEPARATORS = re.compile(r"\s*(?:,\s*and\s+|,|\s+and\s+|\s*&\s*)\s*")
_BY = re.compile(r"^(?:by|von|par|por|di)\s+", re.IGNORECASE)
MAX_NAME_WORDS = 5
MAX_AUTHORS = 6


def _person(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS or words[0].casefold() in ("the", "a", "an"):
        return False
    for word in words:
        letters = [c for c in word if c.isalpha()]
        if any(c.isdigit() for c in word) or "@" in word:
            return False
        if word.casefold().strip(".,") in _NOT_A_PERSON:
            return False
        # A word of a cased script is a name when capitalised ("Doe", "O'Neil", "Jean-Luc") or a particle;
        # scripts without case (Chinese, Korean, Arabic ...) pass as they are.
        if letters and letters[0].islower() and word.casefold() not in _NAME_PARTICLES:
            return False
    return True


def _authors(candidates: list[str]) -> str | None:
    """The people among author candidates, joined for reading ("Jane Doe and John Roe"), else None.

    A candidate holding a list separator (";", "|"), a section name in capitals or an institution
    is not a byline: it came from a menu, a tag list or a caption.
    """
    people: list[str] = []
    for candidate in candidates:
        candidate = _BY.sub("", _SPACES.sub(" ", candidate).strip())
        if not candidate or len(candidate) > 120 or _URLISH.search(candidate) or re.search(r"[;|•/\\<>]", candidate):
            return None
        cased = [c for c in candidate if c.isalpha() and (c.isupper() or c.islower())]
        if len(cased) > 3 and all(c.isupper() for c in cased):
            return None
        names = [n for n in _PEOPLE_SEPARATORS.split(candidate) if n]
        if not names or not all(map(_person, names)):
            return None
        people += [n for n in names if n not in people]
    if not people or len(people) > MAX_AUTHORS:
        return None
    # One word alone may be a writer's name or handle ("Fatima"); several single words of a cased
    # script are a menu ("Home, World, Politics"), and a lone word in capitals is initials or a desk.
    one_word = [n for n in people if len(n.split()) == 1 and any(c.isupper() or c.islower() for c in n)]
    if (one_word and len(people) > 1) or any(not any(c.islower() for c in n) for n in one_word):
        return None
    return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]


def _domain_name(url: str | None) -> str | None:
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:   # a malformed address ("http://[::1/x") names no domain
        return None
    host = host.removeprefix("www.")
    return host or None


def _same_name(a: str, b: str) -> bool:
    squash = lambda s: re.sub(r"[\W_]+", "", s.casefold())  # noqa: E731
    a, b = squash(a), squash(b)
    return bool(a and b) and (a in b or b in a)


def _clean_title(title: str | None, site: str | None, domain: str | None) -> str | None:
    """Strip an outlet name from either end: "Headline | Outlet", "Outlet - Headline"."""
    if not title:
        return None
    title = _SPACES.sub(" ", title).strip()
    names = [n for n in (site, domain and domain.split(".")[0]) if n]
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) > 1:
        head, tail = parts[0], parts[-1]
        if any(_same_name(tail, n) for n in names) or (
            "|" in title and len(tail.split()) <= 5 and len(title) - len(tail) > len(tail)
        ):
            title = title[: title.rindex(tail)].rstrip(" |-–—·:»/")
        elif any(_same_name(head, n) for n in names):
            title = title[len(head):].lstrip(" |-–—·:»/")
    return title or None


# A logo: an image whose class, id, address or alt text says so, or the text of a link to the home page.
_LOGO_TEXT = (
    "//img[contains(translate(concat(@class,' ',@id,' ',@src,' ',@alt),'LOGO','logo'),'logo')]/@alt"
    " | //a[@href='/' or @rel='home' or contains(translate(@class,'LOGO','logo'),'logo')]//img/@alt"
    " | //a[@href='/' or @rel='home' or contains(translate(@class,'LOGO','logo'),'logo')]//text()"
)


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _title(tree: HtmlElement, structured: _Structured, found: str | None, site: str | None,
           domain: str | None) -> str | None:
    """The headline. The page's sharing metadata (og:title) first. Then the JSON-LD headline or what
    trafilatura found, whichever the page's <title> bears out (a JSON-LD headline is at times an SEO
    variant or a summary; trafilatura may take a lone <h1> holding the logo). Then <title> itself,
    then either of those. Never the outlet's name or a logo's text."""
    element = tree.find(".//title")
    page_title = _SPACES.sub(" ", element.text_content()).strip() if element is not None else ""
    if not site and page_title:
        # "Headline | Outlet" in <title> names the outlet when no metadata does.
        parts = _TITLE_SEPARATORS.split(page_title)
        site = parts[-1] if len(parts) > 1 and len(parts[-1].split()) <= 5 else None
    not_headlines = {_squash(name) for name in tree.xpath(_LOGO_TEXT)}
    not_headlines.update(_squash(name) for name in (site, domain, structured.site_name) if name)
    not_headlines.discard("")
    in_title = _squash(page_title)
    borne_out = [raw for raw in (found, structured.headline) if raw and _squash(raw) and _squash(raw) in in_title]
    candidates = (_meta(tree, "og:title", "twitter:title"), *borne_out, page_title, structured.headline, found)
    for raw in candidates:
        title = _clean_title(raw, site, domain)
        if title and _squash(title) and _squash(title) not in not_headlines:
            return title
    return None


def _headlines(tree: HtmlElement, title: str | None) -> set[str]:
    found = {_norm(h.text_content()) for h in tree.iter("h1")}
    if title:
        found.add(_norm(title))
    found.discard("")
    return found


_LANG_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")
# A few frequent words per language: enough to tell languages apart on a paragraph or more.
_WORD = re.compile(r"\w+")


def _language_code(value: str | None) -> str | None:
    match = _LANG_CODE.match((value or "").strip().split(",")[0].strip())
    return match.group(1).lower() if match and len(match.group(1)) == 2 else None


def _guess_language(text: str) -> str | None:
    sample = text[:3000]
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return None
    scripts = (
        ("ru", lambda c: "\u0400" <= c <= "\u04ff"),
        ("el", lambda c: "\u0370" <= c <= "\u03ff"),
        ("ar", lambda c: "\u0600" <= c <= "\u06ff"),
        ("he", lambda c: "\u0590" <= c <= "\u05ff"),
        ("ja", lambda c: "\u3040" <= c <= "\u30ff"),
        ("ko", lambda c: "\uac00" <= c <= "\ud7af"),
        ("zh", lambda c: "\u4e00" <= c <= "\u9fff"),
    )
    for code, in_script in scripts:  # kana before han: Japanese text mixes both
        if sum(map(in_script, letters)) > 0.2 * len(letters):
            return code
    words = _WORD.findall(sample.casefold())
    if len(words) < 5:
        return None
    counts = {code: sum(w in set(stops) for w in words) for code, stops in BY_LANGUAGE.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] >= max(2, 0.05 * len(words)) else None


def _language(tree: HtmlElement, text: str) -> str | None:
    root = tree.getroottree().getroot()
    declared = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return (
        _language_code(declared)
        or _language_code(_meta(tree, "content-language", "language", "dc.language"))
        or _language_code(_meta(tree, "og:locale"))
        or _guess_language(text)
    )


def _canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    links = tree.xpath("//link[contains(concat(' ', translate(@rel,'CANONICAL','canonical'), ' '), ' canonical ')]/@href")
    for href in [*links, _meta(tree, "og:url")]:
        href = (href or "").strip()
        if not href:
            continue
        try:
            absolute = urljoin(url, href) if url else href
            if urlsplit(absolute).scheme in ("http", "https"):
                return absolute
        except ValueError:   # a malformed link ("http://[::1/x") is no canonical address
            continue
    return None


def _metadata(tree: HtmlElement, url: str | None):
    try:
        return extract_metadata(tree, url)
    except Exception:  # metadata is a bonus: a failure leaves the fields empty
        logger.warning("metadata extraction failed", exc_info=True)
        return None


# ---------------------------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------------------------


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Extract the article of a rendered page, or raise NotAnArticle saying why there is none."""
    if not isinstance(html, str) or not html.strip():
        raise NotAnArticle(NO_CONTENT)
    if _looks_binary(html):
        raise NotAnArticle(NOT_A_WEB_PAGE)
    tree = _parse(html)
    meta = _metadata(tree, url)
    canonical = _canonical_url(tree, url)
    domain = _domain_name(url or canonical)
    structured = _structured(tree)
    # The outlet as the page names itself; an address, a menu or a slogan is no name: then the domain.
    # og:site_name before the publisher: publishers are often named by their company ("... Media Group").
    site = next(filter(None, map(_outlet, (_meta(tree, "og:site_name"), structured.publisher,
                                            structured.site_name, meta.sitename if meta else None))), domain)
    title = _title(tree, structured, meta.title if meta else None, site, domain)

    lines = [line.strip() for line in _body_text(tree).split("\n")]
    lines = _drop_headline([line for line in lines if line], _headlines(tree, title))
    anchors = _link_texts(tree)
    text = "\n".join(_drop_trailing_teasers(lines, anchors))
    _check_article(text, anchors)

    published = meta.date if meta and meta.date and _ISO_DATE.match(meta.date) else structured.published
    # Structured authors first; trafilatura joins several authors with "; ", which is split back here.
    author = (_authors(structured.authors or [])
              or _authors([a for a in [_meta(tree, "author", "article:author")] if a])
              or _authors([a for a in ((meta.author if meta else None) or "").split("; ") if a]))
    return Extracted(
        title=title,
        text=text,
        site=site,
        author=author,
        published=published,
        language=_language(tree, text),
        canonical_url=canonical,
        description=_meta(tree, "description", "og:description") or (meta.description if meta else None),
    )


# A date written out in words that htmldate cannot read itself ("14.März 2023 um 18:20") goes to
# dateparser, whose first call compiles the word patterns of each of its ~200 locales to find those that
# fit: 1.2–1.7 s on this machine and about 40 MB, paid once per process by whichever capture meets the
# first such date. A phrase that no locale knows is checked against them all.
_UNKNOWN_DATE_PHRASE = "7 qzxv 2024"


def load_date_parser() -> None:
    """Load the date parser's locales now rather than during the capture that first needs them."""
    try:
        from htmldate.extractors import get_external_parser  # the parser htmldate itself uses

        get_external_parser().get_date_data(_UNKNOWN_DATE_PHRASE)
    except Exception:  # only a head start: a capture still loads what it needs
        logger.warning("could not load the date parser ahead of the first capture", exc_info=True)
