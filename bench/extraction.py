"""Extraction benchmark: run the product extractor (or plain trafilatura) over a page folder.

The folder holds ``pages.jsonl`` rows ``{"id", "url", "html"}`` where ``html`` is a gzip file path
relative to the folder and ``url`` may be null. Predictions are written as JSONL ``{"id", "text"}``
(empty text when the page is not an article), ready for the extraction scorer.

    python -m bench.extraction --data DIR --out pred.jsonl [--baseline] [--limit N] [--jobs 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from server.extract import NotAnArticle, decode_html, extract_article

logger = logging.getLogger(__name__)


def read_pages(data_dir: Path, limit: int | None = None) -> Iterator[dict]:
    """Yield ``{"id", "url", "path"}`` for each page listed in ``pages.jsonl``."""
    with open(data_dir / "pages.jsonl", encoding="utf-8") as rows:
        for count, line in enumerate(rows):
            if limit is not None and count >= limit:
                return
            if line.strip():
                row = json.loads(line)
                yield {"id": row["id"], "url": row.get("url"), "path": str(data_dir / row["html"])}


def _product_text(page: dict) -> tuple[str, str, float]:
    data = gzip.decompress(Path(page["path"]).read_bytes())
    started = time.perf_counter()
    try:
        text = extract_article(decode_html(data), url=page["url"]).text
    except NotAnArticle:
        text = ""
    return page["id"], text, time.perf_counter() - started


def _baseline_text(page: dict) -> tuple[str, str, float]:
    # The reference is trafilatura as a reader would call it, fed the page's original bytes.
    import trafilatura

    data = gzip.decompress(Path(page["path"]).read_bytes())
    started = time.perf_counter()
    text = trafilatura.extract(data, url=page["url"]) or ""
    return page["id"], text, time.perf_counter() - started


def _run(worker: Callable[[dict], tuple[str, str, float]], data_dir: Path, out: Path,
         limit: int | None, jobs: int) -> dict:
    pages = list(read_pages(Path(data_dir), limit))
    started = time.perf_counter()
    extract_seconds = 0.0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as sink:
        if jobs > 1:
            with multiprocessing.Pool(jobs) as pool:
                results = list(pool.imap(worker, pages, chunksize=8))
        else:
            results = map(worker, pages)
        for page_id, text, seconds in results:
            extract_seconds += seconds
            sink.write(json.dumps({"id": page_id, "text": text}, ensure_ascii=False) + "\n")
    n = len(pages)
    return {
        "pages": n,
        "seconds": round(time.perf_counter() - started, 2),
        # Time inside the extractor only (no gzip, no file reading), summed over workers.
        "ms_per_page": round(1000 * extract_seconds / n, 1) if n else 0.0,
    }


def predict(data_dir: Path, out: Path, limit: int | None = None, jobs: int = 1) -> dict:
    """Extract every page with the product extractor and write predictions to ``out``."""
    return _run(_product_text, data_dir, out, limit, jobs)


def baseline(data_dir: Path, out: Path, limit: int | None = None, jobs: int = 1) -> dict:
    """The same with plain ``trafilatura.extract(html, url=url)``, the reference to beat."""
    return _run(_baseline_text, data_dir, out, limit, jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with pages.jsonl and html/")
    parser.add_argument("--out", type=Path, required=True, help="predictions JSONL to write")
    parser.add_argument("--baseline", action="store_true", help="plain trafilatura instead of the product")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (2 on a laptop)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    run = baseline if args.baseline else predict
    print(json.dumps(run(args.data, args.out, args.limit, args.jobs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
