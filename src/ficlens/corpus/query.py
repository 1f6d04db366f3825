"""Faceted search over a store: the filters `ficlens query` and the web library page share.

Filters are exact and case-insensitive on tag names. Relationship members may come in either order
("Derek Shepherd/Meredith Grey" finds "Meredith Grey/Derek Shepherd"). Tag filters with several
values need every value (AND); rating and pov take any of theirs (OR), a story having one of each.
Full-text search needs every word of the query (stemmed, English stop words ignored) and ranks by
BM25; a part in double quotes must also appear as that exact phrase.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import Errors
from .rows import tag_key

if TYPE_CHECKING:
    from .store import SearchResult, Store

RATINGS = {
    "g": "General Audiences", "general": "General Audiences", "general audiences": "General Audiences",
    "t": "Teen And Up Audiences", "teen": "Teen And Up Audiences", "teen and up": "Teen And Up Audiences",
    "teen and up audiences": "Teen And Up Audiences",
    "m": "Mature", "mature": "Mature",
    "e": "Explicit", "explicit": "Explicit",
    "nr": "Not Rated", "not rated": "Not Rated",
}
POVS = {"first": "first", "1st": "first", "1": "first", "second": "second", "2nd": "second", "2": "second",
        "third": "third", "3rd": "third", "3": "third", "reader-insert": "reader-insert",
        "reader insert": "reader-insert", "reader": "reader-insert"}
# Facet name -> tags.type
TAG_FACETS = {"fandom": "fandoms", "relationship": "relationships", "character": "characters",
              "warning": "warnings", "category": "category", "freeform": "freeform"}
FACETS = ("fandom", "relationship", "character", "rating", "warning", "category", "freeform", "pov")
# The columns of a search row (every stories column but the big ones), plus `score`.
STORY_COLUMNS = ("id", "title", "author", "source_path", "fandoms", "rating", "relationships", "warnings",
                 "category", "pov", "narrator_name", "reader_insert", "words", "quotes", "characters",
                 "language", "analyzed_at")
SORTS = {"relevance": "score", "title": "lower(s.title)", "words": "s.words", "quotes": "s.quotes",
         "analyzed": "s.analyzed_at", "id": "s.id"}


@dataclass
class Filters:
    """What to look for; every empty field matches everything. Strings are accepted for the lists."""

    fandom: Sequence[str] = ()        # fandom tags, all needed
    relationship: Sequence[str] = ()  # "A/B" or "A & B", members in any order, all needed
    character: Sequence[str] = ()     # a character tag, or a character's name or alias, all needed
    rating: Sequence[str] = ()        # AO3 rating or its initial (G, T, M, E), any of
    warning: Sequence[str] = ()       # archive warnings, all needed
    category: Sequence[str] = ()      # F/F, F/M, Gen, M/M, Multi, Other, all needed
    freeform: Sequence[str] = ()      # additional tags, all needed
    pov: Sequence[str] = ()           # first, second, third or reader-insert, any of
    words: tuple[int | None, int | None] | str | None = None  # (min, max) inclusive, or "1000..5000"
    text: str | None = None           # full-text query over the story text

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("words", "text"):
                continue
            if value is None:
                value = ()
            elif isinstance(value, str):
                value = (value,)
            setattr(self, f.name, tuple(v.strip() for v in value if v and v.strip()))
        if isinstance(self.words, str):
            self.words = parse_words(self.words)
        if self.text is not None and not self.text.strip():
            self.text = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> "Filters":
        """From query parameters: {"fandom": ["A", "B"], "words": "1000..5000", ...}; unknown keys
        are ignored; plural keys ("fandoms", "categories"), "tag(s)" for freeform and "q" for text
        are accepted."""
        if mapping is None:
            return cls()
        names = {f.name for f in fields(cls)}
        aliases = {"categories": "category", "tag": "freeform", "tags": "freeform", "q": "text"}
        kwargs = {}
        for key, value in mapping.items():
            name = key if key in names else aliases.get(key) or (key[:-1] if key[:-1] in names else None)
            if name is None or value is None:
                continue
            if name == "text" and isinstance(value, (list, tuple)):
                value = " ".join(value)
            elif name == "words" and isinstance(value, list) and len(value) == 1:
                value = value[0]  # a query string's single value
            kwargs[name] = value
        return cls(**kwargs)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


def as_filters(filters: Filters | Mapping[str, Any] | None) -> Filters:
    if isinstance(filters, Filters):
        return filters
    return Filters.from_mapping(filters)


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$", re.I)


def _number(text: str, whole: str) -> int:
    m = _NUMBER.match(text.replace(",", "").replace("_", ""))
    if not m:
        raise _store_error(Errors.E208.format(value=whole))
    return int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()])


def parse_words(value: str) -> tuple[int | None, int | None]:
    """"1000..5000" -> (1000, 5000); "1k.." -> (1000, None); "..5k" -> (None, 5000); "2000" -> (2000, 2000)."""
    if ".." not in value:
        n = _number(value, value)
        return n, n
    lo, hi = value.split("..", 1)
    low = _number(lo, value) if lo.strip() else None
    high = _number(hi, value) if hi.strip() else None
    if low is None and high is None:
        raise _store_error(Errors.E208.format(value=value))
    return low, high


def _store_error(message: str):
    from .store import StoreError

    return StoreError(message)


def _choice(field: str, value: str, table: dict[str, str]) -> str:
    key = re.sub(r"\s+", " ", value.strip().lower())
    if key in table:
        return table[key]
    if key in {v.lower() for v in table.values()}:
        return next(v for v in table.values() if v.lower() == key)
    names = ", ".join(sorted(set(table.values())))
    raise _store_error(Errors.E210.format(field=field, value=value, names=names))


_PHRASE = re.compile(r'"([^"]+)"')


def split_text_query(text: str) -> tuple[str, list[str]]:
    """(every word, for BM25; the quoted phrases, which must appear as written)."""
    from ..read.normalize import normalize

    text = normalize(text)[0]  # curly quotes in the query match straight ones in the text
    phrases = [re.sub(r"\s+", " ", p.strip().lower()) for p in _PHRASE.findall(text) if p.strip()]
    return text.replace('"', " ").strip(), phrases


def where_clause(filters: Filters) -> tuple[list[str], list[Any]]:
    """SQL conditions on `stories s` (text search excepted) and their parameters."""
    conds: list[str] = []
    params: list[Any] = []
    for facet, type_ in TAG_FACETS.items():
        for value in getattr(filters, facet):
            key = tag_key(type_, value)
            tag_cond = "EXISTS (SELECT 1 FROM tags t WHERE t.story_id = s.id AND t.type = ? AND t.key = ?)"
            if facet == "character":
                conds.append(f"({tag_cond} OR EXISTS (SELECT 1 FROM characters c WHERE c.story_id = s.id AND "
                             "(lower(c.name) = ? OR list_contains(list_transform(c.aliases, lambda x: lower(x)), ?))))")
                params += [type_, key, key, key]
            else:
                conds.append(tag_cond)
                params += [type_, key]
    if filters.rating:
        ratings = sorted({_choice("rating", r, RATINGS) for r in filters.rating})
        conds.append("s.rating IN (SELECT unnest(?))")
        params.append(ratings)
    if filters.pov:
        povs = {_choice("pov", p, POVS) for p in filters.pov}
        alts = []
        persons = sorted(povs - {"reader-insert"})
        if persons:
            alts.append("s.pov IN (SELECT unnest(?))")
            params.append(persons)
        if "reader-insert" in povs:
            alts.append("s.reader_insert")
        conds.append("(" + " OR ".join(alts) + ")")
    if filters.words:
        low, high = filters.words
        if low is not None:
            conds.append("s.words >= ?")
            params.append(low)
        if high is not None:
            conds.append("s.words <= ?")
            params.append(high)
    return conds, params


def from_clause(store: "Store", filters: Filters) -> tuple[str, list[str], list[Any], bool]:
    """FROM ... and WHERE conditions/params for the matching stories; True when there is a score."""
    conds, params = where_clause(filters)
    if not filters.text:
        return "stories s", conds, params, False
    store.ensure_fts()
    words, phrases = split_text_query(filters.text)
    source = ("stories s JOIN (SELECT id AS fts_id, fts_main_stories.match_bm25(id, ?, conjunctive := 1) AS score "
              "FROM stories) f ON f.fts_id = s.id")
    conds = ["f.score IS NOT NULL", *[
        "strpos(regexp_replace(lower(s.text), '\\s+', ' ', 'g'), ?) > 0" for _ in phrases], *conds]
    return source, conds, [words, *phrases, *params], True


def search(store: "Store", filters=None, *, sort: str | None = None, limit: int | None = 50,
           offset: int = 0) -> "SearchResult":
    from .store import SearchResult

    filters = as_filters(filters)
    source, conds, params, scored = from_clause(store, filters)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    total = store.con.execute(f"SELECT count(*) FROM {source} {where}", params).fetchone()[0]
    order = _order(sort, scored)
    cols = ", ".join(f"s.{c}" for c in STORY_COLUMNS) + (", f.score" if scored else ", NULL AS score")
    page = ""
    page_params: list[Any] = []
    if limit is not None:
        page = "LIMIT ? OFFSET ?"
        page_params = [max(0, int(limit)), max(0, int(offset))]
    elif offset:
        page = "OFFSET ?"
        page_params = [max(0, int(offset))]
    cur = store.con.execute(f"SELECT {cols} FROM {source} {where} ORDER BY {order} {page}", params + page_params)
    names = [*STORY_COLUMNS, "score"]
    return SearchResult(total=total, rows=[dict(zip(names, r)) for r in cur.fetchall()])


def _order(sort: str | None, scored: bool) -> str:
    sort = sort or ("relevance" if scored else "title")
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in SORTS:
        raise _store_error(Errors.E210.format(field="sort", value=sort, names=", ".join(SORTS)))
    if name == "relevance":
        if not scored:
            return "lower(s.title) NULLS LAST, s.id"
        desc = not desc  # best first
    direction = "DESC" if desc else "ASC"
    return f"{SORTS[name]} {direction} NULLS LAST, s.id"


def facets(store: "Store", filters=None, *, names: Sequence[str] | None = None,
           limit: int = 20) -> dict[str, list[tuple[str, int]]]:
    filters = as_filters(filters)
    source, conds, params, _ = from_clause(store, filters)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    ids = f"SELECT s.id FROM {source} {where}"
    # Unfiltered (the library's first page), counting over every row skips the semi-join.
    everything = source == "stories s" and not conds
    out: dict[str, list[tuple[str, int]]] = {}
    for name in names or FACETS:
        if name in TAG_FACETS:
            pool = "SELECT story_id, name, key FROM tags WHERE type = ?"
            pool_params: list[Any] = [TAG_FACETS[name]]
            if name == "character":
                pool += " UNION ALL SELECT story_id, name, lower(name) FROM characters WHERE NOT mentioned_only"
            within = "" if everything else f"WHERE story_id IN ({ids})"
            sql = (f"SELECT min(name), count(DISTINCT story_id) AS n FROM ({pool}) p "
                   f"{within} GROUP BY key ORDER BY n DESC, min(name) LIMIT ?")
            rows = store.con.execute(sql, pool_params + params + [limit]).fetchall()
        elif name in ("rating", "pov"):
            within = "" if everything else f"AND s.id IN ({ids})"
            sql = (f"SELECT s.{name}, count(*) AS n FROM stories s WHERE s.{name} IS NOT NULL {within} "
                   f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?")
            rows = store.con.execute(sql, params + [limit]).fetchall()
        else:
            raise _store_error(Errors.E210.format(field="facet", value=name, names=", ".join(FACETS)))
        out[name] = [(v, n) for v, n in rows]
    return out
