"""The narration stage: person per segment and per story, the narrator's identity, narrator mentions."""
from __future__ import annotations

import pytest

from ficlens.model import Character, Mention, Source
from ficlens.pipeline import Pipeline, default_pipeline
from ficlens.read import read_path, story_from_text
from ficlens.stages.narration import NarrationStage, find_reader_insert, segment_person
from ficlens.stages.quotes import QuoteStage
from ficlens.stages.structure import StructureStage


def prepared(text: str, characters: list[Character] | None = None):
    """A story with structure and quotes, and optionally a character list, ready for the stage."""
    story = Pipeline([StructureStage(), QuoteStage()])(story_from_text(text, Source("t.txt", "txt")))
    story.characters = list(characters or [])
    return story


def narrate(text: str, characters: list[Character] | None = None):
    story = prepared(text, characters)
    NarrationStage()(story)
    return story


def character(story, cid):
    return next(c for c in story.characters if c.id == cid)


def offsets_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


# --------------------------------------------------------------------------------------------------
# Person
DIALOGUE_HEAVY_THIRD = """\
Greta slammed the door so hard the plates rattled. Her father looked up from his paper.

"I told you I don't want to go," she said. "You never listen to me. I hate it there."

"You said you liked it last year," he said, folding the paper. "I remember you saying so."

"I was nine. I liked everything when I was nine."

He sighed and went to put the kettle on. She sat at the table with her arms folded and watched him, and after a while she noticed that he had made her tea exactly the way she liked it.
"""


def test_dialogue_does_not_make_a_story_first_person():
    story = narrate(DIALOGUE_HEAVY_THIRD)
    assert story.narration.person == "third"
    assert story.narration.narrator is None
    assert [g.person for g in story.narration.segments] == ["third"]
    # The dialogue's "I" got no narrator mention; narration has no "I" at all.
    assert not [m for m in story.mentions if m.kind == "narrator"]


SECOND_WITH_SLIP = """\
You wake before dawn and lie still, listening to the house. Your sister is already up; you can hear her in the kitchen, clattering pans the way she does when she is nervous.

You dress in the dark. Your good shirt is still creased from the suitcase, and you smooth it with your palms and tell yourself it does not matter.

He had never been good at mornings. He stood at the window and he thought about the drive, and about his father, and about everything he had not said.

In the kitchen your sister hands you a cup without a word. You drink it too hot and burn your tongue, and you do not care, because today you are going home.

You carry the bags to the car. Your sister locks the door behind you, and you both stand for a moment on the step, looking at the road.
"""


def test_one_paragraph_slip_keeps_the_main_pov():
    story = narrate(SECOND_WITH_SLIP)
    assert story.narration.person == "second"
    assert len(story.narration.segments) == 1
    seg = story.narration.segments[0]
    assert (seg.start, seg.end) == (story.paragraphs[0][0], story.paragraphs[-1][1])


def test_segments_follow_pov_headers_and_take_their_narrators():
    text = """\
Imke's POV

I counted the steps to the harbour. Forty. I had counted them every morning since I was small, and I counted them now because my hands would not stop shaking and I needed something to do with my head.

My brother's boat was not at its mooring. I stood there a long time.

Bastian's POV

The engine had died an hour out, and I had been rowing since. My palms were raw. I could see the harbour lights now, and I told myself that my sister would be waiting, because she always was.
"""
    bastian = Character(id="bastian-vos", name="Bastian Vos", aliases=["Bastian"])
    story = narrate(text, [bastian])
    segs = story.narration.segments
    assert [(g.person, g.narrator) for g in segs] == [("first", "imke"), ("first", "bastian-vos")]
    # A label no character matches becomes a character; a matching one is reused, not duplicated.
    assert character(story, "imke").name == "Imke"
    assert sum(1 for c in story.characters if "Bastian" in c.name) == 1
    # Segments are in story.text offsets: the second starts at the paragraph after its header.
    header = next(s for s in story.sections if s.kind == "pov_header" and s.label == "Bastian")
    second_para = next(p for p in story.paragraphs if p[0] > header.end)
    assert segs[1].start == second_para[0] and segs[1].end == story.paragraphs[-1][1]
    assert segs[0].end < header.start


