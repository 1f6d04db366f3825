"""PDNC character clustering: how well the characters stage gathers a novel's names into people.

Each novel runs read -> structure -> quotes -> nlp -> mentions -> characters; the predicted
characters are compared with PDNC's `character_info.csv` (Main Name, Aliases, Gender). Strings are
compared after `canon.norm` (case folded, periods dropped, one space), so "Mr. Darcy" = "Mr Darcy".

Scores:
- gold_recall: of the gold characters whose Main Name occurs at least twice in the text (whole word,
  as written), the share whose Main Name is an alias of some predicted character.
- B-cubed precision / recall / F1 over alias strings. Items are the gold alias strings (Main Name
  and Aliases) that occur in the text and are an alias of some predicted character; strings that
  are aliases of two gold characters are left out. An item's gold cluster is its gold character;
  its predicted cluster is the predicted character that holds the string with the most mentions.
- merges: for each predicted character, the number of distinct gold characters among its items
  minus one, summed (two gold people folded into one predicted character count one merge).
- gender_accuracy: over gold characters of gender M or F whose Main Name (else most items) maps to
  a predicted character, the share whose predicted gender agrees (no prediction counts as wrong);
  gender_precision: the same over those with a predicted gender.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from ..canon import norm
from . import EvalResult, register
from .pdnc import PdncNovel, load_novels

GOLD_GENDER = {"M": "male", "F": "female"}


def run_novel(novel: PdncNovel, *, entity_model: bool = False) -> tuple[list, dict[str, Counter], dict[str, float], int]:
    """The predicted characters of one novel, its alias counts (normalized surface -> {character id:
    mentions}), the seconds per stage, and the word count."""
    from ..model import Source
    from ..pipeline import Pipeline
    from ..read import story_from_text
    from ..stages.characters import CharacterStage
    from ..stages.mentions import MentionStage
    from ..stages.nlp import NlpStage
    from ..stages.quotes import QuoteStage
    from ..stages.structure import StructureStage

    story = story_from_text(novel.text, Source(path=str(novel.path / "novel_text.txt"), format="txt"))
    timings: dict[str, float] = {}
    pipeline = Pipeline([StructureStage(), QuoteStage(), NlpStage(), MentionStage(entity_model=entity_model),
                         CharacterStage(canon=False)])
    pipeline.pipe([story], timings=timings)
    words = len(story.text.split())
    alias_counts: dict[str, Counter] = defaultdict(Counter)
    for m in story.mentions:
        if m.character:
            alias_counts[norm(story.text[m.start:m.end])][m.character] += 1
    story.docs = []  # free the parse before the next novel
    return story.characters, alias_counts, timings, words


def score_novel(novel: PdncNovel, characters: list, pred_of: dict[str, Counter]) -> dict:
    """Counts for one novel (see the module docstring for the definitions)."""
    text = novel.text
    occurs: dict[str, int] = {}

    def count(s: str) -> int:
        if s not in occurs:
            occurs[s] = len(re.findall(r"(?<!\w)" + re.escape(s) + r"(?!\w)", text))
        return occurs[s]

    gold_owner: dict[str, set[str]] = defaultdict(set)
    for g in novel.characters:
        for a in {g.name} | set(g.aliases):
            gold_owner[norm(a)].add(g.id)

    # Gold-character recall.
    eligible = [g for g in novel.characters if count(g.name) >= 2]
    found = [g for g in eligible if norm(g.name) in pred_of]

    # B-cubed over alias strings.
    items: dict[str, tuple[str, str]] = {}  # alias -> (gold id, predicted id)
    for g in novel.characters:
        for a in {g.name} | set(g.aliases):
            key = norm(a)
            if key in items or len(gold_owner[key]) != 1 or key not in pred_of or count(a) == 0:
                continue
            items[key] = (g.id, pred_of[key].most_common(1)[0][0])
    by_gold: dict[str, set[str]] = defaultdict(set)
    by_pred: dict[str, set[str]] = defaultdict(set)
    for key, (gid, pid) in items.items():
        by_gold[gid].add(key)
        by_pred[pid].add(key)
    p_sum = r_sum = 0.0
    for key, (gid, pid) in items.items():
        both = len(by_gold[gid] & by_pred[pid])
        p_sum += both / len(by_pred[pid])
        r_sum += both / len(by_gold[gid])
    merges = sum(len({items[k][0] for k in keys}) - 1 for keys in by_pred.values())

    # Gender of matched gold characters.
    gender = {"gold": 0, "decided": 0, "correct": 0}
    genders = {ch.id: ch.gender for ch in characters}
    for g in novel.characters:
        want = GOLD_GENDER.get(g.gender)
        if not want:
            continue
        key = norm(g.name)
        pid = pred_of[key].most_common(1)[0][0] if key in pred_of else None
        if pid is None:
            votes = Counter(items[k][1] for k in by_gold.get(g.id, ()))
            pid = votes.most_common(1)[0][0] if votes else None
        if pid is None:
            continue
        gender["gold"] += 1
        if genders.get(pid):
            gender["decided"] += 1
            gender["correct"] += genders[pid] == want
    return {"eligible": len(eligible), "found": len(found), "items": len(items), "p_sum": p_sum,
            "r_sum": r_sum, "merges": merges, "predicted": len(characters), "gold": len(novel.characters),
            "missed": sorted(g.name for g in eligible if g not in found), **{f"gender_{k}": v for k, v in gender.items()}}


@register("pdnc-characters")
def evaluate(data_dir: Path, *, novels: list[str] | None = None, limit: int | None = None,
             entity_model: bool = False) -> EvalResult:
    """Alias clustering and gender on PDNC (all 20 novels unless `novels` or `limit` says fewer);
    `entity_model` adds the literary entity model's names to the mentions stage."""
    todo = load_novels(data_dir, novels)
    if limit is not None:
        todo = todo[:limit]
    totals: Counter = Counter()
    per_novel = {}
    timings: Counter = Counter()
    words = 0
    for novel in todo:
        characters, alias_counts, t, w = run_novel(novel, entity_model=entity_model)
        s = score_novel(novel, characters, alias_counts)
        timings.update(t)
        words += w
        per_novel[novel.name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()}
        per_novel[novel.name]["b3_f1"] = round(_f1(s["p_sum"] / max(1, s["items"]), s["r_sum"] / max(1, s["items"])), 4)
        totals.update({k: v for k, v in s.items() if not isinstance(v, list)})
    n = max(1, totals["items"])
    precision, recall = totals["p_sum"] / n, totals["r_sum"] / n
    parse = timings.get("nlp", 0.0)
    ours = timings.get("mentions", 0.0) + timings.get("characters", 0.0)
    metrics = {
        "novels": len(todo),
        "gold_recall": _ratio(totals["found"], totals["eligible"]),
        "b3_precision": round(precision, 4),
        "b3_recall": round(recall, 4),
        "b3_f1": round(_f1(precision, recall), 4),
        "alias_items": totals["items"],
        "merges": totals["merges"],
        "gender_accuracy": _ratio(totals["gender_correct"], totals["gender_gold"]),
        "gender_precision": _ratio(totals["gender_correct"], totals["gender_decided"]),
        "words": words,
        "mentions_characters_vs_parse": round(ours / parse, 4) if parse else 0.0,
    }
    notes = ("B-cubed over gold alias strings that occur in the text and in some predicted character "
             "(strings shared by two gold characters left out); gold_recall over gold characters whose "
             "Main Name occurs twice or more. Canon packs are off (these are not fan fiction). "
             "mentions_characters_vs_parse: seconds of mentions+characters over seconds of the spaCy parse.")
    return EvalResult(name="pdnc-characters", metrics=metrics,
                      details={"novels": per_novel, "seconds": {k: round(v, 2) for k, v in timings.items()}},
                      notes=notes)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
