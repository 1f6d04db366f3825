"""Speaker attribution evaluations (`pdnc-quotes`, `litbank-quotes`): mapping, alignment, scoring.

The gold data lives in ../shared/data; tests skip when it is absent. The full 20-novel evaluation is
`ficlens eval pdnc-quotes` (make eval), not run here.
"""
from __future__ import annotations

import pytest

from ficlens import eval as evaluations
from ficlens.eval.quotes import (eval_litbank_quotes, figures, folds_of, load_litbank_books,
                                 map_characters, prepare_novel, score_run)
from ficlens.model import Character
from ficlens.stages.attribution import decode, default_ranker


def test_registered():
    assert {"pdnc-quotes", "litbank-quotes"} <= set(evaluations.names())


def test_map_characters_by_names_and_aliases():
    gold = [("g1", {"Mr. Bennet", "Bennet"}), ("g2", {"Mrs. Bennet"}), ("g3", {"Elizabeth", "Lizzy"}),
            ("g4", {"Mr. Knightley", "George Knightley"})]
    predicted = [
        Character(id="a", name="Elizabeth Bennet", aliases=["Elizabeth", "Lizzy"]),
        Character(id="b", name="Mrs. Bennet", aliases=["Mrs. Bennet"]),
        Character(id="c", name="Knightley", aliases=["Knightley"]),  # a word of one gold form only
        Character(id="d", name="Harriet", aliases=["Harriet"]),  # no gold character
    ]
    got = map_characters(predicted, gold)
    assert got == {"a": "g3", "b": "g2", "c": "g4"}
    # Ties go to the better-ranked gold character.
    tie = [Character(id="e", name="Smith", aliases=["Smith"])]
    both = [("minor", {"Smith"}), ("major", {"Smith"})]
    assert map_characters(tie, both, {"major": 0, "minor": 2}) == {"e": "major"}


def test_folds_partition_novels():
    names = [f"n{i:02d}" for i in range(20)]
    folds = folds_of(names, 5)
    assert len(folds) == 5 and all(len(f) == 4 for f in folds)
    assert sorted(n for f in folds for n in f) == names


def test_pdnc_end_to_end_on_one_novel(pdnc_data_dir):
    from ficlens.eval.pdnc import load_novels

    novel = load_novels(pdnc_data_dir, ["DaisyMiller"])[0]
    run = prepare_novel(novel)
    assert len(run.utts) > 400
    # Nearly every gold quotation is covered by a ficlens quote.
    assert sum(ui is not None for _, ui in run.matches) >= 0.99 * len(run.matches)
    rules = figures(score_run(run, decode(run.ctx, run.utts, None)))
    learned = figures(score_run(run, decode(run.ctx, run.utts, default_ranker(), beam=4)))
    assert rules["gold_quotes"] == len(novel.quotes)
    # The shipped ranker saw this novel, so this checks the plumbing, not generalization (the
    # leave-novels-out figures come from `ficlens eval pdnc-quotes`).
    assert rules["explicit"] > 0.9 and rules["accuracy"] > 0.7
    assert learned["accuracy"] > rules["accuracy"]
    assert learned["addressee_accuracy"] > 0.7


def test_litbank_alignment_and_eval(shared_dir):
    path = shared_dir / "data"
    if not (path / "litbank" / "quotations" / "tsv").is_dir():
        pytest.skip("LitBank data not present")
    books = load_litbank_books(path)
    assert len(books) == 100
    assert sum(len(b.quotes) for b in books) >= 1700
    for b in books[:20]:
        for s, e, speaker in b.quotes:
            # Gold token spans land on the quotation marks in the original text.
            assert b.text[s] in "\u201c\u2018\"'\u2014-_" or b.text[s].isalpha(), (b.name, b.text[s:e][:30])
            assert speaker
    # One excerpt (not a PDNC novel) whose speakers are named characters.
    name = "1155_the_secret_adversary"
    if name not in {b.name for b in books}:
        pytest.skip(f"{name} not in this LitBank copy")
    result = eval_litbank_quotes(path, books=[name])
    assert result.metrics["rules_gold_quotes"] > 40
    assert result.metrics["rules_quotes_matched"] > 0.9
    assert result.metrics["rules_accuracy"] > 0.5
    assert result.metrics["learned_accuracy"] > 0.6
    assert result.details["left_out"] == []
