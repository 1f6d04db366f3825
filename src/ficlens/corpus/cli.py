"""`ficlens corpus run | export | errors`, `ficlens query` and `ficlens stats`."""
from __future__ import annotations

import csv
import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import Errors

err = Console(stderr=True)


def _out() -> Console:
    """Stdout; piped or redirected, tables get a wide page instead of being folded at 80 columns."""
    return Console(width=None if sys.stdout.isatty() else 240)


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class OutFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: int = 2):
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


corpus_app = typer.Typer(help="Analyse a whole archive into a store (DuckDB), export it to Parquet.",
                         no_args_is_help=True)


@corpus_app.command("run")
def run_cmd(
    sources: list[Path] = typer.Argument(..., help="Folders (recursive), .zip/.tar(.gz) archives, files listing "
                                                    "paths (one a line), or story files."),
    store: Path = typer.Option(..., "--store", "-s", help="The DuckDB store to fill (created if missing)."),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local (process pool) or ray (Ray Data)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Worker processes (default: one per core; 0: all in this process)."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join (default: a local Ray)."),
    force: bool = typer.Option(False, "--force", help="Redo stories already in the store."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Retry inputs that failed in an earlier run."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds one story may take (default 600)."),
    max_bytes: Optional[int] = typer.Option(None, "--max-bytes", help="Refuse story files larger than this."),
    batch_size: int = typer.Option(32, "--batch-size", help="Stories sent to a worker at once, at most."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary (for scripts)."),
    log: bool = typer.Option(False, "--log", help="One line per input on stderr: ok, duplicate, skipped or error."),
):
    """Analyse every story in SOURCE... into STORE. A rerun skips what is done; errors are recorded, not fatal."""
    from dataclasses import replace

    from ..limits import DEFAULT_LIMITS
    from .runner import run_corpus

    for s in sources:
        if not s.exists():
            _fail(Errors.E001.format(path=s))
        if not (s.is_dir() or s.is_file()):
            _fail(Errors.E213.format(path=s))
    limits = DEFAULT_LIMITS if max_bytes is None else replace(DEFAULT_LIMITS, max_bytes=max_bytes)

    def on_result(r: dict[str, Any]) -> None:
        if r["status"] == "error":
            line = f"error {r['message']}"
        else:
            line = f"{r['status']} {r.get('story_id') or '-'} {r.get('words') or 0} {r['path']}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    progress = None if quiet or log else _Progress()
    try:
        if progress:
            progress.start()
        summary = run_corpus(sources, store, engine=engine.value, workers=workers, address=address, force=force,
                             retry_errors=retry_errors, limits=limits, timeout=timeout, batch_stories=batch_size,
                             count=progress is not None, on_progress=progress.update if progress else None,
                             on_result=on_result if log else None)
    finally:
        if progress:
            progress.stop()
    if not quiet:
        rate = summary.words / summary.seconds if summary.seconds else 0.0
        err.print(f"{summary.stories:,} stories written ({summary.words:,} words, {rate:,.0f} words/s, "
                  f"{summary.workers} workers), {summary.skipped:,} skipped as done, {summary.duplicates:,} duplicates, "
                  f"{summary.errors:,} errors, in {summary.seconds:.1f} s -> {store}", highlight=False)
        if summary.errors:
            err.print(f"see the errors: ficlens corpus errors {store}", highlight=False)


