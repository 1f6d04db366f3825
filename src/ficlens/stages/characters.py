"""The characters stage: cluster name mentions into characters, give them a gender, find the
story's fandom and link its characters to canon.

Steps (`match` computes, `set_annotations` writes):
1. Fandom: `canon.detect_fandoms` scores every canon pack by the distinct canon characters the
   story's names match, weighted by how specific each name is ("Derek" alone is Grey's Anatomy,
   Criminal Minds or Teen Wolf; "Mer" and "Shep" are Grey's), plus the fandoms the source declares
   (AO3 downloads) and fandom names in the author's notes and disclaimers. A story whose names match
   no pack well enough links to no fandom and says so: `tags["fandoms"] = []` and
   `tags["fandom_note"] = NO_FANDOM_NOTE`.
2. Canon first: every name form that a detected pack resolves to one character ("Shep", "Grey",
   "Derek Shepherd") joins that canon character.
3. The rest cluster by name structure (the usual rules for novels): a full name makes a cluster; a
   first name or a surname joins the only cluster that has it; a title keeps people apart (Mr.
   Bennet and Mrs. Bennet are two characters; "Mrs. X" joins only a cluster already called Mrs.);
   a diminutive joins the name it shortens (Lizzy -> Elizabeth, from the shipped list, or a clipped
   form of a name not itself a name: Mer -> Meredith). Families keep people apart: a given name after
   a rank ("Sir Thomas") is not the untitled diminutive ("Tom", his son); a "Mr. X" named in the
   same sentences as the only X's given name ("George," said Mr. Emerson) is another man; "Mrs. John
   Dashwood" is not the Mrs. Dashwood of the family, and "John" is her husband's name, not hers. A
   form several clusters share ("Bennet" with five Bennets) goes, mention by mention, to the
   candidate last named by a form with that word, then to the one named most recently.
   A character is named by its fullest form: "Elizabeth Bennet", but "Mr. Bennet" over "Bennet".
4. Gender, with evidence kept: canon pack > titles (Mr., Mrs.) > pronoun votes (the first he/she
   after a name in a sentence where that name is the only character named, and a He/She opening
   the next sentence when it names no one) > the given-name list.
5. mentioned_only: never seen acting (the subject of a verb in narration) nor addressed (a
   vocative), and named only a few times (an ex, a dead parent, a friend at a party).
Pronouns are left unassigned (coreference is a later stage).
"""
from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..canon import NO_FANDOM_NOTE, FandomGuess, detect_fandoms, load_packs, norm
from ..model import Character, Mention, Story
from ..names import address_terms, frequent_given_names, given_names, honorifics, nicknames
from ..pipeline import Stage
from .mentions import quote_ranges

NAME_KINDS = ("name", "nickname", "vocative")
NOTE_KINDS = ("author_note", "disclaimer", "summary", "header")
# Titles by the person they imply: m = a man, mrs = a married woman, miss = an unmarried woman.
TITLE_CLASS = {"mr": "m", "mister": "m", "sir": "m", "lord": "m", "master": "m", "monsieur": "m", "herr": "m",
               "signor": "m", "senor": "m", "mrs": "mrs", "missus": "mrs", "madame": "mrs", "mme": "mrs",
               "signora": "mrs", "senora": "mrs", "frau": "mrs", "lady": "mrs",
               "miss": "miss", "ms": "miss", "mademoiselle": "miss", "mlle": "miss", "signorina": "miss",
               "senorita": "miss", "fraulein": "miss"}
# Titles written before a given name as often as before a surname ("Lady Catherine", "Aunt Polly").
GIVEN_NAME_TITLES = frozenset("""miss lady sir lord dame aunt auntie uncle master prince princess king queen
    brother sister father mother""".split())
