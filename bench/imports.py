"""Import throughput: a browser history of N article addresses across many outlets, fetched from a local
HTTP server and captured through the product's import job, against the capture floor of the same pages.

The outlets are distinct loopback addresses (127.0.0.2, 127.0.0.3, ...: all of 127/8 reaches this machine
on Linux), each a small HTTP server, so the fetcher treats them as the separate hosts a real history
spans and keeps its one-request-at-a-time and one-second pause per host. The pages are generated news
articles (invented sentences about invented towns, people and figures), no sentence in two of them, so
that neither the duplicate check nor the embedding cache short-cuts a capture. Visits interleave the
outlets at random, as a reader's history does. The pause alone allows at most one article per outlet
per second (`outlets / pause`, printed): 50 outlets keep that bound above the floor of a two-core
machine, so the figure is the import's own, not the pause's; with fewer outlets the pause decides it.
The same pages are then imported from an export that carries them (nothing to fetch). The floor is
`bench.speed.floor_seconds` (extraction, claim splitting and embedding of a page, no store) over a
sample of the same pages, in the same run.

    python -m bench imports [--articles 1000] [--outlets 50] [--floor-sample 100]
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import logging
import multiprocessing
import random
import tempfile
import threading
import time
from contextlib import contextmanager
from html import escape
from pathlib import Path

from server import fetcher, imports
from server.import_job import ImportJob
from server.pipeline import Engine
from server.store import Store

from .common import embedder_name, get_embedder

log = logging.getLogger(__name__)

DEFAULT_ARTICLES = 1000
DEFAULT_OUTLETS = 50
FLOOR_SAMPLE = 100
SEED = 11

TOWNS = ["Millbrook", "Porthaven", "Ashcombe", "Valemouth", "Kestrel Bay", "Northfield", "Larchmont", "Riverside",
         "Oakhurst", "Saltmarsh", "Glenwood", "Harrowgate", "Eastbridge", "Fernley", "Coldwater", "Brightsea"]
PEOPLE = ["Maria Lindqvist", "Tomas Riedel", "Aisha Karim", "Daniel Osei", "Helen Marsh", "Yusuf Demir",
          "Clara Novak", "Peter Haugen", "Grace Mbeki", "Liam Carter", "Sofia Reyes", "Jonas Weber",
          "Nadia Petrov", "Owen Fletcher", "Ines Duarte", "Kenji Sato"]
ROLES = ["the mayor", "the council leader", "a spokesperson for the port authority", "the head teacher",
         "the chief executive", "a union representative", "the police superintendent", "the health board chair"]
BODIES = ["the town council", "the regional transport authority", "the water company", "the hospital trust",
          "the school board", "the harbour commission", "the housing association", "the energy cooperative"]
# A clause with figures of its own ends every sentence, so that no two articles share a sentence and the
# store's vector cache (by text) saves nothing the floor does not: every claim is embedded once.
CLAUSES = [", {k} residents told the newsroom on {month} {d}", ", according to council papers dated {month} {d}",
           ", in a statement issued at {h}:{mm} on {month} {d}", ", {k} days after the previous vote on {month} {d}",
           ", as {k} people watched the meeting online on {month} {d}"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

# Each topic: a headline and the sentences its articles are made of. {n}, {m}: figures; {p}, {q}: people;
# {role}: a role; {body}: an institution; {town}, {other}: places; {month}: a month.
TOPICS = [
    ("{town} council approves {n} million budget for {month}",
     ["{body} approved a budget of {n} million dollars for {town} on Tuesday evening.",
      "{p}, {role}, said the money would go first to road repairs and the library.",
      "Opposition members voted against the plan, saying it cut {m} posts in social care.",
      "The budget includes a rise of {m} percent in parking charges in the town centre.",
      "{q} warned that reserves would fall below the legal minimum by the end of the year.",
      "The council said it had consulted {n} hundred residents before the vote."]),
    ("Ferry fares between {town} and {other} to rise by {m} percent",
     ["The ferry operator serving {town} and {other} will raise fares by {m} percent from {month}.",
      "{p}, {role}, blamed the cost of fuel and new safety inspections.",
      "A return ticket for a car and two passengers will cost {n} dollars.",
      "Commuters said the increase would cost them hundreds of dollars a year.",
      "A petition against the rise gathered {n} hundred signatures in a week.",
      "{q} said season tickets for residents would keep their current price."]),
    ("{town} hospital waiting times reach {n} weeks",
     ["Patients in {town} now wait {n} weeks on average for planned operations, figures show.",
      "{p}, {role}, said staff shortages in surgery were the main cause.",
      "The hospital has closed {m} beds since {month} because it cannot fill nursing shifts.",
      "{body} promised to open a new day-surgery unit in {other} next year.",
      "{q} said some patients had travelled to private clinics to avoid the wait.",
      "The trust said emergency care had not been affected by the delays."]),
    ("Floods close {m} roads around {town}",
     ["Heavy rain overnight closed {m} roads around {town} and flooded dozens of homes.",
      "{p}, {role}, said the river rose {n} centimetres in six hours.",
      "Emergency crews evacuated residents of two streets near the old mill in {other}.",
      "{body} said sandbags would be handed out at the fire station until Friday.",
      "{q} criticised the delay in building the flood wall approved years ago.",
      "Forecasters expect more rain in {town} over the weekend."]),
    ("{town} school to close after {n} years",
     ["The primary school in {town} will close at the end of the summer term after {n} years.",
      "{body} said pupil numbers had fallen by {m} percent in a decade.",
      "{p}, {role}, said children would move to a larger school in {other}.",
      "Parents said the new journey would take more than forty minutes by bus.",
      "{q} promised free transport for every pupil affected by the closure.",
      "The building may be turned into a community centre, the council said."]),
    ("Tram line to {town} delayed until {month}",
     ["The new tram line between {other} and {town} will not open until {month}, its builders said.",
      "{p}, {role}, blamed problems with the signalling system.",
      "The project is now {n} million dollars over its original budget.",
      "{body} said test runs would start on the first {m} kilometres next month.",
      "{q} called the delay an embarrassment for the region.",
      "Shops along the route said the roadworks had cut their takings by half."]),
    ("{town} factory to cut {n} jobs",
     ["A packaging factory in {town} will cut {n} jobs by the end of the year, its owners said.",
      "{p}, {role}, said falling orders from abroad had forced the decision.",
      "The plant employs {m} hundred people and is the largest employer in {town}.",
      "{body} offered training grants to workers who lose their jobs.",
      "{q} said the union would fight for voluntary redundancies only.",
      "The company said production would move partly to its site in {other}."]),
    ("Water bills in {town} to rise by {m} percent",
     ["Households in {town} will pay {m} percent more for water from {month}, {body} said.",
      "{p}, {role}, said the money would pay for replacing pipes laid a century ago.",
      "The average annual bill will rise to {n} dollars.",
      "Leaks from old pipes lose {m} percent of the water the company treats, it said.",
      "{q} said pensioners in {other} would struggle with the increase.",
      "A discount scheme for low-income households will be extended."]),
    ("{town} library reopens after repairs",
     ["The central library in {town} reopened on Monday after {n} months of repairs to its roof.",
      "{p}, {role}, said the work had cost {m} million dollars.",
      "Opening hours will return to six days a week, including Saturday mornings.",
      "The library lent {n} thousand books last year, more than any in the region.",
      "{q} said a children's reading room would open in {month}.",
      "Volunteers from {other} helped move the collection back onto the shelves."]),
    ("Police in {town} report {m} percent fall in burglaries",
     ["Burglaries in {town} fell by {m} percent last year, police figures show.",
      "{p}, {role}, credited more patrols at night and a new neighbourhood scheme.",
      "Car thefts rose over the same period, to {n} reported cases.",
      "{body} said it would fund street lighting in {other} next.",
      "{q} said residents still did not feel safe in the town centre.",
      "The figures will be discussed at a public meeting in {month}."]),
    ("Wind farm off {town} wins approval",
     ["A wind farm of {n} turbines off the coast of {town} won planning approval on Thursday.",
      "{p}, {role}, said it would power {m} thousand homes.",
      "Fishermen in {other} said the turbines would close their best grounds.",
      "{body} said construction would begin in {month} and take three years.",
      "{q} welcomed the {m} local jobs the project promises.",
      "Campaigners have six weeks to challenge the decision in court."]),
    ("{town} housing plan for {n} homes rejected",
     ["Plans for {n} new homes on farmland outside {town} were rejected by {body}.",
      "{p}, {role}, said the roads could not cope with the extra traffic.",
      "The developer said {m} percent of the homes would have been affordable.",
      "Residents of {other} had sent more than a thousand objections.",
      "{q} said the town needed houses for young families and would appeal.",
      "The site is on land that flooded twice in the past decade."]),
]


def _fill(template: str, rng: random.Random, slots: dict) -> str:
    return template.format(**slots)


def article_page(number: int, outlet: str, rng: random.Random) -> tuple[str, str]:
    """(title, HTML) of one invented news article: a topic's sentences about a town, its people and its
    figures, in the shape of the test pages (metadata, navigation, the article, related links, footer)."""
    headline, sentences = TOPICS[number % len(TOPICS)]
    town, other = rng.sample(TOWNS, 2)
    p, q = rng.sample(PEOPLE, 2)
    slots = {"town": town, "other": other, "p": p, "q": q, "role": rng.choice(ROLES),
             "body": rng.choice(BODIES), "month": rng.choice(MONTHS), "n": rng.randint(12, 980),
             "m": rng.randint(3, 60)}
    title = _fill(headline, rng, slots)
    title = title[0].upper() + title[1:]
    # Every article its own order and one sentence of its own, so no two pages carry the same text.
    body = [_fill(s, rng, slots)[:-1] + rng.choice(CLAUSES).format(
                k=rng.randint(2, 999), d=rng.randint(1, 28), h=rng.randint(7, 21), mm=f"{rng.randint(0, 59):02d}",
                month=rng.choice(MONTHS)) + "." for s in rng.sample(sentences, k=len(sentences))]
    body.append(f"The report was filed as number {number} by the newsroom of {outlet}.")
    body = [s[0].upper() + s[1:] for s in body]
    published = (dt.date(2025, 1, 1) + dt.timedelta(days=number % 300)).isoformat()
    paragraphs = "\n".join(f"      <p>{escape(s)}</p>" for s in body)
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(title)} | {escape(outlet)}</title>
  <meta property="og:title" content="{escape(title)}">
  <meta property="og:site_name" content="{escape(outlet)}">
  <meta name="author" content="{escape(p)}">
  <meta property="article:published_time" content="{published}T08:00:00Z">
</head>
<body>
  <header><a href="/">{escape(outlet)}</a><nav><a href="/local">Local</a> <a href="/politics">Politics</a></nav></header>
  <main>
    <article>
      <h1>{escape(title)}</h1>
{paragraphs}
    </article>
    <section class="related"><h2>More news</h2><ul><li><a href="/r/1">Market hall to stay open late</a></li></ul></section>
  </main>
  <footer>&copy; 2025 {escape(outlet)}</footer>
</body>
</html>"""
    return title, html