class _Progress:
    """A rich progress bar: stories/s, words/s, errors and ETA."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, \
            TimeElapsedColumn, TimeRemainingColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("analysing"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rates]}"), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=err, transient=False)
        self.task = self.bar.add_task("run", total=None, rates="")

    def start(self):
        self.bar.start()

    def stop(self):
        self.bar.stop()

    def update(self, s) -> None:
        elapsed = max(s.elapsed, 1e-6)
        rates = (f"{s.stories / elapsed:,.1f} stories/s  {s.words / elapsed:,.0f} words/s  "
                 f"{s.errors} errors  {s.skipped} skipped")
        self.bar.update(self.task, total=s.total, completed=s.seen, rates=rates)


@corpus_app.command("export")
def export_cmd(
    store: Path = typer.Argument(..., help="The store."),
    parquet: Path = typer.Option(..., "--parquet", help="Folder for one Parquet file per table."),
    no_text: bool = typer.Option(False, "--no-text", help="Leave out the stories' text and JSON documents."),
):
    """Export every table of STORE to Parquet."""
    from .store import Store

    with Store(store, read_only=True) as db:
        files = db.export_parquet(parquet, include_text=not no_text)
    for f in files:
        err.print(f"wrote {f}", highlight=False)


@corpus_app.command("errors")
def errors_cmd(
    store: Path = typer.Argument(..., help="The store."),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f", help="table, csv or json."),
):
    """List the inputs a run could not analyse, and why."""
    from .store import Store

    with Store(store, read_only=True) as db:
        cols, rows = db.sql("SELECT path, error_type, message, run_id FROM errors ORDER BY path")
    _print_rows(cols, rows, fmt, title=f"{len(rows)} errors")


def query_cmd(
    store: Path = typer.Argument(..., help="The store (from `ficlens corpus run`)."),
    fandom: Optional[list[str]] = typer.Option(None, "--fandom", help="Fandom tag (repeat: all needed)."),
    relationship: Optional[list[str]] = typer.Option(None, "--relationship", help='"A/B" or "A & B", either order.'),
    character: Optional[list[str]] = typer.Option(None, "--character", help="Character tag, name or alias."),
    rating: Optional[list[str]] = typer.Option(None, "--rating", help="G, T, M, E or the full AO3 name (any of)."),
    warning: Optional[list[str]] = typer.Option(None, "--warning", help="Archive warning."),
    category: Optional[list[str]] = typer.Option(None, "--category", help="F/F, F/M, Gen, M/M, Multi, Other."),
    freeform: Optional[list[str]] = typer.Option(None, "--tag", help="Additional (freeform) tag."),
    pov: Optional[list[str]] = typer.Option(None, "--pov", help="first, second, third or reader-insert (any of)."),
    words: Optional[str] = typer.Option(None, "--words", help="Word range: 1000..5000, 1k.., ..5k."),
    text: Optional[str] = typer.Option(None, "--text", help='Full-text search (all words; "quoted" = exact phrase).'),
    sql: Optional[str] = typer.Option(None, "--sql", help="Any read-only SQL over the store's tables instead."),
    sort: Optional[str] = typer.Option(None, "--sort", help="relevance, title, words, quotes, analyzed; -x reverses."),
    limit: int = typer.Option(50, "--limit", help="Rows to show (0: all)."),
    offset: int = typer.Option(0, "--offset", help="Rows to skip."),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f", help="table, csv or json."),
):
    """Find stories by fandom, relationship, character, rating, POV, length and text, or run SQL."""
    from .query import Filters
    from .store import Store

    filters = Filters(fandom=fandom, relationship=relationship, character=character, rating=rating,
                      warning=warning, category=category, freeform=freeform, pov=pov, words=words, text=text)
    if sql and not filters.is_empty():
        _fail("--sql runs on its own: give either --sql or filters")
    with Store(store, read_only=True) as db:
        if sql:
            cols, rows = db.sql(sql)
            _print_rows(cols, rows, fmt, title=f"{len(rows)} rows")
            return
        result = db.search(filters, sort=sort, limit=limit or None, offset=offset)
    if fmt is OutFormat.table:
        table = Table(title=f"{len(result.rows)} of {result.total} stories", title_justify="left")
        for col in ("id", "title", "source", "fandom", "rating", "relationships", "words"):
            table.add_column(col, justify="right" if col == "words" else "left",
                             overflow="fold", no_wrap=col == "id")
        for r in result.rows:
            table.add_row(r["id"], r["title"] or "", r["source_path"] or "", ", ".join(r["fandoms"] or []),
                          r["rating"] or "", ", ".join(r["relationships"] or []), f"{r['words']:,}")
        _out().print(table)
        return
    cols = list(result.rows[0]) if result.rows else ["id", "title", "source_path", "fandoms", "rating",
                                                     "relationships", "words"]
    _print_rows(cols, [tuple(r[c] for c in cols) for r in result.rows], fmt, title="")


def stats_cmd(
    store: Path = typer.Argument(..., help="The store."),
    fandom: Optional[list[str]] = typer.Option(None, "--fandom", help="Only stories with this fandom tag."),
    relationship: Optional[list[str]] = typer.Option(None, "--relationship", help="Only this relationship."),
    character: Optional[list[str]] = typer.Option(None, "--character", help="Only stories with this character."),
    rating: Optional[list[str]] = typer.Option(None, "--rating", help="Only these ratings."),
    pov: Optional[list[str]] = typer.Option(None, "--pov", help="Only these points of view."),
    words: Optional[str] = typer.Option(None, "--words", help="Only this word range."),
    top: int = typer.Option(10, "--top", help="Rows per ranking."),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f", help="table or json."),
):
    """Top relationships, characters by lines spoken, POV and rating mix, words of dialogue by gender."""
    from .query import Filters
    from .store import Store

    filters = Filters(fandom=fandom, relationship=relationship, character=character, rating=rating, pov=pov,
                      words=words)
    with Store(store, read_only=True) as db:
        stats = db.stats(filters, top=top)
    if fmt is OutFormat.json:
        sys.stdout.write(json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is OutFormat.csv:
        _fail("stats prints a table or json")
    _out().print(f"[bold]{stats['stories']:,}[/bold] stories, {stats['words']:,} words "
              f"({stats['dialogue_words']:,} in dialogue), {stats['errors']:,} inputs with errors", highlight=False)
    sections = [
        ("Top relationships", ["relationship", "stories"], [(r["name"], r["stories"]) for r in stats["relationships"]]),
        ("Characters by lines spoken", ["character", "lines", "words", "stories"],
         [(c["name"], c["lines"], c["words"], c["stories"]) for c in stats["characters"]]),
        ("Point of view", ["pov", "stories"], [(p["pov"], p["stories"]) for p in stats["pov"]]),
        ("Rating", ["rating", "stories"], [(r["rating"], r["stories"]) for r in stats["rating"]]),
        ("Words of dialogue by gender", ["gender", "words", "lines", "share"],
         [(g["gender"], g["words"], g["lines"], f"{g['share']:.1%}") for g in stats["dialogue_by_gender"]]),
    ]
    for title, cols, rows in sections:
        table = Table(title=title, title_justify="left")
        for i, c in enumerate(cols):
            table.add_column(c, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
        if not rows:
            table.add_row("(none)", *[""] * (len(cols) - 1))
        _out().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def _print_rows(cols: list[str], rows: list[tuple], fmt: OutFormat, *, title: str) -> None:
    if fmt is OutFormat.json:
        sys.stdout.write(json.dumps([dict(zip(cols, r)) for r in rows], indent=2, ensure_ascii=False,
                                    default=str) + "\n")
    elif fmt is OutFormat.csv:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(cols)
        w.writerows([_cell(v) for v in r] for r in rows)
        sys.stdout.write(buf.getvalue())
    else:
        table = Table(title=title, title_justify="left")
        for c in cols:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*[_cell(v) for v in r])
        _out().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(corpus_app, name="corpus")
    app.command("query")(query_cmd)
    app.command("stats")(stats_cmd)
