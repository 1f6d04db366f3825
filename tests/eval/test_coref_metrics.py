"""MUC, B-cubed and CEAF-e on small partitions whose scores were worked out by hand."""
from __future__ import annotations

import pytest

from ficlens.eval.coref_metrics import CorefScore, bcub, ceafe, entities, muc, phi4

# Key {a b c} {d e f g}; response {a b} {c d} {f g h i} (h and i are mentions the key lacks).
KEY = entities([["a", "b", "c"], ["d", "e", "f", "g"]])
RESPONSE = entities([["a", "b"], ["c", "d"], ["f", "g", "h", "i"]])


def test_muc_counts_links_kept():
    c = muc(KEY, RESPONSE)
    # Recall: {a b c} is cut in 2 parts (3 - 2 = 1 link of 2), {d e f g} in 3 ({d} {e} {f g}: 1 of 3).
    assert (c.r_num, c.r_den) == (2, 5)
    # Precision: {a b} keeps 1 of 1, {c d} 0 of 1, {f g h i} is 3 parts ({f g} {h} {i}): 1 of 3.
    assert (c.p_num, c.p_den) == (2, 5)
    assert c.f1 == pytest.approx(0.4)


def test_bcub_per_mention_overlap():
    c = bcub(KEY, RESPONSE)
    # Recall: {a b c}: 2*2/3 + 1*1/3 = 5/3; {d e f g}: 1/4 + 2*2/4 = 5/4; over 7 key mentions.
    assert c.recall == pytest.approx((5 / 3 + 5 / 4) / 7)  # 5/12
    # Precision: {a b}: 4/2; {c d}: 1/2 + 1/2; {f g h i}: 4/4; over 8 response mentions.
    assert c.precision == pytest.approx(4 / 8)


def test_ceafe_takes_the_best_one_to_one_alignment():
    assert phi4(KEY[0], RESPONSE[0]) == pytest.approx(0.8)
    c = ceafe(KEY, RESPONSE)
    # {a b c}-{a b} (0.8) + {d e f g}-{f g h i} (0.5) beats any other pairing (at most 1.13).
    assert c.r_num == pytest.approx(1.3)
    assert c.recall == pytest.approx(1.3 / 2)
    assert c.precision == pytest.approx(1.3 / 3)


def test_overmerged_response():
    key = entities([["a", "b"], ["c"]])
    response = entities([["a", "b", "c"]])
    m = muc(key, response)
    assert (m.recall, m.precision) == (1.0, 0.5)
    b = bcub(key, response)
    assert b.recall == 1.0 and b.precision == pytest.approx(5 / 9)
    e = ceafe(key, response)
    assert e.recall == pytest.approx(0.4) and e.precision == pytest.approx(0.8)


def test_mentions_only_one_side_has():
    key = entities([["a", "b"]])
    response = entities([["a", "x"]])
    assert muc(key, response).f1 == 0.0
    b = bcub(key, response)
    assert b.recall == pytest.approx(0.25) and b.precision == pytest.approx(0.25)
    assert ceafe(key, response).f1 == pytest.approx(0.5)


def test_identical_partitions_score_one_and_documents_sum():
    s = CorefScore()
    s.add([["a", "b"], ["c"]], [["b", "a"], ["c"]])
    s.add(KEY, RESPONSE)
    assert s.documents == 2
    # MUC sums links over documents: (1 + 2) / (1 + 5) both ways.
    assert s.counts["muc"].recall == pytest.approx(3 / 6)
    # B-cubed sums mention scores: (3 + 35/12) / (3 + 7).
    assert s.counts["bcub"].recall == pytest.approx((3 + 35 / 12) / 10)
    # CEAF-e sums alignments: (2 + 1.3) / (2 + 2) recall, / (2 + 3) precision.
    assert s.counts["ceafe"].recall == pytest.approx(3.3 / 4)
    assert s.counts["ceafe"].precision == pytest.approx(3.3 / 5)
    perfect = CorefScore()
    perfect.add(KEY, KEY)
    assert perfect.average_f1 == pytest.approx(1.0)
    assert perfect.as_dict()["ceafe_f1"] == pytest.approx(1.0)


def test_a_mention_in_two_entities_is_an_error():
    with pytest.raises(ValueError):
        entities([["a", "b"], ["b", "c"]])
