"""The `crosscurrent` command. With no subcommand it opens the companion window."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import webbrowser
from pathlib import Path

import click

from . import __version__, running
from .settings import BY_NAME, load_settings

log = logging.getLogger(__name__)


def _settings(ctx: click.Context) -> dict:
    return ctx.obj["settings"]


def _app(ctx: click.Context):
    """The app for commands that work on the data folder directly (no HTTP)."""
    if "app" not in ctx.obj:
        from .app import create_app

        s = _settings(ctx)
        ctx.obj["app"] = create_app({"data_dir": s["data_dir"], "port": s["port"], "model": s["model"]})
    return ctx.obj["app"]


def _state(ctx: click.Context):
    return _app(ctx).extensions["crosscurrent"]


class ClearErrors(click.Group):
    """Storage and permission errors end a command with one line and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        from .storage import StorageError, describe

        try:
            return super().invoke(ctx)
        except (StorageError, sqlite3.Error, OSError) as exc:
            data_dir = ctx.obj["settings"]["data_dir"] if ctx.obj and "settings" in ctx.obj else None
            problem = describe(exc, (data_dir / "crosscurrent.db") if data_dir else "the data folder")
            if problem is not None:
                raise click.ClickException(problem.message) from None
            if isinstance(exc, OSError):
                where = f" ({exc.filename})" if exc.filename else ""
                raise click.ClickException(f"{exc.strerror or exc}{where}") from None
            raise click.ClickException(f"The database could not be used: {exc}") from None


@click.group(cls=ClearErrors, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=BY_NAME["data_dir"].help + " [env: CROSSCURRENT_DATA]")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help=BY_NAME["port"].help + " [env: CROSSCURRENT_PORT; default: 7412]")
@click.option("--model", default=None, help=BY_NAME["model"].help + " [env: CROSSCURRENT_MODEL]")
@click.version_option(__version__, prog_name="crosscurrent")
@click.pass_context
def cli(ctx: click.Context, data_dir, port, model):
    """Crosscurrent: where else have I read this, and who says otherwise.

    With no command, opens the Crosscurrent window (starting the local server if none runs).
    Everything stays in your data folder on this computer.
    """
    try:
        settings = load_settings({"data_dir": data_dir, "port": port, "model": model})
    except (ValueError, KeyError) as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(level=getattr(logging, str(settings["log_level"]).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["settings"] = settings
    if ctx.invoked_subcommand is None:
        from companion.main import run

        sys.exit(run(data_dir=settings["data_dir"], port=settings["port"]))


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on (same as the main --port).")
@click.option("--no-warm", is_flag=True, help="Load the model on the first capture instead of at start.")
@click.pass_context
def serve(ctx: click.Context, port: int | None, no_warm: bool):
    """Run the local server only (no window), on 127.0.0.1."""
    from werkzeug.serving import make_server

    if port is not None:
        _settings(ctx)["port"] = port
    port = _settings(ctx)["port"]
    _check_port_free(port)
    app = _app(ctx)
    server = make_server("127.0.0.1", port, app, threaded=True)
    problem = app.extensions["crosscurrent"].store.check_writable()
    if problem is not None:
        click.echo(f"Warning: {problem.reason} Reading works; captures are refused until it can write.", err=True)
    if app.extensions["crosscurrent"].store.needs_reindex():
        click.echo("Note: articles stored by an earlier version were not compared the way this version "
                   "groups stories; run `crosscurrent reindex` once to regroup them.", err=True)
    if not no_warm:
        threading.Thread(target=app.extensions["crosscurrent"].engine.warm, name="warm", daemon=True).start()
    click.echo(f"Crosscurrent {__version__} serving http://127.0.0.1:{port}/ "
               f"(data: {_settings(ctx)['data_dir']}). Ctrl-C stops it.")
    running.announce(_settings(ctx)["data_dir"], port)
    # A service manager stops with SIGTERM: leave as on Ctrl-C, so the port file goes too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        running.withdraw(_settings(ctx)["data_dir"], port)
        server.server_close()
        app.extensions["crosscurrent"].engine.close()


def _check_port_free(port: int) -> None:
    import socket

    with socket.socket() as probe:
        # Like the server itself: a port left in TIME_WAIT by a previous run is free to take.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise click.ClickException(
                f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}. Is Crosscurrent already running? "
                "Use --port to pick another port.") from None


