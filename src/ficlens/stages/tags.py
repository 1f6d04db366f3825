"""AO3 tags, in AO3's exact vocabulary, each with a confidence and the spans that justify it.

Rating, Rape/Non-Con and Underage Sex come from cue phrases counted per sentence of story text (notes
excluded); violence and character death from a learned passage classifier (`ficlens.warnings_model`)
run over passages of story text. Every decision points at the sentences or passages that earned it.
Category follows the genders of the romantic pairs; relationship tags come from the relations
stage; point of view from the narration stage.
Relationship names: "A/B" romantic, "A & B" for every other strong bond (friends, family, rivals:
AO3's "&" means "not romantic", not "friendly"); a fandom pack's own spelling of a known ship
wins, otherwise the two canonical names are sorted alphabetically (the rule AO3's wranglers use for
most ships).
"""
from __future__ import annotations

import re
from collections import Counter
from itertools import takewhile

from ..model import Story
from ..pipeline import Stage
from .relations import gender_key

RATINGS = ("General Audiences", "Teen And Up Audiences", "Mature", "Explicit")
NO_WARNINGS = "No Archive Warnings Apply"


def _rx(*alternatives: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.I)


# Rating cues, strongest first. Each counts sentences of story text, not words.
EXPLICIT = _rx(r"cock", r"dick", r"pussy", r"clit(?:oris)?", r"cum(?:s|ming)?", r"orgasm\w*", r"erection",
               r"nipples?", r"thrust(?:s|ed|ing)? (?:into|inside|deep)", r"inside (?:her|him|me)",
               r"made love", r"making love", r"(?:his|her) (?:length|arousal|core|folds)", r"climax(?:ed|es)?",
               r"moan(?:s|ed|ing)? (?:his|her) name", r"naked bod(?:y|ies)", r"bare breasts?", r"breasts?")
MATURE = _rx(r"sex", r"had sex", r"sleep with", r"slept with", r"undress(?:ed|ing)?", r"naked", r"lust",
             r"bed(?:room)? together", r"aroused", r"blood(?:y|ied)?", r"corpse", r"gore")
TEEN = _rx(r"fuck\w*", r"shit\w*", r"bitch\w*", r"damn", r"ass(?:hole)?", r"bastard", r"hell",
           r"kiss(?:es|ed|ing)?", r"drunk", r"scotch", r"whiskey", r"beer")

# Passage-level warning cues (also scored by `ficlens eval ao3-warnings`).
WARNING_CUES = {
    "violence": _rx(r"blood\w*", r"stabb?(?:ed|ing|s)?", r"shot", r"punch(?:ed|es|ing)?", r"beat(?:en|ing)?",
                    r"kick(?:ed|ing)?", r"slam(?:med)?", r"bruis\w+", r"wound\w*", r"scream\w*", r"knife",
                    r"gun", r"hit (?:him|her|me)", r"choke\w*", r"strangl\w+", r"broken (?:bone|nose|rib)s?",
                    r"attack\w*", r"fight\w*", r"hurt\w*", r"pain"),
    "death": _rx(r"died", r"dead", r"death", r"dying", r"funeral", r"grave", r"killed", r"corpse", r"body bag",
                 r"passed away", r"no pulse", r"lifeless", r"murder\w*", r"suicide"),
    "abduction": _rx(r"kidnap\w*", r"abduct\w*", r"captive", r"captor\w*", r"hostage", r"ransom", r"tied up",
                     r"blindfold\w*", r"chained", r"cell", r"locked (?:in|up)", r"taken", r"gag(?:ged)?"),
    "ableism": _rx(r"retard\w*", r"cripple\w*", r"crazy", r"insane", r"psycho", r"lunatic", r"disab\w+",
                   r"wheelchair", r"deaf", r"blind", r"autis\w+", r"mental(?:ly)? ill\w*", r"freak", r"idiot"),
    "homophobia": _rx(r"fag\w*", r"dyke\w*", r"queer", r"homo", r"gay", r"lesbian", r"sin(?:ful)?",
                      r"unnatural", r"disgusting", r"pervert\w*", r"conversion", r"closet\w*", r"sodom\w*"),
    "misogyny": _rx(r"whore\w*", r"slut\w*", r"bitch\w*", r"cunt", r"skank", r"women (?:are|should)",
                    r"(?:a|just a) (?:girl|woman)", r"kitchen", r"property", r"obey", r"submissive"),
    "racism": _rx(r"race", r"racis\w+", r"slave\w*", r"skin", r"colou?red", r"savage\w*", r"n[i1]gg\w*",
                  r"half-?breed", r"mudblood\w*", r"inferior", r"purity", r"pure-?blood\w*", r"filth\w*"),
    "war": _rx(r"war", r"soldier\w*", r"battle\w*", r"army", r"troops", r"front ?lines?", r"bomb\w*",
               r"enemy", r"general", r"regiment", r"trench\w*", r"rifle\w*", r"invasion", r"combat"),
}
# How many cue hits a passage (about a paragraph) needs before it is flagged, per warning type.
WARNING_THRESHOLDS = {"violence": 3, "death": 2, "abduction": 2, "ableism": 2, "homophobia": 2,
                      "misogyny": 2, "racism": 2, "war": 2}

