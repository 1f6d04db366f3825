"""The coref stage: pronouns and nominals to characters, in-quote pronouns once speakers are known."""
from __future__ import annotations

import re

import pytest

from ficlens.api import analyze_text
from ficlens.errors import FiclensError, PipelineError
from ficlens.model import Mention, Source
from ficlens.pipeline import Pipeline
from ficlens.read import story_from_text
from ficlens.stages import default_stages
from ficlens.stages.coref import (CorefStage, Ranker, build_facts, default_ranker, resolve,
                                  resolve_quote_pronouns, rule_ranker)


def offsets_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """The nth whole-word occurrence of needle (case-sensitive)."""
    hits = [m.span() for m in re.finditer(rf"(?<![\w']){re.escape(needle)}(?![\w'])", text)]
    return hits[nth]


def mention_at(story, needle: str, nth: int = 0) -> Mention:
    s, e = offsets_of(story.text, needle, nth)
    found = [m for m in story.mentions if (m.start, m.end) == (s, e)]
    assert found, f"no mention at {needle!r} #{nth}"
    return found[0]


def character_of(story, name_part: str) -> str:
    ids = [c.id for c in story.characters if name_part.lower() in c.name.lower()]
    assert len(ids) == 1, (name_part, [c.name for c in story.characters])
    return ids[0]


def run(text: str):
    return analyze_text(text, until="coref")


# --------------------------------------------------------------------------------------------------
# The contract
def test_stage_contract_and_place_in_the_pipeline():
    stage = CorefStage()
    assert stage.name == "coref" and stage.requires == ("narration",) and stage.assigns == ("coref",)
    names = [s.name for s in default_stages()]
    assert names.index("coref") == names.index("narration") + 1
    Pipeline(default_stages())  # the chain checks


def test_bad_ranker_option_is_refused():
    with pytest.raises(PipelineError, match="ranker"):
        CorefStage(ranker="neural")


def test_unreadable_weights_raise_an_actionable_error(tmp_path):
    bad = tmp_path / "weights.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(FiclensError, match="train_coref.py"):
        Ranker.load(bad)


# --------------------------------------------------------------------------------------------------
# Third-person pronouns
TWO_PEOPLE = (
    "Marguerite Olsen walked into the bakery on the corner. She bought two loaves of rye and a "
    "lemon cake.\n\n"
    "Tobias Wren was waiting by the fountain outside. He took the cake from her and thanked her "
    "twice. His hands were cold from the wind.\n\n"
    "Marguerite laughed at him. She told him the cake was for his mother."
)


@pytest.mark.parametrize("ranker", ["auto", "rules"])
def test_pronouns_go_to_the_character_of_their_gender(ranker):
    story = story_from_text(TWO_PEOPLE, Source("t.txt", "txt"))
    stages = default_stages()
    stages[-1] = CorefStage(ranker=ranker)
    Pipeline(stages)(story)
    marguerite = character_of(story, "Marguerite")
    tobias = character_of(story, "Tobias")
    assert mention_at(story, "She", 0).character == marguerite
    assert mention_at(story, "He", 0).character == tobias
    assert mention_at(story, "her", 0).character == marguerite  # "took the cake from her"
    assert mention_at(story, "His", 0).character == tobias
    assert mention_at(story, "She", 1).character == marguerite
    assert mention_at(story, "him", 0).character == tobias


def test_nested_possessive_is_not_its_own_noun_phrase():
    story = run(TWO_PEOPLE)
    # "his mother" is a third person; "his" inside it is Tobias, and the two never merge.
    his = mention_at(story, "his", 0)
    assert his.character == character_of(story, "Tobias")
    mother = [m for m in story.mentions if story.text[m.start:m.end] == "his mother"]
    assert mother and mother[0].character != his.character


def test_clause_mates_are_two_people_unless_reflexive():
    text = ("Ruth Calder and Ezra Pell stood at the edge of the quarry. Ruth watched him in silence. "
            "Later Ezra blamed himself for the accident.")
    story = run(text)
    ruth, ezra = character_of(story, "Ruth"), character_of(story, "Ezra")
    # "Ruth watched him": him is not Ruth, whatever the gender list says about either name.
    assert mention_at(story, "him").character == ezra != ruth
    assert mention_at(story, "himself").character == ezra


def test_a_story_that_opens_on_a_pronoun_names_her_later():
    text = ("She had packed the car before dawn and she did not look back at the house. Her hands "
            "shook on the wheel.\n\n"
            "\"Odalys, wait,\" her brother called from the porch, but she was already gone.\n\n"
            "Odalys Ferreira drove south until the sun came up.")
    story = run(text)
    odalys = character_of(story, "Odalys")
    assert mention_at(story, "She", 0).character == odalys
    assert mention_at(story, "Her", 0).character == odalys


def test_first_person_narration_is_the_narrator():
    text = ("My name is Wendeline, and I have kept this lighthouse for eleven years. Every morning I "
            "climb the stairs and polish the lens.\n\n"
            "\"Wendeline, the supply boat is late,\" Harald said when he came up the path.\n\n"
            "I told him to wait for the tide. He grumbled, but he sat down on my bench.")
    story = run(text)
    assert story.narration.person == "first"
    narrator = story.narration.narrator
    assert narrator is not None
    harald = character_of(story, "Harald")
    assert mention_at(story, "I", 2).character == narrator  # "I told him"
    assert mention_at(story, "him", 0).character == harald
    assert mention_at(story, "he", 0).character == harald
    assert mention_at(story, "my", 0).character == narrator  # "on my bench"


