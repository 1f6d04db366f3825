"""Relations on a small hand-annotated story: the stage reads characters, mentions and speakers."""
from ficlens.model import Character, Mention, Quote, Section, Source
from ficlens.read import story_from_text
from ficlens.stages.relations import RelationStage, gender_key

TEXT = ('"I love you," Nora said.\n\n'
        '"I love you too," Sam answered, and he kissed her.\n\n'
        '* * *\n\n'
        '"You owe me ten dollars, buddy," Theo told Sam.\n\n'
        '"Later, pal," Sam said.')


def annotated():
    story = story_from_text(TEXT, Source(path="t.txt", format="txt"))
    story.characters = [Character(id="nora", name="Nora Lane", gender="female"),
                        Character(id="sam", name="Sam Ortiz", gender="male"),
                        Character(id="theo", name="Theo Ortiz", gender="male")]

    def at(word, nth=0):
        i = -1
        for _ in range(nth + 1):
            i = TEXT.index(word, i + 1)
        return i, i + len(word)

    story.mentions = [Mention(*at("Nora"), "name", "nora"), Mention(*at("Sam"), "name", "sam"),
                      Mention(*at("Theo"), "name", "theo"), Mention(*at("Sam", 1), "name", "sam"),
                      Mention(*at("Sam", 2), "name", "sam")]
    brk = TEXT.index("* * *")
    story.sections = [Section("scene_break", brk, brk + 5)]
    story.paragraphs = [(0, 24), (26, TEXT.index("* * *") - 2)]
    quotes = [("\"I love you,\"", "nora", ["sam"]), ("\"I love you too,\"", "sam", ["nora"]),
              ("\"You owe me ten dollars, buddy,\"", "theo", ["sam"]), ("\"Later, pal,\"", "sam", ["theo"])]
    story.quotes = [Quote(i, *at(q), i, speaker=s, addressees=a) for i, (q, s, a) in enumerate(quotes)]
    return story


def test_romantic_pair_from_spoken_love_and_a_kiss_in_narration():
    story = annotated()
    RelationStage()(story)
    rel = {(r.a, r.b): r for r in story.relations}
    assert rel[("nora", "sam")].kind == "romantic"
    cue_texts = [story.text[s:e] for s, e in rel[("nora", "sam")].evidence]
    assert any("I love you" in t for t in cue_texts)
    assert any("kissed her" in t for t in cue_texts)


def test_friends_are_platonic_not_romantic():
    story = annotated()
    RelationStage()(story)
    rel = {(r.a, r.b): r for r in story.relations}
    assert rel[("sam", "theo")].kind == "platonic"
    assert ("nora", "theo") not in rel  # never in a scene together, never speak


def test_gender_labels_reduce_to_two_keys():
    assert [gender_key(g) for g in ("male", "Female", "he/him", "she", None, "nonbinary")] == \
        ["M", "F", "M", "F", None, None]
