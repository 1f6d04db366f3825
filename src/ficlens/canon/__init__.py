"""Fandom canon packs: who a fandom's characters are, what they are called, and who they ship.

A pack is one TOML file in `canon/packs/` (format below); `load_packs()` reads them once per process.
The characters stage uses them twice: to tell which fandom a story belongs to from the names in it
(`detect_fandoms`), then to link the story's characters to canon ("Derek" is Derek Shepherd in a
Grey's Anatomy story and Derek Morgan in a Criminal Minds one).

Pack format (TOML):
    id = "greys-anatomy"                 # stable, lowercase, dashes
    name = "Grey's Anatomy"              # AO3's canonical fandom tag, exactly
    aliases = ["Grey's"]                 # other names of the fandom (notes, disclaimers, metadata)
    weak_aliases = []                    # names that are also common words: evidence only beside names
    name_order = "given-first"           # or "family-first" (AO3 writes "Uzumaki Naruto")
    [[characters]]
    id = "derek-shepherd"                # unique in the pack
    name = "Derek Shepherd"              # canonical name
    ao3 = "Derek Shepherd"               # optional: AO3's character tag when it differs from name
    gender = "male"                      # male | female | nonbinary
    aliases = ["Shepherd"]               # other names (full names, surnames, titles)
    nicknames = ["Shep", "McDreamy"]     # nicknames and diminutives
    [[address]]                          # what one character calls another
    by = "mark-sloan"
    to = "derek-shepherd"
    names = ["Shep"]
    [[relationships]]
    name = "Derek Shepherd/Meredith Grey" # AO3's tag: "A/B" romantic, "A & B" platonic

`validate_pack(dict)` lists a pack's problems; `validate_file(path)` reads and checks a TOML file (the
function behind a `ficlens canon validate FILE` command).
"""
from __future__ import annotations

import functools
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

PACK_DIR = Path(__file__).resolve().parent / "packs"
GENDERS = ("male", "female", "nonbinary")
# Form kinds, strongest first: how a surface form names a canon character.
KIND_RANK = {"full": 0, "alias": 1, "nickname": 2, "address": 3, "first": 4, "last": 5}
NO_FANDOM_NOTE = "no known fandom: original characters"

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HONORIFIC_SUFFIX = re.compile(r"-(?:kun|chan|san|sama|sensei|senpai|sempai|dono|nii|nee|tan|chin)$", re.I)
_TITLE_WORDS = frozenset("""mr mrs ms miss dr doctor professor prof sir lady lord agent captain cap
    general colonel major detective inspector sheriff deputy chief director senator princess prince
    queen king master father sister brother aunt uncle""".split())


def norm(form: str) -> str:
    """The key a surface form is matched by: case folded, accents and periods dropped, one space,
    curly apostrophes straight, Japanese honorific suffixes (-kun, -chan) removed."""
    form = unicodedata.normalize("NFKD", form)
    form = "".join(c for c in form if not unicodedata.combining(c))
    form = form.replace("\u2019", "'").replace("\u2018", "'").replace(".", " ")
    form = " ".join(form.split())
    form = _HONORIFIC_SUFFIX.sub("", form)
    return form.casefold()


@dataclass(frozen=True)
class CanonCharacter:
    id: str
    name: str
    ao3: str
    gender: str | None
    aliases: tuple[str, ...] = ()
    nicknames: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    aliases: tuple[str, ...]
    weak_aliases: tuple[str, ...]
    characters: tuple[CanonCharacter, ...]
    relationships: tuple[str, ...]
    address: tuple[tuple[str, str, tuple[str, ...]], ...]  # (by, to, names)
    family_first: bool = False
    # norm(form) -> [(character id, kind)], built by `_index`
    forms: dict[str, list[tuple[str, str]]] = field(default_factory=dict, compare=False, hash=False)

    def character(self, cid: str) -> CanonCharacter | None:
        return next((c for c in self.characters if c.id == cid), None)

    def lookup(self, surface: str) -> list[tuple[str, str]]:
        """Canon characters this surface form may name, best kind first: [(character id, kind)]."""
        return self.forms.get(norm(surface), [])

    def resolve(self, surface: str) -> tuple[str, str] | None:
        """The one canon character a surface names in this pack, or None when none or ambiguous:
        an explicit alias or nickname beats a bare name part ("Grey" is Meredith, not Ellis Grey)."""
        hits = self.lookup(surface)
        if not hits:
            return None
        best = KIND_RANK[hits[0][1]]
        top = [h for h in hits if KIND_RANK[h[1]] == best]
        return top[0] if len({cid for cid, _ in top}) == 1 else None


