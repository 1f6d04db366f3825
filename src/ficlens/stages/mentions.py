"""The mentions stage: every place a person is named, called, described or pronominalized.

Spans are story.text offsets (`Mention(start, end, kind)`, sorted); no character is assigned here.

Kinds:
- name: a proper name, with its title when it has one ("Mr. Bennet", "Dr. Grey" are one mention).
- nickname: a diminutive from the shipped list ("Lizzy", "Mer") or a canon pack nickname ("Shep",
  "Baby Girl").
- vocative: a name (or a term of address such as "baby") addressed directly inside a quote:
  `"Derek, please"`, `", Shep."`; it stays a vocative whatever the name's other kind.
- nominal: a common-noun person with its determiner or possessive ("her date", "the nurse", "his best
  friend"), and capitalized kin terms used as names ("after Dad died").
- pronoun: he/she/they... and I/me/my..., everywhere; you/your only in narration (in dialogue "you"
  is the addressee, which attribution handles). The narration stage later turns a narrator's "I"
  into kind narrator.

Where names come from, all unioned:
1. optionally (`entity_model=True`) the literary entity model (`ficlens.entities`), trained on
   LitBank, when it is installed;
2. spaCy's PERSON entities, trimmed of the words spaCy wrongly glues on ("Derek today");
3. ficlens's own evidence, because fan fiction names ("Mer", "Shep") are nicknames no model knows
   and en_core_web_sm calls "Meredith" an ORG: capitalized words that are given names (shipped
   list) or canon pack names, a title before a capitalized word, canon multi-word nicknames;
4. common nouns used as names ("said Owl"): capitalized inside sentences, rarely in lowercase, and
   speaking somewhere;
5. propagation: a word found as a name anywhere in the story is a name wherever it is capitalized
   and used as a proper noun (so one good sighting covers the misses).
A name may run over a line break (hard-wrapped text: "Mr.\nWoodhouse") and ends at a double hyphen
used as a dash ("Mrs. Bennet.--They").
Capitalized words at a sentence start count only when spaCy tags them PROPN ("Will you..." is not
Will); a name followed by a place word ("Elliot Bay") is a place.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from typing import Sequence

from ..canon import form_index, norm, phrase_forms
from ..model import Mention, Story
from ..names import (address_terms, given_names, honorifics, nicknames, person_nouns,
                     possessive_person_nouns)
from ..pipeline import Stage

PRONOUNS = frozenset("""he him his himself she her hers herself they them their theirs themselves
    themself i me my mine myself""".split())
SECOND_PERSON = frozenset("you your yours yourself yourselves".split())

# Capitalized words that are never a person's name on their own.
NOT_NAMES = frozenset("""
    i i'm i'd i'll he she it we they you me him her us them his its our their your my mine
    the a an and but or so if then this that these those there here when what who why how where which
    o oh ah ahh aw hey hi hello okay ok yes yeah yea yep no nope um umm uh uhh hmm mm well please thanks
    thank sorry wow ugh god jesus christ lord heaven hell damn shit fuck bye goodbye goodnight alright
    mom mum dad mommy mummy daddy mama papa grandma grandpa granny nana mother father momma
    sir madam ma'am miss mister baby babe honey sweetheart darling
    monday tuesday wednesday thursday friday saturday sunday january february march july september
    october november december christmas easter halloween thanksgiving
    english french german italian spanish american british irish scottish chinese japanese korean
    chapter part prologue epilogue note author disclaimer pov end
    dear dearest poor
""".split())
KIN_NAMES = frozenset("""mom mum dad mommy mummy daddy mama papa grandma grandpa granny nana momma
    pops grandmother grandfather""".split())
# A capitalized word after a name that makes the whole a place or an institution ("Elliot Bay").
PLACE_WORDS = frozenset("""
    bay street st avenue ave road rd boulevard blvd hospital park hall house lake river mountain mount
    city county school university college church abbey castle manor court place square lane island
    station memorial center centre bridge hill valley beach harbor harbour bar pub inn hotel cafe
    restaurant building tower academy institute company corporation inc ltd airport mall prison
    cathedral chapel gardens heights falls creek forest woods village town estate farm cottage lodge
    high elementary middle stadium arena theatre theater museum library
