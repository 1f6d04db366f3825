"""PDNC (Project Dialogism Novel Corpus): loader and the quote-span evaluation.

`load_novels(data_dir)` reads `data_dir/pdnc/data/*/` (or a PDNC folder given directly): each novel's
text, its annotated quotations and its characters. PDNC's `quoteByteSpans` are character offsets
into `novel_text.txt`; list cells are Python literals (read with `ast.literal_eval`).
"""
from __future__ import annotations

import ast
import bisect
import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FiclensError
from . import EvalResult, register

QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019"


@dataclass
class PdncQuote:
    id: str
    text: str
    spans: list[tuple[int, int]]  # one per sub-quotation, character offsets into the novel text
    sub_texts: list[str]
    speaker: str
    addressees: list[str]
    quote_type: str  # Explicit | Anaphoric | Implicit
    referring_expression: str = ""


@dataclass
class PdncCharacter:
    id: str
    name: str  # PDNC's "Main Name"
    aliases: set[str] = field(default_factory=set)
    gender: str = ""
    category: str = ""  # major | intermediate | minor


@dataclass
class PdncNovel:
    name: str  # the folder name, e.g. "Emma"
    text: str  # novel_text.txt as decoded
    quotes: list[PdncQuote]
    characters: list[PdncCharacter]
    path: Path = Path()

    @property
    def sub_spans(self) -> list[tuple[int, int]]:
        return [span for q in self.quotes for span in q.spans]


