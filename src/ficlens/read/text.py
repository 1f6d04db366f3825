"""Plain-text reader: decode bytes in any common encoding, refuse binary data."""
from __future__ import annotations

import codecs
import re

from ..errors import Errors, InputError

# Text has few control bytes; binary data (images, archives, executables) has many.
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32))
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(raw: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Return (text, encoding name). Tries BOMs, strict UTF-8, UTF-16 without BOM, then cp1252/Latin-1."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return _checked(raw.decode(encoding), path), encoding
            except UnicodeDecodeError:
                break
    utf16 = _bomless_utf16(raw)
    if utf16:
        try:
            return _checked(raw.decode(utf16), path), utf16
        except UnicodeDecodeError:
            pass
    if _looks_binary(raw):
        raise InputError(Errors.E004.format(path=path))
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Restricted on purpose: unrestricted detection misreads cp1252 as cp1250/cp852.
    best = from_bytes(raw, cp_isolation=["utf_8", "cp1252", "latin_1"]).best()
    if best is not None:
        return str(best), best.encoding
    # Mostly UTF-8 with some bytes that are not (a file glued from a UTF-8 and a cp1252 source):
    # read each bad byte as cp1252, where curly quotes, dashes and accents live, so the other part's
    # dialogue keeps its quote marks; the few bytes cp1252 leaves undefined become U+FFFD.
    return raw.decode("utf-8", errors=_CP1252_FALLBACK), "utf-8+cp1252"


def _cp1252_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


_CP1252_FALLBACK = "ficlens.cp1252"
codecs.register_error(_CP1252_FALLBACK, _cp1252_bytes)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _checked(text: str, path: str) -> str:
    """Binary data can decode as UTF-16 or UTF-32 without error: refuse it if it is full of controls."""
    sample = text[:65536]
    if sample and ("\x00" in sample or len(_CONTROL_CHARS.findall(sample)) / len(sample) > 0.05):
        raise InputError(Errors.E004.format(path=path))
    return text


def _bomless_utf16(raw: bytes) -> str | None:
    """UTF-16 without a BOM shows up as a NUL in every other byte of ASCII-heavy text."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:65536]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(sample.count(b) for b in _CONTROL)
    return controls / len(sample) > 0.05