def test_sustained_third_person_after_a_scene_break_is_its_own_segment():
    text = """\
I never liked the lake house. I said so every summer and every summer my parents took me anyway, and I sulked on the jetty with my books while everyone else swam.

That year I brought a torch and a notebook, because I had decided to find the ghost my cousin swore lived in the boathouse.

* * *

Across the water, old Mrs Lindqvist was closing her shutters. She did it every evening at eight, whatever the weather, and she always looked at the boathouse while she did it.

She had her reasons. She had seen the light out there before, forty years ago, on the night her husband took the rowing boat out and did not come back.
"""
    story = narrate(text)
    assert [g.person for g in story.narration.segments] == ["first", "third"]
    first, third = story.narration.segments
    brk = next(s for s in story.sections if s.kind == "scene_break")
    assert first.end < brk.start < third.start


# --------------------------------------------------------------------------------------------------
# Narrator identity
FIRST_ADDRESSED = """\
The train was late and Hollis was waiting on the platform with two coffees, one in each hand, looking pleased with himself.

"Sunniva, you made it," he said, handing me one.

"Barely," I said. "Hollis, why are you up this early?"

"Because you said seven, Sunniva. I listen when you talk."

I drank the coffee so I would not have to answer. It was too sweet, exactly the way I liked it, and I hated that he knew that.
"""


def test_first_person_narrator_is_the_name_others_address():
    sunniva = Character(id="c1", name="Sunniva")
    hollis = Character(id="c2", name="Hollis")
    story = narrate(FIRST_ADDRESSED, [sunniva, hollis])
    assert story.narration.person == "first"
    # "Sunniva" is said to the narrator twice; the narrator says "Hollis", who is also named in narration.
    assert story.narration.narrator == "c1"
    assert story.narration.segments[0].narrator == "c1"


def test_first_person_narrator_without_a_character_list_is_created_from_the_text():
    story = narrate(FIRST_ADDRESSED)
    narrator = character(story, story.narration.narrator)
    assert narrator.name == "Sunniva"


def test_an_unnamed_narrator_stays_null_and_still_gets_narrator_mentions():
    text = ("I walked home the long way, past the canal and the shut factories. "
            "My feet hurt, but I did not mind; I had a lot to think about.\n")
    story = narrate(text)
    assert story.narration.person == "first" and story.narration.narrator is None
    spans = [(m.start, m.end) for m in story.mentions if m.kind == "narrator"]
    assert offsets_of(text, "I walked")[0] == spans[0][0] and spans[0][1] - spans[0][0] == 1
    assert offsets_of(text, "My feet")[0] in [s for s, _ in spans]
    assert len(spans) == 4  # I, My, I, I


def test_self_naming_names_the_narrator():
    text = ("My name is Oskar and I sell umbrellas. On dry days I sit outside the shop and "
            "watch the sky, and I hope.\n\nToday the sky was grey. I put out the big ones.\n")
    story = narrate(text)
    assert character(story, story.narration.narrator).name == "Oskar"


def test_letter_signature_names_the_narrator():
    text = ("Dear Tam,\n\nI got your parcel. The socks are too big and I love them. "
            "I wear them to bed and think of you.\n\nWith love,\n\nIngrid\n")
    story = narrate(text)
    assert story.narration.person == "first"
    assert character(story, story.narration.narrator).name == "Ingrid"


SECOND_ADDRESSED = """\
You find her on the roof, where she always goes when the ward gets too loud. She has her knees pulled up and her coat wrapped around them.

"Piet," she says, without turning around. "I knew you'd come."

"You always know," you say, and you sit down beside her. The city is orange and humming below you.

"You worry too much, Piet."

You do not answer. You take her hand instead, and she lets you, and for a while neither of you says anything at all.
"""


def test_second_person_you_is_the_name_the_other_party_speaks_to():
    piet = Character(id="piet", name="Piet Maas", aliases=["Piet"])
    story = narrate(SECOND_ADDRESSED, [piet])
    assert story.narration.person == "second"
    assert story.narration.narrator == "piet"
    you = offsets_of(SECOND_ADDRESSED, "You find")
    assert Mention(you[0], you[0] + 3, "narrator", "piet") in story.mentions


def test_existing_mention_at_a_pronoun_is_updated_not_duplicated():
    story = prepared(SECOND_ADDRESSED, [Character(id="piet", name="Piet")])
    s, _ = offsets_of(SECOND_ADDRESSED, "You find")
    story.mentions = [Mention(s, s + 3, "pronoun", None)]
    NarrationStage()(story)
    at = [m for m in story.mentions if m.start == s]
    assert len(at) == 1 and at[0].kind == "narrator" and at[0].character == "piet"