def pdnc_root(data_dir: Path) -> Path:
    """The folder holding one sub-folder per novel: accepts the shared data dir or PDNC's own."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / "pdnc" / "data", data_dir / "data", data_dir):
        if candidate.is_dir() and any(candidate.glob("*/novel_text.txt")):
            return candidate
    raise FiclensError(f"{data_dir}: no PDNC novels found (expected pdnc/data/*/novel_text.txt)")


def load_novels(data_dir: Path, names: list[str] | None = None) -> list[PdncNovel]:
    """Every PDNC novel under `data_dir` (sorted by name), or only those in `names`."""
    root = pdnc_root(data_dir)
    folders = sorted(p.parent for p in root.glob("*/novel_text.txt"))
    if names is not None:
        wanted = set(names)
        missing = wanted - {f.name for f in folders}
        if missing:
            raise FiclensError(f"{root}: no PDNC novel named {', '.join(sorted(missing))}")
        folders = [f for f in folders if f.name in wanted]
    return [load_novel(f) for f in folders]


def load_novel(folder: Path) -> PdncNovel:
    text = (folder / "novel_text.txt").read_text(encoding="utf-8")
    quotes = []
    with open(folder / "quotation_info.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            spans = [(int(a), int(b)) for a, b in _literal(row["quoteByteSpans"])]
            quotes.append(PdncQuote(
                id=row["quoteID"], text=row["quoteText"], spans=spans,
                sub_texts=list(_literal(row["subQuotationList"])), speaker=row["speaker"],
                addressees=list(_literal(row.get("addressees") or "[]")), quote_type=row["quoteType"],
                referring_expression=row.get("referringExpression") or ""))
    characters = []
    with open(folder / "character_info.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            aliases = _literal(row.get("Aliases") or "set()")
            characters.append(PdncCharacter(
                id=row["Character ID"], name=row["Main Name"], aliases=set(aliases),
                gender=row.get("Gender", ""), category=row.get("Category", "")))
    return PdncNovel(name=folder.name, text=text, quotes=quotes, characters=characters, path=folder)


def _literal(cell: str):
    cell = cell.strip()
    if not cell:
        return []
    try:
        return ast.literal_eval(cell)
    except (ValueError, SyntaxError) as e:
        raise FiclensError(f"PDNC: cannot read the cell {cell[:60]!r} ({e})") from e


# ---------------------------------------------------------------------------------------------------
def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    """Trim whitespace and quote marks from both ends of a span."""
    while s < e and (text[s].isspace() or text[s] in QUOTE_MARKS):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in QUOTE_MARKS):
        e -= 1
    return s, e


def predicted_spans(novel: PdncNovel) -> tuple[list[tuple[int, int]], list[int], float, int]:
    """Run read -> structure -> quotes on a novel; quote contents as spans into the novel text.

    Returns the spans, their utterance ids, the seconds structure+quotes took, and the word count.
    """
    from ..model import Source
    from ..read import story_from_text
    from ..stages.quotes import QuoteStage, quote_content
    from ..stages.structure import StructureStage

    story = story_from_text(novel.text, Source(path=str(novel.path / "novel_text.txt"), format="txt"))
    t0 = time.perf_counter()
    StructureStage()(story)
    QuoteStage()(story)
    seconds = time.perf_counter() - t0
    to_src = story.offsets.to_source
    spans = []
    for q in story.quotes:
        s, e = quote_content(story, q)
        spans.append((to_src(s), to_src(e)))
    return spans, [q.utterance for q in story.quotes], seconds, len(story.text.split())


def utterance_pairs(novel: PdncNovel, pred: list[tuple[int, int]], utterances: list[int]) -> dict[str, int]:
    """Score the "same utterance" decision on consecutive predicted spans that both match a gold
    quotation: gold says same when both fall in one PDNC quotation (its sub-quotations)."""
    owner: list[tuple[int, int, int]] = sorted(
        (s, e, qi) for qi, q in enumerate(novel.quotes) for s, e in q.spans)
    starts = [o[0] for o in owner]

    def gold_quote(span: tuple[int, int]) -> int | None:
        ps, pe = _strip(novel.text, *span)
        best, best_ov = None, 0
        # Gold sub-spans barely overlap, so the few that start just before `pe` are enough.
        for k in range(bisect.bisect_right(starts, pe) - 1, -1, -1):
            gs, ge, qi = owner[k]
            ov = min(pe, ge) - max(ps, gs)
            if ov > best_ov:
                best, best_ov = qi, ov
            if ge <= ps and k < bisect.bisect_right(starts, ps) - 8:
                break
        return best

    ids = [gold_quote(sp) for sp in pred]
    c = {"pairs": 0, "gold_same": 0, "pred_same": 0, "both_same": 0}
    for i in range(1, len(pred)):
        if ids[i] is None or ids[i - 1] is None:
            continue
        c["pairs"] += 1
        g = ids[i] == ids[i - 1]
        p = utterances[i] == utterances[i - 1]
        c["gold_same"] += g
        c["pred_same"] += p
        c["both_same"] += g and p
    return c


def match_spans(text: str, gold: list[tuple[int, int]], pred: list[tuple[int, int]],
                *, cover: float = 0.9) -> dict[str, int]:
    """Count matches between gold and predicted spans (both into `text`), after trimming both of
    whitespace and quote marks.

    - gold_exact: gold spans equal to some predicted span;
    - gold_overlap: gold spans of which one predicted span covers at least `cover` of the characters;
    - pred_exact: predicted spans equal to some gold span;
    - pred_overlap: predicted spans that cover at least `cover` of some gold span, or whose
      characters lie at least half inside gold spans (PDNC cuts a quote at a nested quotation, so
      one predicted span may hold several gold pieces).
    """
    g = sorted({_strip(text, s, e) for s, e in gold})
    p = sorted(_strip(text, s, e) for s, e in pred)
    pset = set(p)
    gset = set(g)
    counts = {"gold": len(g), "pred": len(p), "gold_exact": 0, "gold_overlap": 0,
              "pred_exact": 0, "pred_overlap": 0}
    # Sweep: for each gold span, the predicted spans that overlap it (both lists sorted by start).
    pred_hit = [False] * len(p)
    j0 = 0
    for gs, ge in g:
        if (gs, ge) in pset:
            counts["gold_exact"] += 1
        glen = max(1, ge - gs)
        while j0 < len(p) and p[j0][1] <= gs:
            j0 += 1
        best = 0
        j = j0
        # Predicted spans do not overlap each other, so at most a few are visited per gold span.
        while j < len(p) and p[j][0] < ge:
            ps, pe = p[j]
            ov = min(pe, ge) - max(ps, gs)
            if ov > 0 or (gs == ge and ps <= gs <= pe):
                best = max(best, ov)
                if ov >= cover * glen or gs == ge:
                    pred_hit[j] = True
            j += 1
        if best >= cover * glen or (gs == ge and any(ps <= gs <= pe for ps, pe in p[j0:j])):
            counts["gold_overlap"] += 1
    # Predicted spans mostly inside gold spans.
    covered = _coverage(g, p)
    for k, (ps, pe) in enumerate(p):
        if (ps, pe) in gset:
            counts["pred_exact"] += 1
        if pred_hit[k] or (pe > ps and covered[k] >= 0.5 * (pe - ps)):
            counts["pred_overlap"] += 1
    return counts


def _coverage(gold: list[tuple[int, int]], pred: list[tuple[int, int]]) -> list[int]:
    """For each predicted span, how many of its characters lie inside some gold span."""
    merged: list[list[int]] = []
    for s, e in gold:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out = []
    j0 = 0
    for ps, pe in pred:
        while j0 < len(merged) and merged[j0][1] <= ps:
            j0 += 1
        total = 0
        j = j0
        while j < len(merged) and merged[j][0] < pe:
            total += max(0, min(pe, merged[j][1]) - max(ps, merged[j][0]))
            j += 1
        out.append(total)
    return out


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


@register("pdnc-quote-spans")
def eval_quote_spans(data_dir: Path, *, novels: list[str] | None = None, cover: float = 0.9,
                     **options) -> EvalResult:
    """Quote-span recall and precision of structure+quotes on the PDNC novels."""
    total = {"gold": 0, "pred": 0, "gold_exact": 0, "gold_overlap": 0, "pred_exact": 0, "pred_overlap": 0}
    pairs = {"pairs": 0, "gold_same": 0, "pred_same": 0, "both_same": 0}
    per_novel = {}
    seconds = 0.0
    words = 0
    for novel in load_novels(data_dir, novels):
        pred, utterances, secs, n_words = predicted_spans(novel)
        for k, v in utterance_pairs(novel, pred, utterances).items():
            pairs[k] += v
        seconds += secs
        words += n_words
        c = match_spans(novel.text, novel.sub_spans, pred, cover=cover)
        for k in total:
            total[k] += c[k]
        per_novel[novel.name] = {
            "gold": c["gold"], "pred": c["pred"],
            "recall": _ratio(c["gold_overlap"], c["gold"]),
            "recall_exact": _ratio(c["gold_exact"], c["gold"]),
            "precision": _ratio(c["pred_overlap"], c["pred"]),
            "precision_exact": _ratio(c["pred_exact"], c["pred"]),
        }
    metrics = {
        "recall": _ratio(total["gold_overlap"], total["gold"]),
        "recall_exact": _ratio(total["gold_exact"], total["gold"]),
        "precision": _ratio(total["pred_overlap"], total["pred"]),
        "precision_exact": _ratio(total["pred_exact"], total["pred"]),
        "utterance_same_precision": _ratio(pairs["both_same"], pairs["pred_same"]),
        "utterance_same_recall": _ratio(pairs["both_same"], pairs["gold_same"]),
        "gold_spans": total["gold"],
        "predicted_spans": total["pred"],
        "words_per_second": round(words / seconds) if seconds else 0,
    }
    notes = (f"Gold = PDNC sub-quotation spans; predicted = quote contents (marks excluded). A gold span "
             f"is matched when one predicted span covers >= {cover:.0%} of it (recall) or equals it after "
             f"trimming whitespace and quote marks (recall_exact). A predicted span is correct when it "
             f"covers >= {cover:.0%} of a gold span or lies at least half inside gold spans (precision); "
             f"PDNC leaves some quoted text (letters, titles, thoughts) unannotated, so precision is a floor. "
             f"utterance_same_*: on consecutive predicted spans matched to gold, the decision that they "
             f"are one utterance vs PDNC's grouping of sub-quotations into one quotation.")
    return EvalResult(name="pdnc-quote-spans", metrics=metrics, details={"novels": per_novel}, notes=notes)