@cli.command("open")
@click.option("--print-only", is_flag=True, help="Print the signed-in address instead of opening a browser.")
@click.pass_context
def open_ui(ctx: click.Context, print_only: bool):
    """Open the reading history in your web browser, signed in.

    Finds the running server of your data folder: the port it wrote in server.json there, else --port.
    """
    from urllib.parse import quote

    from .security import read_ui_key

    s = _settings(ctx)
    key = read_ui_key(s["data_dir"])
    port, tried = running.find_server(s["data_dir"], s["port"], key)
    if port is None:
        raise click.ClickException("\n".join([
            f"No Crosscurrent server of the data folder {s['data_dir']} is running. Tried:",
            *(f"  port {line}" for line in tried),
            "Start it with `crosscurrent` (the window) or `crosscurrent serve`, or give its port with --port."]))
    # A single-use ticket, not the key itself: the address lands in the browser's history.
    ticket = running.ui_ticket(port, key)
    if ticket is None:
        raise click.ClickException(f"The server on port {port} stopped answering; start it again.")
    url = running.url_of(port, f"/login?ticket={quote(ticket)}")
    if print_only or not webbrowser.open(url):
        click.echo(url)


@cli.command("token")
@click.argument("name")
@click.pass_context
def token(ctx: click.Context, name: str):
    """Print a new API token for a script, named NAME (revoke it with `crosscurrent pair revoke ID`).

    The token goes to standard output alone, so TOKEN=$(crosscurrent token NAME) works; send it as
    `Authorization: Bearer TOKEN`.
    """
    from .pairing import clean_name
    from .security import hash_secret, new_token

    store = _state(ctx).store
    secret = new_token()
    with store.write() as conn:
        token_id = store.insert_token(conn, clean_name(name), None, hash_secret(secret))
    click.echo(f"Token {token_id} ({clean_name(name)}) created: it is shown once. "
               f"Revoke it with `crosscurrent pair revoke {token_id}`.", err=True)
    click.echo(secret)


@cli.group(cls=ClearErrors, invoke_without_command=True)
@click.option("--code", is_flag=True, help="Print a one-time code to type into the extension's options "
                                           "(it replaces any earlier code; 5 wrong tries lock code pairing).")
@click.option("--new-key", is_flag=True, help="Replace the window's sign-in key (ui.key): every signed-in window "
                                              "and browser tab is signed out, also on a running server.")
@click.pass_context
def pair(ctx: click.Context, code: bool, new_key: bool):
    """Pair a browser: show waiting requests and paired browsers, print a one-time code, or replace the
    window's sign-in key."""
    if ctx.invoked_subcommand is not None:
        return
    if new_key:
        from .security import rotate_ui_key

        rotate_ui_key(_settings(ctx)["data_dir"])
        click.echo("New sign-in key written: every window and tab is signed out. Reopen Crosscurrent "
                   "(or run `crosscurrent open`) to sign in again.")
        if not code:
            return
    store = _state(ctx).store
    if code:
        from .pairing import CODE_MINUTES, new_code

        click.echo(f"Type this code in the Crosscurrent extension's options within {CODE_MINUTES} minutes: "
                   f"{new_code(store)}")
        return
    _print_pairing(store)