""".split())
# Name particles that may sit inside a name ("Ludwig van Beethoven").
PARTICLES = frozenset("de van von der del della di da du la le st bin ibn al".split())
# Words before a name that keep it a vocative ("Oh, Derek", "Hey Shep").
INTERJECTIONS = frozenset("""oh ah hey hi hello yes no yeah yea okay ok thanks thank please well sorry
    bye goodbye night morning evening dear come listen look god""".split())
NON_NAME_ENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY", "NORP",
                           "LANGUAGE", "EVENT", "LAW"})
OPENERS = frozenset('"\'(-\u2014\u2013\u2026*_[')
_VOC_LEFT = ",;:-\u2014\u2013(" + ".!?\u2026"
_VOC_RIGHT = ",.!?;:\u2026-\u2014\u2013)"
_WORD_BEFORE = re.compile(r"([A-Za-z']+)[\s,]*$")
_NAME_WORD = re.compile(r"^[^\W\d_][\w'\u2019.\-]*$")
NOMINAL_MODIFIERS = frozenset({"det", "poss", "amod", "compound", "nummod", "advmod", "case"})


def _title(token_text: str) -> str | None:
    """The case-folded honorific a token is (Mr. -> "mr"), or None."""
    key = token_text.rstrip(".").casefold()
    return key if key in honorifics() else None


def _is_cap(text: str) -> bool:
    """Capitalized like a name: "Derek", "O'Malley", "McDreamy", "JJ" (short all-caps)."""
    if not text or not text[0].isupper():
        return False
    if text.isupper() and len(text) > 3:
        return False
    return _NAME_WORD.match(text) is not None


class MentionStage(Stage):
    """Person mentions of every kind, in story.text offsets (see the module docstring)."""

    name = "mentions"
    requires = ("docs", "quotes")
    assigns = ("mentions",)

    def __init__(self, *, entity_model: bool = False, entity_model_path: str | None = None,
                 model_nominals: bool = False, nominals: bool = True, pronouns: bool = True):
        """entity_model: also use ficlens's literary entity model when it is installed (off by default:
            on four PDNC novels the draft model cost 10x this stage's time and lowered the alias
            B-cubed F1 from 0.893 to 0.883; the evidence below already finds the names).
        entity_model_path: a trained entity model to use instead of the shipped one.
        model_nominals: also take the entity model's common-noun people as nominals (off: on fan
            fiction they were mostly noise, "his scotch", "Glad").
        nominals: find common-noun person mentions ("her date").
        pronouns: tag personal pronouns.
        """
        self.entity_model = entity_model
        self.entity_model_path = entity_model_path
        self.model_nominals = model_nominals
        self.nominals = nominals
        self.pronouns = pronouns

    def __call__(self, story: Story) -> None:
        self.pipe([story])

    def pipe(self, stories: Sequence[Story]) -> None:
        model_spans = self._model_spans(stories)
        for story, spans in zip(stories, model_spans):
            self.set_annotations(story, self.match(story, spans))

    def set_annotations(self, story: Story, mentions: list[Mention]) -> None:
        story.mentions = mentions

    # -- the entity model ---------------------------------------------------------------------------
    def _model_spans(self, stories: Sequence[Story]) -> list[list | None]:
        """Per story, per doc, the entity model's PER spans; None per story when it is not installed."""
        if not self.entity_model or not (self.entity_model_path or entity_model_available()):
            return [None] * len(stories)
        from ..entities import entity_spans_pipe, load_entity_model

        nlp = load_entity_model(self.entity_model_path)
        docs = [doc for story in stories for doc in story.docs]
        spans = iter(entity_spans_pipe(docs, nlp=nlp, labels=("PER",)))
        return [[next(spans) for _ in story.docs] for story in stories]

    # -- matching -----------------------------------------------------------------------------------
    def match(self, story: Story, model_spans: list | None = None) -> list[Mention]:
        quotes = quote_ranges(story)
        q_starts = [s for s, _ in quotes]

        def in_quote(pos: int) -> tuple[int, int] | None:
            k = bisect.bisect_right(q_starts, pos) - 1
            if k >= 0 and quotes[k][0] <= pos < quotes[k][1]:
                return quotes[k]
            return None

        names: dict[tuple[int, int], str] = {}  # (start, end) in story.text -> kind
        known: set[str] = set()  # words seen inside names: propagate to their other sightings
        per_doc = []
        for k, doc in enumerate(story.docs):
            p0 = story.paragraphs[k][0]
            info = _DocInfo(doc)
            ranges, nominal_ranges = self._seed_names(doc, info, model_spans[k] if model_spans else None)
            per_doc.append((doc, p0, info, ranges, nominal_ranges))
            for a, b in ranges:
                for t in info.tokens[a:b]:
                    if _is_cap(t.text) and not _title(t.text):
                        known.add(t.text)
        known |= self._noun_names(story, per_doc, known)
        mentions: list[Mention] = []
        the_names = self._the_names(story, per_doc)
        for k, (doc, p0, info, ranges, nominal_ranges) in enumerate(per_doc):
            ranges = self._propagate(doc, info, ranges, known)
            if the_names.get(k):
                ranges = _merge(ranges + the_names[k])
            for a, b in ranges:
                toks = info.tokens
                s = toks[a].idx + p0
                e = s + _name_length(story.text[s:toks[b - 1].idx + len(toks[b - 1].text) + p0])
                if e > s:
                    names[(s, e)] = _name_kind(toks[a:b])
            if self.nominals:
                for s, e in self._nominals(doc, info, ranges, nominal_ranges):
                    mentions.append(Mention(s + p0, e + p0, "nominal"))
            if self.pronouns:
                for t in info.tokens:
                    low = t.lower_
                    if low in PRONOUNS or low in SECOND_PERSON:
                        if t.tag_ not in ("PRP", "PRP$") and low not in ("i", "her", "his"):
                            continue
                        if low in SECOND_PERSON and in_quote(t.idx + p0):
                            continue
                        mentions.append(Mention(t.idx + p0, t.idx + p0 + len(t.text), "pronoun"))
            mentions.extend(self._address_vocatives(story, doc, p0, info, in_quote, names))
        text = story.text
        for span in places(text, names) + groups(text, names, known):
            names.pop(span, None)
        for (s, e), kind in names.items():
            q = in_quote(s)
            if q and is_vocative(text, s, e, q):
                kind = "vocative"
            mentions.append(Mention(s, e, kind))
        mentions.sort(key=lambda m: (m.start, m.end, m.kind))
        return mentions

    def _seed_names(self, doc, info: "_DocInfo", model_spans) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Token ranges of names found by the models and by ficlens's own evidence, merged."""
        seeds: list[tuple[int, int]] = []
        nominal: list[tuple[int, int]] = []
        for ent in doc.ents:
            if ent.label_ == "PERSON":
                seeds.extend(info.name_runs(ent.start, ent.end))
        if model_spans:
            for s, e, _label in model_spans:
                span = doc.char_span(s, e, alignment_mode="expand")
                if span is None:
                    continue
                runs = info.name_runs(span.start, span.end)
                if runs:
                    seeds.extend(runs)
                elif self.model_nominals and not any(_is_cap(t.text) and t.pos_ == "PROPN" for t in span):
                    nominal.append((span.start, span.end))
        gn = given_names()
        canon = form_index()
        phrases = phrase_forms()
        doc = info.tokens
        n = len(doc)
        i = 0
        while i < n:
            t = doc[i]
            text = t.text
            if not _is_cap(text) or info.blocked[i]:
                i += 1
                continue
            low = text.casefold()
            # Canon multi-word forms ("Baby Girl", "Hot Stuff"): capitalized first word.
            matched = False
            for words in phrases.get(low, ()):
                j = i + len(words)
                if j <= n and tuple(norm(x.text) for x in doc[i:j]) == words:
                    seeds.append((i, j))
                    i = j
                    matched = True
                    break
            if matched:
                continue
            if low in NOT_NAMES:
                i += 1
                continue
            proper = t.pos_ == "PROPN" or not info.sent_initial[i] or info.set_off(i)
            title = _title(text)
            after = info.past_break(i + 1)
            if title and after < n and _is_cap(doc[after].text) and doc[after].text.casefold() not in NOT_NAMES:
                seeds.append((i, after + 1))
            elif proper and (low in gn or norm(text) in canon):
                seeds.append((i, i + 1))
            i += 1
        ranges = [info.expand(a, b) for a, b in seeds]
        return _merge([r for r in ranges if r and not info.is_place(*r) and not info.is_type(*r)]), nominal

    def _the_names(self, story: Story, per_doc) -> dict[int, list[tuple[int, int]]]:
        """Titles used as names: "the Hatter", "the Doctor", "the Mock Turtle". A capitalized noun
        after a lowercase "the", rarely written in lowercase in the story, seen at least
        `THE_NAME_MIN` times, that is a person noun or a title, or speaks somewhere (the subject of
        a speech verb)."""
        found: dict[str, list[tuple[int, int, int]]] = {}
        speaks: set[str] = set()
        for k, (_, _, info, _, _) in enumerate(per_doc):
            toks = info.tokens
            for i in range(1, len(toks)):
                t = toks[i]
                if toks[i - 1].text != "the" or not _is_cap(t.text) or info.blocked[i]:
                    continue
                if t.pos_ not in ("NOUN", "PROPN") or t.text.casefold() in NOT_NAMES | PLACE_WORDS:
                    continue
                j = i + 1
                while (j < len(toks) and _is_cap(toks[j].text) and toks[j].pos_ in ("NOUN", "PROPN")
                       and toks[j].text.casefold() not in PLACE_WORDS):
                    j += 1
                key = norm(" ".join(x.text for x in toks[i:j]))
                found.setdefault(key, []).append((k, i - 1, j))
                head = toks[j - 1]
                if head.dep_ in ("nsubj", "nsubjpass") and head.head.lemma_ in SPEECH_LEMMAS:
                    speaks.add(key)
        if not found:
            return {}
        lower = Counter(_LOWER_WORD.findall(story.text))
        person = person_nouns()
        out: dict[int, list[tuple[int, int]]] = {}
        for key, where in found.items():
            words = key.split()
            if len(where) < THE_NAME_MIN or lower[words[0]] * 4 > len(where):
                continue
            if not (key in speaks or words[-1] in person or words[-1] in honorifics()):
                continue
            for k, a, b in where:
                out.setdefault(k, []).append((a, b))
        return out

    def _noun_names(self, story: Story, per_doc, known: set[str]) -> set[str]:
        """Words no rule above calls a name but the story uses as one ("said Owl", "said Slackbridge"):
        a capitalized noun inside a sentence with no determiner, not a title, rarely written in lowercase
        in the story, seen at least `THE_NAME_MIN` times, that speaks somewhere (the subject of a
        speech verb)."""
        seen: Counter = Counter()
        speaks: set[str] = set()
        never = NOT_NAMES | PLACE_WORDS
        for _, _, info, _, _ in per_doc:
            for i, t in enumerate(info.tokens):
                if (info.sent_initial[i] or t.pos_ not in ("NOUN", "PROPN") or t.text in known
                        or len(t.text) < 2 or not _is_cap(t.text) or _title(t.text) or info.blocked[i]
                        or t.text.casefold() in never
                        or any(c.dep_ in ("det", "poss") for c in t.lefts)):
                    continue
                seen[t.text] += 1
                if t.dep_ in ("nsubj", "nsubjpass") and t.head.lemma_ in SPEECH_LEMMAS:
                    speaks.add(t.text)
        lower = Counter(_LOWER_WORD.findall(story.text))
        return {w for w in speaks if seen[w] >= THE_NAME_MIN and lower[w.casefold()] * 4 <= seen[w]}

    def _propagate(self, doc, info: "_DocInfo", ranges, known: set[str]) -> list[tuple[int, int]]:
        taken = set()
        for a, b in ranges:
            taken.update(range(a, b))
        extra = []
        for i, t in enumerate(info.tokens):
            if i in taken or t.text not in known or info.blocked[i] or t.text.casefold() in NOT_NAMES:
                continue
            if not info.set_off(i):
                if info.sent_initial[i] and t.pos_ != "PROPN":
                    continue
                if t.pos_ in ("VERB", "AUX", "ADP", "PRON", "DET", "CCONJ"):
                    continue
            r = info.expand(i, i + 1)
            if r and not info.is_place(*r) and not info.is_type(*r):
                extra.append(r)
        return _merge(ranges + extra) if extra else ranges

    def _nominals(self, doc, info: "_DocInfo", name_ranges, model_nominals) -> list[tuple[int, int]]:
        nouns = person_nouns()
        poss_only = possessive_person_nouns()
        in_name = set()
        for a, b in name_ranges:
            in_name.update(range(a, b))
        out = set()
        toks = info.tokens
        for t in toks:
            if t.i in in_name:
                continue
            low = t.lower_
            lemma = t.lemma_.lower()
            if t.pos_ == "PROPN" and low in KIN_NAMES and _is_cap(t.text):
                out.add((t.idx, t.idx + len(t.text)))  # "after Dad died": a kin term used as a name
                continue
            if t.pos_ != "NOUN":
                continue
            if low in KIN_NAMES and _is_cap(t.text) and not any(c.dep_ in ("det", "poss") for c in t.lefts):
                out.add((t.idx, t.idx + len(t.text)))
                continue
            is_person = lemma in nouns or low in nouns
            needs_poss = lemma in poss_only or low in poss_only
            if not (is_person or needs_poss):
                continue
            lefts = [c for c in t.lefts if c.dep_ in NOMINAL_MODIFIERS]
            deps = {c.dep_ for c in lefts}
            if needs_poss and "poss" not in deps:
                continue
            if not deps & {"det", "poss"}:
                continue
            start = min((c.left_edge.i for c in lefts), default=t.i)
            out.add((toks[start].idx, t.idx + len(t.text)))
        for a, b in model_nominals:
            out.add((toks[a].idx, toks[b - 1].idx + len(toks[b - 1].text)))
        return sorted(out)

    def _address_vocatives(self, story: Story, doc, p0: int, info, in_quote, names) -> list[Mention]:
        """Terms of address in vocative position inside a quote ("Baby, please")."""
        terms = address_terms()
        out = []
        for t in info.tokens:
            if t.lower_ not in terms or info.blocked[t.i]:
                continue
            s = t.idx + p0
            e = s + len(t.text)
            if (s, e) in names:
                continue
            q = in_quote(s)
            if q and is_vocative(story.text, s, e, q, strict=True):
                out.append(Mention(s, e, "vocative"))
        return out


