"""Normalization of decoded text, keeping a map back to source offsets.

Only two things change length: CRLF/CR line ends become LF, and characters that carry nothing
(BOM, zero-width spaces, soft hyphens, C0 controls other than tab/newline) are dropped. Everything
else is replaced one for one (curly quotes to straight, NBSP to space), so most offsets are unchanged.
"""
from __future__ import annotations

import re
from array import array

from ..model import OffsetMap

ONE_FOR_ONE = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ",
    "\t": " ", "\f": "\n", "\v": "\n", "\u2028": "\n", "\u2029": "\n",
})
# Dropped: BOM/zero-width, soft hyphen, C0 controls except \t \n \r (handled above or below).
_DROP = "\ufeff\u200b\u200c\u200d\u2060\u00ad" + "".join(
    chr(c) for c in range(32) if chr(c) not in "\t\n\r\f\v") + "\x7f"
_CHANGES_LENGTH = re.compile("\r|[" + re.escape(_DROP) + "]")


def normalize(source: str) -> tuple[str, OffsetMap]:
    """Return the normalized text and the map from its offsets to offsets in `source`."""
    translated = source.translate(ONE_FOR_ONE)
    if not _CHANGES_LENGTH.search(translated):
        return translated, OffsetMap.identity()
    out: list[str] = []
    starts = array("q")
    pos = 0
    for m in _CHANGES_LENGTH.finditer(translated):
        i = m.start()
        if i > pos:
            out.append(translated[pos:i])
            starts.extend(range(pos, i))
        if translated[i] == "\r":
            # CRLF and lone CR both become one LF that maps to the CR.
            out.append("\n")
            starts.append(i)
            pos = i + 2 if translated.startswith("\r\n", i) else i + 1
        else:
            pos = i + 1
    out.append(translated[pos:])
    starts.extend(range(pos, len(translated)))
    starts.append(len(translated))
    return "".join(out), OffsetMap(starts)
