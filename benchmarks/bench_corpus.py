"""Corpus benchmark: the full pipeline against raw spaCy, per core, and scaling from 1 to 2 workers.

Texts: the bundled LitBank full texts (../shared/data/litbank/original/*.txt) and PDNC novels
(../shared/data/pdnc/data/*/novel_text.txt), cut at paragraph breaks into stories of about
--chunk-words words (fan fiction is chapter-sized; 0 keeps whole novels), up to --limit-words in all.

Measured in one run, on the same stories:
- raw spaCy: `load_nlp()` and `nlp.pipe` over the body paragraphs the structure stage finds, in this
  process (model loading not timed);
- the full pipeline: `run_corpus` with the local engine, 1 worker then 2 workers, each into a fresh
  store. Per core = words per CPU second, for raw spaCy (this process) and for the pipeline (the
  workers' CPU time on batches: reading, every stage, JSON and rows), so that other processes on a
  shared machine do not skew the ratio;
  scaling = the 2-worker run's throughput over the 1-worker run's, from first batch to last result;
  wall-clock figures (model loading, FTS rebuild and all) are reported too;
- peak memory per worker: each worker's own ru_maxrss, and RUSAGE_CHILDREN's maxrss (the largest
  finished child) as a cross-check (psutil is not a dependency).

Prints a table and writes out/bench/corpus.json. Usage:
    python benchmarks/bench_corpus.py [--limit-words 300000] [--chunk-words 10000]
"""
from __future__ import annotations

import os

# Same threading as the workers, so raw spaCy is measured on one core like each of them.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"
TARGETS = {"scaling_2_workers": 1.8, "peak_rss_per_worker_gb": 1.5, "pipeline_vs_raw_spacy": 0.5}


def source_files(data: Path) -> list[Path]:
    files = sorted((data / "litbank" / "original").glob("*.txt"))
    files += sorted((data / "pdnc" / "data").glob("*/novel_text.txt"))
    return files


def write_stories(files: list[Path], folder: Path, limit_words: int | None, chunk_words: int) -> dict:
    """Cut the texts into stories in `folder`; returns what was used. With a limit, each text gives
    about its share (at least one story), so a subset still spans many authors."""
    total = stories = 0
    used = []
    per_file = None
    if limit_words is not None:
        per_file = max(chunk_words or 1, -(-limit_words // len(files)))
    for f in files:
        if limit_words is not None and total >= limit_words:
            break
        text = f.read_text(encoding="utf-8", errors="replace")
        name = f.parent.name if f.name == "novel_text.txt" else f.stem
        paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        parts, current, n = [], [], 0
        for p in paragraphs:
            current.append(p)
            n += len(p.split())
            if chunk_words and n >= chunk_words:
                parts.append(current)
                current, n = [], 0
        if current:
            parts.append(current)
        taken = 0
        for k, part in enumerate(parts):
            if limit_words is not None and (total >= limit_words or taken >= per_file):
                break
            body = "\n\n".join(part) + "\n"
            (folder / f"{len(used):03d}_{name[:40]}_{k:03d}.txt").write_text(body, encoding="utf-8")
            total += len(body.split())
            taken += len(body.split())
            stories += 1
        used.append(str(f.relative_to(data_root(f))))
    return {"files": used, "stories": stories, "words_raw": total}


def data_root(f: Path) -> Path:
    for parent in f.parents:
        if parent.name == "data" and (parent / "litbank").exists():
            return parent
    return f.parent


def raw_spacy(folder: Path) -> dict:
    """nlp.pipe over the body paragraphs of every story (found by the structure stage), timed."""
    from ficlens.api import get_pipeline
    from ficlens.nlp import load_nlp
    from ficlens.read import read_path
    from ficlens.stages.nlp import BATCH_SIZE

    structure = get_pipeline(until="structure")
    texts, words = [], 0
    for path in sorted(folder.glob("*.txt")):
        story = structure(read_path(path))
        texts.extend(story.text[s:e] for s, e in story.paragraphs)
        words += story.body_words()
    nlp = load_nlp()
    nlp("Warm up the model before the clock starts.")
    start, cpu = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=BATCH_SIZE):
        pass
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"words": words, "paragraphs": len(texts), "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
            "words_per_s": round(words / seconds, 1), "words_per_cpu_s": round(words / cpu, 1)}


