"""`ficlens eval pdnc-characters`: the scoring on a made-up novel, and a real run on one PDNC novel."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ficlens.eval import names as evaluation_names
from ficlens.eval.pdnc import PdncCharacter, PdncNovel
from ficlens.eval.pdnc_characters import evaluate, score_novel
from ficlens.model import Character

TEXT = ("Anna Vell met Mr. Orrin at the gate. Anna laughed. Mr. Orrin bowed to Miss Vell. "
        "Tam Orrin, his brother, said nothing; Tam never did. Anna and Tam walked home.")


def novel() -> PdncNovel:
    return PdncNovel(name="Made", text=TEXT, quotes=[], path=Path("."), characters=[
        PdncCharacter(id="0", name="Anna Vell", aliases={"Anna", "Miss Vell"}, gender="F"),
        PdncCharacter(id="1", name="Mr. Orrin", aliases={"Orrin"}, gender="M"),
        PdncCharacter(id="2", name="Tam Orrin", aliases={"Tam"}, gender="M"),
        PdncCharacter(id="3", name="Nobody Here", aliases=set(), gender="F"),
    ])


def test_scores_a_merge_a_split_and_genders():
    # Predicted: Anna split from "Miss Vell"; the two Orrins merged into one character.
    chars = [Character(id="anna", name="Anna Vell", aliases=["Anna", "Anna Vell"], gender="female"),
             Character(id="vell", name="Miss Vell", aliases=["Miss Vell"], gender="female"),
             Character(id="orrin", name="Mr. Orrin", aliases=["Mr. Orrin", "Tam", "Tam Orrin"], gender="male")]
    pred_of = {"anna": Counter(anna=3), "anna vell": Counter(anna=1), "miss vell": Counter(vell=1),
               "mr orrin": Counter(orrin=2), "tam": Counter(orrin=2), "tam orrin": Counter(orrin=1)}
    s = score_novel(novel(), chars, pred_of)
    # Gold characters whose Main Name occurs twice: only Mr. Orrin ("Anna Vell" and "Tam Orrin" once).
    assert (s["eligible"], s["found"]) == (1, 1)
    # Items: anna, anna vell, miss vell, mr orrin, tam, tam orrin ("orrin" was never predicted).
    assert s["items"] == 6
    # Anna's three items: two in one predicted cluster, one alone.
    # Precision: anna 1, anna vell 1, miss vell 1, mr orrin 1/3, tam 2/3, tam orrin 2/3.
    assert s["p_sum"] == pytest.approx(3 + 1 / 3 + 4 / 3)
    # Recall: anna 2/3, anna vell 2/3, miss vell 1/3, mr orrin 1, tam 1, tam orrin 1.
    assert s["r_sum"] == pytest.approx(5 / 3 + 3)
    assert s["merges"] == 1
    # Genders: Anna (F), Mr. Orrin (M), Tam Orrin (M) map to predicted characters; all agree.
    assert (s["gender_gold"], s["gender_decided"], s["gender_correct"]) == (3, 3, 3)


def test_registered():
    assert "pdnc-characters" in evaluation_names()


def test_real_run_on_one_novel(shared_dir):
    data = shared_dir / "data"
    if not (data / "pdnc" / "data" / "DaisyMiller").is_dir():
        pytest.skip("PDNC's Daisy Miller is not present")
    result = evaluate(data, novels=["DaisyMiller"])
    m = result.metrics
    assert m["novels"] == 1 and m["alias_items"] >= 5
    assert m["gold_recall"] >= 0.8
    assert m["b3_f1"] >= 0.7
    assert m["gender_accuracy"] >= 0.7
    assert 0 < m["mentions_characters_vs_parse"] < 0.5
    assert "DaisyMiller" in result.details["novels"]