# Archive warnings backed by a passage-level type: (type, flagged passages needed in one scene).
# Types the learned model (`ficlens.warnings_model`) has are scored by it on passages of about 60+
# words; any other type would fall back to `passage_warns` per paragraph. A warning needs a scene:
# `needed` flagged passages among SCENE_PASSAGES consecutive ones. One flag is not enough (on the
# data set's candidate passages a flag is right about half the time: CV precision 0.43 violence,
# 0.55 death), and a count over the whole story grows with its length: romance and angst draw a
# scattered false flag every 20-50 passages ("fighting for you", "hurt her"; Pride and Prejudice
# gets 5 violence flags in 1,032 passages, never 2 within 6), while a fight or a death scene flags
# passages side by side. Measured: the five seed stories reach at most 2 violence / 1 death flags in
# a scene; Oliver Twist reaches 3 / 3.
ARCHIVE_WARNINGS = {
    "Graphic Depictions Of Violence": ("violence", 3),
    "Major Character Death": ("death", 3),
}
SCENE_PASSAGES = 6
RAPE = _rx(r"rap(?:e|ed|ing|ist)", r"non-?con\w*", r"forced (?:himself|herself) on", r"against (?:her|his) will")
UNDERAGE = re.compile(r"\b(?:1[0-7]|[5-9]|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)"
                      r"[- ]years?[- ]old\b", re.I)

TROPES = {
    "Love Confessions": (_rx(r"i love you", r"i'm in love with you", r"i am in love with you"), 1, True),
    "Marriage Proposal": (_rx(r"marry me", r"will you marry", r"engagement ring", r"down on one knee",
                              r"slid the ring", r"be my wife", r"be my husband"), 1, False),
    "Getting Back Together": (_rx(r"back together", r"another chance", r"second chance", r"try again",
                                  r"give us another"), 2, False),
    "Angst": (_rx(r"tears?", r"cr(?:y|ied|ying)", r"sob(?:s|bed|bing)?", r"broken", r"hurt(?:s|ing)?",
                  r"heartbreak\w*", r"pain(?:ful)?", r"miserable", r"alone"), 5, False),
    "Fluff": (_rx(r"smil(?:e|es|ed|ing)", r"laugh(?:s|ed|ing)?", r"giggl\w+", r"cuddl\w+", r"blush\w*",
                  r"happy", r"sweet(?:ly)?", r"grin(?:s|ned|ning)?"), 6, False),
    "Hurt/Comfort": (_rx(r"comfort\w*", r"hold(?:s|ing)? (?:her|him|me)", r"held (?:her|him|me)",
                         r"wip(?:e|ed|es) (?:her|his|my) tears", r"it's okay", r"i'm here", r"shh+"), 2, False),
}
ENGLISH = {"the", "and", "to", "of", "a", "i", "you", "he", "she", "it", "was", "in", "that", "is", "her", "his"}