class _Pages(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, pages: dict[str, bytes], **kwargs):
        self.pages = pages
        super().__init__(*args, **kwargs)

    def do_GET(self):
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8" if body else "text/plain")
        body = body or b"not here"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve_outlets(pages_by_outlet: list[dict[str, bytes]], pipe) -> None:
    servers = []
    for number, pages in enumerate(pages_by_outlet):
        httpd = http.server.ThreadingHTTPServer((f"127.0.0.{number + 2}", 0), functools.partial(_Pages, pages=pages))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
    pipe.send([f"http://{h.server_address[0]}:{h.server_address[1]}" for h in servers])
    try:
        pipe.recv()                 # until told to stop, or the benchmark is gone
    except EOFError:
        pass
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def outlets_serving(count: int, pages_by_outlet: list[dict[str, bytes]]):
    """One small HTTP server per outlet on 127.0.0.2, 127.0.0.3, ...; yields their base URLs. They run in
    a process of their own: the outlets are other machines, and serving a thousand pages from the
    measured process would take its interpreter lock from the import."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=_serve_outlets, args=(pages_by_outlet[:count], theirs),
                              name="bench-outlets", daemon=True)
    process.start()
    theirs.close()
    try:
        yield mine.recv()
    finally:
        try:
            mine.send(None)
        except OSError:             # the outlets' process is gone already
            pass
        process.join(10)
        if process.is_alive():
            process.terminate()


def build_history(articles: int, outlets: int, seed: int = SEED):
    """(pages per outlet {path: bytes}, visits [(outlet number, path, visit time in ms)], page HTML list)."""
    rng = random.Random(seed)
    names = [f"The {town} {kind}" for kind in ("Courier", "Herald", "Post", "Gazette") for town in TOWNS]
    pages_by_outlet: list[dict[str, bytes]] = [{} for _ in range(outlets)]
    visits, htmls = [], []
    start = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc).timestamp() * 1000
    for number in range(articles):
        outlet = rng.randrange(outlets)
        title, html = article_page(number, names[outlet % len(names)], rng)
        slug = "-".join(title.lower().replace(",", "").split()[:6])
        path = f"/news/{number}/{slug}"
        pages_by_outlet[outlet][path] = html.encode("utf-8")
        htmls.append(html)
        visits.append((outlet, path, start + number * 60_000 + rng.randrange(30_000)))
    return pages_by_outlet, visits, htmls


def floor_rate(htmls: list[str], sample: int, on_a_thread: bool = False) -> tuple[float, int]:
    """Articles per second of the capture floor (extraction + claims + embedding) over a sample of pages:
    on the main thread, as `bench speed` measures it, or on a thread of its own, as the import embeds
    (torch runs each thread's work on its own thread pool, and on a busy machine the two differ a lot)."""
    from .speed import floor_seconds

    embedder = get_embedder()
    embedder.warm()
    chosen = htmls[:: max(1, len(htmls) // sample)][:sample]
    if on_a_thread:
        seconds = []
        worker = threading.Thread(target=lambda: seconds.append(sum(floor_seconds(embedder, h) for h in chosen)))
        worker.start()
        worker.join()
        return len(chosen) / seconds[0], len(chosen)
    return len(chosen) / sum(floor_seconds(embedder, html) for html in chosen), len(chosen)


def import_seconds(engine: Engine, name: str, kind: str, items: list) -> tuple[float, dict]:
    """Seconds the product's import job takes over `items`, and its final status."""
    job = ImportJob()
    started = time.perf_counter()
    job.start_items(engine, name, kind, items)
    shown = -1
    while job.running:
        job.wait(5)
        done = job.status().get("done", 0)
        if done // 100 != shown // 100:
            log.info("%s: imported %d of %d", kind, done, len(items))
            shown = done
    return time.perf_counter() - started, job.status()


def run(articles: int = DEFAULT_ARTICLES, outlets: int = DEFAULT_OUTLETS, floor_sample: int = FLOOR_SAMPLE) -> dict:
    pages_by_outlet, visits, htmls = build_history(articles, outlets)
    # The floor before and after the imports; the faster of the two is the one they are held to.
    floor_before, sampled = floor_rate(htmls, floor_sample)
    embedder = get_embedder()
    with tempfile.TemporaryDirectory(prefix="crosscurrent-imports-") as folder, \
            outlets_serving(outlets, pages_by_outlet) as bases:
        store = Store(Path(folder) / "fetched" / "crosscurrent.db")
        engine = Engine(store, embedder)
        engine.warm()
        items = imports.history_items([{"url": bases[o] + path, "visited_at": ms} for o, path, ms in visits])
        seconds, status = import_seconds(engine, "benchmark history", "browser history", items)
        stored = store.counts()["articles"]
        store.close()
        # The same pages from an export that carries them (as Wallabag's and Omnivore's do): nothing to fetch.
        store = Store(Path(folder) / "carried" / "crosscurrent.db")
        engine = Engine(store, embedder)
        page_of = {bases[o] + path: html for (o, path, _), html in zip(visits, htmls)}
        carried = [imports.Item(label=item.label, url=item.url, saved_at=item.saved_at, html=page_of[item.url])
                   for item in items]
        carried_seconds, carried_status = import_seconds(engine, "benchmark export", "export with pages", carried)
        store.close()
    floor_after, _ = floor_rate(htmls, floor_sample)
    floor = max(floor_before, floor_after)
    threaded, _ = floor_rate(htmls, floor_sample, on_a_thread=True)
    rate = status["done"] / seconds
    carried_rate = carried_status["done"] / carried_seconds
    return {"articles": articles, "outlets": outlets, "model": embedder_name(),
            "pause_per_host_s": fetcher.DELAY, "fetch_workers": imports.FETCH_WORKERS,
            "seconds": round(seconds, 1), "created": status["created"], "duplicates": status["duplicates"],
            "skipped": len(status["skipped"]), "stored": stored, "error": status["error"],
            "pause_bound_articles_per_s": round(outlets / fetcher.DELAY, 1) if fetcher.DELAY else None,
            "import_articles_per_s": round(rate, 2), "floor_articles_per_s": round(floor, 2),
            "floor_before_after": [round(floor_before, 2), round(floor_after, 2)], "floor_sample": sampled, "ratio": round(rate / floor, 2),
            "carried_articles_per_s": round(carried_rate, 2), "carried_created": carried_status["created"],
            "carried_ratio": round(carried_rate / floor, 2),
            "floor_on_a_thread_articles_per_s": round(threaded, 2), "ratio_to_threaded_floor": round(rate / threaded, 2)}


def report(result: dict) -> str:
    bound = (f"the pause per host allows at most {result['pause_bound_articles_per_s']} articles/s"
             if result["pause_bound_articles_per_s"] else "no pause between requests")
    return (f"imports ({result['articles']} generated articles over {result['outlets']} loopback outlets, "
            f"{result['pause_per_host_s']:g} s pause per host, {result['fetch_workers']} fetch workers; "
            f"model {result['model']})\n"
            f"  import {result['import_articles_per_s']} articles/s ({result['seconds']} s; {result['created']} new, "
            f"{result['duplicates']} already stored, {result['skipped']} skipped; {bound})\n"
            f"  capture floor {result['floor_articles_per_s']} articles/s (extraction + claims + embedding of "
            f"{result['floor_sample']} of the same pages; the faster of before and after the import: "
            f"{' / '.join(map(str, result['floor_before_after']))})\n"
            f"  import / floor {result['ratio']}\n"
            f"  the same pages from an export that carries them: {result['carried_articles_per_s']} articles/s "
            f"({result['carried_created']} new; / floor {result['carried_ratio']})\n"
            f"  the floor measured on a thread of its own: {result['floor_on_a_thread_articles_per_s']} articles/s "
            f"(import / that floor {result['ratio_to_threaded_floor']})")
