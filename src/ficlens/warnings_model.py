"""Learned passage-level content warnings: TF-IDF word n-grams + one logistic regression per type.

Trained on the passages of Wiegmann et al.'s AO3 trigger-warning data (`ficlens eval ao3-warnings`,
weights and figures in `models/warnings/MODEL_CARD.md`). This module holds both halves:

- run time (pure Python, no sklearn): `tokens` / `ngrams` (the one tokenizer, also handed to
  sklearn's vectorizer while training, so both sides see the same features), `WarningModel`, and
  `passage_warning_scores(text)` / `flags(text, kind)` over the shipped `weights.json`;
- training (imports sklearn lazily): `train(rows)` returns the JSON-ready model, and
  `cross_validate(rows)` scores that same recipe with grouped folds, through the run-time scorer.

Features per passage: L2-normalised sublinear TF-IDF of word unigrams and bigrams (one vocabulary
and IDF shared by all types: more text for document frequencies than any one type has), plus
log(1 + cue hits) of the type's cue regex from `stages.tags.WARNING_CUES`, outside the norm.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from .stages.tags import WARNING_CUES

MODEL_PATH = Path(__file__).resolve().parent / "models" / "warnings" / "weights.json"
FORMAT = "ficlens-warnings/1"

# Training choices (see MODEL_CARD.md for what cross-validation said about the alternatives).
C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)  # inverse L2 strength; one C for all types, picked by inner CV
INNER_FOLDS = 3
MIN_DF = 2  # an n-gram must occur in two training passages to enter the vocabulary
KEEP = 5000  # per type, only the largest-|coef| n-grams are kept (file size); the recipe includes it
ROUND = 5  # decimals kept in the JSON

# Words with inner apostrophes stay whole ("don't", "sirius's"); curly quotes are folded first
# because the data set uses straight ones and stories use both.
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; the data set's passages are lower-cased, so stories are too."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


def ngrams(text: str) -> list[str]:
    """The features' n-grams: every token and every pair of neighbouring tokens ("passed away")."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def cue_value(text: str, kind: str) -> float:
    """The hand-written cue regex's hit count, damped: one extra feature per type."""
    return math.log1p(len(WARNING_CUES[kind].findall(text)))


def passage_spans(text: str, paragraphs: list[tuple[int, int]], min_words: int = 60) -> list[tuple[int, int]]:
    """Consecutive paragraphs merged into passages of at least `min_words` words.

    The model was trained on passages of about 45-140 words (median 79). A one-line paragraph of
    dialogue would put all of the L2-normalised weight on its few words, so stories are scored in
    passages of training size instead; a long paragraph stays whole. A short tail joins the last
    passage.
    """
    out: list[tuple[int, int]] = []
    start, words = None, 0
    for s, e in paragraphs:
        start = s if start is None else start
        words += len(text[s:e].split())
        if words >= min_words:
            out.append((start, e))
            start, words = None, 0
    if start is not None:
        if out:
            out[-1] = (out[-1][0], paragraphs[-1][1])
        else:
            out.append((start, paragraphs[-1][1]))
    return out


