"""Train the speaker ranker of the attribution stage on PDNC and write its weights.

    python training/train_speaker_ranker.py [--data ../shared/data] [--cache /tmp/ficlens-docs]
                                            [--out src/ficlens/models/speaker_ranker/weights.json]
                                            [--novels Emma PrideAndPrejudice ...]

Each novel is read by ficlens end to end (its own quotes, mentions, characters, narrator), its
characters are mapped to PDNC's by names and aliases, and every utterance whose gold speaker is
among the candidates gives one row per candidate (label: is it the gold speaker). The ranker has two
passes, each a logistic regression fitted first on gold history and then on its own decisions
(`ficlens.eval.quotes.fit_ranker`). The shipped model is trained on all 20 novels; the README's
figures come from `ficlens eval pdnc-quotes`, which trains one model per fold and never scores a
novel its model saw.

Parsing the 20 novels (about 2M words) takes 4-5 minutes on one core; `--cache` keeps the parsed
Docs (DocBin) so a second run skips it. Weights are plain JSON (feature name -> coefficient).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ficlens.eval.pdnc import load_novels  # noqa: E402
from ficlens.eval.quotes import fit_ranker, prepare_novel  # noqa: E402
from ficlens.stages.attribution import MODEL_DIR  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data", help="gold data folder")
    ap.add_argument("--cache", type=Path, default=None, help="folder for parsed Docs (outside the repo)")
    ap.add_argument("--out", type=Path, default=MODEL_DIR / "weights.json", help="where to write the weights")
    ap.add_argument("--novels", nargs="*", default=None, help="PDNC novel folder names (default: all)")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 regularization strength")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    runs = []
    for novel in load_novels(args.data, args.novels):
        runs.append(prepare_novel(novel, characters="ficlens", cache_dir=args.cache))
        print(f"read {novel.name}: {len(runs[-1].utts)} utterances", file=sys.stderr)
    ranker = fit_ranker(runs, C=args.C)
    ranker.meta.update({
        "model": "ficlens speaker ranker (logistic regression per decoding pass)",
        "data": "PDNC (Vishnubhotla et al. 2022), read end to end by ficlens",
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(ranker.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(runs)} novels, {ranker.meta['rows']} rows, "
          f"{time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
