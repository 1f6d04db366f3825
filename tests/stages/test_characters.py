"""The characters stage: alias clustering, gender, mentioned-only, fandom detection and canon links."""
from __future__ import annotations

import pytest

from ficlens.canon import NO_FANDOM_NOTE
from ficlens.model import Source
from ficlens.pipeline import Pipeline
from ficlens.read import read_path, story_from_text
from ficlens.stages import default_stages
from ficlens.stages.characters import CharacterStage, parse_name
from ficlens.stages.mentions import MentionStage
from ficlens.stages.nlp import NlpStage
from ficlens.stages.quotes import QuoteStage
from ficlens.stages.structure import StructureStage

STAGES = (StructureStage, QuoteStage, NlpStage, MentionStage, CharacterStage)


def analyze(text: str, meta: dict | None = None):
    story = story_from_text(text, Source("t.txt", "txt"), meta=meta)
    Pipeline([s() for s in STAGES])(story)
    return story


def by_alias(story, alias: str):
    found = [c for c in story.characters if alias in c.aliases]
    assert len(found) == 1, (alias, [(c.id, c.aliases) for c in story.characters])
    return found[0]


FAMILY = """\
Mr. Hartwell read the letter twice before he put it down. Mrs. Hartwell watched him from the window; she said nothing.

Elizabeth Hartwell came in with her sister. Elizabeth sat by the fire and she opened her book.

"Lizzy, come and see this," Mr. Hartwell said.

Lizzy crossed the room. She took the letter from her father.

"It is from Walter Dray," Mrs. Hartwell said. "Mr. Dray writes that he will come on Sunday."

Hartwell laughed at that, and he went back to his paper.
"""


@pytest.fixture(scope="module")
def family():
    return analyze(FAMILY)


def test_titles_keep_husband_and_wife_apart(family):
    mr = by_alias(family, "Mr. Hartwell")
    mrs = by_alias(family, "Mrs. Hartwell")
    assert mr.id != mrs.id
    assert mr.gender == "male" and mrs.gender == "female"
    assert "title: male x1" in mr.gender_evidence[0]


def test_full_name_first_name_and_diminutive_join(family):
    liz = by_alias(family, "Elizabeth Hartwell")
    assert {"Elizabeth", "Lizzy"} <= set(liz.aliases)
    assert liz.name == "Elizabeth Hartwell" and liz.id == "elizabeth-hartwell"
    assert liz.gender == "female"


def test_a_full_name_and_a_titled_surname_join(family):
    dray = by_alias(family, "Walter Dray")
    assert "Mr. Dray" in dray.aliases and dray.gender == "male"
    assert dray.mentioned_only  # only talked about, inside dialogue


def test_a_bare_family_surname_goes_to_the_man_called_mr(family):
    mr = by_alias(family, "Mr. Hartwell")
    text = family.text
    bare = text.index("Hartwell laughed")
    m = next(m for m in family.mentions if m.start == bare)
    assert m.kind == "name" and m.character == mr.id


def test_every_clustered_mention_points_at_a_listed_character(family):
    ids = {c.id for c in family.characters}
    named = [m for m in family.mentions if m.kind in ("name", "nickname", "vocative")]
    assert all(m.character in ids for m in named)
    assert all(m.character is None for m in family.mentions if m.kind == "pronoun")
    for c in family.characters:
        assert c.counts["mentions"] == sum(1 for m in family.mentions if m.character == c.id)


def test_original_work_links_to_no_fandom(family):
    assert family.tags["fandoms"] == []
    assert family.tags["fandom_note"] == NO_FANDOM_NOTE
    assert all(c.canon is None for c in family.characters)


def test_declared_fandom_links_even_a_thin_cast():
    story = analyze("Derek looked at the chart again and frowned.\n\nHe had been awake for two days.",
                    meta={"fandoms": ["Criminal Minds (US TV)"]})
    assert story.tags["fandoms"][0]["name"] == "Criminal Minds (US TV)"
    derek = by_alias(story, "Derek")
    assert derek.name == "Derek Morgan" and derek.canon["pack"] == "criminal-minds"


def test_parse_name():
    f = parse_name("Mr. John Knightley")
    assert (f.title, f.words, f.role) == ("mr", ("John", "Knightley"), "full")
    assert parse_name("Mrs. Bennet").role == "family"
    assert parse_name("Miss Elizabeth").role == "given"
    assert parse_name("Derek's").words == ("Derek",)