class TagStage(Stage):
    """Fills `story.tags` with rating, warnings, category, fandoms, relationships, characters,
    freeform, words and language; declared tags (AO3 downloads) are compared with the inferred ones."""

    name = "tags"
    requires = ("relations", "narration")
    assigns = ("tags",)

    def __init__(self, *, explicit_sentences: int = 3):
        """explicit_sentences: sentences with explicit cues needed for the Explicit rating."""
        self.explicit_sentences = explicit_sentences

    def __call__(self, story: Story) -> None:
        sentences = list(story_sentences(story))
        tags = dict(story.tags)  # the characters stage already set fandoms
        tags["rating"] = self.rating(sentences)
        tags["warnings"] = self.warnings(story, sentences)
        relationships = relationship_tags(story)
        tags["relationships"] = relationships
        tags["category"] = category_tags(story, relationships)
        tags.setdefault("fandoms", [])
        tags["characters"] = character_tags(story)
        tags["freeform"] = pov_tags(story) + trope_tags(story, sentences)
        tags["words"] = story.body_words()
        tags["language"] = language(sentences)
        if story.meta:
            tags["declared_vs_inferred"] = compare_declared(story.meta, tags)
        story.tags = tags

    def rating(self, sentences: list[tuple[int, int, str]]) -> dict:
        hits = {level: [(s, e) for s, e, t in sentences if rx.search(t)]
                for level, rx in (("Explicit", EXPLICIT), ("Mature", MATURE), ("Teen And Up Audiences", TEEN))}
        if len(hits["Explicit"]) >= self.explicit_sentences:
            n = len(hits["Explicit"])
            return tag("Explicit", min(0.95, 0.6 + 0.05 * n), hits["Explicit"])
        if hits["Explicit"] or len(hits["Mature"]) >= 3:
            ev = hits["Explicit"] + hits["Mature"]
            return tag("Mature", 0.6, sorted(ev))
        if hits["Mature"] or hits["Teen And Up Audiences"]:
            return tag("Teen And Up Audiences", 0.6, sorted(hits["Mature"] + hits["Teen And Up Audiences"]))
        return tag("General Audiences", 0.7, [])

    def warnings(self, story: Story, sentences: list[tuple[int, int, str]]) -> list[dict]:
        out = []
        for name, (kind, needed) in ARCHIVE_WARNINGS.items():
            flagged = flagged_passages(story, kind)
            scene = densest_scene(flagged)
            if len(scene) >= needed:
                # Confidence: the scene's mean probability, a little more for each flagged passage
                # beyond the minimum. Evidence: the story's most probable flagged passages, in order.
                mean = sum(p for _, _, p in scene) / len(scene)
                strongest = sorted(flagged, key=lambda f: -f[2])[:20]
                out.append(tag(name, min(0.9, mean + 0.05 * (len(scene) - needed)),
                               sorted(span for _, span, _ in strongest)))
        rape = [(s, e) for s, e, t in sentences if RAPE.search(t)]
        if rape:
            out.append(tag("Rape/Non-Con", min(0.9, 0.5 + 0.1 * len(rape)), rape))
        ages = [(s, e) for s, e, t in sentences if UNDERAGE.search(t)]
        if ages and len([1 for _, _, t in sentences if EXPLICIT.search(t)]) >= self.explicit_sentences:
            out.append(tag("Underage Sex", 0.5, ages))
        return out or [tag(NO_WARNINGS, 0.6, [])]


def tag(name: str, confidence: float, evidence) -> dict:
    return {"name": name, "confidence": round(confidence, 3), "evidence": [list(e) for e in evidence][:20]}


def passage_warns(text: str, kind: str) -> bool:
    """True when a passage holds enough cues of one warning type (the eval's baseline, and the
    fallback for a type the learned model lacks)."""
    return len(WARNING_CUES[kind].findall(text)) >= WARNING_THRESHOLDS[kind]


