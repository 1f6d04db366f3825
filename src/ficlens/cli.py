"""The command line: `ficlens analyze | report | tags | eval | demo | corpus | query | stats | serve`.

The library raises; this module decides how to tell the user. A user's mistake (a missing or bad
file) is one line on stderr and exit code 2; an internal fault is exit code 1 (traceback with --debug).
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import Errors, FiclensError, InputError
from .limits import DEFAULT_LIMITS, Limits

app = typer.Typer(
    help="Read fan fiction as data: structure, characters, narrator, who says what to whom, "
         "relationships and AO3 tags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
DEBUG = False



class Format(str, Enum):
    json = "json"
    tsv = "tsv"
    html = "html"
    gexf = "gexf"
    graphml = "graphml"


def _version(value: bool):
    if value:
        out.print(f"ficlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of internal errors."),
):
    global DEBUG
    DEBUG = debug


# Control characters (a newline in a file name) would split a message over lines or move the cursor.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(message: str) -> str:
    """`message` as one printable line: control characters escaped, undecodable file-name bytes
    (surrogates) shown as \\udcXX instead of breaking the output's encoding."""
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), message)


def fail(message: str, code: int = 2) -> None:
    # A Text, not markup: file names and story text may hold "[...]", which rich would read as tags.
    err.print(Text.assemble(("error:", "red"), " ", one_line(message)), highlight=False, soft_wrap=True)


def note(message: str) -> None:
    err.print(Text(one_line(message)), highlight=False, soft_wrap=True)


def write_stdout(text: str) -> None:
    # A file name that is not valid UTF-8 reaches Python as lone surrogates; "backslashreplace"
    # writes them as \udcXX, which inside a JSON string is the same character again.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
    sys.stdout.buffer.flush()


def _limits(max_bytes: Optional[int] = None, max_expanded_bytes: Optional[int] = None,
            timeout: Optional[float] = None) -> Limits:
    """The default limits with the ones the user set replaced."""
    given = {"max_bytes": max_bytes, "max_expanded_bytes": max_expanded_bytes, "timeout_seconds": timeout}
    given = {k: v for k, v in given.items() if v is not None}
    return dataclasses.replace(DEFAULT_LIMITS, **given) if given else DEFAULT_LIMITS


def _analyze_one(path: Path, until: Optional[str], limits: Limits):
    """Analyse one file; returns the Story, or None after reporting why it could not be read."""
    from .api import analyze_path

    try:
        return analyze_path(path, until=until, limits=limits)
    except FiclensError as e:
        fail(str(e))
        return None
    except Exception as e:  # an internal fault: say so plainly, keep going with the other files
        if DEBUG:
            raise
        fail(f"{path}: internal error ({type(e).__name__}: {e}); rerun with --debug for details")
        return None