def test_default_pipeline_runs_mentions_and_characters_after_nlp():
    names = [s.name for s in default_stages()]
    assert names.index("mentions") == names.index("nlp") + 1
    assert names.index("characters") == names.index("mentions") + 1


# --------------------------------------------------------------------------------------------------
# Seeds (../shared/seeds): the acceptance checks
@pytest.fixture(scope="module")
def seed(seed_path):
    cache = {}

    def get(n: int):
        if n not in cache:
            story = read_path(seed_path(n))
            Pipeline([s() for s in STAGES])(story)
            cache[n] = story
        return cache[n]

    return get


def cast(story) -> dict[str, object]:
    return {c.name: c for c in story.characters}


def test_seed_000_original_characters(seed):
    story = seed(0)
    people = cast(story)
    assert {"Ali", "Derek", "Mike", "Jarred"} <= set(people)
    assert story.tags["fandoms"] == [] and story.tags["fandom_note"] == NO_FANDOM_NOTE
    assert all(c.canon is None for c in story.characters)
    assert people["Derek"].gender == "male"
    assert people["Ali"].gender == "female" and "short for" in people["Ali"].gender_evidence[0]
    assert people["Mike"].mentioned_only and people["Jarred"].mentioned_only
    assert not people["Derek"].mentioned_only and not people["Ali"].mentioned_only


def test_seed_001_greys_anatomy_cast(seed):
    story = seed(1)
    assert [f["name"] for f in story.tags["fandoms"]] == ["Grey's Anatomy"]
    people = cast(story)
    derek, meredith, mark = people["Derek Shepherd"], people["Meredith Grey"], people["Mark Sloan"]
    assert {"Derek", "Der", "Shep"} <= set(derek.aliases)
    assert {"Meredith", "Mer", "Grey"} <= set(meredith.aliases)
    assert derek.id == "derek-shepherd" and derek.canon["pack"] == "greys-anatomy"
    assert (derek.gender, meredith.gender, mark.gender) == ("male", "female", "male")
    assert not mark.mentioned_only  # Mark speaks
    assert people["Rose"].mentioned_only
    # Evidence spans of the fandom are the matched mentions.
    for s, e in story.tags["fandoms"][0]["evidence"]:
        assert any(m.start == s and m.end == e for m in story.mentions)
    shep = story.text.index("Shep")
    assert next(m for m in story.mentions if m.start == shep).character == "derek-shepherd"


def test_seed_002_criminal_minds_cast(seed):
    story = seed(2)
    assert [f["name"] for f in story.tags["fandoms"]] == ["Criminal Minds (US TV)"]
    people = cast(story)
    assert people["Derek Morgan"].gender == "male"
    garcia = people["Penelope Garcia"]
    assert garcia.gender == "female" and {"Penelope", "Baby Girl"} <= set(garcia.aliases)


def test_seed_003_greys_anatomy_from_two_names(seed):
    story = seed(3)
    assert [f["name"] for f in story.tags["fandoms"]] == ["Grey's Anatomy"]
    assert {"Derek Shepherd", "Meredith Grey"} <= set(cast(story))


def test_seed_004_disclaimer_and_a_dead_parent(seed):
    story = seed(4)
    fandom = story.tags["fandoms"][0]
    assert fandom["name"] == "Grey's Anatomy" and "notes" in fandom["sources"]
    disclaimer = next(s for s in story.sections if s.kind == "disclaimer")
    assert any(disclaimer.start <= s < disclaimer.end for s, _ in fandom["evidence"])
    people = cast(story)
    assert people["Ellis Grey"].mentioned_only and people["Ellis Grey"].gender == "female"
    assert not people["Meredith Grey"].mentioned_only
    assert {"Meredith", "Mer", "Meredith Grey"} <= set(people["Meredith Grey"].aliases)


# --------------------------------------------------------------------------------------------------
# Families: rules that keep relatives apart (and the ones that still join)
def names_of(story) -> dict[str, list[str]]:
    return {c.name: c.aliases for c in story.characters}


def test_a_bare_titled_surname_is_named_with_its_title(family):
    mr = by_alias(family, "Mr. Hartwell")
    assert "Hartwell" in mr.aliases and mr.name == "Mr. Hartwell" and mr.id == "mr-hartwell"


