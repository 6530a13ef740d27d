"""`python -m bench`: predict, score, run everything, or measure speed.

    python -m bench predict TASK --data DIR --out FILE [--limit N]
    python -m bench score TASK --data DIR --pred FILE
    python -m bench all [--quick] [--data-root DIR] [--out DIR] [--skip-without-data]
    python -m bench speed [--sizes 1000,10000,100000] [--keep-history DIR] [--out DIR]
    python -m bench imports [--articles 1000] [--outlets 50] [--floor-sample 100]
    python -m bench train stance --data DIR [--out server/models/stance.json] [--cache FILE]

`--model hash` (or CROSSCURRENT_BENCH_MODEL=hash) runs without the embedding model: for tests only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import common

log = logging.getLogger(__name__)

TASKS = ("extraction", "claims", "stance", "nli", "stories", "coverage")
PRED_SUFFIX = {"stance": ".csv"}
FLOORS = Path(__file__).with_name("floors.json")
CLAIM_WEIGHTS = (0.0, 0.03, 0.1, 0.3)       # lexical_weight values reported beside the default (0.1)


# -- predict and score ------------------------------------------------------------------------------
def predict(task: str, data: Path, out: Path, limit: int | None = None) -> dict:
    module = importlib.import_module(f"bench.{task}")
    options = inspect.signature(module.predict).parameters
    extra = {}
    if "embedder" in options:
        extra["embedder"] = common.get_embedder()     # one model for the whole run
    if "jobs" in options:
        extra["jobs"] = os.cpu_count() or 1
    return module.predict(Path(data), Path(out), limit, **extra) or {}


def key_figures(result: dict) -> str:
    flat = common.flatten(result.get("metrics", {}))
    primary, value = common.primary_figure(result)
    shown = [f"{primary}={value:.4f}"] if value is not None else []
    for name, figure in flat.items():
        if name != primary and len(shown) < 8 and isinstance(figure, float):
            shown.append(f"{name}={figure:.4f}")
    return "  ".join(shown)


# -- all ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    task: str
    primary: str = ""
    value: float | None = None
    figures: dict = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""
    error: str = ""
    confusion: dict | None = None      # the scorer's matrix (stance, nli): rows gold, columns predicted


@dataclass
class Plan:
    """Items per task: None = the whole set. `all` keeps to 30 minutes on two cores; --quick to a few."""
    extraction: int | None
    claims_queries: int | None
    claims_pool: int | None          # verified claims kept besides the gold ones (None = all 14k)
    stance: int | None
    emergent: int | None
    nli: int | None
    stories: int | None
    coverage_web: int | None        # unrelated real pages captured (the story stream is always whole)
    speed_sizes: tuple[int, ...]
    text_modes: tuple[str, ...]


FULL = Plan(extraction=None, claims_queries=None, claims_pool=None, stance=4000, emergent=None, nli=None,
            stories=None, coverage_web=None, speed_sizes=(1000, 10000), text_modes=("text", "title+text"))
QUICK = Plan(extraction=60, claims_queries=150, claims_pool=2000, stance=300, emergent=300, nli=300,
             stories=None, coverage_web=60, speed_sizes=(), text_modes=("text",))


def _scored(row: Row, task: str, data: Path, pred: Path) -> Row:
    status, result, message = common.score(task, data, pred)
    if status != 0 or result is None:
        row.error = f"scorer exit {status}: {message[-300:]}"
        return row
    row.primary, row.value = common.primary_figure(result)
    row.figures = common.flatten(result["metrics"])
    row.confusion = result.get("confusion")
    return row


def _task_data(root: Path, name: str, task: str, limit: int | None, scratch: Path, **subset) -> tuple[Path, str]:
    source = root / name
    if limit is None and not subset.get("claims_limit"):
        return source, "all items"
    folder = common.make_subset(task, source, scratch / f"{name}-subset", limit or 10**9, **subset)
    if subset.get("held_out_bodies"):
        return folder, f"first {limit} rows of bodies the stance layer was not trained on"
    return folder, f"first {limit} items" if limit else "all items"


def _predict_row(name: str, task: str, data: Path, pred: Path, note: str, runner) -> Row:
    row = Row(name, task, note=note)
    started = time.perf_counter()
    try:
        runner(data, pred)
    except (ImportError, AttributeError) as exc:
        row.error = f"not available: {exc}"
        return row
    except Exception as exc:       # a broken benchmark must not stop the others
        log.exception("%s failed", name)
        row.error = f"{type(exc).__name__}: {exc}"
        return row
    row.seconds = round(time.perf_counter() - started, 1)
    return _scored(row, task, data, pred)


def run_all(root: Path, out_dir: Path, quick: bool) -> tuple[list[Row], dict | None]:
    plan = QUICK if quick else FULL
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="crosscurrent-all-") as scratch_name:
        scratch = Path(scratch_name)

        data, note = _task_data(root, "extraction", "extraction", plan.extraction, scratch)
        for name, fn in (("extraction", "predict"), ("extraction baseline (trafilatura)", "baseline")):
            def runner(d, p, fn=fn):
                module = importlib.import_module("bench.extraction")
                getattr(module, fn)(d, p, None, jobs=os.cpu_count() or 1)
            rows.append(_predict_row(name, "extraction", data, scratch / f"{fn}-extraction.jsonl", note, runner))

        from . import claims
        data, note = _task_data(root, "claims", "claims", plan.claims_queries, scratch,
                                claims_limit=plan.claims_pool)
        if plan.claims_pool:
            note += f", {plan.claims_pool} claims + gold"
        for mode in plan.text_modes:
            preds = {"fused": scratch / f"claims-{mode}-fused.jsonl", "bm25": scratch / f"claims-{mode}-bm25.jsonl"}
            weights = CLAIM_WEIGHTS if mode == plan.text_modes[0] and not quick else ()
            preds.update({f"w={w:g}": scratch / f"claims-{mode}-w{w:g}.jsonl" for w in weights})
            if mode == plan.text_modes[0]:
                preds["persisted"] = scratch / f"claims-{mode}-persisted.jsonl"
                preds["binary"] = scratch / f"claims-{mode}-binary.jsonl"
            started = time.perf_counter()
            try:
                claims.run(data, preds, mode=mode, weights=weights)
                failure = ""
            except Exception as exc:
                log.exception("claims failed")
                failure = f"{type(exc).__name__}: {exc}"
            seconds = round(time.perf_counter() - started, 1)
            for ranker, pred in preds.items():
                if mode != "text" and ranker == "bm25":
                    continue
                label = {"fused": "claims (fused)", "bm25": "claims baseline (BM25)",
                         "persisted": "claims (fused, through the saved graph)",
                         "binary": "claims (fused, through a graph of binary codes)"}.get(
                    ranker, f"claims lexical_weight {ranker[2:]}")
                row = Row(label + ("" if mode == "text" else f" [{mode}]"), "claims", note=note, seconds=seconds)
                rows.append(_scored(row, "claims", data, pred) if not failure else Row(**{**asdict(row), "error": failure}))

        # Each stance and NLI row has its trivial baselines beside it, from the same items.
        from . import nli as nli_bench, stance as stance_bench
        for name, folder, limit in (("stance", "stance", plan.stance), ("stance-emergent", "stance-emergent", plan.emergent)):
            # FNC-1 rows are scored only on bodies the learned stance layer never saw (bench/train.py).
            from .train import HOLD_OUT
            held_out = {"held_out_bodies": HOLD_OUT} if folder == "stance" else {}
            data, note = _task_data(root, folder, "stance", limit, scratch, **held_out)
            cut = scratch / f"{name}-relatedness.csv"
            rows.append(_predict_row(name, "stance", data, scratch / f"{name}.csv", note, lambda d, p, cut=cut:
                                     stance_bench.predict(d, p, embedder=common.get_embedder(), relatedness_out=cut)))
            if name == "stance":
                rows.append(_scored(Row(f"{name} baseline (relatedness cut)", "stance", note=note), "stance", data, cut))
            rows.append(_predict_row(f"{name} baseline (always discuss)", "stance", data, scratch / f"{name}-discuss.csv",
                                     note, lambda d, p: stance_bench.constant(d, p, label="discuss")))
        for task, limit in (("nli", plan.nli), ("stories", plan.stories)):
            data, note = _task_data(root, task, task, limit, scratch)
            rows.append(_predict_row(task, task, data, scratch / f"{task}.jsonl", note,
                                     lambda d, p, task=task: predict(task, d, p)))
            if task == "nli":
                rows.append(_predict_row("nli baseline (always neutral)", "nli", data, scratch / "nli-neutral.jsonl",
                                         note, lambda d, p: nli_bench.constant(d, p, label="neutral")))
        rows.extend(_coverage_rows(root, scratch, plan.coverage_web))

    speed_results = None
    if plan.speed_sizes:
        from . import speed

        started = time.perf_counter()
        speed_results = speed.run(plan.speed_sizes)
        speed_results["seconds"] = round(time.perf_counter() - started, 1)
        speed_results["sizes_run"] = list(plan.speed_sizes)
        from . import imports

        speed_results["imports"] = imports.run()       # full runs only: a few minutes more
    return rows, speed_results


def _coverage_rows(root: Path, scratch: Path, web_limit: int | None) -> list[Row]:
    """What the popup shows after each capture (coverage), on the story stream and on unrelated real pages,
    each beside the naive TF-IDF threshold of the same run."""
    from . import coverage

    rows = []
    for name, limit in (("coverage", None), ("coverage-web", web_limit)):
        if not (root / name).is_dir():
            continue
        data, note = _task_data(root, name, "coverage", limit, scratch)
        rows.append(_predict_row(name, "coverage", data, scratch / f"{name}.jsonl", note,
                                 lambda d, p: predict("coverage", d, p)))
        rows.append(_predict_row(f"{name} baseline (TF-IDF >= {coverage.BASELINE_THRESHOLD})", "coverage", data,
                                 scratch / f"{name}-baseline.jsonl", note, lambda d, p: coverage.baseline(d, p)))
    return rows


def table(rows: list[Row]) -> str:
    lines = [f"{'benchmark':<40} {'primary':<14} {'value':>7} {'sec':>6}  items / notes"]
    for row in rows:
        if row.error:
            lines.append(f"{row.name:<40} {'-':<14} {'-':>7} {row.seconds:>6}  {row.note}; {row.error}")
            continue
        extra = ""
        if row.task == "claims":
            extra = "  " + " ".join(f"{k}={row.figures[k]:.4f}" for k in ("recall@5", "recall@20", "mrr") if k in row.figures)
        elif row.task == "stories":
            extra = "  " + " ".join(f"{k}={row.figures[k]:.4f}" for k in ("precision@5", "recall@5", "bcubed_f1") if k in row.figures)
        elif row.task == "coverage":
            extra = "  " + " ".join(f"{k}={row.figures[k]:.4f}" for k in ("precision", "recall", "false_alarm_rate")
                                    if k in row.figures)
        elif row.task in ("stance", "nli"):
            extra = "  " + " ".join(f"{k}={v:.4f}" for k, v in row.figures.items() if "macro" in k or k == "accuracy")
        lines.append(f"{row.name:<40} {row.primary:<14} {row.value:>7.4f} {row.seconds:>6}  {row.note}{extra}")
    for row in rows:
        if row.confusion and not row.error:
            lines.append(f"\n{row.name}: confusion (rows gold, columns predicted)")
            lines.append(f"{'':>14}" + "".join(f"{c:>14}" for c in row.confusion["cols_pred"]))
            for label, counts in zip(row.confusion["rows_gold"], row.confusion["matrix"]):
                lines.append(f"{label:>14}" + "".join(f"{n:>14}" for n in counts))
    return "\n".join(lines)


def _checks(spec) -> list[tuple[str | None, str, float]]:
    """A floors.json entry as (figure or None for the row's primary, "min" or "max", bound) checks: a plain
    number is a floor on the primary figure; a list holds {"figure", "min" | "max"} objects, so a rate that
    must stay low (false alarms) has a ceiling."""
    if isinstance(spec, (int, float)):
        return [(None, "min", float(spec))]
    return [(item.get("figure"), "min" if "min" in item else "max", float(item.get("min", item.get("max"))))
            for item in spec]


def _check_row(row: Row, spec) -> list[tuple[str, str, bool]]:
    """(figure name, "figure vs bound" text, holds) for each check of one row."""
    results = []
    for figure, kind, bound in _checks(spec):
        name = figure or row.primary or "primary"
        value = row.value if figure is None else row.figures.get(figure)
        if row.error or value is None:
            word = "floor" if kind == "min" else "ceiling"
            results.append((name, f"no figure ({row.error or 'not scored'}); {word} {bound:g}", False))
            continue
        holds = value >= bound if kind == "min" else value <= bound
        where = "below the floor" if kind == "min" else "above the ceiling"
        results.append((name, f"{value:.4f} {where if not holds else ('floor' if kind == 'min' else 'ceiling')} {bound:g}",
                        holds))
    return results


def baselines_of(row: Row, rows: list[Row]) -> list[Row]:
    """The trivial baselines computed for a row in the same run: rows named "<task> baseline (...)" where
    the row is "<task>" or "<task> (variant)"."""
    task = row.name.split(" (")[0]
    return [other for other in rows if other.name.startswith(f"{task} baseline (") and other is not row]


def _floor_below_baselines(row: Row, spec, rows: list[Row]) -> list[str]:
    """A floor must sit above every trivial baseline of the same run, or a fall to that baseline passes."""
    floors = [bound for figure, kind, bound in _checks(spec) if figure is None and kind == "min"]
    return [f"{row.name}: floor {floor:g} does not sit above {base.name} ({base.value:.4f})"
            for floor in floors for base in baselines_of(row, rows)
            if not base.error and base.value is not None and base.value >= floor]


def check_floors(rows: list[Row]) -> list[str]:
    floors = json.loads(FLOORS.read_text()) if FLOORS.is_file() else {}
    failures = []
    for row in rows:
        if row.name not in floors:
            continue
        for name, text, holds in _check_row(row, floors[row.name]):
            if not holds:
                failures.append(f"{row.name}: {text}" if text.startswith("no figure") else f"{row.name}: {name} {text}")
        failures += _floor_below_baselines(row, floors[row.name], rows)
    return failures


def floor_report(rows: list[Row]) -> tuple[list[str], list[str]]:
    """One line per check (its figure beside its floor or ceiling) and a verdict; then the failures."""
    floors = json.loads(FLOORS.read_text()) if FLOORS.is_file() else {}
    failures = check_floors(rows)
    lines = []
    for row in rows:
        if row.name not in floors:
            continue
        for name, text, holds in _check_row(row, floors[row.name]):
            state = "ok" if holds else ("BELOW" if "floor" in text or "no figure" in text else "ABOVE")
            lines.append(f"floor  {row.name:<44} {name:<18} {text:<32}  {state}")
    lines += [f"floor  {failure}  BELOW" for failure in failures if "does not sit above" in failure]
    if failures:
        lines.append(f"{len(failures)} of {len(lines)} floors broken (bench/floors.json)")
    else:
        lines.append(f"all floors hold ({len(lines)} checked against bench/floors.json)")
    return lines, failures


# -- command line ------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Crosscurrent quality and speed benchmarks.")
    parser.add_argument("--model", help="embedding model: all-MiniLM-L6-v2 (default) or hash (tests only)")
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("predict", help="write predictions for one task")
    p.add_argument("task", choices=TASKS)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--limit", type=int)
    s = commands.add_parser("score", help="score predictions with the shared scorer")
    s.add_argument("task", choices=TASKS)
    s.add_argument("--data", type=Path, required=True)
    s.add_argument("--pred", type=Path, required=True)
    a = commands.add_parser("all", help="predict and score every task, baselines and speed")
    a.add_argument("--quick", action="store_true", help="small fixed subsets; fail below bench/floors.json")
    a.add_argument("--data-root", type=Path, default=None,
                   help="folder of the task folders (default: ../shared/data beside the repository)")
    a.add_argument("--skip-without-data", action="store_true",
                   help="exit 0 with a message when the data folder is missing (for `make test`)")
    a.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    v = commands.add_parser("speed", help="capture latency, import rate, memory and start-up")
    v.add_argument("--sizes", type=common.history_sizes, default=(1000, 10000, 100000))
    v.add_argument("--keep-history", type=Path, metavar="DIR", help=common.KEEP_HISTORY_HELP)
    v.add_argument("--out", type=Path, default=Path(__file__).with_name("results"), metavar="DIR",
                   help="folder for <time>-speed.json (default: bench/results)")
    i = commands.add_parser("imports", help="import rate of a generated browser history against the capture floor")
    i.add_argument("--articles", type=common.count_between(1, 100_000), default=1000)
    i.add_argument("--outlets", type=common.count_between(1, 250), default=50,
                   help="loopback outlets the history spans, 127.0.0.2 onwards (1 to 250; default: 50)")
    i.add_argument("--floor-sample", type=common.count_between(1, 10_000), default=100)
    # Listed for --help only: main() hands `train` to bench/train.py, which reads its own options.
    commands.add_parser("train", help="train the learned stance layer (python -m bench train stance --help)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:  # its own options: bench/train.py
        from . import train

        return train.main(argv[1:])
    args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.model:
        os.environ[common.MODEL_ENV] = args.model

    if args.command == "predict":
        print(json.dumps(predict(args.task, args.data, args.out, args.limit)))
        return 0
    if args.command == "score":
        status, result, message = common.score(args.task, args.data, args.pred)
        if status != 0:
            print(message or f"scorer exit {status}", file=sys.stderr)
            return status
        print(f"{args.task}: {key_figures(result)}")
        print(json.dumps(result.get("counts", {})))
        return 0
    if args.command == "speed":
        from . import speed

        if not speed.test_pages():
            print(f"no test pages at {common.shared_dir() / 'pages'}: bench speed captures them (give the folder "
                  "above them with CROSSCURRENT_SHARED)", file=sys.stderr)
            return 2
        results = speed.run(args.sizes, keep=args.keep_history)
        print(speed.report(results))
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-speed.json"
        path.write_text(json.dumps(results, indent=1))
        print(f"results: {path}")
        return 0

    if args.command == "imports":
        from . import imports

        print(imports.report(imports.run(args.articles, args.outlets, args.floor_sample)))
        return 0

    root = args.data_root or common.data_root()
    if not root.is_dir():
        if args.skip_without_data:
            print(f"benchmarks skipped: no benchmark data at {root} (the data sets are not part of the "
                  "repository: give their folder with --data-root, or its parent with CROSSCURRENT_SHARED)")
            return 0
        print(f"no benchmark data at {root}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows, speed_results = run_all(root, args.out, args.quick)
    seconds = round(time.perf_counter() - started, 1)
    print(table(rows))
    if speed_results:
        from . import speed

        print()
        print(speed.report(speed_results) + f"\n(sizes run: {speed_results['sizes_run']}; 100000 via `python -m bench speed`)")
        if "imports" in speed_results:
            from . import imports

            print(imports.report(speed_results["imports"]))
    mode = "quick" if args.quick else "full"
    print(f"\n{mode} run: {seconds} s; model {common.embedder_name()}; "
          + ("subsets as noted per row" if args.quick else "stance subsampled as noted; everything else complete"))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps({"mode": mode, "seconds": seconds, "model": common.embedder_name(),
                                "rows": [asdict(r) for r in rows], "speed": speed_results}, indent=1))
    print(f"results: {path}")
    if args.quick:
        lines, failures = floor_report(rows)
        print("\n" + "\n".join(lines))
        for failure in failures:
            print("BELOW FLOOR " + failure, file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
