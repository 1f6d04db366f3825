"""Shared by the harnesses: seed inputs for an empty corpus folder, and the invariants to check.

The invariants are the ones tests/test_properties.py states (one definition, so the property tests
and the fuzzers cannot drift apart).
"""
from __future__ import annotations

import io
import sys
import traceback
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Written for the seeds: curly and straight quotes, an apostrophe, notes, a scene break, markup.
TEXT = ("Salt Road\n\nRating: T\n\nA/N: for the winter swap!\n\n"
        "\u201cYou\u2019re late,\u201d Tomas said. \u201cThe boats are in.\u201d\n\n"
        "'Always,' she said, 'the boats are in.'\n\n* * *\n\nChapter 2\n\n"
        "\"Stay,\" he said.\r\n\"I can't\u2014\"\r\n\nThe lamp went out\u2026\n")
HTML = ("<!DOCTYPE html><html><head><title>Salt Road</title><script>var x = '<p>';</script></head>"
        "<body><div id=\"chapters\"><h2 class=\"heading\">Chapter 1</h2><div class=\"userstuff\">"
        "<p>&#8220;You&rsquo;re late,&#8221; Tomas said.</p><p>&nbsp;</p><hr/><p>She <i>laughed</i>"
        " &amp; left.<br>Gone.</p></div></div></body></html>")


def _epub(chapters: list[str]) -> bytes:
    buf = io.BytesIO()
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
                    for i in range(len(chapters)))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # stored: mutations reach the XML
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml",
                    '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                    '<rootfile full-path="content.opf"/></rootfiles></container>')
        zf.writestr("content.opf", '<package xmlns="http://www.idpf.org/2007/opf"><metadata '
                                   'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Salt</dc:title>'
                                   f"</metadata><manifest>{items}</manifest><spine>{refs}</spine></package>")
        for i, body in enumerate(chapters):
            zf.writestr(f"c{i}.xhtml", f'<?xml version="1.0" encoding="utf-8"?><html '
                                       f'xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>')
    return buf.getvalue()


def reader_seeds() -> list[bytes]:
    """First byte: bits 0-1 pick the format (guess, txt, html, epub), bits 2-3 the file name."""
    seeds = [bytes([1]) + TEXT.encode("utf-8"), bytes([1]) + TEXT.encode("utf-16"),
             bytes([1]) + TEXT.replace("\u2026", "...").encode("cp1252"),
             bytes([2 | 4]) + HTML.encode("utf-8"), bytes([0]) + HTML.encode("utf-8"),
             bytes([3 | 8]) + _epub(["<p>\u201cStay,\u201d Ines said.</p>", HTML.split("<body>")[1]])]
    for path in sorted((REPO / "examples").glob("*.txt")):
        seeds.append(bytes([1]) + path.read_bytes())
    return seeds


def stage_seeds() -> list[bytes]:
    """A flag byte, then atheris's Unicode encoding: 0 then ASCII bytes, or 1 then UTF-16-LE."""
    texts = [TEXT] + [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.txt"))]
    seeds = []
    for flags, text in enumerate(texts):
        seeds.append(bytes([flags & 7, 1]) + text.encode("utf-16-le"))
        ascii_text = text.encode("ascii", "ignore")
        seeds.append(bytes([(flags + 1) & 7, 0]) + ascii_text)
    return seeds


def fill_corpus_dirs(argv: list[str], kind: str) -> None:
    """Create the corpus folders named on the command line and seed the empty ones."""
    seeds = reader_seeds() if kind == "readers" else stage_seeds()
    for arg in argv[1:]:
        if arg.startswith("-"):
            continue
        folder = Path(arg)
        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.iterdir()):
            for i, seed in enumerate(seeds):
                (folder / f"seed-{i:02d}").write_bytes(seed)


def invariants():
    """(check_offsets, check_characters_round_trip, check_sections, check_quotes)."""
    sys.path.insert(0, str(REPO / "tests"))
    from test_properties import check_characters_round_trip, check_offsets, check_quotes, check_sections

    return check_offsets, check_characters_round_trip, check_sections, check_quotes


# Open bugs, each with a strict-xfail test in tests/test_fuzz_regressions.py: (exception type name,
# innermost function). The harnesses let these pass so that a run goes on to find new bugs; remove an
# entry when its bug is fixed (the xfail test then fails and says so).
KNOWN_OPEN: set[tuple[str, str]] = set()  # (exception type, innermost function) of bugs still open


def known_open(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and (type(error).__name__, frames[-1].name) in KNOWN_OPEN
