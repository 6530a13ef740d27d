"""Capture speed through the real HTTP server over histories of 1k, 10k, 100k articles.

Histories that large cannot be built by real captures in reasonable time, so they are synthetic: each
article has ~30 claims whose texts are real sentences (the test pages' claims and, where the shared
datasets are present, up to 20,000 fact-checked and news claims) tagged to be unique, and whose vectors
are the real embeddings of those sentences plus Gaussian noise (cosine ~0.7 to the original),
normalised, written through the store's own write methods. Its anchors are those of its
sentences plus names drawn from a Zipf distribution over a large vocabulary, as in real reading: a few
names everywhere, most in a handful of articles. Each size runs in its own
subprocess so peak memory (VmHWM) belongs to that size alone.

Per size: the first start on the history (the claim index's graph built from the database in the
background, as after an upgrade) and its build time; latency p50/p95 of POST /api/pages for the test
pages (fresh URL and varied text each time, so neither the duplicate check nor the embedding cache
short-cuts it), the floor (extraction + claim splitting + embedding of the same page, no store), the
vector search alone against a float32 scan of every stored vector (time and recall@12), a bulk-import
rate (`crosscurrent import`'s Importer over pages an export carries), a cProfile of one capture, and the
graph's size on disk. Then the server is closed (saving the graph) and started again as a user starts
it: `crosscurrent serve` on the same folder, timed from launch to the first 201 of a capture, with its
resident memory (VmRSS) at that moment and again after LATER_CAPTURES more captures (each search reads
more of the mapped graph). The same start-up on an empty folder, once per run.
"""

from __future__ import annotations

import cProfile
import io
import json
import logging
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from server import imports, vector_index
from server.anchors import anchors
from server.claims import extract_claims
from server.embeddings import from_blobs, text_hash, to_blob
from server.extract import extract_article
from server.security import hash_secret, new_token
from server.store import Store

from .common import (KEEP_HISTORY_HELP, MODEL_ENV, data_root, embedder_name, get_embedder, history_sizes,
                     read_jsonl, shared_dir)

log = logging.getLogger(__name__)

CLAIMS_PER_ARTICLE = 30
NOISE_PER_DIM = 0.052          # noise norm ~1.0 on 384 dims: cosine ~0.7 to the real sentence
POOL_SENTENCES = 20_000         # real sentences the synthetic claims are drawn from
HISTORY_BATCH = 500            # synthetic articles per transaction
HISTORY_DOMAIN = "history.bench"   # the synthetic articles' site; the runs capture under others
SYNTHETIC_NAMES = 15           # Zipf-distributed names per synthetic article...
NAME_VOCABULARY = 200_000      # ...out of this many
NAME_ZIPF = 1.2
CAPTURES_PER_PAGE = 10       # per test page: a p95 of 40 captures (of 20 it was the slowest but one)
LATER_CAPTURES = 40            # the restarted server's memory is read again after this many more captures
IMPORT_ARTICLES = 120          # an import long enough to be readied in a process of its own (server/readying.py)
DEFAULT_SIZES = (1000, 10000, 100000)


def test_pages() -> dict[str, str]:
    folder = shared_dir() / "pages"
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))}


RUN = time.strftime("%Y%m%d%H%M%S")   # in every variant, so a kept history never holds this run's pages


def vary(html: str, number: int) -> str:
    """A variant of the page whose every sentence differs a little, so nothing is a cached repeat."""
    n = f"{RUN}-{number}"
    html = re.sub(r'(rel="canonical" href="[^"?]+)', rf"\1-edition-{n}", html)
    html = re.sub(r"\.(\s*</p>)", rf" (edition {n}).\1", html)
    return re.sub(r"(?<=[a-z])\. (?=[A-Z])", f" (edition {n}). ", html)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# -- synthetic history -----------------------------------------------------------------------------