class _DocInfo:
    """Per-doc facts the name rules need: which tokens start a sentence, which sit in non-person
    entities."""

    __slots__ = ("doc", "tokens", "sent_initial", "blocked", "line_break")

    def __init__(self, doc):
        self.doc = doc
        # spaCy builds a new Token object on every doc[i]: build them once (a third of the stage's time).
        self.tokens = toks = list(doc)
        n = len(toks)
        self.sent_initial = [False] * n
        for i, t in enumerate(toks):
            if i == 0 or t.is_sent_start:
                self.sent_initial[i] = True
            elif toks[i - 1].text in OPENERS or toks[i - 1].text in ('"', "...", "..") or (
                    toks[i - 1].is_punct and self.sent_initial[i - 1]):
                self.sent_initial[i] = True
        # Hard-wrapped text (Project Gutenberg) breaks lines inside names ("Mr.\nWoodhouse"): spaCy makes
        # the break a token of its own, which a name may span.
        self.line_break = [t.is_space and t.text.count("\n") == 1 for t in toks]
        self.blocked = [False] * n
        for ent in doc.ents:
            if ent.label_ in NON_NAME_ENTS:
                # A proper noun inside a date ("Later that night Zorvath") is still a name.
                whole = ent.label_ in ("NORP", "LANGUAGE", "EVENT", "LAW")
                for i in range(ent.start, ent.end):
                    if whole or toks[i].pos_ != "PROPN":
                        self.blocked[i] = True

    def past_break(self, i: int) -> int:
        """i, or the token after it when token i is a line break."""
        return i + 1 if i < len(self.tokens) and self.line_break[i] else i

    def before_break(self, i: int) -> int:
        """i, or the token before it when token i is a line break."""
        return i - 1 if i >= 0 and self.line_break[i] else i

    def set_off(self, i: int) -> bool:
        """A word alone between punctuation, like a name called out: `"Derek..."`, `"Mer!"`."""
        doc = self.tokens
        after = i + 1 >= len(doc) or (doc[i + 1].is_punct and doc[i + 1].text not in ("-", "'s"))
        before = i == 0 or doc[i - 1].is_punct
        return after and before

    def name_word(self, i: int) -> bool:
        t = self.tokens[i]
        return _is_cap(t.text) and t.text.casefold() not in NOT_NAMES and not self.blocked[i] and (
            t.pos_ == "PROPN" or not self.sent_initial[i] or t.text.casefold() in given_names())

    def trim(self, a: int, b: int) -> tuple[int, int] | None:
        """Trim a model's span to its name words ("Derek today" -> "Derek", "Somehow Mark" -> "Mark")."""
        doc = self.tokens
        while a < b and not (self.name_word(a) or (_title(doc[a].text) and a + 1 < b)):
            a += 1
        while b > a and not self.name_word(b - 1):
            b -= 1
        if a >= b or (b - a == 1 and _title(doc[a].text)):
            return None  # a title alone; "Miss King" is a name, though "King" is also a title
        return a, b

    def name_runs(self, a: int, b: int) -> list[tuple[int, int]]:
        """A model's span cut to its runs of name words: "Derek today" -> "Derek", "John to Elinor"
        -> "John", "Elinor" (a title or a particle such as "de" may sit inside a run)."""
        out = []
        i = a
        while i < b:
            r = self.trim(i, b)
            if not r:
                break
            start = end = r[0]
            while end < r[1] and (self.name_word(end) or (_title(self.tokens[end].text) and end + 1 < r[1])
                                  or (self.tokens[end].lower_ in PARTICLES and end > start)
                                  or (self.line_break[end] and end > start and end + 1 < r[1])):
                end += 1
            if end == start:
                end = start + 1
            else:
                run = self.trim(start, end)
                if run:
                    out.append(run)
            i = end
        return out

    def expand(self, a: int, b: int) -> tuple[int, int] | None:
        """Grow a name over its title and over adjacent name words ("Meredith" -> "Meredith Grey")."""
        doc = self.tokens
        n = len(doc)
        while b < n:
            j = self.past_break(b)
            if j >= n:
                break
            t = doc[j]
            if self.name_word(j) and t.pos_ in ("PROPN", "NOUN", "ADJ", "X") and t.text.casefold() not in PLACE_WORDS:
                b = j + 1
            elif t.lower_ in PARTICLES and j + 1 < n and self.name_word(j + 1) and doc[j + 1].pos_ == "PROPN":
                b = j + 2
            else:
                break
        while a > 0:
            j = self.before_break(a - 1)
            if j < 0:
                break
            t = doc[j]
            if _title(t.text) and _is_cap(t.text):
                a = j
            elif self.name_word(j) and t.pos_ == "PROPN" and t.text.casefold() in given_names():
                a = j
            else:
                break
        return (a, b) if a < b else None

    def is_type(self, a: int, b: int) -> bool:
        """A name used as a kind of person, not a person: "a regular Yoda", "another Romeo"."""
        return any(c.dep_ == "det" and c.lower_ in ("a", "an", "another", "every", "some")
                   for c in self.tokens[b - 1].lefts)

    def is_place(self, a: int, b: int) -> bool:
        """"Elliot Bay", "Seattle Grace Hospital": a name followed by (or ending in) a place word.
        A title keeps it a person ("Mrs. Hill")."""
        doc = self.tokens
        if _title(doc[a].text):
            return False
        after = self.past_break(b)
        if after < len(doc) and _is_cap(doc[after].text) and doc[after].text.casefold() in PLACE_WORDS:
            return True
        return b - a >= 2 and doc[b - 1].text.casefold() in PLACE_WORDS