# Ranks written before a given name: "Sir Thomas" is not his son Tom, "Lady Catherine" not Kitty.
RANK_TITLES = frozenset("sir lord lady dame prince princess king queen".split())
NAME_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv esq esq.".split())
SUBJECT_DEPS = ("nsubj", "nsubjpass")
# Sentences a titled surname must share with a cluster's names to be someone else (one could be a
# slip of the parser or of the author).
TOGETHER_MIN = 2
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class NameForm:
    """One surface form of a name, taken apart."""

    surface: str
    title: str | None  # case-folded honorific
    words: tuple[str, ...]  # the name's words, title and suffix removed
    role: str  # full (given + family) | given | family | single (a lone word)

    @property
    def key(self) -> str:
        return norm(" ".join(self.words))

    @property
    def first(self) -> str | None:
        return norm(self.words[0]) if self.role in ("full", "given", "single") else None

    @property
    def husbands_name(self) -> bool:
        """"Mrs. Robert Ferrars": a wife named by her husband's given name, which is not hers."""
        return (self.role == "full" and TITLE_CLASS.get(self.title or "") == "mrs"
                and name_gender(norm(self.words[0]))[0] == "male")

    @property
    def last(self) -> str | None:
        if self.role == "full":
            return norm(self.words[-1])
        return norm(self.words[0]) if self.role in ("family", "single") else None


def parse_name(surface: str) -> NameForm:
    surface = re.sub(r"['\u2019]s?$", "", surface.strip())
    words = surface.split()
    title = None
    titles = honorifics()
    while len(words) > 1 and words[0].rstrip(".").casefold() in titles:
        title = title or words[0].rstrip(".").casefold()
        words = words[1:]
    while len(words) > 1 and words[-1].casefold().rstrip(",") in NAME_SUFFIXES:
        words = words[:-1]
    words = [w.strip(",") for w in words]
    if len(words) >= 2:
        role = "full"
    elif title is None:
        role = "single"
    elif title in GIVEN_NAME_TITLES and norm(words[0]) in given_names():
        role = "given"
    else:
        role = "family"
    return NameForm(surface=surface, title=title, words=tuple(words), role=role)


@dataclass
class _Cluster:
    idx: int
    forms: Counter = field(default_factory=Counter)  # surface -> mentions
    firsts: set = field(default_factory=set)
    ranked_firsts: set = field(default_factory=set)  # given names seen after a rank (Sir Thomas)
    plain_firsts: set = field(default_factory=set)  # given names seen with no title (Tom Bertram, Tom)
    lasts: set = field(default_factory=set)
    singles: set = field(default_factory=set)
    title_classes: set = field(default_factory=set)
    title_keys: set = field(default_factory=set)  # titles of a cluster made from "Title Name"
    titles: set = field(default_factory=set)  # every title seen (case folded), e.g. {"sir"}
    canon: tuple[str, str] | None = None  # (pack id, character id)
    husband_named: bool = False  # called by her husband's name: "Mrs. John Dashwood"
    full: bool = False

    def add(self, form: NameForm, count: int) -> None:
        self.forms[form.surface] += count
        if form.husbands_name:
            self.husband_named = True
        elif form.first and form.role != "single":
            self.firsts.add(form.first)
        if form.first and form.title in RANK_TITLES:
            self.ranked_firsts.add(form.first)
        elif form.first and not form.title:
            self.plain_firsts.add(form.first)
        if form.last and form.role != "single":
            self.lasts.add(form.last)
        if form.role == "single":
            self.singles.add(form.key)
        if form.role == "full":
            self.full = True
        if form.title:
            self.titles.add(form.title)
        if form.title and form.title in TITLE_CLASS:
            self.title_classes.add(TITLE_CLASS[form.title])

    @property
    def count(self) -> int:
        return sum(self.forms.values())

    def gender_hint(self) -> str | None:
        if "m" in self.title_classes and not self.title_classes & {"mrs", "miss"}:
            return "male"
        if self.title_classes & {"mrs", "miss"} and "m" not in self.title_classes:
            return "female"
        gn = given_names()
        genders = {gn.get(f) for f in self.firsts | self.singles if f in gn} - {None}
        return genders.pop() if len(genders) == 1 else None


def _compatible(cluster: _Cluster, title: str | None, given: str | None = None) -> bool:
    """Could a form with this title (and this given name) name this cluster's person?"""
    if given:
        g = name_gender(given)[0]
        if g and cluster.gender_hint() not in (None, g):
            return False  # "John Dashwood" is not "Mrs. John Dashwood"
    cls = TITLE_CLASS.get(title or "")
    if cls is None:
        title_gender = honorifics().get(title or "")
        return title_gender is None or cluster.gender_hint() in (None, title_gender)
    if cls == "m":
        return not cluster.title_classes & {"mrs", "miss"} and cluster.gender_hint() != "female"
    if cls == "mrs":
        # "Mrs. Bennet" is not "Elizabeth Bennet": a Mrs. joins only a cluster already called Mrs.
        return "mrs" in cluster.title_classes
    return not cluster.title_classes & {"m", "mrs"} and cluster.gender_hint() != "male"


