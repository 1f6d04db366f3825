"""EPUB reader (AO3 and FanFicFare EPUBs, and any EPUB 2/3) to a `Story`.

An EPUB has no single source text file, so `Story.source_text` is the text extracted from the
spine documents, in spine order, joined by a blank line; offsets written to JSON point into that.

The archive is hostile until proven otherwise:
- it is opened with `zipfile` directly; the member count and the declared uncompressed total are
  checked against `Limits` before anything is read, and every read is bounded in chunks too,
  because declared sizes can lie (zip bomb -> `LimitError`, E007/E012);
- container.xml and the OPF are parsed with defusedxml (entity declarations, billion laughs and
  external entities -> `InputError`); the XHTML documents go through the HTML tokenizer, which
  never expands a DTD entity;
- nothing is ever extracted to disk, so member names (`../../etc`) do not matter.
A corrupt or truncated zip, a missing container.xml or OPF, or a spine naming missing files is an
`InputError` with Errors.E006 naming the file and the problem.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from typing import Any
from urllib.parse import unquote

from ..errors import Errors, InputError, LimitError
from ..limits import Limits
from ..model import Source, Story
from .html import extract
from .normalize import normalize
from .text import decode

_CHUNK = 1 << 20
_XHTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xhtml", "text/x-oeb1-document"})
# Spine documents that are not story text: FanFicFare's title/TOC/log pages, navigation pages.
_NOT_STORY = re.compile(r"^(title_?page|toc_?page|log_?page|nav|toc|cover)$", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
               RuntimeError, ValueError, OSError, KeyError, IndexError)


def read_epub(raw: bytes, name: str, limits: Limits) -> Story:
    """Read an EPUB from bytes; raises InputError (E006) or LimitError (E007/E012) on bad input."""
    book = _Archive(raw, name, limits)
    opf_path = _rootfile(book)
    opf = _parse_xml(book, opf_path)
    meta = _opf_meta(opf, name)
    texts: list[str] = []
    ao3_meta: dict[str, Any] = {}
    ao3 = False
    for member in _spine(book, opf, opf_path):
        doc = _decode_xml(book.read(member), f"{name}:{member}")
        ex = extract(doc, xml=True, ao3_hint=ao3)
        if ex.layout == "ao3":
            ao3 = True
            _merge(ao3_meta, ex.meta)
        if ex.text.strip():
            texts.append(ex.text)
    # What the AO3 preface declares is more precise than the OPF (which flattens all tags into
    # dc:subject), so it wins; OPF fields it lacks stay.
    _merge(meta, ao3_meta, override=True)
    source_text = "\n\n".join(texts)
    text, offsets = normalize(source_text)
    return Story(source=Source(path=name, format="epub", encoding="utf-8"), source_text=source_text,
                 text=text, offsets=offsets, meta=meta)


def _merge(into: dict[str, Any], new: dict[str, Any], *, override: bool = False) -> None:
    for key, value in new.items():
        if key in ("notes", "chapter_notes") and key in into:
            into[key] = into[key] + value
        elif override or key not in into:
            into[key] = value


class _Archive:
    """The zip, with its limits checked up front and every member read bounded."""

    def __init__(self, raw: bytes, name: str, limits: Limits):
        self.name = name
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(raw))
            infos = self.zip.infolist()
        except _ZIP_ERRORS as e:
            raise InputError(Errors.E006.format(path=name, reason=f"not a readable zip archive: {e}")) from e
        if len(infos) > limits.max_members:
            raise LimitError(Errors.E012.format(path=name, count=len(infos), limit=limits.max_members))
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_expanded_bytes:
            raise LimitError(Errors.E007.format(path=name, limit=limits.max_expanded_bytes))
        # An empty member name is not a file (ZipInfo.is_dir() would raise IndexError on it).
        self.members = {info.filename: info for info in infos if info.filename and not info.is_dir()}
        self.folded = {k.lower(): k for k in self.members}
        self.used = 0  # bytes read so far, against max_expanded_bytes

    def find(self, member: str) -> str | None:
        if member in self.members:
            return member
        return self.folded.get(member.lower())

    def read(self, member: str) -> bytes:
        info = self.members[member]
        budget = self.limits.max_expanded_bytes - self.used
        out = bytearray()
        try:
            with self.zip.open(info) as f:
                while True:
                    chunk = f.read(_CHUNK)
                    if not chunk:
                        break
                    out += chunk
                    if len(out) > budget:
                        raise LimitError(Errors.E007.format(path=self.name, limit=self.limits.max_expanded_bytes))
        except _ZIP_ERRORS as e:
            raise InputError(Errors.E006.format(path=self.name, reason=f"{member} is damaged: {e}")) from e
        self.used += len(out)
        return bytes(out)


def _parse_xml(book: _Archive, member: str):
    """Parse an XML member with defusedxml: no entity expansion, no external references."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    data = book.read(member)
    try:
        return fromstring(data)
    except DefusedXmlException as e:
        raise InputError(Errors.E006.format(
            path=book.name, reason=f"{member} declares XML entities or external references, which "
                                   f"are refused (possible billion-laughs attack): {e}")) from e
    except (ParseError, ValueError, UnicodeError) as e:
        raise InputError(Errors.E006.format(path=book.name, reason=f"{member} is not well-formed XML: {e}")) from e


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _rootfile(book: _Archive) -> str:
    container = book.find("META-INF/container.xml")
    if container is None:
        raise InputError(Errors.E006.format(path=book.name, reason="META-INF/container.xml is missing"))
    root = _parse_xml(book, container)
    for el in root.iter():
        if _local(el.tag) == "rootfile" and el.get("full-path"):
            path = el.get("full-path")
            found = book.find(unquote(path).lstrip("/"))
            if found is None:
                raise InputError(Errors.E006.format(
                    path=book.name, reason=f"the package file {path} named in container.xml is missing"))
            return found
    raise InputError(Errors.E006.format(path=book.name, reason="container.xml names no package (OPF) file"))


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _opf_meta(opf, name: str) -> dict[str, Any]:
    """Dublin Core metadata as declared: title, creators, subjects, description, language, ..."""
    meta: dict[str, Any] = {}
    metadata = next((el for el in opf if _local(el.tag) == "metadata"), None)
    if metadata is None:
        return meta
    creators: list[str] = []
    subjects: list[str] = []
    for el in metadata.iter():
        tag = _local(el.tag)
        value = _text(el)
        if not value:
            continue
        if tag == "title" and "title" not in meta:
            meta["title"] = value
        elif tag == "creator":
            creators.append(value)
        elif tag == "subject":
            subjects.append(value)
        elif tag == "description" and "summary" not in meta:
            # Descriptions are often escaped HTML: read them with the HTML extractor.
            meta["summary"] = extract("".join(el.itertext())).text.strip()
        elif tag in ("language", "publisher", "source", "date") and tag not in meta:
            meta[tag] = value
    if creators:
        meta["author"] = ", ".join(creators)
        meta["authors"] = creators
    if subjects:
        meta["subjects"] = subjects
    return meta


