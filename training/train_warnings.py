"""Train the passage-level content-warning model shipped in src/ficlens/models/warnings/ (weights.json).

    python training/train_warnings.py [--data ../shared/data] [--out src/ficlens/models/warnings]

The recipe lives in the package (`ficlens.warnings_model.train`), so that `ficlens eval
ao3-warnings` cross-validates exactly what ships. This script
1. runs that evaluation (grouped 5-fold CV by work, each fold's model retrained from scratch, and the
   cue-regex baseline), and stores its figures in the JSON under "cv";
2. fits the shipped model on ALL rows of the data set. The CV figures are what to expect of it; it
   must never be scored on this data set itself.
One core, about a minute.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ficlens.eval.warnings import ao3_warnings  # noqa: E402
from ficlens.warnings_model import read_dataset, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "src" / "ficlens" / "models" / "warnings")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    started = time.perf_counter()

    result = ao3_warnings(args.data, seed=args.seed)
    for key, value in result.metrics.items():
        print(f"{key:28s} {value:.4f}")
    print(f"cross-validation: {time.perf_counter() - started:.0f} s", flush=True)

    rows = read_dataset(args.data / "ao3_trigger_warnings" / "dataset.jsonl")
    model = train(rows, seed=args.seed)
    model["trained_on"] = {"data": "ao3_trigger_warnings/dataset.jsonl (Wiegmann et al.), all rows",
                           "rows": len(rows), "works": len({r["work_id"] for r in rows}), "seed": args.seed}
    model["cv"] = {"metrics": result.metrics, "folds": result.details["folds"], "notes": result.notes}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "weights.json"
    # Compact separators: the file is data, and its size is what the package carries.
    path.write_text(json.dumps(model, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    kept = {kind: len(t["coef"]) for kind, t in model["types"].items()}
    print(f"C={next(iter(model['types'].values()))['C']}, vocabulary {len(model['idf'])}, "
          f"kept coefficients {kept}")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