class CharacterStage(Stage):
    """Characters from name mentions, their gender, the story's fandom and canon links."""

    name = "characters"
    requires = ("mentions",)
    assigns = ("characters", "fandoms")

    def __init__(self, *, canon: bool = True, mentioned_only_max: int = 8, min_pronoun_votes: int = 2):
        """canon: detect the fandom and link characters to canon packs.
        mentioned_only_max: a character never seen acting or addressed is mentioned_only when named at
            most this many times.
        min_pronoun_votes: pronoun votes needed (net of the other gender) to decide a gender alone.
        """
        self.canon = canon
        self.mentioned_only_max = mentioned_only_max
        self.min_pronoun_votes = min_pronoun_votes

    def __call__(self, story: Story) -> None:
        characters, assignment, fandom_tags = self.match(story)
        self.set_annotations(story, characters, assignment, fandom_tags)

    def set_annotations(self, story: Story, characters: list[Character], assignment: dict[int, str],
                        fandom_tags: dict) -> None:
        for i, m in enumerate(story.mentions):
            if i in assignment:
                m.character = assignment[i]
        story.characters = characters
        tags = dict(story.tags)
        tags.update(fandom_tags)
        if fandom_tags.get("fandoms"):
            tags.pop("fandom_note", None)
        story.tags = tags

    # ------------------------------------------------------------------------------------------------
    def match(self, story: Story) -> tuple[list[Character], dict[int, str], dict]:
        text = story.text
        addr = address_terms()
        idx = [i for i, m in enumerate(story.mentions)
               if m.kind in NAME_KINDS and text[m.start:m.end].casefold() not in addr]
        surfaces = {i: _clean(text[story.mentions[i].start:story.mentions[i].end]) for i in idx}
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i in idx:
            spans[surfaces[i]].append((story.mentions[i].start, story.mentions[i].end))

        guesses: list[FandomGuess] = []
        if self.canon:
            notes = [(s.start, text[s.start:s.end]) for s in story.sections if s.kind in NOTE_KINDS]
            declared = story.meta.get("fandoms") or []
            if isinstance(declared, str):
                declared = [declared]
            guesses = detect_fandoms(dict(spans), notes=notes, declared=declared,
                                     common_given_names=frozenset(given_names()),
                                     frequent_given_names=frequent_given_names())
        sentence_of = _sentence_index(story)
        sentences: dict[str, set[int]] = defaultdict(set)
        for i in idx:
            sentences[surfaces[i]].add(sentence_of(story.mentions[i].start))
        clusters, form_of, ambiguous = self._cluster(spans, guesses, sentences)

        # Mention by mention: a form shared by several clusters goes to the one last named by a form
        # with this word ("Jane" to the Jane last called Jane, not to the aunt last called Miss Bates),
        # then to the one named last.
        assignment_idx: dict[int, int] = {}
        last_seen: dict[int, int] = {}
        last_by_word: dict[tuple[int, str], int] = {}
        words_of = {s: [norm(w) for w in parse_name(s).words] for s in spans}
        for i in idx:  # mentions are sorted by start
            surface = surfaces[i]
            if surface in form_of:
                c = form_of[surface]
            else:
                candidates = ambiguous.get(surface)
                if not candidates:
                    continue
                word = words_of[surface][-1]
                c = max(candidates, key=lambda k: (last_by_word.get((k, word), -1), last_seen.get(k, -1),
                                                   clusters[k].count))
                clusters[c].forms[surface] += 1
            assignment_idx[i] = c
            last_seen[c] = story.mentions[i].start
            for word in words_of[surface]:
                last_by_word[(c, word)] = story.mentions[i].start

        packs = load_packs()
        characters, id_of = self._characters(clusters, packs)
        assignment = {i: id_of[c] for i, c in assignment_idx.items() if c in id_of}
        by_id = {ch.id: ch for ch in characters}
        counts = Counter(assignment.values())
        for cid, ch in by_id.items():
            ch.counts["mentions"] = counts.get(cid, 0)
        self._genders(story, characters, assignment, clusters, id_of, packs)
        self._mentioned_only(story, characters, assignment)
        characters = [ch for ch in characters if ch.counts["mentions"] > 0]
        characters.sort(key=lambda ch: (-ch.counts["mentions"], ch.id))
        return characters, assignment, self._fandom_tags(guesses, story)

    # -- clustering -----------------------------------------------------------------------------------
    def _cluster(self, spans: dict[str, list], guesses: list[FandomGuess], sentences: dict[str, set[int]]):
        packs = load_packs()
        detected = [packs[g.pack] for g in guesses if g.pack in packs]
        forms = {s: parse_name(s) for s in spans}
        counts = {s: len(v) for s, v in spans.items()}
        clusters: list[_Cluster] = []
        form_of: dict[str, int] = {}
        ambiguous: dict[str, list[int]] = {}
        by_canon: dict[tuple[str, str], int] = {}

        def new() -> _Cluster:
            c = _Cluster(idx=len(clusters))
            clusters.append(c)
            return c

        def put(surface: str, c: _Cluster) -> None:
            c.add(forms[surface], counts[surface])
            form_of[surface] = c.idx

        # 1. Canon: forms a detected pack resolves to one character.
        for surface, form in forms.items():
            for pack in detected:
                hit = pack.resolve(surface) or pack.resolve(" ".join(form.words))
                if not hit:
                    continue
                canon_char = pack.character(hit[0])
                if canon_char and form.title and honorifics().get(form.title) not in (None, canon_char.gender):
                    continue
                key = (pack.id, hit[0])
                if key not in by_canon:
                    c = new()
                    c.canon = key
                    seed = parse_name(canon_char.name) if canon_char else None
                    if seed and seed.role == "full":
                        words = seed.words[::-1] if pack.family_first else seed.words
                        c.firsts.add(norm(words[0]))
                        c.lasts.add(norm(words[-1]))
                    by_canon[key] = c.idx
                put(surface, clusters[by_canon[key]])
                break

        rest = [s for s in forms if s not in form_of]
        order = lambda s: (-counts[s], -len(forms[s].words), s)  # noqa: E731
        nick = nicknames()
        gn = given_names()

        def same_given(a: str, b: str) -> bool:
            """a and b are one given name: equal, a diminutive of the other, two diminutives of one name
            (Tom/Tommy), or clipped (Mer/Meredith)."""
            fulls_a, fulls_b = nick.get(a, frozenset()), nick.get(b, frozenset())
            return (a == b or b in fulls_a or a in fulls_b or bool(fulls_a & fulls_b)
                    or _clipped(a, b) or _clipped(b, a))

        lone_words: dict[str, list[str]] = defaultdict(list)  # "george" -> ["George"]
        for s, f in forms.items():
            if f.role == "single":
                lone_words[f.key].append(s)

        def named_together(surface: str, c: _Cluster) -> bool:
            """The surface and the cluster's names (its forms, and its given names alone) share
            sentences: "George," said Mr. Emerson: two people, a son and his father."""
            theirs = set().union(*(sentences.get(o, ()) for o in c.forms),
                                 *(sentences.get(o, ()) for x in c.firsts for o in lone_words.get(x, ())))
            return len(sentences.get(surface, set()) & theirs) >= TOGETHER_MIN

        def by_given(key: str, pool: list[_Cluster], ranked: bool = False) -> list[_Cluster]:
            """The clusters of pool with this given name, else with a form of it (Lizzy/Elizabeth): but a
            given name after a rank and an untitled other form of it are two people, a father and the
            son named after him ("Sir Thomas Bertram" and "Tom Bertram"). `ranked`: the form has a rank."""
            exact = [c for c in pool if key in c.firsts or key in c.singles]
            return exact or [c for c in pool if any(same_given(key, x) and not _rank_apart(c, x, ranked)
                                                    for x in c.firsts | c.singles)]

        # 2. Full names make clusters (or join the one with the same surname and given name).
        for s in sorted((s for s in rest if forms[s].role == "full"), key=order):
            f = forms[s]
            same = by_given(f.first, [c for c in clusters if f.last in c.lasts and _compatible(c, f.title, f.first)],
                            ranked=f.title in RANK_TITLES)
            put(s, same[0] if len(same) == 1 else new())
        # 3. Titled single names: Mr. Bennet, Miss Elizabeth.
        for s in sorted((s for s in rest if forms[s].role in ("family", "given")), key=order):
            f = forms[s]
            cls = TITLE_CLASS.get(f.title or "", f.title)
            key = f.key
            if f.role == "family":
                # The same title and name seen before, else the one compatible cluster with this surname;
                # two or more (Mr. Knightley beside John and George Knightley) make a character of its own.
                same = [c for c in clusters if key in c.lasts and cls in _title_keys(c)]
                if not same:
                    same = [c for c in clusters if key in c.lasts and _compatible(c, f.title)]
                if cls == "mrs":
                    # "Mrs. John Dashwood" is so called to tell her from the Mrs. Dashwood of the family.
                    same = [c for c in same if not c.husband_named]
                if cls == "m" and any(named_together(s, c) for c in same):
                    # A woman is "Emma" to the narrator and "Miss Woodhouse" in the same sentence, but a
                    # man the narrator calls "George" is rarely "Mr. Emerson" beside it: that is another
                    # man of the family, maybe not one of the others either.
                    same = []
                if not same and key in gn and f.title in TITLE_CLASS:
                    # "Mr. Edward" beside "Edward Ferrars": a given name after Mr.
                    same = by_given(key, [c for c in clusters if c.full and _compatible(c, f.title, key)])
            else:
                same = by_given(key, [c for c in clusters if _compatible(c, f.title, key)],
                                ranked=f.title in RANK_TITLES)
                # "Sir John": the John already called Sir, when there is one.
                same = [c for c in same if f.title in c.titles] or same
                if len(same) > 1:
                    ambiguous[s] = [c.idx for c in same]
                    continue
            if len(same) == 1:
                put(s, same[0])
            else:
                c = new()
                put(s, c)
                if f.role == "family":
                    c.lasts.add(key)
                else:
                    c.firsts.add(key)
                c.title_keys = {cls}
        # 4. Lone words: a first name, a surname, a diminutive, or a new character.
        for s in sorted((s for s in rest if forms[s].role == "single"), key=order):
            key = forms[s].key
            as_given = [c for c in clusters if key in c.firsts or key in c.singles]
            as_family = [c for c in clusters if key in c.lasts and c not in as_given]
            if as_family and not as_given:
                # A bare surname shared by a family: the men called Mr. first (in novels a bare
                # surname is most often a man's), then anyone titled, then everyone.
                men = [c for c in as_family if "m" in _title_keys(c)]
                titled = [c for c in as_family if _title_keys(c)]
                cands = men or titled or as_family
            else:
                cands = as_given + as_family
                # Prefer a person already called by this word alone ("Colonel Fitzwilliam", not the
                # Fitzwilliam inside "Fitzwilliam Darcy").
                alone = [c for c in cands if key in c.singles or (c.title_keys and key in c.firsts | c.lasts)]
                cands = alone or cands
            if not cands:
                cands = by_given(key, [c for c in clusters if _compatible(c, None, key)])
                if not cands and key not in gn:
                    cands = [c for c in clusters if any(_clipped(key, x) for x in c.lasts)]
            if len(cands) == 1:
                put(s, cands[0])
            elif len(cands) > 1:
                ambiguous[s] = [c.idx for c in cands]
            else:
                put(s, new())
        return clusters, form_of, ambiguous

    # -- characters -----------------------------------------------------------------------------------
    def _characters(self, clusters: list[_Cluster], packs) -> tuple[list[Character], dict[int, str]]:
        characters: list[Character] = []
        id_of: dict[int, str] = {}
        taken: set[str] = set()
        for c in sorted(clusters, key=lambda c: -c.count):
            if not c.forms:
                continue
            canon = None
            if c.canon:
                pack = packs[c.canon[0]]
                cc = pack.character(c.canon[1])
                name = cc.name
                canon = {"pack": pack.id, "id": f"{pack.id}/{cc.id}", "name": cc.name, "ao3": cc.ao3}
                base = cc.id
            else:
                name = _best_name(c)
                base = _SLUG.sub("-", norm(name)).strip("-") or "character"
            cid = base
            k = 2
            while cid in taken:
                cid = f"{base}-{k}"
                k += 1
            taken.add(cid)
            aliases = [s for s, _ in sorted(c.forms.items(), key=lambda kv: (-kv[1], kv[0]))]
            characters.append(Character(id=cid, name=name, aliases=aliases, canon=canon,
                                        counts={"mentions": c.count}))
            id_of[c.idx] = cid
        return characters, id_of

    # -- gender ---------------------------------------------------------------------------------------
    def _genders(self, story: Story, characters: list[Character], assignment: dict[int, str],
                 clusters: list[_Cluster], id_of: dict[int, str], packs) -> None:
        votes = pronoun_votes(story, assignment)
        cluster_of = {cid: clusters[idx] for idx, cid in id_of.items()}
        titles = honorifics()
        for ch in characters:
            evidence: list[str] = []
            if ch.canon:
                pack = packs[ch.canon["pack"]]
                cc = pack.character(ch.canon["id"].split("/", 1)[1])
                if cc and cc.gender:
                    ch.gender = cc.gender
                    ch.gender_evidence = [f"canon: {pack.name}: {cc.name} {cc.gender}"]
                    he, she = votes.get(ch.id, (0, 0))
                    if he or she:
                        ch.gender_evidence.append(f"pronouns: he x{he}, she x{she}")
                    continue
            c = cluster_of[ch.id]
            title_genders = Counter(titles.get(parse_name(s).title or "") for s in c.forms)
            title_genders.pop(None, None)
            for g, n in sorted(title_genders.items()):
                evidence.append(f"title: {g} x{n}")
            he, she = votes.get(ch.id, (0, 0))
            if he or she:
                evidence.append(f"pronouns: he x{he}, she x{she}")
            named = {}
            for x in sorted(c.firsts | c.singles):
                g, why = name_gender(x)
                if g:
                    named[x] = g
                    evidence.append(f"name list: {x.title()}{why} {g}")
            if len(title_genders) == 1:
                # Mr., Mrs., Miss say it outright (pronoun votes follow the point of view, not the name).
                ch.gender = next(iter(title_genders))
            elif abs(he - she) >= self.min_pronoun_votes and max(he, she) >= 2 * min(he, she):
                ch.gender = "male" if he > she else "female"
            else:
                score = sum(1 if g == "male" else -1 for g in named.values()) + 0.5 * (he - she)
                if score:
                    ch.gender = "male" if score > 0 else "female"
            ch.gender_evidence = evidence

    # -- mentioned only -------------------------------------------------------------------------------
    def _mentioned_only(self, story: Story, characters: list[Character], assignment: dict[int, str]) -> None:
        present = set()
        quotes = quote_ranges(story)
        q_starts = [s for s, _ in quotes]
        p_starts = [s for s, _ in story.paragraphs]
        for i, cid in assignment.items():
            if cid in present:
                continue
            m = story.mentions[i]
            if m.kind == "vocative":
                present.add(cid)
                continue
            if _inside(quotes, q_starts, m.start):
                continue
            tok = _token_at(story, p_starts, m)
            if tok is not None and tok.dep_ in SUBJECT_DEPS and tok.head.pos_ == "VERB":
                present.add(cid)
        for ch in characters:
            ch.mentioned_only = ch.id not in present and ch.counts["mentions"] <= self.mentioned_only_max

    # -- fandom tags ----------------------------------------------------------------------------------
    def _fandom_tags(self, guesses: list[FandomGuess], story: Story) -> dict:
        if not self.canon:
            return {}
        fandoms = [{"name": g.name, "confidence": g.confidence, "evidence": [list(e) for e in g.evidence[:20]],
                    "pack": g.pack, "sources": g.sources} for g in guesses]
        declared = story.meta.get("fandoms") or []
        if isinstance(declared, str):
            declared = [declared]
        from ..canon import match_fandom_name

        for d in declared:
            if not match_fandom_name(d) and d not in [f["name"] for f in fandoms]:
                fandoms.append({"name": d, "confidence": 0.99, "evidence": [], "pack": None, "sources": ["declared"]})
        out: dict = {"fandoms": fandoms}
        if not fandoms:
            out["fandom_note"] = NO_FANDOM_NOTE
        return out