def _spine(book: _Archive, opf, opf_path: str) -> list[str]:
    """Archive members of the spine's story documents, in reading order."""
    base = posixpath.dirname(opf_path)
    manifest: dict[str, tuple[str, str, str]] = {}
    spine = None
    for el in opf:
        tag = _local(el.tag)
        if tag == "manifest":
            for item in el:
                if _local(item.tag) == "item" and item.get("id") and item.get("href"):
                    manifest[item.get("id")] = (item.get("href"), (item.get("media-type") or "").lower(),
                                                item.get("properties") or "")
        elif tag == "spine":
            spine = el
    if spine is None:
        raise InputError(Errors.E006.format(path=book.name, reason=f"{opf_path} has no spine"))
    members: list[str] = []
    for ref in spine:
        if _local(ref.tag) != "itemref" or (ref.get("linear") or "yes").lower() == "no":
            continue
        entry = manifest.get(ref.get("idref") or "")
        if entry is None:
            continue
        href, media_type, properties = entry
        if media_type not in _XHTML_TYPES or "nav" in properties.split():
            continue
        stem = posixpath.splitext(posixpath.basename(href))[0]
        if _NOT_STORY.match(ref.get("idref") or "") or _NOT_STORY.match(stem):
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
        found = book.find(path)
        if found is None:
            raise InputError(Errors.E006.format(path=book.name, reason=f"the spine names {path}, which is missing"))
        if found not in members:
            members.append(found)
    if not members:
        raise InputError(Errors.E006.format(path=book.name, reason="its spine lists no readable text documents"))
    return members


def _decode_xml(raw: bytes, name: str) -> str:
    """Decode an XHTML document: a BOM, then its declared encoding, then the text reader's guess."""
    m = _XML_ENCODING.match(raw)
    declared = m.group(1).decode("ascii").lower() if m else ""
    # The declaration was readable as ASCII, so a UTF-16/32 claim in it cannot be true.
    if declared and not declared.startswith(("utf-16", "utf16", "utf-32", "utf32")) \
            and not raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(raw, name)[0]