def flagged_passages(story: Story, kind: str) -> list[tuple[int, tuple[int, int], float]]:
    """(index, (start, end), probability) of each passage of story text flagged for one warning
    type; index counts passages (paragraphs for a cue-only type), for finding scenes."""
    # Imported here: warnings_model imports WARNING_CUES from this module.
    from ..warnings_model import load_model, passage_spans

    model = load_model()
    if kind not in model.kinds:
        return [(i, (s, e), 1.0) for i, (s, e) in enumerate(story.paragraphs)
                if passage_warns(story.text[s:e], kind)]
    threshold = model.types[kind]["threshold"]
    scored = ((i, span, model.score(story.text[span[0]:span[1]], kind))
              for i, span in enumerate(passage_spans(story.text, story.paragraphs)))
    return [(i, span, p) for i, span, p in scored if p >= threshold]


def densest_scene(flagged: list[tuple[int, tuple[int, int], float]], width: int = SCENE_PASSAGES) -> list:
    """The most flagged passages found within `width` consecutive passages (the first such run)."""
    best: list = []
    for k, (i, _, _) in enumerate(flagged):
        run = list(takewhile(lambda f: f[0] < i + width, flagged[k:k + width]))
        if len(run) > len(best):
            best = run
    return best


_SENTENCE = re.compile(r"[^.!?\n]+[.!?\"']*")


def story_sentences(story: Story):
    """(start, end, text) of each sentence of story text; notes and headers are not story text."""
    for ps, pe in story.paragraphs:
        for m in _SENTENCE.finditer(story.text, ps, pe):
            if m.group().strip():
                yield m.start(), m.end(), m.group()


# A non-romantic pair is tagged only when it carries at least this share of the strongest pair's
# interaction: a story's side bonds are tagged, a single shared scene is not.
MIN_SHARE_OF_STRONGEST = 0.25


def relationship_tags(story: Story) -> list[dict]:
    names = {c.id: c for c in story.characters}
    strongest = max((r.weight for r in story.relations), default=0.0)
    out = []
    for r in story.relations:
        if r.kind == "unknown" or r.a not in names or r.b not in names:
            continue
        if r.kind != "romantic" and r.weight < MIN_SHARE_OF_STRONGEST * strongest:
            continue
        a, b = ao3_name(names[r.a]), ao3_name(names[r.b])
        sep = "/" if r.kind == "romantic" else " & "
        name = known_relationship(a, b, sep) or sep.join(sorted((a, b)))
        confidence = min(0.95, 0.4 + 0.05 * len(r.evidence) + 0.01 * r.weight)
        out.append({"name": name, "confidence": round(confidence, 3), "evidence": [list(e) for e in r.evidence],
                    "kind": r.kind, "characters": [r.a, r.b]})
    # Romantic first: AO3 lists the main pairing first.
    out.sort(key=lambda t: (t["kind"] != "romantic", -t["confidence"]))
    return out


def ao3_name(character) -> str:
    """The name AO3 tags a character by: the canon pack's spelling when linked, else ficlens's own."""
    return (character.canon or {}).get("ao3") or character.name


def known_relationship(a: str, b: str, sep: str) -> str | None:
    """A fandom pack's own spelling of the ship of a and b (either order), if a pack lists it."""
    from ..canon import known_relationships

    for name in known_relationships():
        if sep in name and set(name.split(sep)) == {a, b}:
            return name
    return None


def category_tags(story: Story, relationships: list[dict]) -> list[dict]:
    genders = {c.id: gender_key(c.gender) for c in story.characters}
    cats: dict[str, list] = {}
    for rel in relationships:
        if rel["kind"] != "romantic":
            continue
        pair = sorted(genders.get(cid) or "?" for cid in rel["characters"])
        name = {("F", "M"): "F/M", ("M", "M"): "M/M", ("F", "F"): "F/F"}.get(tuple(pair), "Other")
        cats.setdefault(name, []).extend(rel["evidence"])
    if len(cats) > 1 or sum(1 for r in relationships if r["kind"] == "romantic") > 2:
        cats.setdefault("Multi", [])
    if not cats:
        return [tag("Gen", 0.6, [])]
    return [tag(name, 0.8, ev) for name, ev in cats.items()]


