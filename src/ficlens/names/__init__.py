"""Name lists ficlens ships (written for the project from general knowledge; see each file's header):
given names with their usual gender, diminutives, honorifics and person nouns. Read once per process.
"""
from __future__ import annotations

import functools
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def _sections(filename: str) -> dict[str, list[str]]:
    """A `[section]`-headed word list: section -> words (comments start with #)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        out.setdefault(current, []).extend(line.split())
    return out


@functools.lru_cache(maxsize=1)
def given_names() -> dict[str, str | None]:
    """Case-folded given name -> "male", "female", or None (used for both)."""
    sections = _sections("given_names.txt")
    male = {w.casefold() for w in sections.get("male", [])}
    female = {w.casefold() for w in sections.get("female", [])}
    unisex = {w.casefold() for w in sections.get("unisex", [])} | (male & female)
    out: dict[str, str | None] = {w: "male" for w in male}
    out.update({w: "female" for w in female})
    out.update({w: None for w in unisex})
    return out


@functools.lru_cache(maxsize=1)
def frequent_given_names() -> frozenset[str]:
    """The most frequent given names, case folded (weak evidence of a fandom on their own)."""
    return frozenset(w.casefold() for w in _sections("given_names.txt").get("frequent", []))


@functools.lru_cache(maxsize=1)
def nicknames() -> dict[str, frozenset[str]]:
    """Case-folded short form -> the case-folded full given names it can stand for."""
    out: dict[str, set[str]] = {}
    for line in (DATA_DIR / "nicknames.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        full, shorts = line.split(":", 1)
        for short in shorts.split():
            out.setdefault(short.casefold(), set()).add(full.strip().casefold())
    return {k: frozenset(v) for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def honorifics() -> dict[str, str | None]:
    """Case-folded title without its period ("mr", "dr") -> "male", "female" or None."""
    out: dict[str, str | None] = {}
    for line in (DATA_DIR / "honorifics.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        title, gender = line.split()
        out[title.casefold()] = {"m": "male", "f": "female"}.get(gender)
    return out


@functools.lru_cache(maxsize=1)
def person_nouns() -> dict[str, str | None]:
    """Case-folded singular person noun -> "male", "female" or None."""
    sections = _sections("person_nouns.txt")
    out: dict[str, str | None] = {w.casefold(): None for w in sections.get("neutral", [])}
    out.update({w.casefold(): "male" for w in sections.get("male", [])})
    out.update({w.casefold(): "female" for w in sections.get("female", [])})
    return out


@functools.lru_cache(maxsize=1)
def possessive_person_nouns() -> frozenset[str]:
    """Nouns that name a person only after a possessive ("her date", "his ex")."""
    return frozenset(w.casefold() for w in _sections("person_nouns.txt").get("possessive", []))


@functools.lru_cache(maxsize=1)
def address_terms() -> frozenset[str]:
    """Terms of endearment and address that can stand for a name in a vocative ("Baby, please")."""
    return frozenset(w.casefold() for w in _sections("person_nouns.txt").get("address", []))