# --------------------------------------------------------------------------------------------------
# In-quote pronouns once speakers are known
def test_resolve_quote_pronouns_sets_speaker_and_addressee():
    text = ("Ines Moreau leaned on the gate. \"I left my umbrella at your house,\" she told Paul.\n\n"
            "\"You always forget it,\" he said.")
    story = run(text)
    ines, paul = character_of(story, "Ines"), character_of(story, "Paul")
    first, second = sorted(story.quotes, key=lambda q: q.start)
    # What the attribution stage decides; set here by hand so the test does not depend on it.
    first.speaker, first.addressees = ines, [paul]
    second.speaker, second.addressees = paul, [ines]
    # The ranker has already guessed "I" and "my" from the speech tag; make one guess wrong to
    # see the known speaker win.
    mention_at(story, "my", 0).character = paul
    changed = resolve_quote_pronouns(story)
    assert changed == 3  # "my" set back, "your" and "You" added
    assert mention_at(story, "I", 0).character == ines
    assert mention_at(story, "my", 0).character == ines
    your = mention_at(story, "your", 0)
    assert your.kind == "pronoun" and your.character == paul  # added: the mentions stage skips it
    assert mention_at(story, "You", 0).character == ines
    assert [(m.start, m.end) for m in story.mentions] == sorted((m.start, m.end) for m in story.mentions)
    # Running it again changes nothing.
    assert resolve_quote_pronouns(story) == 0


def test_resolve_quote_pronouns_leaves_unknown_speakers_alone():
    text = "\"I can't find my keys,\" someone said from the hall."
    story = run(text)
    before = [(m.start, m.end, m.character) for m in story.mentions]
    assert resolve_quote_pronouns(story) == 0
    assert [(m.start, m.end, m.character) for m in story.mentions] == before


# --------------------------------------------------------------------------------------------------
# Real text
def test_seed_story_pronouns_agree_with_their_characters(seed_text):
    story = analyze_text(seed_text(4), until="coref")
    gender = {c.id: c.gender for c in story.characters}
    pronouns = [m for m in story.mentions if m.kind == "pronoun"
                and story.text[m.start:m.end].lower() in ("he", "him", "his", "she", "her", "herself", "himself")]
    assert len(pronouns) > 100
    resolved = [m for m in pronouns if m.character]
    assert len(resolved) / len(pronouns) > 0.85
    checked = agree = 0
    for m in resolved:
        g = gender.get(m.character)
        if g not in ("male", "female"):
            continue
        checked += 1
        word = story.text[m.start:m.end].lower()
        agree += (g == "male") == (word in ("he", "him", "his", "himself"))
    assert checked > 100 and agree / checked > 0.95


def test_coref_is_fast_next_to_the_parse(seed_text):
    story = story_from_text(seed_text(1), Source("seed1.txt", "txt"))
    timings: dict[str, float] = {}
    Pipeline(default_stages()).pipe([story], timings=timings)
    assert timings["coref"] < 0.1 * timings["nlp"], timings


def test_resolver_without_characters_clusters_all_mentions():
    # The LitBank setting: no character is given; names cluster by the ranker's string features.
    story = run(TWO_PEOPLE)
    mentions = [Mention(m.start, m.end, m.kind) for m in story.mentions]
    for ranker in (default_ranker(), rule_ranker()):
        assign, _ = resolve(build_facts(story, mentions), ranker)
        by_span = {(m.start, m.end): a for m, a in zip(mentions, assign)}
        m1 = offsets_of(TWO_PEOPLE, "Marguerite Olsen")
        m2 = offsets_of(TWO_PEOPLE, "Marguerite", 1)
        assert by_span[m1] == by_span[m2]
        assert by_span[offsets_of(TWO_PEOPLE, "She", 0)] == by_span[m1]
        assert by_span[offsets_of(TWO_PEOPLE, "He", 0)] != by_span[m1]


def test_quote_pronoun_stage_runs_after_attribution():
    from ficlens.stages.attribution import AttributionStage
    from ficlens.stages.coref import QuotePronounStage

    stages = default_stages()
    names = [s.name for s in stages]
    if "attribution" not in names:
        stages.append(AttributionStage())
    pipeline = Pipeline(stages + [QuotePronounStage()])
    text = ("Ines Moreau leaned on the gate and looked at Paul.\n\n"
            "\"I left my umbrella at your house,\" Ines told Paul Becker.\n\n"
            "\"You always forget it,\" Paul said.")
    story = pipeline(story_from_text(text, Source("t.txt", "txt")))
    ines, paul = character_of(story, "Ines"), character_of(story, "Paul")
    quotes = sorted(story.quotes, key=lambda q: q.start)
    assert quotes[0].speaker == ines and quotes[1].speaker == paul
    assert mention_at(story, "my").character == ines
    if quotes[1].addressees == [ines]:
        assert mention_at(story, "You").character == ines