THE_NAME_MIN = 3
SPEECH_LEMMAS = frozenset("""say ask reply answer cry shout whisper exclaim remark add continue call
    murmur mutter repeat scream yell snap sigh growl hiss interrupt observe explain declare""".split())
_LOWER_WORD = re.compile(r"\b[a-z][a-z'\-]*\b")


_DASH = re.compile(r"\.?--")


def _name_length(surface: str) -> int:
    """The length of a name span's text up to a double hyphen used as a dash: spaCy leaves
    "Bennet.--They" and "Emerson--" whole, and the words after the dash are not the name."""
    m = _DASH.search(surface)
    return m.start() if m else len(surface)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _name_kind(span) -> str:
    words = [t.text for t in span if not _title(t.text) and not t.is_space]
    key = norm(" ".join(words))
    if len(words) == 1 and key in nicknames() and key not in given_names():
        return "nickname"
    hits = form_index().get(key, ())
    if hits and key not in given_names() and all(kind in ("nickname", "address") for _, _, kind in hits):
        return "nickname"
    return "name"


# "from" is left out: a letter from Walter is about a person.
LOCATIVES = frozenset("at in near into towards toward through within around inside outside across beyond".split())
_PREV_WORD = re.compile(r"([A-Za-z]+)\s+$")


def places(text: str, names: dict[tuple[int, int], str]) -> list[tuple[int, int]]:
    """Name spans of words used mostly as places ("at Longbourn", "to Netherfield", "at Joe's"):
    by the story's habit, per name, so that one "in Derek's arms" does not make Derek a place."""
    stats: dict[str, list] = {}
    for s, e in names:
        words = text[s:e].split()
        if _title(words[0]) or (len(words) > 1 and words[0].casefold() in given_names()):
            continue
        key = norm(text[s:e])
        m = _PREV_WORD.search(text[max(0, s - 20):s])
        prev = m.group(1).casefold() if m else ""
        possessive = text[e:e + 2] in ("'s", "\u2019s")
        st = stats.setdefault(key, [0, 0.0, 0, []])
        st[0] += 1
        if prev in LOCATIVES and (not possessive or prev == "at"):
            st[1] += 1.0
            st[2] += 1
        elif prev == "to":
            st[1] += 0.5
        st[3].append((s, e))
    out = []
    for n, score, strong, spans in stats.values():
        if strong and score / n >= 0.4:
            out.extend(spans)
    return out