def pipeline_run(folder: Path, workers: int, tmp: Path) -> dict:
    from ficlens.corpus.runner import run_corpus

    store = tmp / f"bench_w{workers}.duckdb"
    start, main_cpu = time.perf_counter(), time.process_time()
    s = run_corpus([folder], store, workers=workers, count=False)
    wall, main_cpu = time.perf_counter() - start, time.process_time() - main_cpu
    if s.errors:
        raise SystemExit(f"{s.errors} stories failed in the {workers}-worker run: see {store}")
    return {
        "workers": workers, "stories": s.stories, "words": s.words, "wall_s": round(wall, 2),
        "work_s": round(s.work_seconds, 2), "busy_s": round(s.busy_seconds, 2),
        "worker_cpu_s": round(s.cpu_seconds, 2), "main_process_cpu_s": round(main_cpu, 2),
        "words_per_s_wall": round(s.words / wall, 1),
        "words_per_s_work": round(s.words / s.work_seconds, 1) if s.work_seconds else None,
        "words_per_s_per_core": round(s.words / s.busy_seconds, 1) if s.busy_seconds else None,
        "words_per_cpu_s": round(s.words / s.cpu_seconds, 1) if s.cpu_seconds else None,
        "peak_rss_per_worker_mb": round(s.peak_worker_rss / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    ap.add_argument("--limit-words", type=int, default=None, help="use about this many words (default: all)")
    ap.add_argument("--chunk-words", type=int, default=10_000, help="cut novels into stories of this size (0: whole)")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "bench" / "corpus.json")
    args = ap.parse_args(argv)

    files = source_files(args.data)
    if not files:
        print(f"no bundled texts under {args.data}: nothing to measure", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="ficlens-bench-") as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "stories"
        folder.mkdir()
        corpus = write_stories(files, folder, args.limit_words, args.chunk_words)
        print(f"{corpus['stories']} stories, about {corpus['words_raw']:,} words, from {len(corpus['files'])} texts",
              file=sys.stderr)
        raw = raw_spacy(folder)
        print(f"raw spaCy: {raw['words_per_s']:,.0f} words/s", file=sys.stderr)
        runs = []
        for workers in (1, 2):
            runs.append(pipeline_run(folder, workers, tmp))
            print(f"{workers} worker(s): {runs[-1]['words_per_s_work']:,.0f} words/s", file=sys.stderr)
    children_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    one, two = runs
    scaling = two["words_per_s_work"] / one["words_per_s_work"]
    scaling_wall = two["words_per_s_wall"] / one["words_per_s_wall"]
    # Per core = per CPU second, on both sides: other processes on a shared machine do not skew it.
    ratio = one["words_per_cpu_s"] / raw["words_per_cpu_s"]
    peak = max(r["peak_rss_per_worker_mb"] for r in runs)
    from ficlens import __version__
    from ficlens.api import get_pipeline

    result = {
        "benchmark": "corpus",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "ficlens_version": __version__,
        "stages": get_pipeline().names,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {**corpus, "words": one["words"], "chunk_words": args.chunk_words, "limit_words": args.limit_words},
        "raw_spacy": raw,
        "runs": runs,
        "scaling_2_workers": round(scaling, 3),
        "scaling_2_workers_wall": round(scaling_wall, 3),
        "pipeline_vs_raw_spacy": round(ratio, 3),
        "peak_rss_per_worker_mb": peak,
        "peak_rss_children_mb": round(children_rss_mb, 1),
        "targets": TARGETS,
        "pass": {
            "scaling_2_workers": scaling >= TARGETS["scaling_2_workers"],
            "peak_rss_per_worker_gb": peak / 1024 < TARGETS["peak_rss_per_worker_gb"],
            "pipeline_vs_raw_spacy": ratio >= TARGETS["pipeline_vs_raw_spacy"],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_table(result)
    print(f"wrote {args.out}")
    return 0


def print_table(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"corpus benchmark: {r['corpus']['stories']} stories, {r['corpus']['words']:,} words "
                    f"({', '.join(r['stages'])})", title_justify="left")
    for col in ("measure", "value", "target", "ok"):
        t.add_column(col, justify="left" if col == "measure" else "right")
    raw = r["raw_spacy"]["words_per_cpu_s"]
    one, two = r["runs"]
    t.add_row("raw spaCy, words per CPU second", f"{raw:,.0f}", "", "")
    t.add_row("pipeline, words per CPU second (1 worker)", f"{one['words_per_cpu_s']:,.0f}", "", "")
    t.add_row("pipeline / raw spaCy", f"{r['pipeline_vs_raw_spacy']:.2f}", ">= 0.50",
              "yes" if r["pass"]["pipeline_vs_raw_spacy"] else "NO")
    t.add_row("1 worker, words/s (first batch to last result)", f"{one['words_per_s_work']:,.0f}", "", "")
    t.add_row("2 workers, words/s (first batch to last result)", f"{two['words_per_s_work']:,.0f}", "", "")
    t.add_row("scaling 1 -> 2 workers", f"{r['scaling_2_workers']:.2f}x", ">= 1.80x",
              "yes" if r["pass"]["scaling_2_workers"] else "NO")
    t.add_row("scaling, wall clock (model loading and FTS included)", f"{r['scaling_2_workers_wall']:.2f}x", "", "")
    t.add_row("main process CPU (reading, writing the store), 2 workers",
              f"{two['main_process_cpu_s']:.1f} s of {two['wall_s']:.1f} s", "", "")
    t.add_row("peak memory per worker", f"{r['peak_rss_per_worker_mb']:,.0f} MB", "< 1,536 MB",
              "yes" if r["pass"]["peak_rss_per_worker_gb"] else "NO")
    t.add_row("peak memory, largest child (RUSAGE_CHILDREN)", f"{r['peak_rss_children_mb']:,.0f} MB", "", "")
    Console().print(t)


if __name__ == "__main__":
    sys.exit(main())
