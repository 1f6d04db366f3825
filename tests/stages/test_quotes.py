"""The quotes stage on the seeds (offsets computed at test time) and on original sentences."""
from __future__ import annotations

import re

import pytest

from ficlens.errors import PipelineError
from ficlens.model import Source
from ficlens.pipeline import Pipeline
from ficlens.read import story_from_text
from ficlens.stages.quotes import DOUBLE, SINGLE, QuoteStage, detect_mark, quote_content
from ficlens.stages.structure import StructureStage


def analyse(text: str, **options):
    story = story_from_text(text, Source(path="t.txt", format="txt"))
    StructureStage()(story)
    QuoteStage(**options)(story)
    return story


def spans(story) -> list[str]:
    return [story.text[q.start:q.end] for q in story.quotes]


def check_invariants(story):
    text = story.text
    assert [q.id for q in story.quotes] == list(range(len(story.quotes)))
    utterances = [q.utterance for q in story.quotes]
    assert utterances == sorted(utterances) and (not utterances or utterances[0] == 0)
    assert all(b - a <= 1 for a, b in zip(utterances, utterances[1:]))
    prev_end = 0
    for q in story.quotes:
        assert q.start >= prev_end
        prev_end = q.end
        assert any(s <= q.start and q.end <= e for s, e in story.paragraphs), "quote outside the body"
        if q.closed:
            assert text[q.end - 1] in "\"'"
        else:
            para_end = next(e for s, e in story.paragraphs if s <= q.start < e)
            assert q.end == para_end


def quote_at(story, offset: int):
    hits = [q for q in story.quotes if q.start <= offset < q.end]
    return hits[0] if hits else None


# --- seeds --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_seed_invariants(seed_text, n):
    story = analyse(seed_text(n))
    check_invariants(story)
    assert detect_mark(story.text, story.paragraphs) == DOUBLE


def test_seed0_every_pair_is_a_quote(seed_text):
    """Seed 000 closes every quote it opens: the quotes are exactly its pairs of marks."""
    story = analyse(seed_text(0))
    expected = []
    for s, e in story.paragraphs:
        pos = [s + m.start() for m in re.finditer('"', story.text[s:e])]
        assert len(pos) % 2 == 0
        expected += [(pos[i], pos[i + 1] + 1) for i in range(0, len(pos), 2)]
    assert [(q.start, q.end) for q in story.quotes] == expected
    assert all(q.closed for q in story.quotes)


def test_seed0_empty_quote(seed_text):
    story = analyse(seed_text(0))
    at = story.text.find('""')
    assert at > 0
    q = quote_at(story, at)
    assert (q.start, q.end, q.closed) == (at, at + 2, True)
    s, e = quote_content(story, q)
    assert s == e == at + 1


def test_seed0_single_quoted_name_is_not_speech(seed_text):
    story = analyse(seed_text(0))
    m = re.search(r" '([A-Z][A-Za-z ]+)' [a-z]", story.text)  # a 'Capitalized Name' inside narration
    assert m, "seed 000 has a single-quoted name in narration"
    assert quote_at(story, m.start(1)) is None


def test_seed0_quotes_stop_before_end_note(seed_text):
    story = analyse(seed_text(0))
    note = story.text.find("Authors Note")
    assert story.quotes and story.quotes[-1].end < note


def test_seed1_split_quote_shares_utterance(seed_text):
    """A quote ending in a comma, a one-sentence tag ("<name> sighed, ..."), then more speech."""
    story = analyse(seed_text(1))
    text = story.text
    found = 0
    for m in re.finditer(r'," Derek sighed, [^".!?]*[.,] "', text):
        a = quote_at(story, m.start())
        b = quote_at(story, m.end() - 1)
        assert a is not None and b is not None and a is not b
        assert a.end == m.start() + 2 and b.start == m.end() - 1
        assert a.utterance == b.utterance
        found += 1
    assert found >= 1


def test_seed1_question_then_narration_then_new_line(seed_text):
    """'"...?" <name> asked.' ends an utterance; the next paragraph's quote is a new one."""
    story = analyse(seed_text(1))
    text = story.text
    m = re.search(r'\?" Mark asked, [^"\n]*\n', text)
    assert m
    a = quote_at(story, m.start())
    b = next(q for q in story.quotes if q.start >= m.end())
    assert b.utterance == a.utterance + 1


def test_seed1_unclosed_quote(seed_text):
    story = analyse(seed_text(1))
    odd = [(s, e) for s, e in story.paragraphs if story.text.count('"', s, e) % 2 == 1]
    assert odd, "seed 001 has a paragraph with an unclosed quote"
    for s, e in odd:
        last = [q for q in story.quotes if s <= q.start < e][-1]
        assert not last.closed and last.end == e
        assert story.text[last.start] == '"'


def test_seed2_tag_then_narration_is_a_new_utterance(seed_text):
    """'"...," she said <...>. He shook his head. "..."': two sentences between, two utterances."""
    story = analyse(seed_text(2))
    m = re.search(r'," she said [^"]*\. He shook his head\. "', story.text)
    assert m
    a, b = quote_at(story, m.start()), quote_at(story, m.end() - 1)
    assert a.utterance + 1 == b.utterance


def test_seed2_ellipsis_tag_then_more_speech_is_one_utterance(seed_text):
    story = analyse(seed_text(2))
    m = re.search(r'\.\.\." she started to say [^"]*\. "', story.text)
    assert m
    a, b = quote_at(story, m.start()), quote_at(story, m.end() - 1)
    assert a is not b and a.utterance == b.utterance
    # ...while a finished line followed by plain narration ("... She held ...") is not a tag.
    m = re.search(r'\.\.\." She [^"]*\. "', story.text)
    assert m
    a, b = quote_at(story, m.start()), quote_at(story, m.end() - 1)
    assert a.utterance + 1 == b.utterance