def sentence_pool(pages: dict[str, str], embedder, limit: int = POOL_SENTENCES) -> tuple[list[str], np.ndarray]:
    """Real sentences to build histories from: the test pages' claims, then (where the shared datasets
    are present) fact-checked claims and the claims of the stories articles, so a large history spreads
    over many topics as a reader's does instead of repeating a few dozen sentences."""
    texts = []
    for html in pages.values():
        extracted = extract_article(html)
        texts.extend(c.text for c in extract_claims(extracted.title, extracted.text))
    claims_file, stories_file = data_root() / "claims" / "claims.jsonl", data_root() / "stories" / "articles.jsonl"
    if claims_file.exists():
        texts.extend(record["text"] for record in read_jsonl(claims_file) if record.get("text"))
    if stories_file.exists():
        for record in read_jsonl(stories_file):
            texts.extend(c.text for c in extract_claims(record.get("title") or "", record.get("text") or ""))
    texts = list(dict.fromkeys(texts))[:limit]
    return texts, embedder.embed(texts)


def build_history(store: Store, model: str, size: int, pool_texts: list[str], pool_vectors: np.ndarray,
                  seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for start in range(0, size, HISTORY_BATCH):
        count = min(HISTORY_BATCH, size - start)
        picks = rng.integers(0, len(pool_texts), size=(count, CLAIMS_PER_ARTICLE))
        vectors = pool_vectors[picks] + rng.normal(0, NOISE_PER_DIM, (count, CLAIMS_PER_ARTICLE, pool_vectors.shape[1]))
        vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
        vectors = vectors.astype(np.float32)
        names = np.minimum(rng.zipf(NAME_ZIPF, size=(count, SYNTHETIC_NAMES)), NAME_VOCABULARY)
        blobs: dict[str, bytes] = {}
        with store.write() as conn:
            for a in range(count):
                number = start + a
                texts = [f"{pool_texts[p]} (archive {number}-{j})" for j, p in enumerate(picks[a])]
                article_id = store.insert_article(conn, {
                    "url": f"https://{HISTORY_DOMAIN}/{number}", "canonical_url": f"https://{HISTORY_DOMAIN}/{number}",
                    "domain": HISTORY_DOMAIN, "content_hash": text_hash(f"history {number}"),
                    "title": texts[0], "site": f"Outlet {number % 40}", "author": None, "published": "2026-01-01",
                    "language": "en", "text": "\n".join(texts), "word_count": sum(len(t.split()) for t in texts),
                    "captured_at": "2026-01-01T00:00:00Z",
                }, "", "bench")
                rows = []
                for j, text in enumerate(texts):
                    digest = text_hash(text)
                    blobs[digest] = to_blob(vectors[a, j])
                    rows.append({"position": j, "text": text, "text_hash": digest, "is_headline": j == 0,
                                 "speaker": None, "polarity": "asserts", "proposition": text, "details": {}})
                store.insert_claims(conn, article_id, rows)
                store.insert_anchors(conn, article_id, anchors("\n".join(texts)) + [f"name{n}" for n in names[a]])
            store.put_vectors(conn, model, blobs)
    return time.perf_counter() - started


# -- one size, in its own process ------------------------------------------------------------------
def post_capture(port: int, token: str, url: str, html: str) -> tuple[int, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/pages", data=json.dumps({"url": url, "html": html}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def add_token(store: Store) -> str:
    token = new_token()
    with store.write() as conn:
        store.insert_token(conn, "benchmark", None, hash_secret(token))
    return token


def floor_seconds(embedder, html: str) -> float:
    started = time.perf_counter()
    extracted = extract_article(html)
    claims = extract_claims(extracted.title, extracted.text)
    embedder.embed([c.text for c in claims])
    return time.perf_counter() - started


def profile_capture(engine, html: str, top: int = 12) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    engine.capture(f"https://profile.bench/{RUN}", html)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(400)
    lines = [line for line in text.getvalue().splitlines() if re.match(r"\s*\d", line)]
    # Keep the informative rows: the product's own functions (the model's internals nest a dozen deep).
    return [re.sub(r"\s+", " ", line.strip()) for line in lines if "/server/" in line][:top]


def exact_scores(store, model: str, queries: np.ndarray, k: int) -> np.ndarray:
    """Each query's k-th best cosine over every stored claim vector (float32, read in batches)."""
    best = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    for rows in store.iter_claim_vectors(model, batch=50_000):
        scores = queries @ from_blobs([r[2] for r in rows], queries.shape[1]).T
        best = -np.partition(-np.hstack([best, scores]), min(k, best.shape[1] + scores.shape[1]) - 1, axis=1)[:, :k]
    return best.min(axis=1) if best.shape[1] else np.full(len(queries), np.inf)


def search_against_exact(index, store, model: str, embedder, pages: dict[str, str], k: int = 12) -> dict:
    """The vector search a capture runs (each test page's claims as one batch) against a float32 scan of
    every stored vector: time per batch of both, and the share of the scan's top k the search matches."""
    used_s, batches = [], []
    for html in pages.values():
        extracted = extract_article(html)
        queries = embedder.embed([c.text for c in extract_claims(extracted.title, extracted.text)])
        started = time.perf_counter()
        got = index.search(queries, k=k, min_similarity=-1.0)
        used_s.append(time.perf_counter() - started)
        batches.append((queries, got))
    started = time.perf_counter()
    every = np.vstack([queries for queries, _ in batches])
    kth = exact_scores(store, model, every, k)
    scan_s = time.perf_counter() - started
    found, wanted = 0, 0
    for qi, hits in enumerate(hit for _, got in batches for hit in got):
        # A hit counts when it scores as high as the scan's k-th: captured variants of the same page
        # hold identical sentences, and which of several equal rows come first is arbitrary.
        found += min(k, sum(1 for _, _, score in hits if score >= kth[qi] - 1e-6))
        wanted += k
    return {"in_graph": index.in_graph, "batch_ms": round(1000 * statistics.median(used_s), 1),
            "exact_batch_ms": round(1000 * scan_s / len(batches), 1),
            f"recall_at_{k}": round(found / wanted, 4) if wanted else None}


@contextmanager
def history_folder(size: int, keep: Path | None) -> Iterator[Path]:
    """A data folder for one size: temporary, or kept under `keep` to be reused by the next run."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="crosscurrent-speed-") as folder:
            yield Path(folder)
        return
    folder = Path(keep) / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    yield folder


def forget_earlier_captures(engine) -> int:
    """Forget what earlier runs captured into a kept history (its articles come after the history's own),
    so that every run measures the history as it was built, not one holding hundreds of editions of the
    test pages, each a near copy that every capture of that page then links to and judges."""
    forgotten = 0
    for article_id in reversed(engine.store.article_ids()):
        if engine.store.article_row(article_id)["domain"] == HISTORY_DOMAIN:
            break
        forgotten += engine.forget(article_id)
    return forgotten


def saved_pool(path: Path, pages: dict[str, str], embedder) -> tuple[list[str], np.ndarray]:
    """The sentence pool, embedded once per run and shared by the sizes' processes through `path`."""
    if not path.exists():
        texts, vectors = sentence_pool(pages, embedder)
        with open(path, "wb") as out:          # an open file: np.savez would add ".npz" to the name
            np.savez(out, texts=np.array(texts, dtype=object), vectors=vectors)
    with np.load(path, allow_pickle=True) as saved:
        return list(saved["texts"]), saved["vectors"]


def measure_size(size: int, keep: Path | None = None, pool: Path | None = None) -> dict:
    from werkzeug.serving import make_server

    from server.app import create_app

    embedder = get_embedder()
    embedder.warm()
    pages = test_pages()
    result: dict = {"size": size, "claims_per_article": CLAIMS_PER_ARTICLE}
    with history_folder(size, keep) as folder:
        store = Store(Path(folder) / "crosscurrent.db")
        held = store.counts()["articles"]
        if held >= size:           # a kept history (plus what earlier runs captured into it: forgotten below)
            result["history_build_s"] = None
        elif held:
            raise RuntimeError(f"{folder} holds an unfinished history ({held} of {size} articles): delete it")
        else:
            pool_texts, pool_vectors = saved_pool(pool, pages, embedder) if pool else sentence_pool(pages, embedder)
            result["pool_sentences"] = len(pool_texts)
            result["history_build_s"] = round(build_history(store, embedder.model_name, size, pool_texts, pool_vectors), 1)
        token = add_token(store)
        store.close()

        app = create_app({"data_dir": folder, "model": embedder_name()}, embedder=embedder)
        engine = app.extensions["crosscurrent"].engine
        if result["history_build_s"] is None:
            # Before the claim index loads: it finds them all listed as forgotten, and drops them from
            # its graph at once (a few hundred left to a later merge would be searched past all run).
            started = time.perf_counter()
            result["earlier_captures_forgotten"] = forget_earlier_captures(engine)
            result["forget_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        engine.warm()
        result["index_load_s"] = round(time.perf_counter() - started, 2)   # the server answers from here on
        started = time.perf_counter()
        engine.index.wait_until_ready()     # a missing or stale graph is built in the background
        result["graph_build_s"] = round(time.perf_counter() - started, 2)
        result["search"] = search_against_exact(engine.index, engine.store, embedder.model_name, embedder, pages)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        port = server.server_port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            latencies: dict[str, list[float]] = {}
            floors: dict[str, list[float]] = {}
            variant = 0
            for name, html in pages.items():
                for _ in range(CAPTURES_PER_PAGE):
                    variant += 1
                    status, seconds = post_capture(port, token, f"https://speed.bench/{RUN}/{name}/{variant}", vary(html, variant))
                    if status != 201:
                        raise RuntimeError(f"capture of {name} answered {status}")
                    latencies.setdefault(name, []).append(seconds)
                    floors.setdefault(name, []).append(floor_seconds(embedder, vary(html, 10_000 + variant)))
            every = [s for values in latencies.values() for s in values]
            floor_all = [s for values in floors.values() for s in values]
            result["capture_ms"] = {"p50": round(1000 * statistics.median(every)),
                                    "p95": round(1000 * percentile(every, 0.95)), "n": len(every)}
            result["per_page_p50_ms"] = {n: round(1000 * statistics.median(v)) for n, v in latencies.items()}
            result["floor_ms"] = {"p50": round(1000 * statistics.median(floor_all)),
                                  "p95": round(1000 * percentile(floor_all, 0.95))}
            result["capture_over_floor"] = round(statistics.median(every) / statistics.median(floor_all), 2)

            # Bulk import through `crosscurrent import`'s own path, of an export that carries its pages.
            names = list(pages)
            items = [imports.Item(label=f"page {i}", url=f"https://import.bench/{RUN}/{i}",
                                  html=vary(pages[names[i % len(names)]], 20_000 + i)) for i in range(IMPORT_ARTICLES)]
            started = time.perf_counter()
            importer = imports.Importer(engine)
            importer.add_all(items)
            import_s = time.perf_counter() - started
            if importer.created != IMPORT_ARTICLES:
                raise RuntimeError(f"the import stored {importer.tally()}")
            floor_s = sum(floor_seconds(embedder, vary(pages[names[i % len(names)]], 30_000 + i))
                          for i in range(IMPORT_ARTICLES))
            result["import_articles_per_s"] = round(IMPORT_ARTICLES / import_s, 2)
            result["floor_articles_per_s"] = round(IMPORT_ARTICLES / floor_s, 2)
            result["profile"] = profile_capture(engine, vary(pages[names[0]], 40_000))
            result["rss_mb"] = rss_mb()
        finally:
            server.shutdown()
            started = time.perf_counter()
            engine.close()
            result["close_s"] = round(time.perf_counter() - started, 2)
            app.extensions["crosscurrent"].store.close()
        result["peak_rss_mb"] = peak_rss_mb()
        result["graph_mb"] = round(vector_index.disk_bytes(folder, embedder.model_name) / 2**20, 1)
        # Started again as a user starts it: a new process, the saved graph mapped.
        result["startup_s"], result["server_rss_mb"], result["server_memory_later"] = startup_seconds(
            folder, token, later=LATER_CAPTURES)
    return result


def _status_mb(field: str, pid: str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    found = _status_mb("VmHWM")
    if found is not None:
        return found
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(pid: str = "self") -> float | None:
    """Resident memory now (mapped file pages the process has touched included)."""
    return _status_mb("VmRSS", pid)


# -- start-up ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def startup_seconds(folder: Path | None = None, token: str | None = None, timeout: float = 600.0,
                    cache: Path | None = None, later: int = 0) -> tuple[float, float | None, dict | None]:
    """From launching `crosscurrent serve` on `folder` (an empty one by default) to the first 201 of a
    capture (model load included), the server's resident memory then, and (with `later`) its memory after
    that many more captures: {VmRSS, RssAnon, RssFile} in MB, file pages being the mapped graph's pages
    read so far and the libraries'. `cache`: the cache folder the server gets (default: the usual one,
    where the model prepared for ONNX Runtime is found)."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="crosscurrent-start-") as empty:
            store = Store(Path(empty) / "crosscurrent.db")
            token = add_token(store)
            store.close()
            return startup_seconds(Path(empty), token, timeout, cache, later)
    pages = list(test_pages().values())
    html = vary(pages[0], 50_000)
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--data", str(folder), "--port", str(port), "--model", embedder_name(),
         "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CROSSCURRENT_CACHE": str(cache)} if cache is not None else None)
    try:
        while time.perf_counter() - started < timeout:
            try:
                status, _ = post_capture(port, token, f"https://start.bench/{RUN}", html)
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited: {process.stderr.read()[-500:]}") from None
                time.sleep(0.05)
                continue
            if status != 201:
                raise RuntimeError(f"first capture answered {status}")
            seconds, first_rss = time.perf_counter() - started, rss_mb(str(process.pid))
            for number in range(1, later + 1):
                status, _ = post_capture(port, token, f"https://start.bench/{RUN}/{number}",
                                         vary(pages[number % len(pages)], 50_000 + number))
                if status != 201:
                    raise RuntimeError(f"capture {number} after the start answered {status}")
            memory = {field: _status_mb(field, str(process.pid)) for field in ("VmRSS", "RssAnon", "RssFile")}
            return seconds, first_rss, memory if later else None
        raise TimeoutError("the server gave no answer in time")
    finally:
        process.terminate()
        process.wait(timeout=120)


# -- the runner ----------------------------------------------------------------------------------------
def run(sizes=DEFAULT_SIZES, timeout: float = 3600.0, keep: Path | None = None) -> dict:
    results = {"history": "synthetic (real sentence vectors plus noise, written through the store)",
               "model": embedder_name(), "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="crosscurrent-pool-") as scratch:
        # Written by the first size that builds a history; kept with kept histories, for the next size.
        pool = Path(keep if keep is not None else scratch) / "pool.npz"
        pool.parent.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            # Started with -c rather than -m bench.speed: the readying process an import starts (spawned)
            # imports its parent's main module again, and this module's imports (1.2 s) are the
            # benchmark's, which `crosscurrent import` does not carry.
            worker = [sys.executable, "-c", "import sys; from bench.speed import main; sys.exit(main(sys.argv[1:]))",
                      "--worker", str(size), "--pool", str(pool)]
            if keep is not None:
                worker += ["--keep-history", str(keep)]
            done = subprocess.run(worker, capture_output=True,
                                  text=True, timeout=timeout, env={**os.environ, MODEL_ENV: embedder_name()})
            if done.returncode != 0:
                log.error("speed at %d articles failed: %s", size, done.stderr[-2000:])
                results["sizes"][str(size)] = {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
                continue
            results["sizes"][str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        seconds, memory, _ = startup_seconds()
        results["startup_to_first_capture_s"], results["startup_rss_mb"] = round(seconds, 1), memory
        # A machine's very first start also prepares the model for ONNX Runtime (once; server/embeddings.py).
        with tempfile.TemporaryDirectory(prefix="crosscurrent-cache-") as cache:
            results["first_start_empty_cache_s"] = round(startup_seconds(cache=Path(cache))[0], 1)
    except (RuntimeError, TimeoutError) as exc:
        results["startup_to_first_capture_s"] = None
        results["startup_error"] = str(exc)
    return results


def _later(memory: dict | None) -> str:
    if not memory or memory.get("VmRSS") is None:
        return "-"
    return f"{memory['VmRSS']:.0f} ({memory['RssAnon']:.0f}+{memory['RssFile']:.0f})"


def report(results: dict) -> str:
    lines = [f"speed ({results['history']}; model {results['model']})",
             f"{'articles':>9} {'claims':>8} {'p50 ms':>7} {'p95 ms':>7} {'floor':>6} {'ratio':>6} {'p95/fl':>6} "
             f"{'import/s':>8} {'floor/s':>8} {'RSS MB':>7} {'later':>13} {'peak MB':>7} {'start s':>7} {'build s':>7} "
             f"{'graph MB':>8} {'search':>7} {'scan':>7} {'recall':>6}"]
    for size, r in results["sizes"].items():
        if "error" in r:
            lines.append(f"{size:>9} failed: {r['error']}")
            continue
        lines.append(f"{size:>9} {int(size) * r['claims_per_article']:>8} {r['capture_ms']['p50']:>7} "
                     f"{r['capture_ms']['p95']:>7} {r['floor_ms']['p50']:>6} {r['capture_over_floor']:>6} "
                     f"{round(r['capture_ms']['p95'] / r['floor_ms']['p95'], 2):>6} "
                     f"{r['import_articles_per_s']:>8} {r['floor_articles_per_s']:>8} {r.get('server_rss_mb'):>7} "
                     f"{_later(r.get('server_memory_later')):>13} "
                     f"{r['peak_rss_mb']:>7} {r.get('startup_s', 0):>7.1f} {r.get('graph_build_s', '-'):>7} "
                     f"{r.get('graph_mb', '-'):>8} {r['search']['batch_ms']:>7} {r['search']['exact_batch_ms']:>7} "
                     f"{r['search']['recall_at_12']:>6}")
    lines.append("ratio: capture p50 / floor p50; p95/fl: capture p95 / floor p95; RSS: a new `crosscurrent serve` "
                 f"on the history after its first 201; later: its RSS (anonymous + file pages) after {LATER_CAPTURES} "
                 "more captures; peak: the measuring process; start s: launching that server "
                 "to its first 201 (model load included); build s: the claim graph built from the database in the "
                 "background on the first start (0 when a saved one was mapped); graph MB: its file; search/scan: "
                 "ms of one page's vector search / a float32 scan of every stored vector; recall: share of the "
                 "scan's top 12 the search matches (equal scores count alike)")
    lines.append(f"start-up to first 201 on an empty folder: {results.get('startup_to_first_capture_s')} s "
                 f"(RSS {results.get('startup_rss_mb')} MB); a machine's very first start, which prepares the "
                 f"model for ONNX Runtime once: {results.get('first_start_empty_cache_s')} s")
    for size, r in results["sizes"].items():
        if r.get("earlier_captures_forgotten"):
            lines.append(f"kept history of {size}: {r['earlier_captures_forgotten']} articles earlier runs captured "
                         f"forgotten first ({r['forget_s']} s; build s: dropping them from the graph)")
    largest = [r for r in results["sizes"].values() if "profile" in r]
    if largest:
        lines.append(f"profile of one capture at {largest[-1]['size']} articles (cumulative, top functions):")
        lines.extend("  " + line for line in largest[-1]["profile"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.speed")
    parser.add_argument("--worker", type=int, help="measure one history size and print JSON (internal)")
    parser.add_argument("--pool", type=Path, help="embedded sentence pool shared by the workers (internal)")
    parser.add_argument("--sizes", type=history_sizes, default=DEFAULT_SIZES)
    parser.add_argument("--keep-history", type=Path, help=KEEP_HISTORY_HELP)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.worker is not None:
        print(json.dumps(measure_size(args.worker, args.keep_history, args.pool)))
        return 0
    results = run(args.sizes, keep=args.keep_history)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
