"""Narrative point of view: the `pdnc-pov` evaluation.

Two parts, each printed with its own accuracy:
- PDNC: the narrative person of each novel (`PDNC-Novel-Index.csv`, column "Narrative Person":
  1 first, 2 second, 3 third) against the story-level person ficlens gives. Only the structure and
  quotes stages run, then the narration stage on its own (pronoun counts over narration, no
  spaCy), so the whole corpus scores in seconds. The index is the authors' label; where a novel has a frame
  narrator who says "I" now and then around a third-person story, it says first person.
- The project's own passages (`tests/data/pov/passages.jsonl`, written for ficlens: first, second,
  third person, POV-header switches, slips, reader inserts): the story-level person, the narrator
  where one is named (compared by character id, name or alias), reader_insert, and for mixed
  passages the sequence of (person, narrator) segments. These run the default pipeline up to
  the narration stage.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import FiclensError
from ..model import Source, Story
from . import EvalResult, register

PDNC_INDEX = Path("pdnc") / "PDNC-Novel-Index.csv"
PDNC_DATA = Path("pdnc") / "data"
PERSON_CODES = {"1": "first", "2": "second", "3": "third"}
# The project's passages live in the repository's tests (an installed wheel has none: then skipped).
DEFAULT_POV_SET = Path(__file__).resolve().parents[3] / "tests" / "data" / "pov" / "passages.jsonl"


def read_pdnc_index(data_dir: Path) -> list[dict]:
    """Rows of the PDNC novel index that have a text here, with `person` decoded."""
    path = data_dir / PDNC_INDEX
    if not path.is_file():
        raise FiclensError(f"{path}: PDNC index not found (pass --data DIR)")
    rows = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = (row.get("Narrative Person") or "").strip()
            person = PERSON_CODES.get(code.split(".")[0]) if code else None
            folder = (row.get("Folder Name") or "").strip()
            text = data_dir / PDNC_DATA / folder / "novel_text.txt"
            if person and folder and text.is_file():
                rows.append({"code": row["Novel Code"], "title": row["Novel Title"],
                             "person": person, "path": text})
    return rows


def score_pdnc(data_dir: Path) -> tuple[dict[str, float], dict]:
    from ..pipeline import Pipeline
    from ..read import read_path
    from ..stages.narration import NarrationStage
    from ..stages.quotes import QuoteStage
    from ..stages.structure import StructureStage

    pipeline = Pipeline([StructureStage(), QuoteStage()])
    details = {}
    right = 0
    rows = read_pdnc_index(data_dir)
    for row in rows:
        story = pipeline(read_path(row["path"]))
        # The stage runs on its own here (no characters stage: no spaCy), so narrators are the
        # proper nouns it finds itself; they are reported, not scored (PDNC marks few narrators).
        NarrationStage(mark_mentions=False)(story)
        n = story.narration
        right += n.person == row["person"]
        names = {c.id: c.name for c in story.characters}
        details[row["code"]] = {
            "gold": row["person"], "predicted": n.person, "narrator": names.get(n.narrator),
            "segments_by_person": {p: sum(1 for g in n.segments if g.person == p)
                                   for p in {g.person for g in n.segments}}}
    metrics = {"pdnc_person_accuracy": right / len(rows) if rows else 0.0, "pdnc_novels": len(rows)}
    return metrics, details


def read_pov_set(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def analyze_passage(text: str, name: str = "passage.txt") -> Story:
    """Run the default pipeline up to the narration stage on one passage."""
    from ..pipeline import default_pipeline
    from ..read import story_from_text

    story = story_from_text(text, Source(path=name, format="txt"))
    return default_pipeline().until("narration")(story)


def narrator_matches(story: Story, predicted: str | None, expected: str | None) -> bool:
    """Is the predicted narrator id the character the expected name (or id) names?"""
    if expected is None or predicted is None:
        return expected is predicted
    want = expected.lower()
    if predicted.lower() == want:
        return True
    for c in story.characters:
        if c.id == predicted:
            forms = [f.lower() for f in (c.name, *c.aliases) if f]
            return want in forms or any(want in f.split() for f in forms)
    return False


def score_pov_set(path: Path) -> tuple[dict[str, float], dict]:
    passages = read_pov_set(path)
    hits = {"person": 0, "narrator": 0, "reader_insert": 0, "segments": 0}
    counts = {"person": 0, "narrator": 0, "reader_insert": 0, "segments": 0}
    failures = {}
    for p in passages:
        story = analyze_passage(p["text"], p["id"] + ".txt")
        n = story.narration
        got = {"person": n.person, "narrator": n.narrator, "reader_insert": n.reader_insert,
               "segments": [[g.person, g.narrator] for g in n.segments]}
        ok = {
            "person": n.person == p["person"],
            "narrator": narrator_matches(story, n.narrator, p["narrator"]),
            "reader_insert": n.reader_insert == p["reader_insert"],
        }
        if "segments" in p:
            want = p["segments"]
            ok["segments"] = len(want) == len(n.segments) and all(
                g.person == w[0] and narrator_matches(story, g.narrator, w[1])
                for g, w in zip(n.segments, want))
        for key, good in ok.items():
            counts[key] += 1
            hits[key] += good
        if not all(ok.values()):
            failures[p["id"]] = {"expected": {k: p.get(k) for k in ok}, "got": {k: got[k] for k in ok}}
    metrics = {f"pov_{k}_accuracy": hits[k] / counts[k] for k in hits if counts[k]}
    metrics["pov_passages"] = len(passages)
    return metrics, {"failures": failures}


@register("pdnc-pov")
def evaluate(data_dir: Path, *, pov_set: Path | None = None) -> EvalResult:
    """Narrative person on PDNC novels, and person/narrator/reader-insert on the project's passages."""
    metrics, details = score_pdnc(data_dir)
    all_details = {"pdnc": details}
    pov_set = pov_set or DEFAULT_POV_SET
    if pov_set.is_file():
        m, d = score_pov_set(pov_set)
        metrics.update(m)
        all_details["pov_set"] = d
    return EvalResult(
        name="pdnc-pov",
        metrics=metrics,
        details=all_details,
        notes=("PDNC: story-level person per novel against the index (structure + quotes + pronoun "
               "counts over narration). pov_*: the project's passages in tests/data/pov through the "
               "pipeline up to narration; narrator compared by character id, name or alias."),
    )


