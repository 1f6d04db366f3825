"""`ficlens eval ao3-warnings`: passage-level content warnings against 3-annotator majority votes.

Each passage of the data set (Wiegmann et al. companion data) was shown to annotators for one
warning type; the gold label is the majority of its three votes. Two systems are scored:

- the learned model (`ficlens.warnings_model`), by grouped 5-fold cross-validation: the folds keep
  every work's passages on one side, each fold's model is trained from scratch on the other four
  (C and thresholds by inner CV on those four only) and scored through the run-time scorer. The
  shipped weights saw every row, so they cannot be scored on this data; these figures are for the
  recipe that made them. Headline metrics, unprefixed.
- the hand-written cue regexes (`stages.tags.passage_warns`), written before scoring and never
  fitted to this data: `cues_` metrics.
"""
from __future__ import annotations

from pathlib import Path

from ..stages.tags import passage_warns
from ..warnings_model import cross_validate, read_dataset
from . import EvalResult, register


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cue_counts(rows: list[dict]) -> dict[str, dict]:
    """tp / fp / fn / passages per type of the cue-regex baseline."""
    counts: dict[str, dict] = {}
    for row in rows:
        pred, gold = passage_warns(row["text"], row["warning"]), row["gold"]
        c = counts.setdefault(row["warning"], {"tp": 0, "fp": 0, "fn": 0, "passages": 0})
        c["tp"] += pred and gold
        c["fp"] += pred and not gold
        c["fn"] += gold and not pred
        c["passages"] += 1
    return counts


def summarise(counts: dict[str, dict], prefix: str = "") -> tuple[dict, dict]:
    """Per-type precision / recall / F1 and micro / macro F1 from tp / fp / fn counts."""
    metrics, details = {}, {}
    for kind, c in sorted(counts.items()):
        p, r, f = f1(c["tp"], c["fp"], c["fn"])
        metrics.update({f"{prefix}{kind}_f1": round(f, 4), f"{prefix}{kind}_precision": round(p, 4),
                        f"{prefix}{kind}_recall": round(r, 4)})
        details[kind] = {"precision": p, "recall": r, "f1": f, "passages": c["passages"],
                         "positives": c["tp"] + c["fn"]}
    p, r, f = f1(*(sum(c[key] for c in counts.values()) for key in ("tp", "fp", "fn")))
    metrics.update({f"{prefix}micro_precision": round(p, 4), f"{prefix}micro_recall": round(r, 4),
                    f"{prefix}micro_f1": round(f, 4),
                    f"{prefix}macro_f1": round(sum(d["f1"] for d in details.values()) / len(details), 4)})
    return metrics, details


@register("ao3-warnings")
def ao3_warnings(data_dir: Path, *, folds: int = 5, seed: int = 0, kinds=None, **train_options) -> EvalResult:
    """kinds: score only these warning types (tests use a subset; the vocabulary is then built
    from those types' passages only, so figures differ a little from the full run)."""
    rows = read_dataset(data_dir / "ao3_trigger_warnings" / "dataset.jsonl")
    if kinds:
        rows = [r for r in rows if r["warning"] in kinds]
    cv = cross_validate(rows, folds=folds, seed=seed, **train_options)
    metrics, model_details = summarise(cv["counts"])
    cue_metrics, cue_details = summarise(cue_counts(rows), "cues_")
    metrics.update(cue_metrics)
    return EvalResult(
        "ao3-warnings", metrics,
        {"model": model_details, "cues": cue_details, "folds": cv["folds"]},
        notes=f"Learned model: grouped {folds}-fold CV by work (retrained per fold; the shipped weights "
              "saw all rows). cues_: hand-written cue regexes, not fitted. Gold: majority of 3 votes.")