@app.command()
def analyze(
    files: list[Path] = typer.Argument(..., help="Story files: .txt, .html/.htm, .epub."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Write one output per story here."),
    fmt: Format = typer.Option(Format.json, "--format", "-f", help="json, tsv (BookNLP-style), html, or gexf/graphml (relationship graph)."),
    until: Optional[str] = typer.Option(None, "--until", help="Run the pipeline up to this stage only."),
    max_bytes: Optional[int] = typer.Option(
        None, "--max-bytes", min=1,
        help=f"Refuse files larger than this many bytes (default {DEFAULT_LIMITS.max_bytes:,})."),
    max_expanded_bytes: Optional[int] = typer.Option(
        None, "--max-expanded-bytes", min=1,
        help=f"Refuse EPUBs that unpack to more than this many bytes (default {DEFAULT_LIMITS.max_expanded_bytes:,})."),
    timeout: Optional[float] = typer.Option(
        None, "--timeout", min=0.001,
        help=f"Give up on a story after this many seconds (default {DEFAULT_LIMITS.timeout_seconds:g}). "
             "Checked between pipeline stages, so a stage already running finishes first."),
):
    """Analyse stories. With one FILE, no --out and --format json, the JSON goes to stdout.

    Each file that cannot be read is reported on stderr and the others are still analysed;
    the exit code is then 2."""
    from .export.json import dumps

    if out_dir is None and (len(files) > 1 or fmt is not Format.json):
        fail("give --out DIR for several files or for tsv/html output")
        raise typer.Exit(2)
    limits = _limits(max_bytes, max_expanded_bytes, timeout)
    failed = 0
    for path in files:
        story = _analyze_one(path, until, limits)
        if story is None:
            failed += 1
            continue
        if out_dir is None:
            write_stdout(dumps(story) + "\n")
            continue
        try:
            written = write_outputs(story, out_dir, path.stem, fmt)
        except OSError as e:  # --out names a file, a read-only place, a full disk
            fail(Errors.E013.format(path=e.filename or out_dir, reason=e.strerror or e))
            raise typer.Exit(2)
        for w in written:
            note(f"wrote {w}")
    if failed:
        raise typer.Exit(2)


def write_outputs(story, out_dir: Path, stem: str, fmt: Format) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt is Format.json:
        from .export.json import dumps

        path = out_dir / f"{stem}.json"
        path.write_bytes(dumps(story).encode("utf-8", "backslashreplace"))  # see write_stdout
        return [path]
    if fmt is Format.tsv:
        from .export.tsv import write_tsv

        return write_tsv(story, out_dir, stem)
    if fmt in (Format.gexf, Format.graphml):
        from .export.graph import write_graph

        return [write_graph(story, out_dir / f"{stem}.{fmt.value}")]
    from .export.report import render_report

    path = out_dir / f"{stem}.html"
    path.write_text(render_report(story), encoding="utf-8")
    return [path]


@app.command()
def report(
    file: Path = typer.Argument(..., help="A story file."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file (default: STEM.html here)."),
):
    """Write a self-contained HTML report of one story."""
    from .export.report import render_report

    story = _analyze_one(file, None, DEFAULT_LIMITS)
    if story is None:
        raise typer.Exit(2)
    target = output or Path(f"{file.stem}.html")
    target.write_text(render_report(story), encoding="utf-8")
    note(f"wrote {target}")


@app.command()
def demo(
    folder: Path = typer.Argument(Path("examples"), help="Folder of stories to analyse."),
    out_dir: Path = typer.Option(Path("out/demo"), "--out", "-o", help="Where reports and JSON go."),
):
    """Analyse every story in FOLDER, print a summary of each, and write JSON and HTML reports."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in {".txt", ".html", ".htm", ".epub"})
    if not files:
        fail(f"{folder}: no story files (.txt, .html, .epub) found")
        raise typer.Exit(2)
    reports = []
    for path in files:
        story = _analyze_one(path, None, DEFAULT_LIMITS)
        if story is None:
            continue
        print_summary(story)
        write_outputs(story, out_dir, path.stem, Format.json)
        reports += write_outputs(story, out_dir, path.stem, Format.html)
    for r in reports:
        out.print(f"report: [bold]{escape(one_line(str(r)))}[/bold]  (open it in a browser)", highlight=False)


def print_summary(story) -> None:
    """A readable summary of one analysed story."""
    from .export.json import story_to_dict

    d = story_to_dict(story)
    title = d["meta"]["title"] or "(untitled)"
    # Everything shown comes from the story or its file name: escape it, "[/]" is rich markup.
    title = escape(one_line(title))
    table = Table(title=f"{title}  [dim]{escape(one_line(story.source.path))}[/dim]", show_header=False,
                  title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    kinds: dict[str, int] = {}
    for s in story.sections:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    table.add_row("words", f"{d['stats']['words']:,} (notes excluded)")
    table.add_row("sections", ", ".join(f"{k} {n}" for k, n in kinds.items()))
    table.add_row("quotes", f"{len(story.quotes)} in {len({q.utterance for q in story.quotes})} utterances")
    if story.narration.person:
        table.add_row("narration", f"{story.narration.person} person"
                      + (f", narrator {story.narration.narrator}" if story.narration.narrator else ""))
    if story.characters:
        cast = [c for c in story.characters if not c.mentioned_only][:6]
        table.add_row("cast", escape(", ".join(f"{c.name} ({c.counts.get('lines', 0)} lines)" for c in cast)))
    tags = d["tags"]
    if tags.get("rating"):
        table.add_row("rating", tags["rating"]["name"])
    for key in ("fandoms", "relationships", "freeform"):
        if tags.get(key):
            table.add_row(key, escape(", ".join(t["name"] for t in tags[key])))
    out.print(table)


@app.command("eval")
def evaluate(
    name: str = typer.Argument(..., help="Evaluation name, or 'list' to see them, or 'all'."),
    # No default: the gold data is not part of the package (the project keeps it beside the repo).
    data: Path | None = typer.Option(None, "--data", envvar="FICLENS_DATA",
                                     help="The gold data folder (LitBank, PDNC, AO3 warnings); or set FICLENS_DATA."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Score ficlens against gold data (LitBank, PDNC, AO3 warnings)."""
    from . import eval as evaluations

    if name == "list":
        for n in evaluations.names():
            out.print(n)
        return
    if data is None:
        fail("ficlens eval needs the gold data folder: pass --data DIR or set FICLENS_DATA")
        raise typer.Exit(2)
    todo = evaluations.names() if name == "all" else [name]
    results = []
    for n in todo:
        try:
            results.append(evaluations.run(n, data))
        except FiclensError as e:
            fail(str(e))
            raise typer.Exit(2)
    for r in results:
        if as_json:
            sys.stdout.write(json.dumps({"name": r.name, "metrics": r.metrics, "details": r.details,
                                         "notes": r.notes}, indent=2) + "\n")
            continue
        table = Table(title=r.name, title_justify="left")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for k, v in r.metrics.items():
            table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
        out.print(table)
        if r.notes:
            out.print(f"[dim]{r.notes}[/dim]")


def _register_optional_commands() -> None:
    # corpus/, web/ and tags add their own commands; each module exposes `register(app)`.
    for module in ("ficlens.export.ao3_cli", "ficlens.corpus.cli", "ficlens.web.cli"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue
        mod.register(app)


_register_optional_commands()


def main() -> None:
    try:
        app()
    except InputError as e:
        fail(str(e))
        sys.exit(2)
    except FiclensError as e:
        fail(str(e))
        sys.exit(2)
    except KeyboardInterrupt:
        fail("interrupted", 130)
        sys.exit(130)
    except Exception as e:
        if DEBUG:
            raise
        fail(f"internal error ({type(e).__name__}: {e}); rerun with --debug for details")
        sys.exit(1)


if __name__ == "__main__":
    main()