# ---------------------------------------------------------------------------------------------------
# Loading and validation
def validate_pack(data: dict) -> list[str]:
    """Problems with a pack read from TOML (an empty list when it is fine)."""
    problems: list[str] = []

    def need_str(obj, key, where, *, optional=False):
        v = obj.get(key)
        if v is None:
            if not optional:
                problems.append(f"{where}: missing {key!r}")
            return None
        if not isinstance(v, str) or not v.strip():
            problems.append(f"{where}: {key!r} must be a non-empty string")
            return None
        return v

    def need_list(obj, key, where):
        v = obj.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            problems.append(f"{where}: {key!r} must be a list of non-empty strings")
            return []
        return v

    if not isinstance(data, dict):
        return ["a pack must be a table"]
    known = {"id", "name", "aliases", "weak_aliases", "name_order", "characters", "address", "relationships"}
    for key in data:
        if key not in known:
            problems.append(f"pack: unknown key {key!r} (known: {', '.join(sorted(known))})")
    pid = need_str(data, "id", "pack")
    if pid and not _ID.match(pid):
        problems.append(f"pack: id {pid!r} must be lowercase letters, digits and dashes")
    need_str(data, "name", "pack")
    need_list(data, "aliases", "pack")
    need_list(data, "weak_aliases", "pack")
    if data.get("name_order", "given-first") not in ("given-first", "family-first"):
        problems.append("pack: name_order must be 'given-first' or 'family-first'")
    chars = data.get("characters")
    if not isinstance(chars, list) or not chars:
        problems.append("pack: needs at least one [[characters]] entry")
        chars = []
    ids: set[str] = set()
    tags: set[str] = set()
    char_keys = {"id", "name", "ao3", "gender", "aliases", "nicknames"}
    for i, c in enumerate(chars):
        where = f"characters[{i}]"
        if not isinstance(c, dict):
            problems.append(f"{where}: must be a table")
            continue
        for key in c:
            if key not in char_keys:
                problems.append(f"{where}: unknown key {key!r}")
        cid = need_str(c, "id", where)
        name = need_str(c, "name", where)
        if name:
            where = f"characters[{i}] ({name})"
        if cid:
            if not _ID.match(cid):
                problems.append(f"{where}: id {cid!r} must be lowercase letters, digits and dashes")
            if cid in ids:
                problems.append(f"{where}: duplicate id {cid!r}")
            ids.add(cid)
        ao3 = need_str(c, "ao3", where, optional=True)
        tags.update(x for x in (name, ao3) if x)
        gender = c.get("gender")
        if gender is not None and gender not in GENDERS:
            problems.append(f"{where}: gender {gender!r} must be one of {', '.join(GENDERS)}")
        need_list(c, "aliases", where)
        need_list(c, "nicknames", where)
    for i, a in enumerate(data.get("address", []) or []):
        where = f"address[{i}]"
        if not isinstance(a, dict):
            problems.append(f"{where}: must be a table")
            continue
        for key in ("by", "to"):
            v = need_str(a, key, where)
            if v and v not in ids:
                problems.append(f"{where}: {key} {v!r} is not a character id of this pack")
        if not need_list(a, "names", where):
            problems.append(f"{where}: 'names' must list at least one name")
    for i, r in enumerate(data.get("relationships", []) or []):
        where = f"relationships[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: must be a table")
            continue
        name = need_str(r, "name", where)
        if not name:
            continue
        parts = name.split("/") if "/" in name else name.split(" & ")
        if len(parts) < 2 or ("/" in name and " & " in name):
            problems.append(f"{where}: {name!r} must read 'A/B' (romantic) or 'A & B' (platonic)")
            continue
        for part in parts:
            if part.strip() != part or part not in tags:
                problems.append(f"{where}: {part!r} is not the name or AO3 tag of a character of this pack")
    return problems


