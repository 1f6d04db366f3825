"""Coreference metrics: MUC, B-cubed, CEAF-e and their average (the CoNLL score).

Written from the definitions:
- MUC (Vilain et al. 1995): links. A key entity of size n needs n - 1 links; it keeps n - p of them,
  where p is the number of parts the response cuts it into (a key mention the response lacks is a
  part of its own). Precision swaps key and response.
- B-cubed (Bagga and Baldwin 1998): per mention, the overlap of its key and response entities over
  the size of its key entity (recall) or response entity (precision). A mention only one side has
  adds to that side's denominator and nothing to the numerator, as the CoNLL reference scorer does.
- CEAF-e (Luo 2005): entities aligned one to one (Hungarian assignment) to maximise the sum of
  phi4(K, R) = 2 |K & R| / (|K| + |R|); recall divides that sum by the number of key entities,
  precision by the number of response entities.

Every metric returns numerator and denominator counts, so documents add up (micro average over a
corpus, as CoNLL scores are reported) before dividing: `CorefScore` carries them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable

Mention = Hashable  # anything that names a mention: (start, end), a token span, an id
Entity = frozenset  # a set of mentions

METRICS = ("muc", "bcub", "ceafe")


@dataclass
class Counts:
    """Recall and precision as numerator/denominator pairs, so that documents can be summed."""

    r_num: float = 0.0
    r_den: float = 0.0
    p_num: float = 0.0
    p_den: float = 0.0

    def __iadd__(self, other: "Counts") -> "Counts":
        self.r_num += other.r_num
        self.r_den += other.r_den
        self.p_num += other.p_num
        self.p_den += other.p_den
        return self

    @property
    def recall(self) -> float:
        return self.r_num / self.r_den if self.r_den else 0.0

    @property
    def precision(self) -> float:
        return self.p_num / self.p_den if self.p_den else 0.0

    @property
    def f1(self) -> float:
        r, p = self.recall, self.precision
        return 2 * p * r / (p + r) if p + r else 0.0


def entities(clusters: Iterable[Iterable[Mention]]) -> list[Entity]:
    """Clusters as frozensets, empty ones dropped; a mention may belong to one entity only."""
    out = [frozenset(c) for c in clusters]
    out = [e for e in out if e]
    seen: set = set()
    for e in out:
        if seen & e:
            raise ValueError(f"mention(s) {sorted(map(str, seen & e))} in more than one entity")
        seen |= e
    return out


def _index(ents: list[Entity]) -> dict:
    return {m: i for i, e in enumerate(ents) for m in e}


def _muc_side(key: list[Entity], response: list[Entity]) -> tuple[float, float]:
    where = _index(response)
    num = den = 0
    for k in key:
        parts = {where.get(m, ("alone", m)) for m in k}
        num += len(k) - len(parts)
        den += len(k) - 1
    return num, den


def muc(key: list[Entity], response: list[Entity]) -> Counts:
    r_num, r_den = _muc_side(key, response)
    p_num, p_den = _muc_side(response, key)
    return Counts(r_num, r_den, p_num, p_den)


def _bcub_side(key: list[Entity], response: list[Entity]) -> tuple[float, float]:
    num = 0.0
    den = 0
    for k in key:
        den += len(k)
        for r in response:
            overlap = len(k & r)
            if overlap:
                num += overlap * overlap / len(k)
    return num, den


def bcub(key: list[Entity], response: list[Entity]) -> Counts:
    r_num, r_den = _bcub_side(key, response)
    p_num, p_den = _bcub_side(response, key)
    return Counts(r_num, r_den, p_num, p_den)


def phi4(k: Entity, r: Entity) -> float:
    return 2 * len(k & r) / (len(k) + len(r))


def ceafe(key: list[Entity], response: list[Entity]) -> Counts:
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    total = 0.0
    if key and response:
        where = _index(response)
        sim = np.zeros((len(key), len(response)))
        for i, k in enumerate(key):
            # Only entities that share a mention have phi4 > 0: no need to compare every pair.
            for j in {where[m] for m in k if m in where}:
                sim[i, j] = phi4(k, response[j])
        rows, cols = linear_sum_assignment(sim, maximize=True)
        total = float(sim[rows, cols].sum())
    return Counts(total, len(key), total, len(response))


@dataclass
class CorefScore:
    """MUC, B-cubed and CEAF-e counts summed over documents."""

    counts: dict[str, Counts] = field(default_factory=lambda: {m: Counts() for m in METRICS})
    documents: int = 0

    def add(self, key: Iterable[Iterable[Mention]], response: Iterable[Iterable[Mention]]) -> None:
        """Score one document: `key` and `response` are its gold and predicted entities."""
        k, r = entities(key), entities(response)
        self.counts["muc"] += muc(k, r)
        self.counts["bcub"] += bcub(k, r)
        self.counts["ceafe"] += ceafe(k, r)
        self.documents += 1

    def add_score(self, other: "CorefScore") -> None:
        """Add another score's counts (e.g. one fold's) to this one."""
        for m in METRICS:
            self.counts[m] += other.counts[m]
        self.documents += other.documents

    @property
    def average_f1(self) -> float:
        return sum(self.counts[m].f1 for m in METRICS) / len(METRICS)

    def as_dict(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for m in METRICS:
            c = self.counts[m]
            out[f"{m}_p"] = c.precision
            out[f"{m}_r"] = c.recall
            out[f"{m}_f1"] = c.f1
        out["avg_f1"] = self.average_f1
        return out


def score_documents(pairs: Iterable[tuple[Iterable[Iterable[Mention]], Iterable[Iterable[Mention]]]]
                    ) -> CorefScore:
    """Micro-averaged scores over (key, response) pairs, one pair per document."""
    s = CorefScore()
    for key, response in pairs:
        s.add(key, response)
    return s
