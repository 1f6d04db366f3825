"""Corpus statistics: what `ficlens stats` prints and `Store.stats` returns.

Lines and words of dialogue are counted from the quotes table: a line is an utterance (quotes split
by a speech tag count once), words are whitespace-separated words inside the quotation marks.
Characters from different stories are the same character when they share a canon id, or else the
same name (case folded).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .query import as_filters, from_clause

if TYPE_CHECKING:
    from .store import Store


def corpus_stats(store: "Store", filters=None, *, top: int = 10) -> dict[str, Any]:
    """{"stories", "words", "dialogue_words", "errors", "relationships": [{name, stories}],
    "characters": [{name, lines, words, stories}], "pov": [{pov, stories}], "rating": [{rating, stories}],
    "dialogue_by_gender": [{gender, words, lines, share}]} over the stories matching `filters`."""
    filters = as_filters(filters)
    source, conds, params, _ = from_clause(store, filters)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    ids = f"SELECT s.id FROM {source} {where}"
    con = store.con

    def rows(sql: str, extra: list[Any] | None = None) -> list[tuple]:
        return con.execute(sql.replace("{ids}", ids), params + (extra or [])).fetchall()

    n, words, dialogue = rows("SELECT count(*), coalesce(sum(words), 0), coalesce(sum(dialogue_words), 0) "
                              "FROM stories WHERE id IN ({ids})")[0]
    errors = con.execute("SELECT count(*) FROM errors").fetchone()[0]
    relationships = rows(
        "SELECT min(name), count(DISTINCT story_id) AS n FROM tags WHERE type = 'relationships' "
        "AND story_id IN ({ids}) GROUP BY key ORDER BY n DESC, min(name) LIMIT ?", [top])
    characters = rows(
        "SELECT min(c.name), count(DISTINCT q.story_id || ':' || q.utterance) AS lines, sum(q.words), "
        "count(DISTINCT q.story_id) FROM quotes q JOIN characters c ON c.story_id = q.story_id AND c.id = q.speaker "
        "WHERE q.story_id IN ({ids}) GROUP BY coalesce(c.canon_id, lower(c.name)) "
        "ORDER BY lines DESC, min(c.name) LIMIT ?", [top])
    pov = rows("SELECT coalesce(pov, 'unknown') AS p, count(*) AS n FROM stories WHERE id IN ({ids}) "
               "GROUP BY p ORDER BY n DESC, p")
    rating = rows("SELECT coalesce(rating, 'no rating') AS r, count(*) AS n FROM stories WHERE id IN ({ids}) "
                  "GROUP BY r ORDER BY n DESC, r")
    genders = rows(
        "SELECT CASE WHEN q.speaker IS NULL THEN 'unattributed' ELSE coalesce(c.gender, 'unknown') END AS g, "
        "sum(q.words) AS w, count(DISTINCT q.story_id || ':' || q.utterance) "
        "FROM quotes q LEFT JOIN characters c ON c.story_id = q.story_id AND c.id = q.speaker "
        "WHERE q.story_id IN ({ids}) GROUP BY g ORDER BY w DESC, g")
    total_dialogue = sum(w or 0 for _, w, _ in genders)
    return {
        "stories": n,
        "words": int(words),
        "dialogue_words": int(dialogue),
        "errors": errors,
        "relationships": [{"name": a, "stories": b} for a, b in relationships],
        "characters": [{"name": a, "lines": b, "words": int(c or 0), "stories": d} for a, b, c, d in characters],
        "pov": [{"pov": a, "stories": b} for a, b in pov],
        "rating": [{"rating": a, "stories": b} for a, b in rating],
        "dialogue_by_gender": [
            {"gender": g, "words": int(w or 0), "lines": l,
             "share": round((w or 0) / total_dialogue, 4) if total_dialogue else 0.0}
            for g, w, l in genders
        ],
    }