def validate_file(path: str | Path) -> list[str]:
    """Read a pack file and list its problems (TOML syntax errors included)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        return [f"{path}: cannot be read ({e.strerror or e})"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return [f"{path}: not valid TOML ({e})"]
    return [f"{path.name}: {p}" for p in validate_pack(data)]


def pack_from_dict(data: dict) -> Pack:
    """Build a Pack from validated TOML data."""
    from ..errors import FiclensError

    problems = validate_pack(data)
    if problems:
        raise FiclensError(f"canon pack {data.get('id', '?')!r}: " + "; ".join(problems[:5]))
    chars = tuple(CanonCharacter(id=c["id"], name=c["name"], ao3=c.get("ao3") or c["name"],
                                 gender=c.get("gender"), aliases=tuple(c.get("aliases", [])),
                                 nicknames=tuple(c.get("nicknames", [])))
                  for c in data["characters"])
    pack = Pack(id=data["id"], name=data["name"], aliases=tuple(data.get("aliases", [])),
                weak_aliases=tuple(data.get("weak_aliases", [])), characters=chars,
                relationships=tuple(r["name"] for r in data.get("relationships", [])),
                address=tuple((a["by"], a["to"], tuple(a["names"])) for a in data.get("address", [])),
                family_first=data.get("name_order") == "family-first")
    _index(pack)
    return pack


def _index(pack: Pack) -> None:
    forms: dict[str, dict[str, str]] = {}

    def add(surface: str, cid: str, kind: str) -> None:
        key = norm(surface)
        if not key:
            return
        have = forms.setdefault(key, {})
        if cid not in have or KIND_RANK[kind] < KIND_RANK[have[cid]]:
            have[cid] = kind

    for c in pack.characters:
        for full in (c.name, c.ao3):
            add(full, c.id, "full")
            add(re.sub(r"\s*\(.*?\)\s*$", "", full), c.id, "full")  # "Thor (Marvel)" -> "Thor"
        for a in c.aliases:
            add(a, c.id, "alias")
        for n in c.nicknames:
            add(n, c.id, "nickname")
        parts = [p for p in norm(re.sub(r"\(.*?\)|\".*?\"", " ", c.name)).split() if p not in _TITLE_WORDS]
        if len(parts) >= 2:
            given, family = (parts[-1], parts[0]) if pack.family_first else (parts[0], parts[-1])
            add(given, c.id, "first")
            add(family, c.id, "last")
    for _, to, names in pack.address:
        for n in names:
            add(n, to, "address")
    for key, hits in forms.items():
        pack.forms[key] = sorted(hits.items(), key=lambda h: (KIND_RANK[h[1]], h[0]))


@functools.lru_cache(maxsize=1)
def load_packs() -> dict[str, Pack]:
    """Every shipped pack, by id (read once per process)."""
    from ..errors import FiclensError

    packs: dict[str, Pack] = {}
    for path in sorted(PACK_DIR.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise FiclensError(f"{path}: canon pack is not valid TOML ({e})") from e
        pack = pack_from_dict(data)
        if pack.id in packs:
            raise FiclensError(f"{path}: canon pack id {pack.id!r} is used twice")
        packs[pack.id] = pack
    return packs


def known_relationships() -> list[str]:
    """Every relationship tag the packs list, in AO3 spelling."""
    return [r for p in load_packs().values() for r in p.relationships]


@functools.lru_cache(maxsize=1)
def form_index() -> dict[str, list[tuple[str, str, str]]]:
    """norm(form) -> [(pack id, character id, kind)] over every pack."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for p in load_packs().values():
        for key, hits in p.forms.items():
            out.setdefault(key, []).extend((p.id, cid, kind) for cid, kind in hits)
    return out