def test_reader_insert_makes_the_reader_the_narrator():
    text = """\
You had just sat down when Leif dropped into the seat opposite, grinning.

"(Y/N), you have to help me," he said. "I told my mum you were my girlfriend."

You stared at him. "You did what?"

"Please, Y/N. One dinner." He pushed a hand through his hair. You sighed, and tucked a strand of [H/C] hair behind your ear, and said yes.
"""
    story = narrate(text)
    n = story.narration
    assert n.reader_insert is True and n.person == "second" and n.narrator == "reader"
    assert character(story, "reader").name == "Reader"
    placeholder = offsets_of(text, "(Y/N)")
    assert Mention(*placeholder, "name", "reader") in story.mentions
    # An existing Reader character is reused.
    story2 = narrate(text, [Character(id="reader", name="Reader")])
    assert sum(1 for c in story2.characters if c.id == "reader") == 1


def test_reader_insert_from_declared_relationship():
    story = prepared("You open the door.\n")
    story.meta = {"relationships": ["Loki (Marvel) x Reader"]}
    assert find_reader_insert(story)
    story.meta = {"relationships": ["Loki/Thor"], "summary": "For my readers"}
    assert not find_reader_insert(story)


def test_segment_person_needs_only_structure_and_quotes():
    story = prepared(DIALOGUE_HEAVY_THIRD)
    persons, paras = segment_person(story)
    assert persons == ["third"] * len(story.paragraphs)
    # Quotes were cut out: the dialogue's I/you/my are not counted.
    assert sum(p.counts[0] + p.counts[2] for p in paras) == 0


def test_stage_contract_and_registration():
    stage = NarrationStage()
    assert stage.name == "narration" and stage.requires == ("characters",)
    assert stage.assigns == ("narration",)
    names = default_pipeline().names
    assert "narration" in names
    assert names.index("narration") > names.index("characters")


# --------------------------------------------------------------------------------------------------
# The seeds, through the default pipeline
@pytest.fixture(scope="module")
def analyzed(seed_path):
    cache = {}

    def get(n: int):
        if n not in cache:
            cache[n] = default_pipeline().until("narration")(read_path(seed_path(n)))
        return cache[n]

    return get


def _narrator(story):
    cid = story.narration.narrator
    return next((c for c in story.characters if c.id == cid), None)


def test_seed_000_is_first_person_narrated_by_ali(analyzed):
    story = analyzed(0)
    assert story.narration.person == "first"
    narrator = _narrator(story)
    assert narrator is not None and "Ali" in [narrator.name, *narrator.aliases]
    assert not story.narration.reader_insert
    # "Derek" is the one she talks to, not the narrator.
    assert "Derek" not in narrator.name


def test_seed_003_is_first_person_narrated_by_derek_from_its_header(analyzed):
    story = analyzed(3)
    assert story.narration.person == "first"
    narrator = _narrator(story)
    assert narrator is not None and narrator.name.startswith("Derek")
    # When canon linking knows Derek Shepherd, the header's "Derek" is that character.
    if any(c.name == "Derek Shepherd" for c in story.characters):
        assert narrator.name == "Derek Shepherd"
    assert all(g.narrator == narrator.id for g in story.narration.segments)
    # "I" in narration is Derek.
    mentions = [m for m in story.mentions if m.kind == "narrator"]
    assert len(mentions) > 50 and all(m.character == narrator.id for m in mentions)
    assert all(story.text[m.start:m.end] in ("I", "me", "my", "mine", "myself", "My", "Me", "Myself")
               for m in mentions)


def test_seed_004_is_second_person_and_you_is_derek(analyzed):
    story = analyzed(4)
    assert story.narration.person == "second"
    narrator = _narrator(story)
    assert narrator is not None and narrator.name.startswith("Derek")
    if any(c.name == "Derek Shepherd" for c in story.characters):
        assert narrator.name == "Derek Shepherd"
    # The one-paragraph "he" slip does not split the story.
    assert [g.person for g in story.narration.segments] == ["second"]


@pytest.mark.parametrize("n", [1, 2])
def test_seeds_001_and_002_are_third_person(analyzed, n):
    story = analyzed(n)
    assert story.narration.person == "third"
    assert story.narration.narrator is None
    assert not [m for m in story.mentions if m.kind == "narrator"]
