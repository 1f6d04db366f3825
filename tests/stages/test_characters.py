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
