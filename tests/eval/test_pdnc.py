"""PDNC loader and the quote-span evaluation (skipped when ../shared/data is absent)."""
from __future__ import annotations

import pytest

from ficlens import eval as evaluations
from ficlens.errors import FiclensError
from ficlens.eval.pdnc import load_novels, match_spans

SMALL = ["AlicesAdventuresInWonderland", "DaisyMiller"]


def test_load_novels(pdnc_data_dir):
    novels = load_novels(pdnc_data_dir)
    assert len(novels) == 20
    assert [n.name for n in novels] == sorted(n.name for n in novels)
    for novel in load_novels(pdnc_data_dir, SMALL):
        assert novel.text and novel.quotes and novel.characters
        spans = novel.sub_spans
        assert all(0 <= s < e <= len(novel.text) for s, e in spans)
        # quoteByteSpans are character offsets: the text there is the sub-quotation, nearly always.
        same = sum(novel.text[s:e] == t for q in novel.quotes for (s, e), t in zip(q.spans, q.sub_texts))
        assert same >= 0.99 * len(spans)
        assert all(q.quote_type in ("Explicit", "Anaphoric", "Implicit") for q in novel.quotes)
        main = novel.characters[0]
        assert isinstance(main.aliases, set) and main.name and main.gender and main.category
        names = {c.name for c in novel.characters}
        assert sum(q.speaker in names for q in novel.quotes) >= 0.95 * len(novel.quotes)


def test_unknown_novel_is_an_error(pdnc_data_dir):
    with pytest.raises(FiclensError):
        load_novels(pdnc_data_dir, ["NoSuchNovel"])


def test_match_spans_counts():
    text = 'He said, "one two three," and then "four five." "six"'
    one = (text.index("one"), text.index(",\""))  # one two three   (gold without the comma)
    four = (text.index("four"), text.index('."'))
    six = (text.index("six"), text.index("six") + 3)
    pred_one = (text.index('"one'), text.index('," and') + 2)  # with marks: trimmed before comparing
    pred_four = (text.index("four"), text.index('."') + 1)  # "four five." covers the gold
    stray = (0, 2)  # "He": matches nothing
    c = match_spans(text, [one, four, six], [pred_one, pred_four, stray])
    assert c["gold"] == 3 and c["pred"] == 3
    assert c["gold_overlap"] == 2  # one, four (six missed)
    assert c["gold_exact"] == 0  # pred_one keeps its comma, pred_four its period
    assert c["pred_overlap"] == 2 and c["pred_exact"] == 0


def test_eval_is_registered():
    assert "pdnc-quote-spans" in evaluations.names()


def test_quote_span_recall_on_two_novels(pdnc_data_dir):
    result = evaluations.run("pdnc-quote-spans", pdnc_data_dir, novels=SMALL)
    m = result.metrics
    # Measured: recall 0.999 / 0.9986, exact 0.981 / 0.990, precision 0.934 / 0.977.
    assert m["recall"] >= 0.99
    assert m["recall_exact"] >= 0.97
    assert m["precision"] >= 0.90
    assert m["utterance_same_precision"] >= 0.85 and m["utterance_same_recall"] >= 0.85
    assert set(result.details["novels"]) == set(SMALL)
    for figures in result.details["novels"].values():
        assert figures["recall"] >= 0.99