def test_seed3_no_quotes_in_notes_or_headers(seed_text):
    story = analyse(seed_text(3))
    body = set(story.paragraphs)
    assert story.quotes
    for q in story.quotes:
        assert any(s <= q.start and q.end <= e for s, e in body)


# --- original sentences ----------------------------------------------------------------------------------
def test_split_quote_with_tag():
    story = analyse('"Yes," she said, "now."\n\nHe left.\n')
    assert spans(story) == ['"Yes,"', '"now."']
    assert story.quotes[0].utterance == story.quotes[1].utterance == 0


def test_exclamation_then_tag_then_lowercase_continuation():
    story = analyse('"Good heavens!" cried the captain, "we are aground."\n')
    assert story.quotes[0].utterance == story.quotes[1].utterance


def test_two_speakers_in_one_paragraph():
    story = analyse('"Tea?" Ann offered. Bob shook his head and looked away. "No, thanks."\n')
    assert [q.utterance for q in story.quotes] == [0, 1]


def test_run_on_paragraphs_share_an_utterance():
    text = ('"First we go to the market. Then we see the river.\n\n'
            '"And after that, if you are not tired, the old bridge."\n\n'
            '"I am already tired," said Tom.\n')
    story = analyse(text)
    assert [(q.closed, q.utterance) for q in story.quotes] == [(False, 0), (True, 0), (True, 1)]
    assert story.quotes[0].end == story.paragraphs[0][1]


def test_interrupted_quote_is_not_run_on():
    text = '"I was only trying to tell you that the\n\n"Stop," she said.\n'
    story = analyse(text)
    assert [(q.closed, q.utterance) for q in story.quotes] == [(False, 0), (True, 1)]


def test_forgotten_closing_mark():
    story = analyse('"Hello, he said. "Goodbye."\n')
    assert spans(story) == ['"Hello, he said.', '"Goodbye."']
    assert [q.closed for q in story.quotes] == [False, True]


def test_nested_double_quotes_stay_inside():
    story = analyse('"I told him, "Not today," and he laughed," she said.\n')
    assert spans(story) == ['"I told him, "Not today," and he laughed,"']


def test_nested_single_quotes_in_double_quote_story():
    story = analyse('"She said \'never again\' and meant it," Tom said. "Don\'t ask her."\n')
    assert spans(story) == ['"She said \'never again\' and meant it,"', '"Don\'t ask her."']


def test_mentions_are_not_speech():
    text = ('She wore her "lucky" scarf to the match.\n\n'
            'He called the shed "home" for a whole summer.\n\n'
            'He said "maybe" and walked off.\n\n'
            'The sign read "Closed" when we got there.\n')
    story = analyse(text)
    assert spans(story) == ['"maybe"']  # after a speech verb, a short quote is speech


def test_short_quote_at_paragraph_start_is_speech():
    story = analyse('"Home," she said.\n\n"Home" was all she said.\n')
    assert spans(story) == ['"Home,"', '"Home"']


BRITISH = """'I shan't be long,' said Mrs Pell, pulling on her gloves. 'The dogs' bowls want filling before tea.'

'Right you are,' said Jim. He didn't look up from the paper.

'And don't let 'em on the sofa,' she added, 'or there'll be words.'

Jim read on. The headline was about the 'Village Fete' as usual.

'Do you hear me? I told you about the sofa, Jim. All summer I've been telling you

'It was the dogs, not me,' he said at last.

She sighed. 'Rock 'n' roll, the lot of you.'
"""


def test_british_single_quote_story():
    story = analyse(BRITISH)
    check_invariants(story)
    assert detect_mark(story.text, story.paragraphs) == SINGLE
    assert spans(story) == [
        "'I shan't be long,'",
        "'The dogs' bowls want filling before tea.'",
        "'Right you are,'",
        "'And don't let 'em on the sofa,'",
        "'or there'll be words.'",
        "'Do you hear me? I told you about the sofa, Jim. All summer I've been telling you",
        "'It was the dogs, not me,'",
        "'Rock 'n' roll, the lot of you.'",
    ]
    assert [q.utterance for q in story.quotes] == [0, 0, 1, 2, 2, 3, 4, 5]
    assert [q.closed for q in story.quotes] == [True] * 5 + [False] + [True] * 2


def test_style_can_be_forced():
    story = analyse(BRITISH, style="double")
    assert story.quotes == []
    with pytest.raises(PipelineError, match="style"):
        QuoteStage(style="curly")


def test_apostrophes_do_not_make_a_single_quote_story():
    text = ("Tom's dog didn't bark. The boys' bikes were gone, and 'em down the lane was the answer.\n\n"
            '"Where are they?" he asked.\n')
    story = analyse(text)
    assert detect_mark(story.text, story.paragraphs) == DOUBLE
    assert spans(story) == ['"Where are they?"']


def test_notes_and_headers_are_not_searched():
    text = ('A/N: "Thanks for the reviews," as my friend says!\n\n'
            '"Hello," said Ann.\n\n'
            'Author\'s Note: "See you next time."\n')
    story = analyse(text)
    assert spans(story) == ['"Hello,"']


def test_quote_content_trims_marks_and_space():
    story = analyse('" Well, then, "she said.\n\n"Unfinished business\n')
    assert [story.text[slice(*quote_content(story, q))] for q in story.quotes] == [
        "Well, then,", "Unfinished business"]


def test_pipeline_contract():
    pipe = Pipeline([StructureStage(), QuoteStage()])
    story = story_from_text('"Hi," she said.\n', Source(path="t.txt", format="txt"))
    pipe(story)
    assert {"sections", "paragraphs", "title", "quotes"} <= story.layers
    assert len(story.quotes) == 1