# ---------------------------------------------------------------------------------------------------
def name_gender(name: str) -> tuple[str | None, str]:
    """The gender the name lists give a case-folded given name, and a note on why: the name's own
    entry, else, for a name used by both ("Ali"), the gender shared by every name it is short for
    (Alexandra, Alice, Alison: female)."""
    gn = given_names()
    if gn.get(name):
        return gn[name], ""
    fulls = sorted(nicknames().get(name, ()))
    genders = {gn.get(f) for f in fulls}
    if fulls and len(genders) == 1 and None not in genders:
        return genders.pop(), f" (short for {', '.join(f.title() for f in fulls)})"
    return None, ""


def _title_keys(c: _Cluster) -> set:
    return c.title_keys | c.title_classes


def _sentence_index(story: Story):
    """A function from a story.text offset to the number of its sentence (in the parse)."""
    starts: list[int] = []
    for k, doc in enumerate(story.docs):
        p0 = story.paragraphs[k][0]
        starts.extend(sent.start_char + p0 for sent in doc.sents)
    return lambda pos: bisect.bisect_right(starts, pos) - 1


def _rank_apart(c: _Cluster, given: str, ranked: bool) -> bool:
    """A form's given name and the cluster's other form of it, `given`, are on either side of a rank:
    the cluster uses `given` only with no title and the form has a rank, or the reverse. ("Mr. William
    Sikes" is still Bill Sikes: Mr. is no rank.)"""
    plain = given in c.plain_firsts or given in c.singles
    if ranked:
        return plain and given not in c.ranked_firsts
    return given in c.ranked_firsts and not plain


