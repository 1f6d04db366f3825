"""LitBank entities (Bamman, Popat and Shen 2019; CC BY 4.0): reader and the `litbank-entities` evaluation.

LitBank's entity layer is nested (up to four layers in its tsv files: column 1 holds the innermost
spans, later columns the spans that contain them) and covers common nouns as well as names: "the
old sailor" is a PER just like "Tom". ficlens predicts one flat layer, so gold spans are projected
onto one flat layer the same way for training and scoring (`flat_spans`):

1. every PER span that no other PER span contains (the outermost PER layer: "[the mother of Tom]"
   is kept, the inner "Tom" is not);
2. then the spans of the five other types, longest first, where they overlap nothing kept so far.

PER figures therefore score exactly the outermost PER layer, whatever the other types do; the
all-types figure scores the whole flat projection. Tokens keep LitBank's tokenization and get the
same quote normalization as story text (curly quotes to straight), since that is what the model
sees at run time.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FiclensError
from ..read.normalize import ONE_FOR_ONE
from . import EvalResult, register

SPLIT_DIR = Path("splits") / "naacl2019_entities"
TSV_DIR = Path("entities") / "tsv"
LABELS = ("PER", "FAC", "GPE", "LOC", "ORG", "VEH")
# Training and scoring documents: whole sentences of one excerpt, up to about this many tokens
# (close to a paragraph of fiction, which is what ficlens feeds the model).
CHUNK_TOKENS = 150

Span = tuple[int, int, str]  # token start, token end (exclusive), label


@dataclass
class Chunk:
    """A run of whole sentences from one LitBank excerpt."""

    book: str
    words: list[str]
    spans: list[Span] = field(default_factory=list)  # every nesting layer

    @property
    def flat(self) -> list[Span]:
        return flat_spans(self.spans)


def read_tsv(path: Path) -> list[tuple[list[str], list[Span]]]:
    """Read one LitBank entity tsv into sentences of (words, spans of every layer)."""
    sentences: list[tuple[list[str], list[Span]]] = []
    words: list[str] = []
    columns: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            if words:
                sentences.append((words, _bio_spans(columns)))
                words, columns = [], []
            continue
        fields = line.split("\t")
        words.append(fields[0].translate(ONE_FOR_ONE))
        columns.append(fields[1:5])
    if words:
        sentences.append((words, _bio_spans(columns)))
    return sentences


def _bio_spans(columns: list[list[str]]) -> list[Span]:
    spans: set[Span] = set()
    for layer in range(4):
        start, label = None, None
        for i, row in enumerate(columns):
            tag = row[layer] if layer < len(row) and row[layer] else "O"
            continues = tag.startswith("I-") and start is not None and tag[2:] == label
            if not continues:
                if start is not None:
                    spans.add((start, i, label))
                start, label = (i, tag[2:]) if tag[:2] in ("B-", "I-") else (None, None)
        if start is not None:
            spans.add((start, len(columns), label))
    return sorted(spans)


def flat_spans(spans: list[Span]) -> list[Span]:
    """Project nested spans onto one flat layer: outermost PER first, then the rest longest first."""
    per = [s for s in spans if s[2] == "PER"]
    kept = [s for s in per if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in per)]
    others = sorted((s for s in spans if s[2] != "PER"), key=lambda s: (s[0] - s[1], s[0]))
    for s in others:
        if all(s[1] <= k[0] or k[1] <= s[0] for k in kept):
            kept.append(s)
    return sorted(kept)


def split_files(litbank_dir: Path, split: str) -> list[Path]:
    """The tsv files of one published split (train, dev or test) of naacl2019_entities."""
    ids = litbank_dir / SPLIT_DIR / f"{split}.ids"
    if not ids.is_file():
        raise FiclensError(f"{ids}: LitBank split file not found (is {litbank_dir} a LitBank checkout?)")
    names = [n.strip() for n in ids.read_text(encoding="utf-8").split() if n.strip()]
    return [litbank_dir / TSV_DIR / name for name in names]


def read_split(litbank_dir: Path, split: str, *, chunk_tokens: int = CHUNK_TOKENS) -> list[Chunk]:
    """Read a split as chunks of whole sentences (about `chunk_tokens` tokens each)."""
    chunks: list[Chunk] = []
    for path in split_files(litbank_dir, split):
        book = path.name.removesuffix("_brat.tsv")
        chunk = Chunk(book, [])
        for words, spans in read_tsv(path):
            if chunk.words and len(chunk.words) + len(words) > chunk_tokens:
                chunks.append(chunk)
                chunk = Chunk(book, [])
            offset = len(chunk.words)
            chunk.words.extend(words)
            chunk.spans.extend((s + offset, e + offset, label) for s, e, label in spans)
        if chunk.words:
            chunks.append(chunk)
    return chunks


def prf(counts: Counter, key: str) -> dict[str, float]:
    tp, fp, fn = counts[key, "tp"], counts[key, "fp"], counts[key, "fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "gold": tp + fn, "predicted": tp + fp}


def is_named(words: list[str], span: Span) -> bool:
    """A span that ends in a capitalized word ("Mr. Thornbury", "Lydia") rather than a common noun.

    LitBank does not mark names apart from common nouns; this heuristic split only serves to report
    how the model does on the names a character list is built from.
    """
    last = words[span[1] - 1]
    return last[:1].isupper() and last != "I"


def score(gold: list[list[Span]], predicted: list[list[Span]],
          words: list[list[str]] | None = None) -> Counter:
    """Exact-match counts per label and over all labels ("ALL"), document by document.

    With `words`, PER is also counted apart for named ("PER-named") and common-noun ("PER-nominal")
    spans, each span classed by its own words (so a nominal gold span predicted as a name is a miss
    in one class and a false positive in the other only if its last word differs, which it cannot).
    """
    counts: Counter = Counter()
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        g, p = set(g), set(p)
        if words is not None:
            for kind, keep in (("PER-named", True), ("PER-nominal", False)):
                gl = {s for s in g if s[2] == "PER" and is_named(words[i], s) == keep}
                pl = {s for s in p if s[2] == "PER" and is_named(words[i], s) == keep}
                counts[kind, "tp"] += len(gl & pl)
                counts[kind, "fp"] += len(pl - gl)
                counts[kind, "fn"] += len(gl - pl)
        for label in ("ALL", *LABELS):
            gl = {s for s in g if label == "ALL" or s[2] == label}
            pl = {s for s in p if label == "ALL" or s[2] == label}
            counts[label, "tp"] += len(gl & pl)
            counts[label, "fp"] += len(pl - gl)
            counts[label, "fn"] += len(gl - pl)
    return counts


@register("litbank-entities")
def evaluate(data_dir: Path, *, split: str = "test", model_path: Path | str | None = None,
             limit: int | None = None, given_names: bool = True, **_options) -> EvalResult:
    """Score the shipped literary entity model on a LitBank split (default: the published test split).

    data_dir: the gold data folder (holding litbank/).
    split: "test" (what is reported) or "dev" (what training selected on).
    model_path: score another model directory instead of the shipped one.
    limit: score only the first N chunks (for quick checks).
    given_names: score the model with the given-name list it ships with (as ficlens runs it), or
        the model alone.
    """
    from ..entities import entity_spans_pipe, load_entity_model

    litbank = Path(data_dir) / "litbank"
    chunks = read_split(litbank, split)
    if limit is not None:
        chunks = chunks[:limit]
    nlp = load_entity_model(str(model_path) if model_path else None)
    from spacy.tokens import Doc

    docs = [Doc(nlp.vocab, words=c.words) for c in chunks]
    started = time.perf_counter()
    predicted = [[(s, e, label) for s, e, label in spans]
                 for spans in entity_spans_pipe(docs, nlp=nlp, unit="token",
                                                given_names=given_names)]
    seconds = time.perf_counter() - started
    counts = score([c.flat for c in chunks], predicted, [c.words for c in chunks])
    per, overall = prf(counts, "PER"), prf(counts, "ALL")
    words = sum(len(c.words) for c in chunks)
    return EvalResult(
        name="litbank-entities",
        metrics={"per_precision": per["precision"], "per_recall": per["recall"], "per_f1": per["f1"],
                 "all_types_micro_f1": overall["f1"]},
        details={"split": split, "given_names": given_names, "chunks": len(chunks), "words": words,
                 "books": sorted({c.book for c in chunks}),
                 "per_type": {label: prf(counts, label) for label in ("ALL", *LABELS)},
                 "per_named_vs_nominal": {k: prf(counts, k) for k in ("PER-named", "PER-nominal")},
                 "words_per_second": round(words / seconds) if seconds else None},
        notes=(f"LitBank naacl2019_entities {split} split, exact span match. PER = the outermost PER "
               "layer (PER spans inside no other PER span), names and common nouns alike; all types = "
               "micro average over the flat projection (outermost PER, then other types longest "
               "first where they overlap nothing). PER-named/PER-nominal split PER spans by whether "
               "their last word is capitalized. "
               + ("Scored as ficlens runs it: the model plus its given-name list."
                  if given_names else "The model alone, without its given-name list.")),
    )
