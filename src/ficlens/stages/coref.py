"""The coref stage: which character each pronoun and common-noun mention refers to.

An entity-mention ranker, left to right over `story.mentions` (Lee et al. 2013's and Clark and
Manning's idea of growing entities, with a small learned scorer):

1. Facts per mention, from the paragraph's parse (`story.docs`): head word, dependency role, the
   clause it sits in, sentence and paragraph, the quote and utterance around it, gender and number
   (pronoun forms, given names and titles from `ficlens.names`, person nouns), and the mentions it
   is nested in ("his" inside "his mother" is never "his mother").
2. Entities: every character (its name, nickname, vocative and narrator mentions are fixed by the
   earlier stages) plus the anonymous entities that unnamed people start ("the nurse"). Each
   entity keeps what a reader remembers: gender and number evidence, its names and noun heads, when
   and in which role it was last mentioned, which utterances it spoke.
3. For each unresolved mention, the entities mentioned in the last MAX_SENT_BACK sentences (and,
   for names and nouns, any entity with a matching name, head or title) are candidates, and so is
   starting a new entity. A linear mention-ranking model scores every option from features of
   recency, salience, syntax (subjects, clause-mates: "he saw him" is two people, "he saw himself"
   one), gender and number agreement, string match, and dialogue (the speech tag's subject is the
   "I" of its quote, the previous speaker is "you", a first-person narrator is never "he" in their
   own narration); the best option wins. Features are crossed with the mention's group (he, she,
   they, it, I, we, you, name, noun), so each group learns its own weights.
   Weights: `models/coref/weights.json` (a softmax over each mention's options, trained on
   LitBank's person coreference: see its MODEL_CARD.md); without them, hand-set weights over the
   same features are used (`rule_ranker`).
4. Cataphora: stories often open on "She ..." and name her later. An anonymous he/she entity
   becomes the one character of its gender first named while it is in use (`_cataphora`).
   Terms of address no one is known by ("Baby, please") start no entity.

Inside quotes "I" is the speaker and "you" the addressee. The ranker makes a first guess from the
speech tags; once the attribution stage knows the speakers, `resolve_quote_pronouns(story)` sets
every in-quote first-person mention to its quote's speaker and second-person mention to the
addressee (the pipeline calls it right after attribution).

Only pronoun and nominal mentions are written (`Mention.character`); names keep what the
characters stage gave them. `match()` returns the full clustering (anonymous entities included)
for evaluation.
"""
from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Errors, FiclensError, PipelineError
from ..model import Mention, Story
from ..names import given_names, honorifics, nicknames, person_nouns
from ..pipeline import Stage

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "coref"

# word -> (group, gender, plural); group is the ranker's mention group.
_PRONOUN_FORMS = {
    "he": ("he", "M", False), "him": ("he", "M", False), "his": ("he", "M", False),
    "himself": ("he", "M", False),
    "she": ("she", "F", False), "her": ("she", "F", False), "hers": ("she", "F", False),
    "herself": ("she", "F", False),
    "they": ("they", None, True), "them": ("they", None, True), "their": ("they", None, True),
    "theirs": ("they", None, True), "themselves": ("they", None, True),
    "themself": ("they", None, True), "'em": ("they", None, True), "em": ("they", None, True),
    "it": ("it", "N", False), "its": ("it", "N", False), "itself": ("it", "N", False),
    "i": ("i", None, False), "me": ("i", None, False), "my": ("i", None, False),
    "mine": ("i", None, False), "myself": ("i", None, False), "i.": ("i", None, False),
    "we": ("we", None, True), "us": ("we", None, True), "our": ("we", None, True),
    "ours": ("we", None, True), "ourselves": ("we", None, True),
    "you": ("you", None, None), "your": ("you", None, None), "yours": ("you", None, None),
    "yourself": ("you", None, False), "yourselves": ("you", None, True),
    "thou": ("you", None, False), "thee": ("you", None, False), "thy": ("you", None, False),
    "thine": ("you", None, False), "thyself": ("you", None, False), "ye": ("you", None, None),
    "yeh": ("you", None, None), "yer": ("you", None, None), "ya": ("you", None, None),
    "y'all": ("you", None, True), "'ee": ("you", None, None), "ee": ("you", None, None),
}
REFLEXIVES = frozenset({"himself", "herself", "themselves", "themself", "itself", "myself",
                        "ourselves", "yourself", "yourselves", "thyself"})
GROUPS = ("he", "she", "they", "it", "i", "we", "you", "name", "nom")
_ATTRIBUTE_DEPS = frozenset({"attr", "appos", "oprd", "acomp"})
_DEFINITE = frozenset({"the", "this", "that", "these", "those"})
_INDEFINITE = frozenset({"a", "an", "some", "any", "another", "one", "no", "every", "each", "such",
                         "many", "several", "few", "all", "both"})
_POSSESSIVE_DETS = frozenset({"his", "her", "their", "my", "our", "your", "its", "thy"})
# Lemmas of verbs that introduce speech; enough to find speech tags, not a full inventory.
SPEECH_VERBS = frozenset("""
    say ask reply answer whisper shout yell cry call mutter murmur exclaim add continue tell scream
    snap sigh hiss breathe repeat respond begin mumble groan laugh demand insist declare announce
    return rejoin observe remark plead beg admit agree protest interrupt explain suggest stammer
    retort inquire enquire growl gasp resume conclude bark chuckle grumble grunt moan roar shriek
    sneer whine drawl blurt confess murmur note order prompt quip reason recall remind rasp scoff
    comment concede assure inform venture coo croak pray query command wail sob cry go
""".split())

# Recency bins (sentences between the mention and the entity's last mention).
_SENT_BINS = (0, 1, 2, 3, 5, 8, 12, 20, 40)
_TOKEN_BINS = (0, 8, 16, 32, 64, 128, 256)


def _bin(value: int, bins=_SENT_BINS) -> int:
    return bisect.bisect_right(bins, value) - 1


