"""`ficlens eval ao3-warnings`: passage-level content warnings against 3-annotator majority votes.

Each passage of the data set (Wiegmann et al. 2023 companion data) was shown to annotators for one
warning type; the gold label is the majority of its three votes. ficlens flags a passage when it
holds enough cue phrases of that type (`stages.tags.passage_warns`). Nothing is trained on this data:
the cue lists and thresholds were written before scoring; `set_id` 0 and 1 are reported apart too.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..stages.tags import WARNING_CUES, passage_warns
from . import EvalResult, register


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@register("ao3-warnings")
def ao3_warnings(data_dir: Path, **_) -> EvalResult:
    path = data_dir / "ao3_trigger_warnings" / "dataset.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts: dict[str, list[int]] = {}
    for row in rows:
        kind = row["warning"]
        if kind not in WARNING_CUES:
            continue
        gold = sum(row["labels"]) >= 2
        pred = passage_warns(row["text"], kind)
        c = counts.setdefault(kind, [0, 0, 0, 0])  # tp fp fn n
        c[0] += gold and pred
        c[1] += pred and not gold
        c[2] += gold and not pred
        c[3] += 1
    metrics, details = {}, {}
    for kind, (tp, fp, fn, n) in sorted(counts.items()):
        p, r, f = f1(tp, fp, fn)
        metrics[f"{kind}_f1"] = round(f, 4)
        details[kind] = {"precision": p, "recall": r, "f1": f, "passages": n, "positives": tp + fn}
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    metrics["micro_f1"] = round(f1(tp, fp, fn)[2], 4)
    metrics["macro_f1"] = round(sum(d["f1"] for d in details.values()) / len(details), 4)
    return EvalResult("ao3-warnings", metrics, details,
                      notes="Per-type F1 of cue-phrase passage flags vs the majority of 3 votes; "
                            "no training on this data.")
