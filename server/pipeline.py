"""A capture, end to end: extract -> claims -> embed -> match -> judge -> store -> stories.

The heavy steps (extraction, embedding, matching) run outside the write lock; only the final insert
is serialised, and it re-checks for a duplicate so two captures of one page store it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from . import readers, relatedness, stories
from .anchors import anchors
from .claims import MAX_CLAIMS_PER_PAGE, Claim, extract_claims
from .embeddings import from_blob, text_hash, to_blob
from .extract import Extracted, NotAnArticle, extract_article, load_date_parser
from .judge import Judgement, article_stance, judge, may_dispute
from .matching import ClaimIndex, find_candidates, lexical_searches
from .readying import Readied, heading_of
from .urls import canonical_url, domain_of

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "1"
MAX_LINKS_PER_CLAIM = 5
MAX_RELATED = 50           # related articles listed for one article
SELECTION_MIN_CHARS = 200
# Read through the text steps when the engine warms, so that their tables (place names in many languages,
# compiled patterns) are loaded before the first capture rather than during it.
WARM_UP_TITLE = "Ministers agree to extend the river flood scheme"
WARM_UP_TEXT = (
    "Ministers in Canada agreed on Tuesday to extend the river flood scheme until March 2027, the agency "
    "said. The scheme has paid 4.5 million dollars to 1,200 households since it opened in 2024.\n"
    "\"We did not expect the water to rise so fast,\" said Ana Ruiz, who leads the council. Officials denied "
    "that the programme would end early.")


class CaptureError(ValueError):
    """A capture that cannot be stored, with the reason the reader sees."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Analysis:
    """Everything a capture (or a reindex) works out about one article before it is stored."""
    claims: list[Claim]
    hashes: list[str]
    vectors: np.ndarray
    fresh: dict[str, bytes]
    links: list[dict]
    names: list[str]
    words: Counter
    meaning: np.ndarray | None
    pairs: list[relatedness.Pair]
    source: int | None


@dataclass
class CaptureResult:
    created: bool
    article_id: int
    seconds: float