def _print_pairing(store) -> None:
    from .pairing import REQUEST_MINUTES

    pending = store.pending_pair_requests(REQUEST_MINUTES)
    click.echo(f"Waiting to pair (each request expires {REQUEST_MINUTES} minutes after it was made):"
               if pending else "No browser is waiting to pair.")
    for req in pending:
        origin = req["origin"] or "no extension origin: not sent by a browser extension"
        click.echo(f"  {req['id']}  {req['name']}  from {origin}, asked {req['created_at']}, "
                   f"expires {req['expires_at']}  -> crosscurrent pair approve {req['id']}")
    tokens = store.list_tokens()
    click.echo("Paired browsers:" if tokens else "No paired browsers.")
    for tok in tokens:
        state = f"revoked {tok['revoked_at']}" if tok["revoked_at"] else f"last used {tok['last_used_at'] or 'never'}"
        click.echo(f"  {tok['id']}  {tok['name']}  (paired {tok['created_at']}, {state})")


@pair.command("list")
@click.pass_context
def pair_list(ctx: click.Context):
    """List waiting requests and paired browsers."""
    _print_pairing(_state(ctx).store)


@pair.command("approve")
@click.argument("request_id", type=int)
@click.pass_context
def pair_approve(ctx: click.Context, request_id: int):
    """Approve a waiting pairing request."""
    _decide(ctx, request_id, True)
    click.echo(f"Approved request {request_id}: the browser will finish pairing by itself.")


def _decide(ctx: click.Context, request_id: int, approve: bool) -> None:
    from .pairing import REQUEST_MINUTES

    if not _state(ctx).store.decide_pair_request(request_id, approve, REQUEST_MINUTES):
        raise click.ClickException(f"No waiting pairing request {request_id} (see `crosscurrent pair list`).")


@pair.command("refuse")
@click.argument("request_id", type=int)
@click.pass_context
def pair_refuse(ctx: click.Context, request_id: int):
    """Refuse a waiting pairing request."""
    _decide(ctx, request_id, False)
    click.echo(f"Refused request {request_id}.")


@pair.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def pair_revoke(ctx: click.Context, token_id: int):
    """Revoke a paired browser: its captures are refused until it pairs again."""
    if not _state(ctx).store.revoke_token(token_id):
        raise click.ClickException(f"No active paired browser {token_id} (see `crosscurrent pair list`).")
    click.echo(f"Revoked browser {token_id}.")


# Without a terminal (a pipe, a log file) the import says where it is every this many pages.
PROGRESS_EVERY = 50


@cli.command("import")
@click.argument("source", metavar="FILE_OR_FOLDER", type=click.Path(exists=True, path_type=Path))
@click.pass_context
def import_pages(ctx: click.Context, source: Path):
    """Import saved .html pages (a page or a folder, searched recursively) or an export of Pocket,
    Instapaper, Wallabag, Omnivore or Karakeep, or a bookmarks file.

    Items are imported oldest first, and each item's save date (a file's modification time) becomes the day
    it was read: stories and contradictions are found against what was read before, so reading order
    matters. Addresses without their page in the export are fetched, politely; addresses already stored
    are skipped, so an interrupted import run again continues where it stopped.
    """
    from . import imports

    try:
        kind, items = imports.read_items(source)
    except imports.ImportFormatError as exc:
        raise click.ClickException(str(exc)) from None
    importer = imports.Importer(_state(ctx).engine)
    unit = "pages" if kind.startswith("saved") else "items"
    with _progress(items, f"Importing {len(items)} {unit}" + ("" if unit == "pages" else f" ({kind})"),
                   lambda done: f"{done}/{len(items)} {unit}: {importer.tally()}") as bar:
        importer.add_all(items, bar)
    click.echo(f"Imported {importer.created} new articles, {importer.duplicates} already stored, "
               f"{len(importer.skipped)} skipped.")
    for label, reason in importer.skipped:
        click.echo(f"  skipped {label}: {reason}", err=True)