# Feature names made once (features() runs for every candidate of every mention).
_SENT_KEYS = [f"sent{i}" for i in range(len(_SENT_BINS))]
_TOKEN_KEYS = [f"tok{i}" for i in range(-1, len(_TOKEN_BINS))]  # index = bin + 1 (-1: before)
_RANK_KEYS = [f"rank{i}" for i in range(7)]
_CRANK_KEYS = [f"crank{i}" for i in range(5)]  # 4 also stands for "disagrees" (compat_rank 9)
_RECENT_KEYS = [f"recent{i}" for i in range(4)]
_LOG1P = [math.log1p(i) for i in range(256)]
_SENT_KEY_OF = [_SENT_KEYS[_bin(d)] for d in range(64)]
_TOKEN_KEY_OF = [_TOKEN_KEYS[_bin(d, _TOKEN_BINS) + 1] for d in range(512)]


# ---------------------------------------------------------------------------------------------------
# Mention facts
@dataclass(slots=True)
class Facts:
    """What the ranker reads of one mention."""

    index: int  # position in story.mentions
    start: int
    end: int
    kind: str  # the Mention's kind
    group: str  # one of GROUPS
    fixed: str | None  # character id given by an earlier stage
    text: str  # lower-cased, whitespace-normalized
    head: str  # lower-cased head word
    gender: str | None  # "M", "F", "N" or None
    plural: bool | None
    sent: int  # sentence number in the story
    para: int  # paragraph number (-1 when outside the body)
    token: int  # token number of the head in the story
    dep: str
    verb: int  # token number of the head's clause verb, -1
    quote: int  # index of the quote holding the mention, -1
    utterance: int  # the quote's utterance id, -1
    reflexive: bool = False
    names: frozenset = frozenset()  # name words (titles dropped), lower-cased
    titles: frozenset = frozenset()  # the titles of a name ("doctor" for "Dr. Okafor")
    title_gender: str | None = None
    definite: bool = False
    indefinite: bool = False
    possessed: bool = False  # "her sister": a possessive determiner
    proper: bool = False
    nested_in: tuple[int, ...] = ()  # mentions it can never be: inside it, or around it at an edge
    container: int = -1  # a mention around it that it may be ("those who kept [their] word")
    order: float = 0.0  # paragraph number for ordering (between paragraphs when outside the body)
    turn: int = 0  # in a quote: how many utterances before it belong to the same exchange (0-2)
    tag_of: int = -1  # utterance whose speech tag this mention is the subject of
    beat_of: int = -1  # utterance whose paragraph has this mention as a narration subject