def groups(text: str, names: dict[tuple[int, int], str], known: set[str]) -> list[tuple[int, int]]:
    """Family names in the plural ("the Bingleys", "the Gardiners"): a group, not a person."""
    out = []
    for s, e in names:
        word = text[s:e]
        if len(word.split()) > 1 or not word.endswith("s"):
            continue
        if not any(stem in known for stem in (word[:-1], word[:-2]) if stem != word):
            continue
        m = _PREV_WORD.search(text[max(0, s - 20):s])
        if m and m.group(1) in ("the", "The", "both", "all"):
            out.append((s, e))
    return out


def quote_ranges(story: Story) -> list[tuple[int, int]]:
    """The content spans of the story's quotes (between the marks), sorted."""
    from .quotes import quote_content

    return sorted(quote_content(story, q) for q in story.quotes)


def is_vocative(text: str, s: int, e: int, quote: tuple[int, int], *, strict: bool = False) -> bool:
    """A name at text[s:e] inside `quote` (its content span) is addressed directly: set off by
    punctuation or the quote's edges, or after an interjection ("Hey Shep")."""
    qs, qe = quote
    left = text[qs:s].rstrip()
    right = text[e:qe].lstrip()
    if right.startswith(("'s", "\u2019s")):
        return False
    right_ok = not right or right[0] in _VOC_RIGHT
    if not right_ok:
        return False
    if not left:
        return True
    if left[-1] in _VOC_LEFT:
        if left[-1] == "," and right[:1] == ",":
            # "Mark, Derek, and Addison": a list, not an address.
            before = _WORD_BEFORE.search(left[:-1])
            word = before.group(1).casefold() if before else ""
            if before and before.group(1)[:1].isupper() and word not in INTERJECTIONS and word not in NOT_NAMES:
                return False
        if strict and left[-1] not in ",;:" and right[:1] not in ",.!?":
            return False
        return True
    m = _WORD_BEFORE.search(left)
    if m and m.group(1).casefold() in INTERJECTIONS:
        return True
    if m and m.group(1).casefold() in ("my",) and strict:
        return True  # "my love,"
    return False


def entity_model_available() -> bool:
    """True when ficlens's literary entity model is installed (models/litbank_ner)."""
    try:
        from ..entities import MODEL_DIR
    except ImportError:
        return False
    return (MODEL_DIR / "meta.json").is_file()