def test_a_given_name_after_a_rank_is_not_its_untitled_diminutive():
    story = analyze(
        "Sir Thomas Ashby came home from the colonies in the spring. Sir Thomas was a grave man, and he "
        "said little at dinner.\n\nTom Ashby, his eldest son, laughed too loudly and drank too much. Tom "
        "had debts that his father knew nothing of.\n\n\"You look tired, sir,\" Tom said. Sir Thomas did "
        "not answer him.\n")
    father, son = by_alias(story, "Sir Thomas"), by_alias(story, "Tom")
    assert father.id != son.id
    assert "Sir Thomas Ashby" in father.aliases and "Tom Ashby" in son.aliases


def test_a_formal_given_name_after_mr_still_joins_its_diminutive():
    story = analyze(
        "Bill Pratt kept the inn by the river. Bill was a big man with a loud laugh.\n\n"
        "The magistrate read the charge against Mr. William Pratt. Bill only shrugged.\n")
    assert "Mr. William Pratt" in by_alias(story, "Bill Pratt").aliases


def test_two_diminutives_of_one_name_join():
    story = analyze(
        "Tom Quill ran the shop on the corner. Tommy Quill, as his mother called him, never closed "
        "before midnight.\n\nTom counted the money while Tommy's mother watched.\n")
    assert {"Tom Quill", "Tommy Quill"} <= set(by_alias(story, "Tom Quill").aliases)


def test_mr_surname_named_beside_the_only_given_name_is_another_man():
    story = analyze(
        "George Ashcroft walked into the village with his father. \"Sit down, George,\" said Mr. Ashcroft, "
        "and George sat.\n\nThe old man looked at the sky. Mr. Ashcroft thought it would rain before "
        "night.\n\n\"George is too proud,\" Mr. Ashcroft told the vicar while George was out of the room.\n\n"
        "George came back with the tea. He did not look at anyone.\n")
    father, son = by_alias(story, "Mr. Ashcroft"), by_alias(story, "George Ashcroft")
    assert father.id != son.id and "George" in son.aliases


def test_a_given_name_goes_to_the_one_last_called_by_it():
    # Miss Holt (the aunt) is named between the niece's "Jane"s; the aunt's sister was Miss Jane Holt.
    story = analyze(
        "Miss Holt talked all through the visit. Her sister, Miss Jane Holt, had married a soldier long ago "
        "and died young.\n\nJane Wren, the soldier's daughter, sat quietly by the window. Jane was pale and "
        "she said nothing.\n\nMiss Holt praised the cake and the weather. \"Jane is so clever,\" Miss Holt "
        "said. \"Jane plays every evening.\"\n\nMiss Holt went on about her mother's cough. Jane smiled at "
        "the guests and said nothing.\n")
    niece = by_alias(story, "Jane Wren")
    jane = [m for m in story.mentions if story.text[m.start:m.end] == "Jane"]
    assert len(jane) == 4 and all(m.character == niece.id for m in jane)
    assert "Jane" not in by_alias(story, "Miss Holt").aliases


def test_a_wife_called_by_her_husbands_name():
    story = analyze(
        "Mrs. Vane received her sons in the morning room. Mrs. Vane was proud of them both.\n\n"
        "Henry Vane had married a rich widow the year before. Mrs. Henry Vane wore pearls to every "
        "dinner.\n\nHenry laughed at his mother's questions, and Mrs. Vane frowned at him.\n")
    mother, wife, henry = by_alias(story, "Mrs. Vane"), by_alias(story, "Mrs. Henry Vane"), by_alias(story, "Henry")
    assert len({mother.id, wife.id, henry.id}) == 3
    assert henry.name == "Henry Vane"


def test_a_lone_given_name_does_not_join_a_woman_of_the_other_gender():
    story = analyze(
        "Kit Marsh was the cleverest girl at the school. Miss Marsh read every book in the library.\n\n"
        "Her brother Christopher came to visit at Easter. Christopher brought her a new pen.\n")
    assert by_alias(story, "Christopher").id != by_alias(story, "Kit Marsh").id
    assert by_alias(story, "Christopher").gender == "male"


def test_hard_wrapped_names_and_dashes_make_clean_aliases():
    story = analyze(
        "The letter came for Mr. Hartwell at noon, and he read it twice over\n"
        "before he gave it to Mrs. Hartwell.--She read it only once, and\n"
        "laughed, and put it in the drawer with the others from his\n"
        "brother, which she had never answered. Nor did Mr.\n"
        "Hartwell, who had long ago given up on that side of the family.\n\n"
        "Mrs. Hartwell went up to bed early. Her husband sat by the fire\n"
        "until the candles were out and the house was quiet again.\n")
    assert names_of(story) == {"Mr. Hartwell": ["Mr. Hartwell"], "Mrs. Hartwell": ["Mrs. Hartwell"]}