def _gender_key(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    if v in ("m", "male", "man", "he", "he/him", "masculine"):
        return "M"
    if v in ("f", "female", "woman", "she", "she/her", "feminine"):
        return "F"
    return None


class StoryIndex:
    """Per-story lookups shared by the facts builder: paragraphs, quotes, sentences, tokens."""

    def __init__(self, story: Story):
        self.story = story
        self.para_starts = [s for s, _ in story.paragraphs]
        quotes = sorted(story.quotes, key=lambda q: q.start)
        self.quotes = quotes
        self.quote_starts = [q.start for q in quotes]
        # Sentence and token numbering over the whole story, one Doc per paragraph.
        self.sent_base: list[int] = []
        self.token_base: list[int] = []
        self.sent_starts: list[list[int]] = []  # per doc: token index of each sentence start
        ns = nt = 0
        for doc in story.docs:
            self.sent_base.append(ns)
            self.token_base.append(nt)
            starts = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else [0]
            self.sent_starts.append(starts)
            ns += max(1, len(starts))
            nt += len(doc)

        # Utterance -> paragraph of its first quote, for turn-taking.
        self.utt_para: dict[int, int] = {}
        for q in quotes:
            if q.utterance not in self.utt_para:
                self.utt_para[q.utterance] = bisect.bisect_right(self.para_starts, q.start) - 1

    def turn_depth(self, utt: int) -> int:
        """How many of the two utterances before `utt` continue its exchange: each in the
        paragraph before the next one or the one before that."""
        depth = 0
        for back in (1, 2):
            a, b = self.utt_para.get(utt - back), self.utt_para.get(utt - back + 1)
            if a is None or b is None or not (0 < b - a <= 2):
                break
            depth = back
        return depth

    def para_of(self, pos: int) -> int:
        k = bisect.bisect_right(self.para_starts, pos) - 1
        if k >= 0 and pos < self.story.paragraphs[k][1]:
            return k
        return -1

    def quote_at(self, pos: int) -> int:
        k = bisect.bisect_right(self.quote_starts, pos) - 1
        if k >= 0 and self.quotes[k].start <= pos < self.quotes[k].end:
            return k
        return -1


def _span_tokens(doc, a: int, b: int):
    """The tokens of doc covering characters a..b (offsets into doc.text), or None."""
    span = doc.char_span(a, b, alignment_mode="expand")
    if span is None or len(span) == 0:
        return None
    return span


def _head_of(span):
    """The syntactic head of a span: the token whose head lies outside it (the first such)."""
    s, e = span.start, span.end
    for t in span:
        if not (s <= t.head.i < e) or t.head.i == t.i:
            return t
    return span[0]


def _clause_verb(tok) -> int:
    t = tok
    for _ in range(6):
        if t.pos_ in ("VERB", "AUX") and t.dep_ != "aux":
            return t.i
        if t.head.i == t.i:
            return t.i if t.pos_ in ("VERB", "AUX") else -1
        t = t.head
    return -1


def mention_group(kind: str, text: str) -> str:
    low = " ".join(text.lower().split())
    if low in _PRONOUN_FORMS:
        return _PRONOUN_FORMS[low][0]
    if kind in ("name", "nickname", "vocative"):
        return "name"
    if kind == "narrator":
        return "i"
    return "nom"


def build_facts(story: Story, mentions: list[Mention], index: StoryIndex | None = None) -> list[Facts]:
    """Facts for each mention (in the order given), read from the story's parse."""
    ix = index or StoryIndex(story)
    text = story.text
    gn = given_names()
    titles = honorifics()
    nouns = person_nouns()
    facts: list[Facts] = []
    for i, m in enumerate(mentions):
        raw = text[m.start:m.end]
        low = " ".join(raw.lower().split())
        group = mention_group(m.kind, raw)
        para = ix.para_of(m.start)
        head = low.split()[-1] if low else ""
        dep = ""
        verb = -1
        sent = 0
        token = 0
        plural = None
        gender = None
        definite = indefinite = possessed = proper = False
        words = low.split()
        if para >= 0 and para < len(story.docs):
            doc = story.docs[para]
            p0 = story.paragraphs[para][0]
            span = _span_tokens(doc, m.start - p0, m.end - p0)
            if span is not None:
                h = _head_of(span)
                head = h.lower_
                dep = h.dep_
                verb = _clause_verb(h)
                if verb >= 0:
                    verb += ix.token_base[para]
                token = ix.token_base[para] + h.i
                k = bisect.bisect_right(ix.sent_starts[para], h.i) - 1
                sent = ix.sent_base[para] + max(0, k)
                if h.tag_ in ("NNS", "NNPS"):
                    plural = True
                elif h.tag_ in ("NN", "NNP"):
                    plural = False
                proper = h.pos_ == "PROPN"
                first = span[0].lower_
                definite = first in _DEFINITE
                indefinite = first in _INDEFINITE
                possessed = first in _POSSESSIVE_DETS or any(c.dep_ == "poss" for c in h.children)
        else:
            # Outside the parsed body: place it by the paragraph before it.
            k = bisect.bisect_right(ix.para_starts, m.start) - 1
            if 0 <= k < len(ix.sent_base):
                sent = ix.sent_base[k] + len(ix.sent_starts[k])
                token = ix.token_base[k] + len(story.docs[k])
        order = float(para)
        if para < 0:
            order = bisect.bisect_right(ix.para_starts, m.start) - 0.5
        names: frozenset = frozenset()
        title_words: frozenset = frozenset()
        title_gender = None
        reflexive = False
        if group in _GROUP_PRONOUN:
            form = _PRONOUN_FORMS.get(low)
            if form:
                gender = form[1]
                plural = form[2]
            reflexive = low in REFLEXIVES
        elif group == "name":
            kept = []
            name_titles = []
            words = _NAME_WORD.findall(raw)
            capitalized = any(w[:1].isupper() for w in words)
            for w in words:
                if w == ",":
                    if kept:
                        break  # "Captain Varga, who ran the ferry": the name ends at the comma
                    continue
                key = w.rstrip(".").lower()
                if key in _RELATIVE_WORDS and kept:
                    break
                if key in titles and len(words) > 1:
                    title_gender = title_gender or _gender_key(titles[key])
                    name_titles.append(_TITLE_NOUNS.get(key, key))
                    continue
                key = key.removesuffix("'s")
                if key and (w[:1].isupper() or not capitalized):
                    kept.append(key)
            names = frozenset(kept)
            title_words = frozenset(name_titles)
            gender = title_gender
            if gender is None and kept:
                gender = _gender_key(gn.get(kept[0]))
            plural = False
        else:
            g = nouns.get(head)
            if g is None and head.endswith("s"):
                g = nouns.get(head[:-1])
            gender = _gender_key(g)
            if words and words[0] in titles and len(words) > 1:
                title_gender = _gender_key(titles[words[0]])
                gender = gender or title_gender
        q = ix.quote_at(m.start)
        utt = ix.quotes[q].utterance if q >= 0 else -1
        turn = ix.turn_depth(utt) if utt >= 0 else 0
        facts.append(Facts(
            index=i, start=m.start, end=m.end, kind=m.kind, group=group, fixed=m.character,
            text=low, head=head, gender=gender, plural=plural, sent=sent, para=para, token=token,
            dep=dep, verb=verb, quote=q, utterance=utt, reflexive=reflexive, names=names,
            titles=title_words,
            title_gender=title_gender, definite=definite, indefinite=indefinite,
            possessed=possessed, proper=proper, order=order, turn=turn))
    _link_nesting(facts)
    _speech_tags(story, ix, facts)
    return facts


_GROUP_PRONOUN = frozenset({"he", "she", "they", "it", "i", "we", "you"})
_NAME_WORD = re.compile(r"[^\W\d_][\w'.\-]*|,")
_RELATIVE_WORDS = frozenset({"who", "whom", "whose", "which", "that"})
# Abbreviated titles and the noun a later "the ..." would use ("Dr. Okafor" ... "the doctor").
_TITLE_NOUNS = {"dr": "doctor", "prof": "professor", "capt": "captain", "cap": "captain",
                "col": "colonel", "gen": "general", "lt": "lieutenant", "sgt": "sergeant",
                "det": "detective", "rev": "reverend", "fr": "father", "st": "saint",
                "mr": "mister", "mrs": "missus", "mme": "madame", "mlle": "mademoiselle"}


def _link_nesting(facts: list[Facts]) -> None:
    """Record which nested mentions can never corefer: "his" is never "his mother" (a mention at
    the edge of another, or containing it), while a pronoun deep inside a relative clause may be
    the phrase around it ("those who kept their word"): that one is the `container`."""
    order = sorted(range(len(facts)), key=lambda k: (facts[k].start, -facts[k].end))
    open_: list[int] = []
    nested: dict[int, list[int]] = {}
    for k in order:
        f = facts[k]
        open_ = [j for j in open_ if facts[j].end > f.start]
        for j in open_:
            o = facts[j]
            if o.start <= f.start and f.end <= o.end and (o.start, o.end) != (f.start, f.end):
                if o.start < f.start and f.end < o.end and f.group in _GROUP_PRONOUN:
                    f.container = j  # innermost wins: open_ is outermost first
                else:
                    nested.setdefault(k, []).append(j)
                nested.setdefault(j, []).append(k)
        open_.append(k)
    for k, js in nested.items():
        facts[k].nested_in = tuple(js)


def _speech_tags(story: Story, ix: StoryIndex, facts: list[Facts]) -> None:
    """Mark the subject of each quote's speech tag (`tag_of`) and, in a paragraph with quotes but
    no tag, the narration subjects (`beat_of`): the speaker of that utterance, most likely."""
    if not ix.quotes:
        return
    by_para: dict[int, list[Facts]] = {}
    for f in facts:
        if f.para >= 0 and f.quote < 0:
            by_para.setdefault(f.para, []).append(f)
    para_quotes: dict[int, list[int]] = {}
    for k, q in enumerate(ix.quotes):
        p = ix.para_of(q.start)
        if p >= 0:
            para_quotes.setdefault(p, []).append(k)
    for p, qks in para_quotes.items():
        narr = by_para.get(p)
        if not narr or p >= len(story.docs):
            continue
        doc = story.docs[p]
        p0 = story.paragraphs[p][0]
        base = ix.token_base[p]
        utts = [ix.quotes[k].utterance for k in qks]
        tagged = False
        for f in narr:
            if f.dep not in ("nsubj", "nsubjpass") or f.verb < 0:
                continue
            v = doc[f.verb - base]
            if v.lemma_.lower() not in SPEECH_VERBS:
                continue
            # The quote nearest the verb (by characters) in this paragraph is the tagged one.
            pos = p0 + v.idx
            best = min(qks, key=lambda k: min(abs(ix.quotes[k].start - pos), abs(ix.quotes[k].end - pos)))
            f.tag_of = ix.quotes[best].utterance
            tagged = True
        if not tagged and len(set(utts)) == 1:
            for f in narr:
                if f.dep in ("nsubj", "nsubjpass") and f.group != "it":
                    f.beat_of = utts[0]
                    break


# ---------------------------------------------------------------------------------------------------
# Entities
@dataclass(slots=True)
class Entity:
    id: int
    character: str | None = None
    mentions: list[int] = field(default_factory=list)  # facts indices, in resolution order
    male: int = 0
    female: int = 0
    neuter: int = 0
    plural: int = 0
    singular: int = 0
    names: set = field(default_factory=set)  # name words
    name_strings: set = field(default_factory=set)
    heads: set = field(default_factory=set)  # nominal heads
    titles: set = field(default_factory=set)  # title nouns of its names
    strings: set = field(default_factory=set)  # nominal texts
    groups: dict = field(default_factory=dict)  # group -> count
    last: int = -1  # facts index of the latest mention
    last_sent: int = -1
    last_token: int = -1
    last_subj_sent: int = -1
    quote_groups: dict = field(default_factory=dict)  # (utterance, group) -> count
    attributes: int = 0  # mentions in attribute position ("was [a fine man]", appositions)
    narration_i: int = 0  # first-person mentions outside quotes
    narration_you: int = 0
    spoke: set = field(default_factory=set)  # utterances this entity is the speaker of
    prior_gender: str | None = None  # from Character.gender

    @property
    def gender(self) -> str | None:
        m, f = self.male, self.female
        if self.prior_gender and m + f == 0:
            return self.prior_gender
        if m > f:
            return "M"
        if f > m:
            return "F"
        return self.prior_gender


class State:
    """The entities built so far and what the dialogue features need."""

    def __init__(self, facts: list[Facts], characters: dict[str, str | None]):
        self.facts = facts
        self.entities: list[Entity] = []
        self.of_character: dict[str, Entity] = {}
        self.assign: dict[int, int] = {}  # facts index -> entity id
        self.recent: dict[int, None] = {}  # entity ids, most recently mentioned last (ordered)
        self.utt_speaker: dict[int, int] = {}  # utterance -> entity id
        self.characters = characters
        self.name_index: dict[str, set[int]] = {}
        self.head_index: dict[str, set[int]] = {}

    def new_entity(self, character: str | None = None) -> Entity:
        e = Entity(len(self.entities), character)
        if character is not None:
            self.of_character[character] = e
            e.prior_gender = _gender_key(self.characters.get(character))
        self.entities.append(e)
        return e

    def add(self, f: Facts, e: Entity) -> None:
        self.assign[f.index] = e.id
        e.mentions.append(f.index)
        if f.gender == "M":
            e.male += 1
        elif f.gender == "F":
            e.female += 1
        elif f.gender == "N":
            e.neuter += 1
        if f.plural is True:
            e.plural += 1
        elif f.plural is False:
            e.singular += 1
        if f.names:
            e.names.update(f.names)
            e.name_strings.add(" ".join(sorted(f.names)))
            for w in f.names:
                self.name_index.setdefault(w, set()).add(e.id)
        if f.titles:
            e.titles.update(f.titles)
            for w in f.titles:
                self.head_index.setdefault(w, set()).add(e.id)
        if f.group == "nom":
            e.heads.add(f.head)
            e.strings.add(f.text)
            self.head_index.setdefault(f.head, set()).add(e.id)
        e.groups[f.group] = e.groups.get(f.group, 0) + 1
        if f.dep in _ATTRIBUTE_DEPS:
            e.attributes += 1
        if f.utterance >= 0:
            key = (f.utterance, f.group)
            e.quote_groups[key] = e.quote_groups.get(key, 0) + 1
            if f.group == "i" and f.utterance not in self.utt_speaker:
                self.utt_speaker[f.utterance] = e.id
                e.spoke.add(f.utterance)
        else:
            if f.group == "i":
                e.narration_i += 1
            elif f.group == "you":
                e.narration_you += 1
        if f.tag_of >= 0:
            self.utt_speaker[f.tag_of] = e.id
            e.spoke.add(f.tag_of)
        if f.sent >= e.last_sent:
            e.last = f.index
            e.last_sent = f.sent
            e.last_token = f.token
            if f.dep in ("nsubj", "nsubjpass"):
                e.last_subj_sent = f.sent
        self.recent.pop(e.id, None)
        self.recent[e.id] = None


# ---------------------------------------------------------------------------------------------------
# Features
def _compatible(f: Facts, e: Entity) -> bool:
    """Hard agreement: no gender or number clash with what the entity has shown so far."""
    g = e.gender
    if f.gender in ("M", "F") and g in ("M", "F") and g != f.gender:
        return False
    if f.group in ("he", "she") and e.plural > e.singular + 1:
        return False
    if f.group == "they" and e.singular > 0 and e.plural == 0 and (e.male + e.female) > 2:
        return False
    return True


def features(f: Facts, e: Entity, st: State, rank: int, compat_rank: int) -> dict[str, float]:
    """The feature vector of (mention, entity). Weights are per mention group: the model's keys
    are these prefixed by the group ("he:g_agree"), see `prefixed`. Features that are off are
    left out (this runs for every candidate of every mention: keep it lean)."""
    facts = st.facts
    last = facts[e.last]
    d_sent = f.sent - e.last_sent
    if d_sent < 0:
        d_sent = 0
    n = len(e.mentions)
    d_tok = f.token - e.last_token
    x: dict[str, float] = {
        _SENT_KEY_OF[d_sent] if d_sent < 64 else _SENT_KEYS[_bin(d_sent)]: 1.0,
        _RANK_KEYS[rank if rank < 6 else 6]: 1.0,
        _CRANK_KEYS[compat_rank if compat_rank < 4 else 4]: 1.0,
        "log_count": _LOG1P[n] if n < len(_LOG1P) else math.log1p(n),
        _TOKEN_KEY_OF[d_tok] if 0 <= d_tok < 512 else _TOKEN_KEYS[_bin(d_tok, _TOKEN_BINS) + 1]: 1.0,
    }
    if last.para == f.para:
        x["para_same"] = 1.0
    elif f.para - last.para == 1:
        x["para_dist1"] = 1.0
    recent = 0
    floor = f.sent - 3
    for k in reversed(e.mentions):
        if recent == 3 or facts[k].sent < floor:
            break
        recent += 1
    x[_RECENT_KEYS[recent]] = 1.0
    if e.character is not None:
        x["is_character"] = 1.0
    # Gender and number.
    g = e.gender
    if f.gender in ("M", "F"):
        if g is None:
            x["g_unknown"] = 1.0
        elif g == f.gender:
            x["g_agree"] = 1.0
            x["g_agree_strength"] = math.log1p(e.male if g == "M" else e.female)
        else:
            x["g_clash"] = 1.0
    if e.neuter and not (e.male or e.female):
        x["e_neuter"] = 1.0
    if f.plural is True:
        x["num_pl_agree" if e.plural >= e.singular else "num_pl_clash"] = 1.0
    elif f.plural is False:
        x["num_sg_agree" if e.singular >= e.plural else "num_sg_clash"] = 1.0
    # Syntax.
    subj = f.dep in ("nsubj", "nsubjpass")
    lsubj = last.dep in ("nsubj", "nsubjpass")
    if subj:
        x["m_subj"] = 1.0
        if lsubj:
            x["both_subj"] = 1.0
    if lsubj:
        x["l_subj"] = 1.0
    if f.dep and f.dep == last.dep:
        x["same_dep"] = 1.0
    if e.last_subj_sent >= 0 and f.sent - e.last_subj_sent <= 1:
        x["subj_recent"] = 1.0
    if f.verb >= 0:
        for k in e.mentions[-4:]:
            o = facts[k]
            if o.sent == f.sent and o.verb == f.verb and o.index != f.index:
                x["clausemate_refl" if f.reflexive else "clausemate"] = 1.0
                break
    if last.sent == f.sent:
        x["same_sent"] = 1.0
    # A few conjunctions the linear model cannot make on its own.
    if compat_rank == 0:
        if d_sent <= 1:
            x["crank0_near"] = 1.0
        if "g_agree" in x:
            x["crank0_agree"] = 1.0
        if "subj_recent" in x:
            x["crank0_subj"] = 1.0
    if "g_agree" in x and "subj_recent" in x:
        x["agree_subj"] = 1.0
    # Names and nouns.
    if f.group == "name":
        if f.names and e.names:
            common = f.names & e.names
            if " ".join(sorted(f.names)) in e.name_strings:
                x["name_exact"] = 1.0
            elif f.names <= e.names:
                x["name_subset"] = 1.0
            elif common:
                x["name_overlap"] = 1.0
            elif _nickname_match(f.names, e.names):
                x["name_nick"] = 1.0
            else:
                x["name_clash"] = 1.0
        elif not e.names:
            x["e_unnamed"] = 1.0
        if f.title_gender and g and f.title_gender != g:
            x["title_clash"] = 1.0
    elif f.group == "nom":
        near = d_sent <= 3
        if f.text in e.strings:
            x["nom_exact" if near else "nom_exact_far"] = 1.0
        elif f.head in e.heads:
            x["nom_head" if near else "nom_head_far"] = 1.0
            if f.definite:
                x["nom_head_def"] = 1.0
        elif e.names and f.head in e.names:
            x["nom_in_name"] = 1.0
        elif f.head in e.titles:
            x["nom_title"] = 1.0
        if e.names:
            x["e_named"] = 1.0
            if f.definite and compat_rank == 0 and "g_agree" in x:
                x["def_named_agree_first"] = 1.0
        if f.indefinite:
            x["indef"] = 1.0
        if f.definite:
            x["def"] = 1.0
        if f.possessed:
            x["poss"] = 1.0
        if f.proper:
            x["proper"] = 1.0
    # Dialogue.
    inq = f.quote >= 0
    if inq:
        x["m_inq"] = 1.0
    if last.quote >= 0:
        x["l_inq"] = 1.0
    if inq:
        if last.utterance == f.utterance:
            x["same_utt"] = 1.0
        spk = st.utt_speaker.get(f.utterance)
        prev1 = st.utt_speaker.get(f.utterance - 1) if f.turn >= 1 else None
        prev2 = st.utt_speaker.get(f.utterance - 2) if f.turn >= 2 else None
        if spk == e.id:
            x["speaker"] = 1.0
        if prev1 == e.id:
            x["prev_speaker"] = 1.0
        if prev2 == e.id:
            x["prev2_speaker"] = 1.0
            if spk is None and prev1 is not None and prev1 != e.id:
                x["alternation"] = 1.0  # A, B, and now A again
        if spk is not None and spk != e.id and prev1 == e.id:
            x["other_party"] = 1.0  # the one the speaker answers
        if e.quote_groups.get((f.utterance, "i")):
            x["utt_i"] = 1.0
        if e.quote_groups.get((f.utterance, "you")):
            x["utt_you"] = 1.0
        if e.quote_groups.get((f.utterance, "name")):
            x["utt_named"] = 1.0
        if f.utterance - 1 in e.spoke or f.utterance - 2 in e.spoke:
            x["spoke_recently"] = 1.0
    else:
        if f.group == "i" and e.narration_i:
            x["narrator_i"] = 1.0
        if f.group == "you" and e.narration_you:
            x["narrator_you"] = 1.0
        if last.quote >= 0 and last.group in ("i", "you", "we"):
            x["l_dialogue_person"] = 1.0
    if f.container >= 0 and st.assign.get(f.container) == e.id:
        x["container"] = 1.0
    if e.attributes == n:
        x["e_attribute_only"] = 1.0
    if f.group in ("he", "she", "they", "it", "name", "nom"):
        if e.narration_i and not inq:
            x["e_narrator_i"] = 1.0  # a first-person narrator is not "he" in their own narration
        if e.narration_you and not inq:
            x["e_narrator_you"] = 1.0
        if not inq and (e.groups.get("i", 0) + e.groups.get("you", 0)) == n:
            x["e_only_dialogue_persons"] = 1.0
    if f.group in ("i", "we") and e.groups.get("i", 0) + e.groups.get("we", 0) == 0 and not e.spoke:
        x["e_never_speaks"] = 1.0
    if f.beat_of >= 0 or f.tag_of >= 0:
        x["m_tags"] = 1.0
    return x


def _nickname_match(a: frozenset, b: set) -> bool:
    nick = nicknames()
    for w in a:
        fulls = nick.get(w)
        if fulls and fulls & b:
            return True
    for w in b:
        fulls = nick.get(w)
        if fulls and fulls & a:
            return True
    return False


# ---------------------------------------------------------------------------------------------------
# The scorer
def new_features(f: Facts, xs: list[dict[str, float]]) -> dict[str, float]:
    """Features of starting a new entity for mention f, given its candidates' feature vectors."""
    x = {"bias": 1.0}
    if not xs:
        x["no_candidates"] = 1.0
    present = set().union(*xs) if xs else set()
    for key in _ANY_KEYS:
        if key in present:
            x[f"any_{key}"] = 1.0
    if f.group == "nom":
        x["indef"] = float(f.indefinite)
        x["def"] = float(f.definite)
        x["poss"] = float(f.possessed)
        x["plural"] = float(f.plural is True)
        x["gendered"] = float(f.gender in ("M", "F"))
        x["proper"] = float(f.proper)
        x["long"] = float(len(f.text.split()) > 3)
    if f.group == "name":
        x["titled"] = float(f.title_gender is not None)
        x["words2"] = float(len(f.names) > 1)
    x["inq"] = float(f.quote >= 0)
    x["tag"] = float(f.tag_of >= 0)
    x["subj"] = float(f.dep in ("nsubj", "nsubjpass"))
    x["attr"] = float(f.dep in ("attr", "appos", "oprd"))
    return {f"NEW_{k}": v for k, v in x.items()}


# Candidate features whose presence among any candidate informs the new-entity option.
_ANY_KEYS = ("name_exact", "name_subset", "name_overlap", "name_nick", "nom_exact", "nom_head",
             "speaker", "utt_i", "narrator_i", "narrator_you", "prev_speaker")


def prefixed(group: str, x: dict[str, float]) -> dict[str, float]:
    """Feature keys as the model names them: crossed with the mention's group."""
    return {f"{group}:{k}": v for k, v in x.items()}


@dataclass
class Ranker:
    """A linear mention-ranking scorer: each candidate entity and the option of a new entity get a
    score (a dot product with `weights`); the best wins. `new_bias` shifts the new-entity option
    per group (tuned on held-out documents)."""

    weights: dict[str, float]
    new_bias: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_group: dict[str, dict[str, float]] = {}

    def group_weights(self, group: str) -> dict[str, float]:
        """This group's weights with the "group:" prefix taken off (built once per group)."""
        w = self._by_group.get(group)
        if w is None:
            cut = len(group) + 1
            w = {k[cut:]: v for k, v in self.weights.items() if k.startswith(group + ":")}
            self._by_group[group] = w
        return w

    def score(self, group: str, x: dict[str, float]) -> float:
        w = self.group_weights(group)
        get = w.get
        total = 0.0
        for k, v in x.items():
            total += get(k, 0.0) * v
        return total

    @classmethod
    def load(cls, path: Path) -> "Ranker":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(dict(data["weights"]), dict(data.get("new_bias", {})), data.get("meta", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise FiclensError(Errors.E303.format(path=path, reason=e)) from e

    def to_json(self) -> dict:
        return {"weights": self.weights, "new_bias": self.new_bias, "meta": self.meta}


def rule_ranker() -> Ranker:
    """Hand-set weights over the same features, for when no trained model is installed."""
    w: dict[str, float] = {}
    for g in GROUPS:
        w.update({f"{g}:g_clash": -6.0, f"{g}:num_pl_clash": -2.0, f"{g}:num_sg_clash": -2.0,
                  f"{g}:g_agree": 1.5, f"{g}:crank0": 2.0, f"{g}:crank1": 0.5, f"{g}:rank0": 0.5,
                  f"{g}:subj_recent": 0.7, f"{g}:both_subj": 0.5, f"{g}:clausemate": -3.0,
                  f"{g}:clausemate_refl": 3.0, f"{g}:sent5": -1.0, f"{g}:sent6": -2.0,
                  f"{g}:sent7": -3.0, f"{g}:sent8": -4.0, f"{g}:log_count": 0.3,
                  f"{g}:e_neuter": -3.0, f"{g}:NEW_bias": 1.0})
    for g in ("i", "we"):
        w.update({f"{g}:speaker": 4.0, f"{g}:utt_i": 3.0, f"{g}:narrator_i": 4.0,
                  f"{g}:utt_you": -3.0, f"{g}:prev2_speaker": 1.0, f"{g}:prev_speaker": -1.0,
                  f"{g}:e_never_speaks": -1.0})
    w.update({"you:prev_speaker": 2.5, "you:speaker": -4.0, "you:utt_you": 3.0, "you:utt_i": -3.0,
              "you:utt_named": 2.0, "you:narrator_you": 4.0})
    w.update({"name:name_exact": 6.0, "name:name_subset": 4.0, "name:name_overlap": 2.5,
              "name:name_nick": 3.0, "name:name_clash": -5.0, "name:title_clash": -4.0,
              "name:e_unnamed": -2.0, "name:NEW_bias": 3.0})
    w.update({"nom:nom_exact": 3.0, "nom:nom_head": 1.5, "nom:NEW_bias": 3.0, "nom:NEW_indef": 3.0,
              "nom:NEW_poss": 1.0})
    return Ranker(w, {}, {"kind": "rules"})


def default_ranker() -> Ranker:
    path = MODEL_DIR / "weights.json"
    if path.is_file():
        return Ranker.load(path)
    return rule_ranker()


# ---------------------------------------------------------------------------------------------------
# Decoding
MAX_SENT_BACK = 40
MAX_CANDIDATES = 20


def processing_order(facts: list[Facts]) -> list[int]:
    """Text order, except that first- and second-person pronouns inside quotes wait until the end
    of their paragraph, so the speech tag ("...," Anna said) is resolved before the "I" it names."""
    def key(k: int):
        f = facts[k]
        late = f.quote >= 0 and f.group in ("i", "we", "you")
        return (f.order, late, f.start, -f.end)
    return sorted(range(len(facts)), key=key)


def candidates(f: Facts, st: State) -> list[Entity]:
    """Entities mentioned in the last MAX_SENT_BACK sentences (most recent first, at most
    MAX_CANDIDATES), plus, for names and nouns, entities with a matching name or head."""
    out: list[Entity] = []
    seen: set[int] = set()
    banned = {st.assign[j] for j in f.nested_in if j in st.assign}
    for eid in reversed(st.recent):
        e = st.entities[eid]
        if f.sent - e.last_sent > MAX_SENT_BACK or len(out) >= MAX_CANDIDATES:
            break
        if eid in banned:
            continue
        out.append(e)
        seen.add(eid)
    extra: set[int] = set()
    if f.group == "name":
        for w in f.names:
            extra |= st.name_index.get(w, set())
    elif f.group == "nom":
        extra |= st.head_index.get(f.head, set())
        extra |= st.name_index.get(f.head, set())
    for eid in sorted(extra - seen - banned, key=lambda i: -st.entities[i].last_sent):
        out.append(st.entities[eid])
    return out


def resolve(facts: list[Facts], ranker: Ranker | None, characters: dict[str, str | None] | None = None,
            *, oracle: list | None = None, blocks: list | None = None) -> tuple[list[int], "State"]:
    """Cluster the mentions: the entity number of each fact, and the final state.

    characters: character id -> declared gender, for fixed mentions.
    oracle, blocks: training only. With `oracle` (the gold entity of each mention), decisions
    follow the gold clustering, and for each mention a block ([new-entity features, candidate
    features...], index of the right choice) is appended to `blocks`.
    """
    st = State(facts, characters or {})
    gold_entity: dict = {}  # gold id -> entity (training)
    for k in processing_order(facts):
        f = facts[k]
        if f.fixed is not None:
            e = st.of_character.get(f.fixed) or st.new_entity(f.fixed)
            st.add(f, e)
            continue
        if f.kind == "vocative" and oracle is None:
            # A term of address no one is known by ("Baby, please"): it names the addressee, who
            # is not a new person; keep it out of the entities later mentions can join.
            e = st.new_entity()
            e.mentions.append(f.index)
            st.assign[f.index] = e.id
            continue
        cands = candidates(f, st)
        compat_rank = 0
        xs = []
        for rank, e in enumerate(cands):
            ok = _compatible(f, e)
            xs.append(features(f, e, st, rank, compat_rank if ok else 9))
            if ok:
                compat_rank += 1
        nx = new_features(f, xs)
        if oracle is not None:
            target = gold_entity.get(oracle[k])
            label = 0
            for j, e in enumerate(cands):
                if e is target:
                    label = j + 1
            blocks.append(([prefixed(f.group, v) for v in [nx] + xs], label))
            e = target if target is not None else st.new_entity()
            if oracle[k] is not None:
                gold_entity[oracle[k]] = e
            st.add(f, e)
            continue
        best, best_s = None, ranker.score(f.group, nx) + ranker.new_bias.get(f.group, 0.0)
        for e, x in zip(cands, xs):
            sc = ranker.score(f.group, x)
            if sc > best_s:
                best, best_s = e, sc
        st.add(f, best if best is not None else st.new_entity())
    return [st.assign[k] for k in range(len(facts))], st


# ---------------------------------------------------------------------------------------------------
# The stage
RESOLVED_KINDS = frozenset({"pronoun", "nominal"})


class CorefStage(Stage):
    """Sets `Mention.character` on pronoun and nominal mentions (see the module docstring)."""

    name = "coref"
    requires = ("narration",)
    assigns = ("coref",)

    def __init__(self, *, ranker: str | Ranker = "auto"):
        """ranker: "auto" (the shipped learned weights, else the rule weights), "rules", or a Ranker."""
        if isinstance(ranker, Ranker):
            self.ranker = ranker
        elif ranker == "auto":
            self.ranker = default_ranker()
        elif ranker == "rules":
            self.ranker = rule_ranker()
        else:
            raise PipelineError(Errors.E103.format(stage=self.name, option="ranker",
                                                   choices="auto, rules or a Ranker", value=ranker))

    def __call__(self, story: Story) -> None:
        self.set_annotations(story, self.match(story))

    def match(self, story: Story) -> list[tuple[int, str | None]]:
        """For each mention of story.mentions: (entity number, character id or None)."""
        mentions = story.mentions
        if not mentions:
            return []
        facts = build_facts(story, mentions)
        _narrator_defaults(story, facts)
        genders = {c.id: c.gender for c in story.characters}
        assign, st = resolve(facts, self.ranker, genders)
        character = {e.id: e.character for e in st.entities}
        character.update(_cataphora(st))
        return [(eid, character[eid]) for eid in assign]

    def set_annotations(self, story: Story, decisions: list[tuple[int, str | None]]) -> None:
        for m, (_, character) in zip(story.mentions, decisions):
            if m.kind in RESOLVED_KINDS and m.character is None and character is not None:
                m.character = character


CATAPHORA_PARAGRAPHS = 6


def _cataphora(st: State) -> dict[int, str]:
    """Anonymous entities that are a character introduced by pronoun before the name.

    Stories often open on "She" and name her paragraphs later; the ranker, working left to right,
    starts an anonymous entity for the early pronouns. Such an entity (he/she pronouns, no name)
    becomes the character of the same gender first named while the entity is still in use (after
    its first mention, before CATAPHORA_PARAGRAPHS paragraphs past its last): the only one, or the
    one that clearly carries that gender's pronouns afterwards; failing any of that gender, the
    only character named then whose gender is unknown.
    """
    facts = st.facts
    first_para = {e.id: min(facts[k].order for k in e.mentions) for e in st.entities if e.mentions}
    last_para = {e.id: max(facts[k].order for k in e.mentions) for e in st.entities if e.mentions}
    out: dict[int, str] = {}
    for a in st.entities:
        if a.character is not None or not a.mentions or a.names:
            continue
        if not (a.groups.get("he", 0) + a.groups.get("she", 0)) or a.gender not in ("M", "F"):
            continue
        start = first_para[a.id]
        named = [c for c in st.entities
                 if c.character is not None and c.mentions and c.gender in (a.gender, None)
                 and start < first_para[c.id] <= last_para[a.id] + CATAPHORA_PARAGRAPHS]
        later = [c for c in named if c.gender == a.gender]
        if not later:
            # No gender known for anyone named then: only a lone candidate will do.
            later = named if len(named) == 1 else []
        if len(later) > 1:
            # Several named while it was in use: the one the story keeps calling he/she wins,
            # if clearly ahead (a mother named once, the heroine carrying the pronouns).
            key = "he" if a.gender == "M" else "she"
            later.sort(key=lambda c: -c.groups.get(key, 0))
            if later[0].groups.get(key, 0) < 2 * later[1].groups.get(key, 0) + 2:
                continue
        if later:
            out[a.id] = later[0].character
    return out


def _narrator_defaults(story: Story, facts: list[Facts]) -> None:
    """A first-person pronoun in first-person narration (or "you" in second-person narration) is
    the segment's narrator, when the narration stage named one: fix it before ranking."""
    segs = sorted(story.narration.segments, key=lambda s: s.start)
    if not segs:
        return
    starts = [s.start for s in segs]
    for f in facts:
        if f.fixed is not None or f.quote >= 0 or f.group not in ("i", "you"):
            continue
        k = bisect.bisect_right(starts, f.start) - 1
        if k < 0 or f.start >= segs[k].end or not segs[k].narrator:
            continue
        seg = segs[k]
        if (f.group == "i" and seg.person == "first") or (f.group == "you" and seg.person == "second"):
            f.fixed = seg.narrator


# ---------------------------------------------------------------------------------------------------
# In-quote pronouns, once the speakers are known
FIRST_SINGULAR_FORMS = frozenset({"i", "me", "my", "mine", "myself"})
SECOND_FORMS = frozenset({"you", "your", "yours", "yourself"})


def resolve_quote_pronouns(story: Story, *, add_you: bool = True) -> int:
    """Set in-quote "I/me/my/mine/myself" mentions to the quote's speaker and "you/your/yours/
    yourself" to its addressee, once the attribution stage has set `Quote.speaker` and
    `Quote.addressees`. Call it after attribution.

    add_you: the mentions stage leaves "you" inside quotes out (it cannot know who it is); when the
        quote has exactly one addressee, add those "you" mentions now.
    Returns the number of mentions set or added.
    """
    quotes = sorted(story.quotes, key=lambda q: q.start)
    if not quotes:
        return 0
    starts = [q.start for q in quotes]

    def quote_at(pos: int):
        k = bisect.bisect_right(starts, pos) - 1
        return quotes[k] if k >= 0 and quotes[k].start <= pos < quotes[k].end else None

    changed = 0
    have: set[tuple[int, int]] = set()
    for m in story.mentions:
        have.add((m.start, m.end))
        q = quote_at(m.start)
        if q is None or m.kind not in ("pronoun", "narrator"):
            continue
        low = story.text[m.start:m.end].lower()
        if low in FIRST_SINGULAR_FORMS and q.speaker:
            if m.character != q.speaker:
                m.character = q.speaker
                changed += 1
        elif low in SECOND_FORMS and len(q.addressees) == 1:
            if m.character != q.addressees[0]:
                m.character = q.addressees[0]
                changed += 1
    if add_you:
        word = re.compile(r"(?<![\w'])(?i:you|your|yours|yourself)(?![\w'])")
        added = []
        for q in quotes:
            if len(q.addressees) != 1:
                continue
            for mm in word.finditer(story.text, q.start, q.end):
                if (mm.start(), mm.end()) not in have:
                    added.append(Mention(mm.start(), mm.end(), "pronoun", q.addressees[0]))
        if added:
            story.mentions = sorted(story.mentions + added, key=lambda m: (m.start, m.end, m.kind))
            changed += len(added)
    return changed


class QuotePronounStage(Stage):
    """`resolve_quote_pronouns` as a stage, to run right after attribution: in-quote I/me/my go to
    the quote's speaker, you/your to its single addressee."""

    name = "quote_pronouns"
    requires = ("speakers", "coref")
    assigns = ("quote_pronouns",)

    def __init__(self, *, add_you: bool = True):
        """add_you: add the in-quote "you" mentions the mentions stage leaves out, when the quote
            has exactly one addressee."""
        self.add_you = add_you

    def __call__(self, story: Story) -> None:
        resolve_quote_pronouns(story, add_you=self.add_you)
