"""Train the coreference ranker shipped in src/ficlens/models/coref/ (weights.json).

    python training/train_coref.py [--data ../shared/data] [--out src/ficlens/models/coref]

Recipe (the same one `ficlens eval litbank-coref` cross-validates, see ficlens/eval/coref.py):
1. Every LitBank coreference document is rebuilt as a story, parsed, and its gold PERSON mentions
   are replayed left to right through the resolver with the gold clustering (teacher forcing):
   each mention yields one block of options, "new entity" or one of its candidate entities.
2. For each of the ten published folds, a ranker is fitted on the fold's train documents and its
   new-entity biases are tuned on the fold's dev documents; the shipped biases are the per-group
   medians over the ten folds.
3. The shipped weights are fitted on all 100 documents (train, dev and test of fold 0 together):
   the cross-validated figures in the README and MODEL_CARD.md are what to expect of it, and it
   must never be scored on LitBank itself.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ficlens.eval.coref import (FOLDS, TUNED_GROUPS, fit_ranker, gold_person_mentions,  # noqa: E402
                                parse_stories, read_doc, split_ids, training_blocks,
                                tune_new_bias)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "src" / "ficlens" / "models" / "coref")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args(argv)
    litbank = args.data / "litbank"
    started = time.perf_counter()
    names = sorted({i.removesuffix(".tsv") for f in range(FOLDS) for s in ("train", "dev", "test")
                    for i in split_ids(litbank, f, s)})
    docs = {n: read_doc(litbank, n) for n in names}
    stories = dict(zip(names, parse_stories([docs[n] for n in names])))
    items, blocks = {}, {}
    for n in names:
        mentions, gold = gold_person_mentions(docs[n])
        items[n] = (stories[n], mentions, gold)
        blocks[n] = training_blocks(stories[n], mentions, gold)
    print(f"{len(names)} documents, {sum(len(b) for b in blocks.values())} mentions, "
          f"{time.perf_counter() - started:.0f} s", flush=True)

    biases: dict[str, list[float]] = {}
    ranker = None
    for fold in range(FOLDS):
        train = [i.removesuffix(".tsv") for i in split_ids(litbank, fold, "train")]
        dev = [i.removesuffix(".tsv") for i in split_ids(litbank, fold, "dev")]
        ranker = fit_ranker([b for n in train for b in blocks[n]], l2=args.l2, start=ranker)
        tune_new_bias(ranker, [items[n] for n in dev])
        for g, b in ranker.new_bias.items():
            biases.setdefault(g, []).append(b)
        print(f"fold {fold}: new-entity biases {ranker.new_bias}", flush=True)

    final = fit_ranker([b for n in names for b in blocks[n]], l2=args.l2, start=ranker)
    final.new_bias = {g: round(statistics.median(v), 3) for g, v in sorted(biases.items())}
    final.meta.update({
        "trained_on": "LitBank coreference, all 100 documents (PER mentions, gold mentions)",
        "bias_tuning": "median over the ten lrec2020_coref_tenfold folds of the dev-tuned biases",
        "tuned_groups": [list(g) for g in TUNED_GROUPS],
        "features": len(final.weights),
    })
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "weights.json").write_text(json.dumps(final.to_json(), indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
    print(f"wrote {args.out / 'weights.json'} ({len(final.weights)} weights, biases {final.new_bias}) "
          f"in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