def character_tags(story: Story) -> list[dict]:
    cast = [c for c in story.characters if not c.mentioned_only]
    cast.sort(key=lambda c: -(c.counts.get("lines", 0) * 2 + c.counts.get("mentions", 0)))
    ids = {c.id for c in cast}
    spans = Counter()
    evidence: dict[str, list] = {cid: [] for cid in ids}
    for m in story.mentions:
        if m.character in ids and m.kind in ("name", "nickname", "vocative") and len(evidence[m.character]) < 5:
            evidence[m.character].append((m.start, m.end))
            spans[m.character] += 1
    total = max(1, max((c.counts.get("mentions", 0) for c in cast), default=1))
    return [tag(c.name, min(0.95, 0.5 + 0.5 * c.counts.get("mentions", 0) / total), evidence[c.id]) for c in cast]


def pov_tags(story: Story) -> list[dict]:
    n = story.narration
    evidence = [(g.start, g.end) for g in n.segments if g.person == n.person][:3]
    out = []
    if n.person == "first":
        out.append(tag("First Person", 0.85, evidence))
    elif n.person == "second":
        out.append(tag("Second Person", 0.85, evidence))
    if n.reader_insert:
        out.append(tag("Reader-Insert", 0.9, evidence))
    narrators = {g.narrator for g in n.segments if g.narrator}
    if len(narrators) > 1:
        out.append(tag("Alternating Points of View", 0.8, [(g.start, g.end) for g in n.segments][:5]))
    return out


def trope_tags(story: Story, sentences: list[tuple[int, int, str]]) -> list[dict]:
    quotes = [(q.start, q.end) for q in story.quotes]
    out = []
    counts = {}
    for name, (rx, needed, in_dialogue) in TROPES.items():
        hits = []
        for s, e, t in sentences:
            if rx.search(t) and (not in_dialogue or any(qs < e and s < qe for qs, qe in quotes)):
                hits.append((s, e))
        counts[name] = len(hits)
        if len(hits) >= needed:
            out.append(tag(name, min(0.9, 0.4 + 0.1 * len(hits) / needed), hits))
    names = {t["name"] for t in out}
    if "Angst" in names and sentences:
        # A happy ending: the last fifth of the story is warmer than the rest.
        tail_start = sentences[int(len(sentences) * 0.8)][0]
        warm = _count(TROPES["Fluff"][0], sentences, tail_start) + _count(TROPES["Love Confessions"][0], sentences, tail_start)
        sad = _count(TROPES["Angst"][0], sentences, tail_start)
        if warm > sad:
            out.append(tag("Angst with a Happy Ending", 0.6, [(s, e) for s, e, _ in sentences if s >= tail_start][-3:]))
    return out


def _count(rx, sentences, from_offset: int) -> int:
    return sum(1 for s, _, t in sentences if s >= from_offset and rx.search(t))


def language(sentences: list[tuple[int, int, str]]) -> str:
    words = [w.lower() for _, _, t in sentences[:400] for w in re.findall(r"[A-Za-z']+", t)]
    if not words:
        return "Unknown"
    return "English" if sum(w in ENGLISH for w in words) / len(words) > 0.12 else "Unknown"


DECLARED_KEYS = {"rating": "rating", "warnings": "warnings", "categories": "category", "fandoms": "fandoms",
                 "relationships": "relationships", "characters": "characters", "freeform": "freeform"}


def compare_declared(meta: dict, tags: dict) -> list[dict]:
    """Declared (by the source) beside inferred (by ficlens), with disagreements flagged."""
    rows = []
    for key, tag_key in DECLARED_KEYS.items():
        declared = meta.get(key)
        if declared is None:
            continue
        declared_list = [declared] if isinstance(declared, str) else list(declared)
        inferred = tags.get(tag_key)
        inferred_list = [inferred["name"]] if isinstance(inferred, dict) else [t["name"] for t in inferred or []]
        if tag_key == "rating":
            disagree = bool(declared_list) and declared_list[0] != inferred_list[0]
        elif tag_key in ("freeform", "characters"):
            disagree = False  # open vocabularies: shown side by side, never flagged
        else:
            disagree = {d.lower() for d in declared_list} != {i.lower() for i in inferred_list}
        rows.append({"tag": tag_key, "declared": declared_list, "inferred": inferred_list, "disagree": disagree})
    return rows