class WarningModel:
    """The shipped (or a freshly trained) model: per-type logistic regressions over shared TF-IDF."""

    def __init__(self, data: dict):
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        self.idf: dict[str, float] = data["idf"]
        self.types: dict[str, dict] = data["types"]
        self.kinds = tuple(self.types)

    def vector(self, text: str) -> dict[str, float]:
        """sklearn's TfidfVectorizer(sublinear_tf=True, norm="l2") for one text, as a sparse dict.

        The norm runs over the whole vocabulary (hence every IDF is shipped, not only those of
        kept coefficients), exactly as during training."""
        counts = Counter(g for g in ngrams(text) if g in self.idf)
        weights = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values()))
        return {g: v / norm for g, v in weights.items()} if norm else {}

    def score(self, text: str, kind: str, vector: dict[str, float] | None = None) -> float:
        """P(the passage warrants a `kind` warning), as the type's logistic regression says."""
        t = self.types[kind]
        vector = self.vector(text) if vector is None else vector
        coef = t["coef"]
        z = t["intercept"] + t["cue"] * cue_value(text, kind) + sum(v * coef.get(g, 0.0) for g, v in vector.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def scores(self, text: str) -> dict[str, float]:
        vector = self.vector(text)
        return {kind: self.score(text, kind, vector) for kind in self.kinds}

    def flags(self, text: str, kind: str) -> bool:
        return self.score(text, kind) >= self.types[kind]["threshold"]


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> WarningModel:
    return WarningModel(json.loads(Path(path).read_text(encoding="utf-8")))


def passage_warning_scores(text: str) -> dict[str, float]:
    """Probability per warning type for one passage (about a paragraph or two of story text).

    Calibrated on the data set's candidate passages, in which positives are common (12% for war,
    47% for racism); on ordinary story text a type's probability sits near its base rate, so
    compare with the type's `threshold` (what `flags` does), not with 0.5."""
    return load_model().scores(text)


def flags(text: str, kind: str) -> bool:
    """True when the passage's probability reaches the type's threshold (tuned by inner CV)."""
    return load_model().flags(text, kind)


# --- training (sklearn is imported only here) -------------------------------------------------

def read_dataset(path: Path) -> list[dict]:
    """Rows of dataset.jsonl with `gold` added: the majority of the three annotators' votes."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row["gold"] = sum(row["labels"]) >= 2
    return rows


def best_threshold(y, p) -> float:
    """The probability cut that maximises F1 on (y, p), half-way to the next lower probability."""
    import numpy as np

    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp, fp = np.cumsum(ys), np.cumsum(1 - ys)
    f1 = 2 * tp / (tp + fp + ys.sum())
    i = int(np.argmax(f1))
    return float((ps[i] + ps[i + 1]) / 2) if i + 1 < len(ps) else float(ps[i]) - 1e-9


def train(rows: list[dict], *, seed: int = 0, c_grid=C_GRID, inner_folds: int = INNER_FOLDS,
          keep: int | None = KEEP) -> dict:
    """Fit the recipe on `rows` and return the JSON-ready model.

    C (one for all types) and each type's threshold are chosen by grouped inner cross-validation
    on these rows only: the pooled out-of-fold probabilities of each type give its best-F1
    threshold, and the C with the best micro-F1 wins. Then every type is refitted on all rows.
    """
    with _one_core():
        return _train(rows, seed, c_grid, inner_folds, keep)


def _one_core():
    """Keep numpy's BLAS to one thread: the matrices are small, and a second thread only takes CPU
    from other jobs (it made training 60% costlier in CPU time and no faster)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _train(rows: list[dict], seed: int, c_grid, inner_folds: int, keep: int | None) -> dict:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    kinds = sorted({r["warning"] for r in rows})
    y = np.array([int(r["gold"]) for r in rows])
    kind_of = np.array([kinds.index(r["warning"]) for r in rows])
    vectorizer = TfidfVectorizer(analyzer=ngrams, min_df=MIN_DF, sublinear_tf=True)
    X = vectorizer.fit_transform([r["text"] for r in rows])
    cue = np.array([cue_value(r["text"], r["warning"]) for r in rows])
    strata = kind_of * 2 + y  # folds keep every type's share of positives

    oof = {c: np.zeros(len(rows)) for c in c_grid}
    for fit_idx, val_idx in _grouped_folds(rows, strata, inner_folds, seed):
        for c in c_grid:
            for k in range(len(kinds)):
                a, b = fit_idx[kind_of[fit_idx] == k], val_idx[kind_of[val_idx] == k]
                if len(b):
                    oof[c][b] = _predict(_fit_type(X[a], cue[a], y[a], c, keep, seed), X[b], cue[b])
    best = None
    for c in c_grid:
        cuts = {k: best_threshold(y[kind_of == k], oof[c][kind_of == k]) for k in range(len(kinds))}
        pred = oof[c] >= np.array([cuts[k] for k in kind_of])
        micro = 2 * (pred & (y == 1)).sum() / (pred.sum() + y.sum())
        if best is None or micro > best[0]:
            best = (micro, c, cuts)
    _, c, cuts = best

    vocabulary = vectorizer.get_feature_names_out()
    types = {}
    for k, kind in enumerate(kinds):
        rows_k = kind_of == k
        coef, cue_w, intercept = _fit_type(X[rows_k], cue[rows_k], y[rows_k], c, keep, seed)
        types[kind] = {
            "intercept": round(float(intercept), ROUND), "cue": round(float(cue_w), ROUND),
            "threshold": round(cuts[k], ROUND), "C": c,
            "passages": int(rows_k.sum()), "positives": int(y[rows_k].sum()),
            "coef": {str(vocabulary[j]): round(float(coef[j]), ROUND) for j in np.flatnonzero(coef)},
        }
    return {"format": FORMAT,
            "features": {"ngrams": "word 1-2 (ficlens.warnings_model.ngrams)", "min_df": MIN_DF,
                         "tf": "1 + ln(count)", "idf": "sklearn smooth idf", "norm": "l2 over the vocabulary",
                         "cue": "log(1 + WARNING_CUES hits), outside the norm", "keep": keep},
            "idf": {str(g): round(float(v), ROUND) for g, v in zip(vocabulary, vectorizer.idf_)},
            "types": types}


def _grouped_folds(rows: list[dict], strata, n: int, seed: int):
    """Folds with every work's passages on one side (StratifiedGroupKFold by work_id)."""
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold

    groups = [r["work_id"] for r in rows]
    folds = StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=seed)
    for a, b in folds.split(np.zeros(len(rows)), strata, groups):
        yield a, b