@contextlib.contextmanager
def _progress(items: list, label: str, status):
    """A progress bar on a terminal; elsewhere a line on stderr every PROGRESS_EVERY items and at the end."""
    if sys.stderr.isatty():
        with click.progressbar(items, label=label, file=sys.stderr,
                               item_show_func=lambda p: p.name[:40] if p else "") as bar:
            yield bar
        return

    def lines():
        click.echo(label, err=True)
        for done, item in enumerate(items, start=1):
            yield item
            if done % PROGRESS_EVERY == 0 or done == len(items):
                click.echo(status(done), err=True)

    yield lines()


DAY = click.DateTime(["%Y-%m-%d"])


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "md", "html"]), default="csv", show_default=True,
              help="csv, json, md (a zip of Markdown notes) or html (browser bookmarks).")
@click.option("--read-from", "--from", "read_from", type=DAY, default=None, metavar="DAY",
              help="First day you read the articles (YYYY-MM-DD); --from is the same.")
@click.option("--read-to", "--to", "read_to", type=DAY, default=None, metavar="DAY",
              help="Last day you read the articles (YYYY-MM-DD); --to is the same.")
@click.option("--published-from", type=DAY, default=None, metavar="DAY",
              help="First publication day (YYYY-MM-DD); leaves out articles without a known date.")
@click.option("--published-to", type=DAY, default=None, metavar="DAY",
              help="Last publication day (YYYY-MM-DD); leaves out articles without a known date.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; required for md).")
@click.pass_context
def export_log(ctx: click.Context, fmt: str, read_from, read_to, published_from, published_to,
               output: Path | None):
    """Export the reading log.

    Each article's date in the export is the day it was published (else the day you read it); the CSV's
    last column and the notes' front matter give the day you read it. Filter on either with the options.
    """
    from . import export
    from .storage import write_private

    if fmt == "md" and output is None:
        raise click.UsageError("--format md writes a zip of notes: give a file with -o.")

    def day(value):
        return value and value.date().isoformat()

    articles = _state(ctx).store.export_articles(day(read_from), day(read_to), published_from=day(published_from),
                                                 published_to=day(published_to))
    result = export.render(fmt, articles)
    if output is None:
        sys.stdout.buffer.write(result.body)
        sys.stdout.flush()
    else:
        write_private(output, result.body)
        click.echo(f"Wrote {output} ({len(result.body):,} bytes).", err=True)


@cli.command()
@click.pass_context
def reindex(ctx: click.Context):
    """Re-extract and re-embed every article from its stored HTML, and rebuild links and stories."""
    engine = _state(ctx).engine
    total = len(engine.store.article_ids())
    if total == 0:
        click.echo("Nothing to reindex: no articles yet.")
        return
    with click.progressbar(length=total, label=f"Reindexing {total} articles", file=sys.stderr) as bar:
        summary = engine.reindex(progress=lambda: bar.update(1))
    click.echo(f"Reindexed {summary['articles']} articles: {summary['claims']} claims, {summary['links']} links, "
               f"{summary['stories']} stories ({summary['kept']} kept their old text because the page no longer "
               "extracts).")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool):
    """Print reading statistics."""
    figures = _state(ctx).store.stats()
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    totals = figures["totals"]
    click.echo(f"{totals['articles']} articles from {totals['sites']} outlets, {totals['claims']} claims, "
               f"{totals['stories']} stories, {totals['contradictions']} open contradictions.")
    if figures["sites"]:
        click.echo("Outlets read most:")
        for row in figures["sites"][:10]:
            click.echo(f"  {row['count']:>5}  {row['site']}")
    if figures["per_week"]:
        click.echo("Articles per week:")
        for row in figures["per_week"][-8:]:
            click.echo(f"  {row['week']}  {row['count']}")


def main() -> None:
    # Whatever this process writes (database, keys, exports) holds the reading history: the reader's alone.
    os.umask(0o077)
    cli(prog_name="crosscurrent")


if __name__ == "__main__":
    main()