def normalise_timestamp(value: str | None) -> str:
    """captured_at as UTC 'YYYY-MM-DDTHH:MM:SSZ'; absent means now."""
    now = dt.datetime.now(dt.timezone.utc)
    if value in (None, ""):
        moment = now
    else:
        if not isinstance(value, str):
            raise CaptureError(400, "bad_request", "captured_at must be an ISO 8601 date-time string")
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CaptureError(400, "bad_request", f"captured_at is not an ISO 8601 date-time: {value[:40]!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        try:
            moment = moment.astimezone(dt.timezone.utc)
        except OverflowError:   # year 1 east of UTC, or 9999 west of it
            raise CaptureError(400, "bad_request", "captured_at is outside the years 1 to 9999") from None
        if moment > now + dt.timedelta(days=1):
            raise CaptureError(400, "bad_request", "captured_at is in the future")
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def content_hash(text: str) -> str:
    normalised = re.sub(r"\W+", " ", text.lower()).strip()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def claim_from_row(row: dict) -> Claim:
    return Claim(text=row["text"], position=row["position"], is_headline=bool(row["is_headline"]),
                 speaker=row.get("speaker"), polarity=row.get("polarity") or "asserts",
                 proposition=row.get("proposition") or row["text"], details=row.get("details") or {})


class Engine:
    """The capture engine of one data folder: store, embedder and the in-memory claim index."""

    def __init__(self, store, embedder, max_page_bytes: int = 15 * 1024 * 1024):
        self.store = store
        self.embedder = embedder
        self.max_page_bytes = max_page_bytes
        self._index: ClaimIndex | None = None
        self._index_lock = threading.Lock()

    # -- the claim index, loaded on first use ---------------------------------------------------------
    @property
    def index(self) -> ClaimIndex:
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    self._index = ClaimIndex(self.embedder.dims, folder=self.store.path.parent).load(
                        self.store, self.embedder.model_name)
        return self._index

    def warm(self) -> None:
        """Load the model, the index, the stance layer, the text steps' tables and the date parser now
        rather than on a reader's capture (0.35 s for the place names, 1.2–1.7 s for the date parser)."""
        from server import stance_model

        self.embedder.warm()
        stance_model.load()
        _ = self.index
        self.analyse(WARM_UP_TITLE, WARM_UP_TEXT, "en")      # reads only: nothing is stored
        load_date_parser()      # last: a capture arriving meanwhile needs the model first

    def close(self) -> None:
        """Save the claim index's newer claims into its graph (the database holds them either way)."""
        if self._index is not None:
            self._index.close()

    # -- embeddings ------------------------------------------------------------------------------------
    def vectors_for(self, texts: list[str], given: dict[str, bytes] | None = None) -> tuple[np.ndarray, dict[str, bytes]]:
        """Vectors for texts: `given` ones (by text hash, embedded ahead), else stored ones, else embedded
        now; returns (matrix, blobs to store by hash: the given and the new ones)."""
        hashes = [text_hash(t) for t in texts]
        fresh = {h: given[h] for h in dict.fromkeys(hashes) if h in given} if given else {}
        unknown = [h for h in hashes if h not in fresh]
        known = {**self.store.get_vectors(self.embedder.model_name, unknown), **fresh} if unknown else dict(fresh)
        missing = [h for h in dict.fromkeys(hashes) if h not in known]
        if missing:
            first_text = {h: t for h, t in zip(hashes, texts)}
            computed = self.embedder.embed([first_text[h] for h in missing])
            for h, vector in zip(missing, computed):
                fresh[h] = to_blob(vector)
        blobs = {**known, **fresh}
        matrix = np.stack([from_blob(blobs[h]) for h in hashes]) if hashes else np.zeros((0, self.embedder.dims), np.float32)
        return matrix.astype(np.float32, copy=False), fresh

    # -- judging ---------------------------------------------------------------------------------------
    def judge_claims(self, claims: list[Claim], vectors: np.ndarray, exclude_article: int | None = None,
                     searches: list | None = None) -> list[dict]:
        """Links from the new claims to earlier ones: {query, other_claim_id, other_article_id, label, ...}.
        `searches`: the claims' BM25 searches, started ahead (matching.lexical_searches)."""
        if self.store.max_claim_id() > self.index.max_claim_id:
            # Another process (an import, a second server) stored claims since the index was loaded.
            self.index.load(self.store, self.embedder.model_name)
        if not claims or len(self.index) == 0:
            return []
        candidates = find_candidates(self.index, self.store, [c.text for c in claims], vectors, exclude_article,
                                     searches)
        others = self.store.claims_by_ids([c.claim_id for c in candidates])
        links, per_claim, found = [], {}, Counter()
        for cand in candidates:          # each claim's candidates, best fused score first
            row = others.get(cand.claim_id)
            if row is None:
                continue
            other = claim_from_row(row)
            if found[cand.query] >= MAX_LINKS_PER_CLAIM and not may_dispute(claims[cand.query], other, cand.similarity):
                continue                 # below as many better links as are kept, and no dispute to jump them
            verdict = judge(claims[cand.query], other, cand.similarity)
            if verdict.label is None:
                continue
            found[cand.query] += 1
            links.append({
                "query": cand.query, "other_claim_id": cand.claim_id, "other_article_id": row["article_id"],
                "label": verdict.label, "confidence": float(verdict.confidence), "reason": verdict.reason,
                "similarity": float(cand.similarity), "score": cand.score,
            })
        # Keep each claim's best few links: disputes first, then by the fused score (rank_claims').
        links.sort(key=lambda l: (l["query"], l["label"] != "disputes", -l["score"]))
        kept = []
        for link in links:
            count = per_claim.get(link["query"], 0)
            if count < MAX_LINKS_PER_CLAIM:
                kept.append(link)
                per_claim[link["query"]] = count + 1
        return kept

    # -- one path for a click, an import and a reindex: analyse, then store ----------------------------
    def analyse(self, title: str | None, text: str, language: str | None, exclude_article: int | None = None,
                readied: Readied | None = None) -> Analysis:
        """Claims, vectors, claim links, names and the article's pairs with earlier articles. Reads only.
        `readied`: this text's claims and vectors, made ahead under this title."""
        claims = readied.claims if readied is not None else extract_claims(title, text, MAX_CLAIMS_PER_PAGE)
        hashes = [text_hash(c.text) for c in claims]
        names = anchors(f"{title or ''}\n{text}")
        words = relatedness.words(title, text)
        # What needs neither vectors nor links runs on the reading threads while the claims are embedded and
        # judged (the embedding leaves a fifth to a half of the second core idle): the earlier articles
        # sharing the rarer names, compared word by word, and those holding the very same sentences.
        by_anchors = readers.pool().submit(self.compared_by_anchors, names, words)
        sharing = readers.pool().submit(self.store.articles_sharing_hashes, list(set(hashes)), exclude_article or -1)
        searches = lexical_searches(self.store, [c.text for c in claims], exclude_article)
        vectors, fresh = self.vectors_for([c.text for c in claims], readied.vectors if readied is not None else None)
        links = self.judge_claims(claims, vectors, exclude_article, searches)
        identical = sharing.result()
        placed = self.store.story_ids_of_articles(list(identical))    # a reindex has not reached later ones
        identical = {a: n for a, n in identical.items() if placed.get(a) is not None}
        source = stories.reprint_source(stories.near_copies(links), len(set(hashes)), identical)
        meaning = relatedness.meaning_vector(vectors)
        pairs = self.pairs_with_earlier(*by_anchors.result(), names, words, meaning, language, text, links, source)
        shown = {p.other for p in pairs if p.shown}
        # A dispute with an article on another event is a loose sentence match, not a contradiction.
        links = [l for l in links if l["label"] != "disputes" or l["other_article_id"] in shown]
        return Analysis(claims, hashes, vectors, fresh, links, names, words, meaning, pairs, source)

    def compared_by_anchors(self, names: list[str], words: Counter
                            ) -> tuple[stories.AnchorMatches, dict[int, relatedness.Other]]:
        """The earlier articles that share the rarer of the article's names and figures
        (stories.anchor_neighbours), and the best WORD_CANDIDATES of them compared with it: a bounded set,
        whatever the size of the history."""
        matches = stories.anchor_neighbours(self.store, names)
        # Equal scores (articles sharing the same few names) go newest first, whatever the float sums' last bits.
        by_anchors = sorted(matches.scores, key=lambda a: (-round(matches.scores[a], 9), -a))
        return matches, self._compared(by_anchors[:relatedness.WORD_CANDIDATES], matches, names, words)

    def _compared(self, article_ids: list[int], matches: stories.AnchorMatches, names: list[str],
                  words: Counter) -> dict[int, relatedness.Other]:
        """What the new article is compared on with each of these earlier ones: shared names, the TF-IDF
        cosine of their words, language and meaning vector."""
        rows = self.store.comparison_rows(article_ids)
        names_of = stories.anchor_names(self.store, [other for other in rows if other in matches.scores], names)
        word_scores = relatedness.word_similarities(
            words, {other: relatedness.words(row["title"], row["text"]) for other, row in rows.items()},
            self.store.word_counts, self.store.article_count())
        their_meaning = self.store.article_vectors(list(rows), self.embedder.model_name)
        return {
            other: relatedness.Other(
                anchors=matches.scores.get(other, 0.0), names=names_of.get(other, set()),
                language=relatedness.language_of(row["language"], row["text"]), words=word_scores[other],
                meaning=from_blob(their_meaning[other]) if other in their_meaning else None)
            for other, row in rows.items()
        }

    def pairs_with_earlier(self, matches: stories.AnchorMatches, by_anchors: dict[int, relatedness.Other],
                           names: list[str], words: Counter, meaning: np.ndarray | None, language: str | None,
                           text: str, links: list[dict], source: int | None) -> list[relatedness.Pair]:
        """The article compared as a whole with the earlier articles that share its rarer names
        (`by_anchors`, from compared_by_anchors) or hold the most of its claims' matches, and with the
        article it reprints (`source`)."""
        linked = Counter(l["other_article_id"] for l in links)
        more = [a for a, _ in linked.most_common(relatedness.LINKED_CANDIDATES)]
        if source is not None:
            more.append(source)
        others = {**by_anchors, **self._compared([a for a in dict.fromkeys(more) if a not in by_anchors],
                                                 matches, names, words)}
        new = relatedness.Article(names, matches.weight, relatedness.language_of(language, text), text, meaning)
        return relatedness.compare(new, others, source)

    def _store_analysis(self, conn, article_id: int, found: Analysis) -> list[int]:
        """Claims, their new vectors, their links, the article's names, words, pairs and story, inside the
        caller's transaction."""
        store = self.store
        claim_ids = store.insert_claims(conn, article_id, [
            {**asdict(c), "text_hash": h} for c, h in zip(found.claims, found.hashes)])
        store.put_vectors(conn, self.embedder.model_name, found.fresh)
        store.insert_links(conn, [
            {"claim_id": claim_ids[l["query"]], "other_claim_id": l["other_claim_id"], "label": l["label"],
             "confidence": l["confidence"], "reason": l["reason"], "similarity": l["similarity"]}
            for l in found.links])
        store.insert_anchors(conn, article_id, found.names)
        store.put_article_vector(conn, article_id, self.embedder.model_name,
                                 None if found.meaning is None else to_blob(found.meaning))
        store.count_words(conn, list(found.words))
        store.insert_pairs(conn, article_id, [
            {"other_id": p.other, "anchors": p.anchors, "words": p.words, "same_story": p.same_story,
             "reason": p.reason()} for p in found.pairs if p.shown])
        stories.assign(store, conn, article_id, found.pairs, found.source)
        return claim_ids

    # -- capture ---------------------------------------------------------------------------------------
    def extract(self, html: str, url: str | None, selection: str | None = None) -> Extracted:
        try:
            return extract_article(html, url)
        except NotAnArticle:
            # The reader selected the article text themselves: trust the selection.
            if selection and len(selection.strip()) >= SELECTION_MIN_CHARS:
                extracted = extract_article("<html><body><article>" + "".join(
                    f"<p>{_escape(p)}</p>" for p in selection.splitlines() if p.strip()) + "</article></body></html>", url)
                return extracted
            raise

    def capture(self, url: str | None, html: str, title: str | None = None, captured_at: str | None = None,
                selection: str | None = None, readied: Readied | None = None) -> CaptureResult:
        """Store a page with its claims, links, pairs and story. `readied`: this very page already put
        through the first steps (an import readies pages ahead of their turn)."""
        started = time.perf_counter()
        if len(html.encode("utf-8", "surrogatepass")) > self.max_page_bytes:
            raise CaptureError(413, "too_large", f"The page is larger than {self.max_page_bytes // (1024 * 1024)} MB.")
        captured = normalise_timestamp(captured_at)
        try:
            extracted = readied.extracted if readied is not None else self.extract(html, url, selection)
        except NotAnArticle as exc:
            raise CaptureError(422, "not_an_article", str(exc)) from None
        page_url = url or extracted.canonical_url
        if not page_url:
            raise CaptureError(400, "bad_request", "The page has no URL and names none of its own.")
        try:
            canonical = canonical_url(page_url, extracted.canonical_url)
        except ValueError as exc:
            raise CaptureError(400, "bad_url", str(exc)) from None
        digest = content_hash(extracted.text)
        duplicate = self.store.find_duplicate(canonical, digest)
        if duplicate is not None:
            return CaptureResult(False, duplicate, time.perf_counter() - started)

        heading = heading_of(extracted, title)
        if readied is not None and readied.heading != heading:
            readied = None          # cut under another heading: cut again
        found = self.analyse(heading, extracted.text, extracted.language, readied=readied)
        article = {
            "url": page_url, "canonical_url": canonical, "domain": domain_of(canonical), "content_hash": digest,
            "title": heading, "site": extracted.site or domain_of(canonical), "author": extracted.author,
            "published": extracted.published, "language": extracted.language, "text": extracted.text,
            "word_count": len(extracted.text.split()), "captured_at": captured,
        }
        with self.store.write() as conn:
            duplicate = self.store.find_duplicate(canonical, digest, conn)
            if duplicate is not None:      # a concurrent capture of the same page won the race
                return CaptureResult(False, duplicate, time.perf_counter() - started)
            article_id = self.store.insert_article(conn, article, html, EXTRACTOR_VERSION)
            claim_ids = self._store_analysis(conn, article_id, found)
        self.index.add(claim_ids, [article_id] * len(claim_ids), found.vectors)
        seconds = time.perf_counter() - started
        log.info("captured article %d (%d claims, %d links) in %.0f ms", article_id, len(found.claims),
                 len(found.links), seconds * 1000)
        return CaptureResult(True, article_id, seconds)

    def reindex(self, progress=lambda: None) -> dict:
        """Rebuild claims, vectors, links, pairs and stories from the stored HTML, oldest article first, so
        every article is compared with the ones before it exactly as at capture time. Dismissals survive."""
        store = self.store
        dismissed = store.dismissed_pairs()
        store.reset_links_and_stories()
        with self._index_lock:
            if self._index is not None:
                self._index.close(save=False)
            self._index = ClaimIndex(self.embedder.dims, folder=store.path.parent).start_empty(
                store, self.embedder.model_name)
        summary = {"articles": 0, "claims": 0, "links": 0, "stories": 0, "kept": 0}
        for article_id in store.article_ids():
            row = store.article_row(article_id)
            html = store.page_html(article_id)
            try:
                extracted = extract_article(html or "", row["url"])
                title = extracted.title or row["title"]
                fields = {"title": title, "site": extracted.site or row["site"], "author": extracted.author,
                          "published": extracted.published, "language": extracted.language,
                          "text": extracted.text}
            except NotAnArticle:
                summary["kept"] += 1
                fields = {k: row[k] for k in ("title", "site", "author", "published", "language", "text")}
            fields.update(word_count=len(fields["text"].split()), content_hash=content_hash(fields["text"]))
            # Only earlier articles have claims, names and words yet: each is compared as at its capture.
            found = self.analyse(fields["title"], fields["text"], fields["language"], exclude_article=article_id)
            with store.write() as conn:
                store.replace_article_content(conn, article_id, fields)
                claim_ids = self._store_analysis(conn, article_id, found)
            self.index.add(claim_ids, [article_id] * len(claim_ids), found.vectors)
            summary["articles"] += 1
            summary["claims"] += len(found.claims)
            summary["links"] += len(found.links)
            progress()
        store.restore_dismissed(dismissed)
        store.mark_reindexed()
        summary["stories"] = store.counts()["stories"]
        return summary

    def forget(self, article_id: int) -> bool:
        row = self.store.article_row(article_id)
        if row is None:
            return False
        if not self.store.delete_article(article_id, list(relatedness.words(row["title"], row["text"]))):
            return False
        if self._index is not None:
            self._index.remove_article(article_id)
        return True

    # -- what the reader sees for one article ---------------------------------------------------------
    def view(self, article_id: int) -> dict:
        article = self.store.get_article(article_id)
        claims = article.pop("claims")
        article.pop("text", None)
        paired = self.store.pairs_of(article_id)
        contradictions = one_per_disagreement([
            orient(link, article_id)
            for link in self.store.list_contradictions(article_id=article_id, per_page=100)["items"]
        ])
        contradictions = [c for c in contradictions if c["other"]["article"]["id"] in paired]
        return {"article": article, "claims": claims, "related": self.related(article_id, paired),
                "contradictions": contradictions}

    def related_articles(self, article_id: int, paired: dict[int, dict] | None = None) -> list[tuple[int, float]]:
        """Other articles on the same event, closest first: the members of the article's story that it
        is paired with directly, then the rest of its story, then articles paired with it on another
        story. (article id, closeness) pairs; closeness is the stronger of the two signals."""
        if paired is None:
            paired = self.store.pairs_of(article_id)
        own = self.store.article_summary(article_id)
        members = set()
        if own and own["story_id"] is not None:
            members = {a["id"] for a in self.store.story_articles(own["story_id"])} - {article_id}
        closeness = {a: max(p["anchors"], p["words"]) for a, p in paired.items()}
        ranked = sorted(members | set(paired), key=lambda a: (a not in members or a not in paired,
                                                              a not in members, -closeness.get(a, 0.0), -a))
        return [(a, round(closeness.get(a, 0.0), 4)) for a in ranked[:MAX_RELATED]]

    def related(self, article_id: int, paired: dict[int, dict] | None = None) -> list[dict]:
        """Related coverage: the article's story, listing the members it is paired with directly (each
        with the reason in words), newest first; reprints of one wire copy are folded into one entry.
        A story member reached only through others is left to the story page."""
        if paired is None:
            paired = self.store.pairs_of(article_id)
        own = self.store.article_summary(article_id)
        if own is None or own["story_id"] is None:
            return []
        header = self.store.story_header(own["story_id"])
        members = [{**a, "reason": paired[a["id"]]["reason"]}
                   for a in self.store.story_articles(own["story_id"])
                   if a["id"] != article_id and a["id"] in paired]
        entries = fold_reprints(members)[:MAX_RELATED]
        stances = self.stances_toward_headline(article_id, [e["id"] for e in entries])
        for entry in entries:
            verdict = stances.get(entry["id"])
            entry["stance"] = ({"label": verdict.label, "reason": verdict.reason}
                               if verdict and verdict.label in ("supports", "disputes") else None)
        return [{**header, "articles": entries}] if header and entries else []

    def stances_toward_headline(self, article_id: int, others: list[int]) -> dict[int, Judgement]:
        """How each other article, as a whole, stands to this article's headline: the judge's article
        stance over the other's claims (the same judgement the stance benchmark measures)."""
        own = self.store.claims_of_articles([article_id])[article_id]
        headline = next((c for c in own if c["is_headline"]), None)
        vector = self.index.vector_of(headline["id"]) if headline else None
        if vector is None:
            return {}
        verdicts = {}
        by_article = self.store.claims_of_articles(others)
        known = self.index.vectors_of([c["id"] for claims in by_article.values() for c in claims])
        for other, claims in by_article.items():
            found = [(c, known[c["id"]][1]) for c in claims if c["id"] in known]
            if found:
                verdicts[other] = article_stance(claim_from_row(headline), [claim_from_row(c) for c, _ in found],
                                                 [float(v @ vector) for _, v in found])
        return verdicts


def one_per_disagreement(contradictions: list[dict]) -> list[dict]:
    """One entry per disagreement, most confident first: a claim disputing an article's headline and
    the body sentence that repeats it is one dispute, shown once."""
    seen_claims, seen_others, kept = set(), set(), []
    for item in sorted(contradictions, key=lambda c: -c["confidence"]):
        mine = (item["claim"]["id"], item["other"]["article"]["id"])
        theirs = (item["other"]["id"], item["claim"]["article"]["id"])
        if mine in seen_claims or theirs in seen_others:
            continue
        seen_claims.add(mine)
        seen_others.add(theirs)
        kept.append(item)
    return kept


def fold_reprints(articles: list[dict]) -> list[dict]:
    """One entry per source: the first (newest) article of a wire copy, with the other outlets in also_in."""
    entries: dict[int, dict] = {}
    for article in articles:
        source = article.get("source_id") or article["id"]
        if source in entries:
            entries[source]["also_in"].append({"id": article["id"], "site": article["site"], "url": article["url"]})
        else:
            entries[source] = {**article, "also_in": []}
    return list(entries.values())


def orient(link: dict, article_id: int) -> dict:
    """Show a link from this article's side: `claim` is the article's own, `other` the matched one."""
    if link["claim"]["article"]["id"] == article_id:
        return link
    return {**link, "claim": link["other"], "other": link["claim"]}


SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.I)


def saved_from_url(html: str) -> str | None:
    """The address a browser's "Save page as" noted at the top of the file, if any."""
    match = SAVED_FROM.search(html[:4096])
    return match.group(1) if match else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