def _fit_type(X, cue, y, c: float, keep: int | None, seed: int):
    """One type's balanced logistic regression; then all but the `keep` largest |coef| are zeroed
    (inside the recipe, so cross-validation scores the pruned model that ships)."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=seed)
    model.fit(hstack([X, csr_matrix(cue[:, None])]).tocsr(), y)
    coef = model.coef_[0][:-1].copy()
    if keep is not None and np.count_nonzero(coef) > keep:
        coef[np.argsort(-np.abs(coef), kind="stable")[keep:]] = 0.0
    return coef, model.coef_[0][-1], model.intercept_[0]


def _predict(fitted, X, cue):
    import numpy as np

    coef, cue_w, intercept = fitted
    return 1.0 / (1.0 + np.exp(-(X @ coef + cue_w * cue + intercept)))


def cross_validate(rows: list[dict], *, folds: int = 5, seed: int = 0, **train_options) -> dict:
    """Grouped `folds`-fold CV of `train`: each fold's model is trained (vocabulary, IDF, C,
    thresholds, weights) on the other folds only, then scored on the fold's passages by the
    run-time `WarningModel`, the code path that ships. Returns per-type counts and the choices."""
    import numpy as np

    kinds = sorted({r["warning"] for r in rows})
    strata = np.array([kinds.index(r["warning"]) * 2 + int(r["gold"]) for r in rows])
    counts = {kind: {"tp": 0, "fp": 0, "fn": 0, "passages": 0} for kind in kinds}
    chosen = []
    for train_idx, test_idx in _grouped_folds(rows, strata, folds, seed):
        model = WarningModel(train([rows[i] for i in train_idx], seed=seed, **train_options))
        chosen.append({"C": next(iter(model.types.values()))["C"],
                       "thresholds": {k: t["threshold"] for k, t in model.types.items()}})
        for i in test_idx:
            row = rows[i]
            pred, gold, c = model.flags(row["text"], row["warning"]), row["gold"], counts[row["warning"]]
            c["tp"] += pred and gold
            c["fp"] += pred and not gold
            c["fn"] += gold and not pred
            c["passages"] += 1
    return {"counts": counts, "folds": chosen}