def _clipped(short: str, full: str) -> bool:
    """`short` is a clipped form of `full` that is not a name of its own (Mer/Meredith, Shep/Shepherd)."""
    return 3 <= len(short) < len(full) and full.startswith(short) and short not in given_names()


def _clean(surface: str) -> str:
    surface = " ".join(surface.split())
    return re.sub(r"['\u2019]s$", "", surface)


def _best_name(c: _Cluster) -> str:
    """The fullest form seen: most words (titles aside), a full name without its title ("Elizabeth
    Bennet") but a surname with it ("Mr. Bennet", not "Bennet"), then most mentions."""
    def rank(item):
        surface, n = item
        f = parse_name(surface)
        # Among one-word forms: "Mr. Bennet" (family), then "Bennet" (single), then "Miss Lucy" (given).
        untitled_first = {"family": 2, "single": 1}.get(f.role, f.title is None)
        return (len(f.words), untitled_first, n, surface)

    return max(c.forms.items(), key=rank)[0]


def _inside(ranges: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    k = bisect.bisect_right(starts, pos) - 1
    return k >= 0 and ranges[k][0] <= pos < ranges[k][1]


def _token_at(story: Story, p_starts: list[int], m: Mention):
    """The syntactic head token of a mention, from the nlp stage's Docs (None when not parsed)."""
    k = bisect.bisect_right(p_starts, m.start) - 1
    if k < 0 or k >= len(story.docs):
        return None
    p0 = story.paragraphs[k][0]
    span = story.docs[k].char_span(m.start - p0, m.end - p0, alignment_mode="expand")
    return span.root if span is not None and len(span) else None


_HE = frozenset(("he", "himself"))
_SHE = frozenset(("she", "herself"))


def pronoun_votes(story: Story, assignment: dict[int, str]) -> dict[str, tuple[int, int]]:
    """(he, she) votes per character id: in narration, the first he/she after a character's name in a
    sentence that names no one else, and a sentence opening with He/She that names no one, right
    after such a sentence."""
    quotes = quote_ranges(story)
    q_starts = [s for s, _ in quotes]
    named = sorted((story.mentions[i].start, cid) for i, cid in assignment.items()
                   if not _inside(quotes, q_starts, story.mentions[i].start))
    starts = [s for s, _ in named]
    votes: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def vote(cid: str, word: str) -> None:
        if word in _HE:
            votes[cid][0] += 1
        elif word in _SHE:
            votes[cid][1] += 1

    for k, doc in enumerate(story.docs):
        p0 = story.paragraphs[k][0]
        pending = None  # the one character of the previous sentence
        for sent in doc.sents:
            s0, s1 = sent.start_char + p0, sent.end_char + p0
            lo, hi = bisect.bisect_left(starts, s0), bisect.bisect_left(starts, s1)
            who = {cid for _, cid in named[lo:hi]}
            if len(who) > 1 or (not who and not pending):
                pending = None
                continue
            narr = [t for t in sent if not _inside(quotes, q_starts, t.idx + p0)]
            if len(who) == 1:
                cid = next(iter(who))
                first_at = named[lo][0]
                for t in narr:
                    if t.idx + p0 > first_at and t.lower_ in _HE | _SHE:
                        vote(cid, t.lower_)
                        break
                pending = cid
                continue
            if not who and pending and narr:
                first = next((t for t in narr if not t.is_punct), None)
                if first is not None and first.lower_ in ("he", "she") and first.dep_ in SUBJECT_DEPS:
                    vote(pending, first.lower_)
            pending = None
    return {cid: (v[0], v[1]) for cid, v in votes.items()}
