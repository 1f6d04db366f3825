"""Speed of the ficlens pipeline against raw spaCy on the same text, measured in one run.

Raw spaCy = `nlp.pipe` of en_core_web_sm over exactly the body paragraphs ficlens parses. Prints
ratios (never bare times as the headline) and writes out/bench/pipeline.json.
Usage: python benchmarks/bench_pipeline.py [--words N]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ficlens.api import get_pipeline
from ficlens.model import Source
from ficlens.nlp import load_nlp
from ficlens.read import read_path, story_from_text

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def corpus(max_words: int) -> list:
    """Seeds and examples first (fan fiction), then PDNC novels until max_words is reached."""
    paths = sorted((SHARED / "seeds").glob("*.txt")) + sorted((REPO / "examples").glob("*.txt"))
    stories = [read_path(p) for p in paths]
    words = sum(len(s.text.split()) for s in stories)
    for novel in sorted((SHARED / "data" / "pdnc" / "data").glob("*/novel_text.txt")):
        if words >= max_words:
            break
        text = novel.read_text(encoding="utf-8")
        budget = max_words - words
        cut = text[: len(" ".join(text.split(" ")[:budget]))]
        stories.append(story_from_text(cut, Source(path=str(novel), format="txt")))
        words += len(cut.split())
    return stories


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--words", type=int, default=120_000, help="words of text to time (default 120k)")
    args = ap.parse_args()
    pipeline = get_pipeline()
    nlp = load_nlp()
    nlp("warm up the model once before timing.")

    stories = corpus(args.words)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    pipeline.pipe(stories, timings=timings)
    total = time.perf_counter() - started
    words = sum(s.body_words() for s in stories)

    texts = [s.text[a:b] for s in stories for a, b in s.paragraphs]
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=256):
        pass
    raw = time.perf_counter() - started

    result = {
        "stories": len(stories), "words": words,
        "raw_spacy_words_per_s": words / raw,
        "ficlens_words_per_s": words / total,
        "speed_ratio_ficlens_vs_raw_spacy": raw / total,
        "stage_cost_vs_raw_spacy": {name: t / raw for name, t in timings.items()},
    }
    print(f"{len(stories)} stories, {words:,} words of story text, one process")
    print(f"{'stage':<14}{'cost / raw spaCy parse':>24}")
    for name, ratio in result["stage_cost_vs_raw_spacy"].items():
        print(f"{name:<14}{ratio:>23.1%}")
    print(f"full pipeline speed = {result['speed_ratio_ficlens_vs_raw_spacy']:.2f} x raw spaCy "
          f"({result['ficlens_words_per_s']:,.0f} vs {result['raw_spacy_words_per_s']:,.0f} words/s)")
    out = REPO / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
