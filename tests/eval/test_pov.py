"""The `pdnc-pov` evaluation: narrative person on PDNC, and the project's passages in tests/data/pov."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ficlens import eval as evaluations
from ficlens.eval.pov import DEFAULT_POV_SET, narrator_matches, read_pdnc_index, score_pov_set
from ficlens.model import Character, Source
from ficlens.read import story_from_text

POV_SET = Path(__file__).resolve().parents[1] / "data" / "pov" / "passages.jsonl"


@pytest.fixture(scope="module")
def pdnc_dir(shared_dir):
    data = shared_dir / "data"
    if not (data / "pdnc" / "PDNC-Novel-Index.csv").is_file():
        pytest.skip("PDNC data not present")
    return data


def test_the_passage_set_is_well_formed():
    passages = [json.loads(line) for line in POV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert POV_SET == DEFAULT_POV_SET
    assert len(passages) >= 30
    assert len({p["id"] for p in passages}) == len(passages)
    for p in passages:
        assert p["person"] in ("first", "second", "third")
        assert isinstance(p["reader_insert"], bool)
        assert 80 <= len(p["text"].split()) <= 220, p["id"]
    kinds = {p["id"].split("-")[0] for p in passages}
    assert {"first", "second", "third", "mixed", "reader"} <= kinds


def test_pdnc_index_gives_person_per_novel(pdnc_dir):
    rows = read_pdnc_index(pdnc_dir)
    assert len(rows) >= 15
    assert {r["person"] for r in rows} == {"first", "third"}
    emma = next(r for r in rows if r["code"] == "EMMA")
    assert emma["person"] == "third" and emma["path"].is_file()


@pytest.fixture(scope="module")
def pov_result(pdnc_dir):
    """The whole evaluation, run once through its registered name."""
    assert "pdnc-pov" in evaluations.names()
    return evaluations.run("pdnc-pov", pdnc_dir)


def test_pdnc_person_accuracy(pov_result):
    metrics, details = pov_result.metrics, pov_result.details["pdnc"]
    # Measured 0.85 (17 of 20). The three misses are novels the index calls first person whose
    # narration is third person: Where Angels Fear to Tread (third person throughout), Daisy
    # Miller and Winnie-the-Pooh (a frame narrator's rare "I" around a third-person story).
    assert metrics["pdnc_novels"] >= 15
    assert metrics["pdnc_person_accuracy"] >= 0.8
    third = [code for code, d in details.items() if d["gold"] == "third"]
    assert all(details[c]["predicted"] == "third" for c in third)
    first = [code for code, d in details.items() if d["gold"] == "first"]
    assert sum(details[c]["predicted"] == "first" for c in first) >= 2
    # Narrators of the first-person novels, found from vocatives alone (no characters stage).
    if "GAMB" in details:
        assert details["GAMB"]["narrator"] == "Alexis Ivanovitch"
    if "FOUR" in details:
        assert details["FOUR"]["narrator"] == "Watson"


def test_project_passages(pov_result):
    metrics = pov_result.metrics
    assert metrics["pov_passages"] >= 30
    assert metrics["pov_person_accuracy"] >= 0.9
    assert metrics["pov_narrator_accuracy"] >= 0.85
    assert metrics["pov_reader_insert_accuracy"] >= 0.95
    assert metrics["pov_segments_accuracy"] >= 0.75


def test_project_passages_without_pdnc():
    """The passages score on their own (no gold data needed)."""
    metrics, details = score_pov_set(POV_SET)
    assert metrics["pov_person_accuracy"] >= 0.9 and metrics["pov_narrator_accuracy"] >= 0.85
    assert set(details["failures"]) <= {json.loads(line)["id"] for line in POV_SET.read_text().splitlines()}


def test_narrator_matching_uses_ids_names_and_aliases():
    story = story_from_text("x\n", Source("t.txt", "txt"))
    story.characters = [Character(id="c7", name="Derek Shepherd", aliases=["Shep"])]
    assert narrator_matches(story, "c7", "Derek")
    assert narrator_matches(story, "c7", "shep")
    assert narrator_matches(story, "c7", "c7")
    assert not narrator_matches(story, "c7", "Mark")
    assert narrator_matches(story, None, None)
    assert not narrator_matches(story, "c7", None)