@functools.lru_cache(maxsize=1)
def phrase_forms() -> dict[str, list[tuple[str, ...]]]:
    """Multi-word canon forms by their first word (case folded), as word tuples, longest first:
    the mentions stage matches these phrases ("Baby Girl", "Hot Stuff") in the text."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for key in form_index():
        words = tuple(key.split())
        if len(words) >= 2:
            out.setdefault(words[0], set()).add(words)
    return {k: sorted(v, key=len, reverse=True) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------------
# Fandom detection
@dataclass
class FandomGuess:
    pack: str
    name: str  # AO3's fandom tag
    confidence: float
    score: float
    characters: dict[str, list[str]]  # canon character id -> story surface forms that matched
    evidence: list[tuple[int, int]]  # story.text spans of the mentions (or note words) that matched
    sources: list[str]  # "names", "notes", "declared"
    coverage: float = 0.0  # share of the story's name mentions this pack explains


# Weight of one surface form by how it names a canon character (before the ambiguity discount).
_KIND_WEIGHT = {"full": 2.0, "alias": 1.0, "nickname": 1.5, "address": 1.5, "first": 1.0, "last": 0.8}


def detect_fandoms(names: dict[str, list[tuple[int, int]]], *,
                   notes: Iterable[tuple[int, str]] = (), declared: Iterable[str] = (),
                   common_given_names: frozenset[str] = frozenset(),
                   frequent_given_names: frozenset[str] = frozenset(),
                   min_characters: int = 2, min_score: float = 1.5,
                   min_coverage: float = 0.3) -> list[FandomGuess]:
    """Which fandoms a story belongs to, best first (an empty list for original fiction).

    names: each surface form of a person mention in the story -> its story.text spans.
    notes: (offset, text) of author notes, disclaimers and summaries, scanned for fandom names.
    declared: fandom tags the source declares (AO3 downloads).
    common_given_names: case-folded given names; a canon character matched only by one of these
        counts for less ("Derek" alone says little, "Shep" says Grey's Anatomy).
    frequent_given_names: case-folded names so common ("John", "Mary") they count for less again.
    min_characters, min_score: from names alone a pack needs this many distinct canon characters
        and this score (a pack also passes with two characters that cover most named mentions).
    min_coverage: and its names must make up this share of the story's name mentions. A novel's
        hundred people match a few canon first names by chance ("George", "Rose", "April": 0.1-5% of
        its mentions on PDNC, at most 22%); in a fan fiction story canon names are most of them.

    Each surface counts for the canon characters it may name in each pack, discounted by the
    number of packs that share it; a pack's score is the sum over its matched characters of the
    best surface, plus a little for each further surface of the same character. Packs are taken
    best first and the surfaces they explain are not counted again for the next ones, so a Teen
    Wolf "Derek" does not ride along with a Grey's Anatomy story.
    """
    packs = load_packs()
    index = form_index()
    keyed: dict[str, list[tuple[int, int]]] = {}
    for surface, spans in names.items():
        keyed.setdefault(norm(surface), []).extend(spans)
    total_mentions = sum(len(v) for v in keyed.values()) or 1

    strong: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    weak: dict[str, list[tuple[int, int]]] = {}
    for fandom in declared:
        pid = match_fandom_name(fandom)
        if pid:
            strong.setdefault(pid, ("declared", []))
    for offset, text in notes:
        for pid, p in packs.items():
            for alias, is_strong in _fandom_names(p):
                for m in _alias_regex(alias).finditer(text):
                    span = (offset + m.start(), offset + m.end())
                    if is_strong:
                        strong.setdefault(pid, ("notes", []))[1].append(span)
                    else:
                        weak.setdefault(pid, []).append(span)

    explained: set[str] = set()
    guesses: list[FandomGuess] = []
    remaining = set(packs)
    while remaining:
        best = None
        for pid in remaining:
            g = _score_pack(packs[pid], keyed, index, explained, common_given_names, frequent_given_names,
                            total_mentions)
            if pid in strong:
                source, spans = strong[pid]
                g.sources.append(source)
                g.evidence.extend(spans)
            if pid in weak and g.characters:
                g.sources.append("notes")
                g.evidence.extend(weak[pid])
                g.score += 1.0
            if best is None or ((_passes(g, strong, min_characters, min_score, min_coverage), g.score)
                                > (_passes(best, strong, min_characters, min_score, min_coverage), best.score)):
                best = g
        if best is None or not _passes(best, strong, min_characters, min_score, min_coverage):
            break
        remaining.discard(best.pack)
        for forms in best.characters.values():
            explained.update(norm(f) for f in forms)
        best.evidence = _outermost(best.evidence)
        best.confidence = _confidence(best, strong)
        guesses.append(best)
    return guesses


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans without duplicates or spans inside another ("Grey's" inside "Grey's Anatomy")."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(set(spans), key=lambda x: (x[0], -x[1])):
        if out and s >= out[-1][0] and e <= out[-1][1]:
            continue
        out.append((s, e))
    return out


def _passes(g: FandomGuess, strong, min_characters, min_score, min_coverage) -> bool:
    if g.pack in strong:
        return True
    k = len(g.characters)
    if k < min_characters or g.coverage < min_coverage:
        return False
    return g.score >= min_score or (g.score >= min_score / 2 and g.coverage >= 0.5)


def _confidence(g: FandomGuess, strong) -> float:
    if g.pack in strong and strong[g.pack][0] == "declared":
        return 0.99
    base = 1 - math.exp(-g.score / 2.0)
    if g.pack in strong:
        base = max(base, 0.9)
    return round(min(0.99, max(0.3, base)), 3)


def _score_pack(pack: Pack, keyed, index, explained, common, frequent, total_mentions) -> FandomGuess:
    per_char: dict[str, list[tuple[float, str]]] = {}
    spans: list[tuple[int, int]] = []
    covered = 0
    for key, key_spans in keyed.items():
        if key in explained:
            continue
        hit = pack.resolve(key)
        if hit is None:
            continue
        cid, kind = hit
        n_packs = len({pid for pid, _, _ in index.get(key, ())}) or 1
        w = _KIND_WEIGHT[kind] / math.sqrt(n_packs)
        if kind in ("first", "alias", "last") and " " not in key and key in common:
            w *= 0.3 if key in frequent else 0.6
        per_char.setdefault(cid, []).append((w, key))
        spans.extend(key_spans)
        covered += len(key_spans)
    score = 0.0
    chars: dict[str, list[str]] = {}
    for cid, ws in per_char.items():
        ws.sort(reverse=True)
        score += ws[0][0] + 0.25 * min(len(ws) - 1, 3)
        chars[cid] = [k for _, k in ws]
    return FandomGuess(pack=pack.id, name=pack.name, confidence=0.0, score=round(score, 3),
                       characters=chars, evidence=list(spans), sources=["names"] if chars else [],
                       coverage=covered / total_mentions)


def _fandom_names(pack: Pack) -> list[tuple[str, bool]]:
    return ([(pack.name, True)] + [(a, True) for a in pack.aliases] + [(a, False) for a in pack.weak_aliases])


@functools.lru_cache(maxsize=512)
def _alias_regex(alias: str) -> re.Pattern:
    # Multi-word names match in any case; a one-word name only as written (Naruto, not naruto).
    flags = re.I if (" " in alias or not alias.isalpha()) else 0
    body = re.escape(alias).replace("'", "['\u2019]")
    return re.compile(r"(?<![\w])" + body + r"(?![\w])", flags)


def match_fandom_name(text: str) -> str | None:
    """The pack id whose name or alias `text` is (case folded; "Criminal Minds" -> criminal-minds)."""
    key = norm(text)
    key_short = norm(re.sub(r"\s*\(.*?\)\s*$", "", text))
    for pid, p in load_packs().items():
        for name, _ in _fandom_names(p):
            if norm(name) in (key, key_short) or norm(re.sub(r"\s*\(.*?\)\s*$", "", name)) in (key, key_short):
                return pid
            if " | " in name and any(norm(part) in (key, key_short) for part in name.split(" | ")):
                return pid
    return None
