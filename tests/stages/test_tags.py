"""Tags on hand-annotated stories: each decision must point at the sentences that earned it."""
from ficlens.model import Character, Narration, Relation, Segment, Source
from ficlens.read import story_from_text
from ficlens.stages.tags import EXPLICIT, TagStage, compare_declared


def story_of(text, **layers):
    story = story_from_text(text, Source(path="t.txt", format="txt"))
    story.paragraphs = [(0, len(text))]
    for k, v in layers.items():
        setattr(story, k, v)
    return story


def test_a_gentle_story_is_general_with_no_warnings():
    story = story_of("They planted tulips along the fence and ate sandwiches in the sun.")
    TagStage()(story)
    assert story.tags["rating"]["name"] == "General Audiences"
    assert [w["name"] for w in story.tags["warnings"]] == ["No Archive Warnings Apply"]
    assert story.tags["category"][0]["name"] == "Gen"
    assert story.tags["words"] == 12
    assert story.tags["language"] == "English"


def test_explicit_rating_points_at_the_explicit_sentences():
    text = ("The rain stopped. She pulled him down onto the bed. His erection pressed against her thigh. "
            "She gasped when he kissed her nipples. They made love slowly until the orgasm took them both. "
            "Later they slept.")
    story = story_of(text)
    TagStage()(story)
    rating = story.tags["rating"]
    assert rating["name"] == "Explicit"
    quoted = [text[s:e] for s, e in rating["evidence"]]
    assert any("erection" in q for q in quoted) and any("orgasm" in q for q in quoted)
    assert not any("rain stopped" in q for q in quoted)


def test_category_relationships_and_pov_come_from_earlier_layers():
    text = "I watched Mara laugh. I love her, I thought, and I kissed her."
    story = story_of(
        text,
        characters=[Character(id="jo", name="Jo Park", gender="male"),
                    Character(id="mara", name="Mara Quinn", gender="female")],
        relations=[Relation("jo", "mara", "romantic", 5.0, [(22, 62)])],
        narration=Narration(person="first", narrator="jo", segments=[Segment(0, len(text), "first", "jo")]),
    )
    TagStage()(story)
    assert [t["name"] for t in story.tags["relationships"]] == ["Jo Park/Mara Quinn"]
    assert [t["name"] for t in story.tags["category"]] == ["F/M"]
    assert "First Person" in [t["name"] for t in story.tags["freeform"]]


def test_declared_and_inferred_disagreements_are_flagged():
    rows = compare_declared({"rating": "General Audiences"}, {"rating": {"name": "Explicit"}})
    assert rows == [{"tag": "rating", "declared": ["General Audiences"], "inferred": ["Explicit"], "disagree": True}]


def test_strong_non_romantic_bonds_are_tagged_with_an_ampersand_and_weak_ones_are_not():
    text = "Jo and Mara argued. Sam waved once."
    story = story_of(
        text,
        characters=[Character(id="jo", name="Jo Park", gender="male"),
                    Character(id="mara", name="Mara Quinn", gender="female"),
                    Character(id="sam", name="Sam Lee", gender="male")],
        relations=[Relation("jo", "mara", "antagonistic", 20.0, [(0, 19)]),
                   Relation("mara", "sam", "platonic", 4.0, [(20, 35)])],  # under a quarter of the strongest
        narration=Narration(person="third", segments=[Segment(0, len(text), "third", None)]),
    )
    TagStage()(story)
    assert [t["name"] for t in story.tags["relationships"]] == ["Jo Park & Mara Quinn"]


def test_seed_stories_get_the_relationship_pov_and_rating_tags_a_reader_would_give(seed_path):
    """Issue 7's seed checks, end to end through the default pipeline."""
    from ficlens.api import analyze_path

    def names(tags, key):
        return [t["name"] for t in tags[key]]

    stories = {n: analyze_path(seed_path(n)) for n in range(5)}
    tags = {n: s.tags for n, s in stories.items()}
    assert names(tags[0], "relationships")[0] == "Ali/Derek" and tags[0]["fandoms"] == []
    assert names(tags[1], "relationships")[:2] == ["Derek Shepherd/Meredith Grey", "Derek Shepherd & Mark Sloan"]
    assert names(tags[2], "relationships")[0] == "Derek Morgan/Penelope Garcia"
    assert names(tags[2], "fandoms") == ["Criminal Minds (US TV)"]
    for n in (1, 3, 4):
        assert names(tags[n], "relationships")[0] == "Derek Shepherd/Meredith Grey"
        assert names(tags[n], "fandoms") == ["Grey's Anatomy"]
    assert all(names(t, "category") == ["F/M"] for t in tags.values())
    for n, pov in ((0, "First Person"), (3, "First Person"), (4, "Second Person")):
        assert pov in names(tags[n], "freeform")
    assert not {"First Person", "Second Person"} & set(names(tags[1], "freeform") + names(tags[2], "freeform"))
    # 001 is Explicit, and every evidence span is a sentence holding an explicit cue.
    rating = tags[1]["rating"]
    assert rating["name"] == "Explicit" and rating["evidence"]
    assert all(EXPLICIT.search(stories[1].text[a:b]) for a, b in rating["evidence"])
