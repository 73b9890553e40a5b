"""Read a ``.gem`` file's ``executables`` without running Ruby or a general YAML loader.

A ``.gem`` is a plain tar holding ``metadata.gz`` (the gzipped YAML gemspec), ``data.tar.gz``
and ``checksums.yaml.gz``. Only ``metadata.gz`` is read, in memory (nothing is extracted to
disk), with its inflated size capped. It is the first member of a ``.gem``, so the start of the
file (one range request) normally holds it.

The gemspec YAML is written by Ruby's Psych and tagged with Ruby classes
(``--- !ruby/object:Gem::Specification``). A general YAML loader would have to be told what to
do with those tags; instead this module reads the two top-level fields it needs (``name`` and
``executables``) line by line, as Psych writes them, and treats everything else as opaque text.
Tags, anchors and aliases are never interpreted: a value that uses them is returned as text,
and the executable-name check rejects it. Unquoted, single- and double-quoted scalars are
understood; anything else is refused as "not understood".
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zlib
from dataclasses import dataclass

#: Largest inflated gemspec we read (real ones are a few KiB; a gzip bomb stops here).
METADATA_CAP = 4 * 1024 * 1024
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(?:[ \t]+(.*))?$")
_ITEM = re.compile(r"^([ \t]*)-(?:[ \t]+(.*))?$")


class GemError(Exception):
    """The ``.gem`` cannot be read (not a tar, no ``metadata.gz``, bad gzip, unreadable YAML)."""


@dataclass(frozen=True, slots=True)
class GemSpec:
    """The fields of a gemspec this builder uses (``summary`` is ``""`` when absent or not understood)."""

    name: str
    executables: tuple[str, ...]
    summary: str = ""


class NeedMoreError(Exception):
    """The bytes given are the start of a ``.gem`` that ends before ``metadata.gz`` does."""


def _packed_metadata(gem: bytes, *, complete: bool) -> bytes:
    """The raw ``metadata.gz`` member; ``NeedMoreError`` when ``gem`` is a prefix without all of it."""
    try:
        with tarfile.open(fileobj=io.BytesIO(gem), mode="r:") as tar:
            for member in tar:  # headers one by one: a prefix simply ends the listing early
                if member.name != "metadata.gz":
                    continue
                if not member.isfile():
                    raise GemError("the .gem's metadata.gz is not a regular file")
                if member.offset_data + member.size > len(gem):
                    if complete:
                        raise GemError("the .gem ends inside metadata.gz")
                    raise NeedMoreError
                fh = tar.extractfile(member)
                assert fh is not None  # a regular file always has one
                return fh.read(member.size)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if not complete:
            raise NeedMoreError from None
        raise GemError(f"not a readable .gem (tar): {type(exc).__name__}: {exc}") from None
    if not complete:
        raise NeedMoreError
    raise GemError("the .gem has no metadata.gz file")


def read_metadata(gem: bytes, *, complete: bool = True) -> bytes:
    """The inflated ``metadata.gz`` of a ``.gem`` file's bytes.

    With ``complete=False`` the bytes are the file's start (a range request): ``NeedMoreError``
    when they end before ``metadata.gz`` does (``gem build`` writes it first, so this is rare).
    """
    packed = _packed_metadata(gem, complete=complete)
    inflater = zlib.decompressobj(wbits=31)  # gzip framing
    try:
        data = inflater.decompress(packed, METADATA_CAP + 1)
    except zlib.error as exc:
        raise GemError(f"metadata.gz is not gzip data: {exc}") from None
    if len(data) > METADATA_CAP or inflater.unconsumed_tail:
        raise GemError(f"metadata.gz inflates past the {METADATA_CAP} byte cap")
    return data


def _scalar(text: str) -> str:
    """A YAML scalar as Psych writes it: plain, ``'single'`` or ``"double"`` quoted."""
    text = text.strip()
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise GemError(f"unterminated single-quoted scalar {text[:40]!r}")
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        try:
            value = json.loads(text)  # YAML's common escapes are JSON's
        except json.JSONDecodeError:
            return text  # an escape JSON lacks: kept raw, the name check refuses the backslash
        if not isinstance(value, str):
            raise GemError(f"unreadable double-quoted scalar {text[:40]!r}")
        return value
    plain = re.split(r"[ \t]#", text, maxsplit=1)[0]  # a comment after a plain scalar
    return plain.rstrip()


def _flow_items(text: str) -> list[str]:
    inner = text.strip()[1:-1].strip()
    return [_scalar(part) for part in inner.split(",")] if inner else []


def _text_value(first: str, following: list[str]) -> str:
    """A top-level string value that may go on over indented lines, as Psych folds long text.

    ``first`` is what follows ``key:``; ``following`` the indented lines after it. Plain and
    quoted scalars are folded (lines joined by one space); ``|``/``>`` block scalars are joined
    the same way (the description is one line anyway). Tags and aliases give ``""``.
    """
    rest = [line.strip() for line in following]
    if first[:1] in ("|", ">"):
        return " ".join(line for line in rest if line)
    if first[:1] in ("!", "&", "*", "[", "{"):
        return ""
    text = " ".join([first.strip(), *(line for line in rest if line)])
    try:
        return _scalar(text)
    except GemError:
        return ""


def parse_gemspec(yaml_text: str) -> GemSpec:
    """``name`` and ``executables`` of a Psych-written gemspec; ``GemError`` when not understood."""
    lines = yaml_text.splitlines()
    name: str | None = None
    executables: list[str] | None = None
    summary = ""
    i = 0
    while i < len(lines):
        m = _KEY.match(lines[i])
        i += 1
        if m is None:
            continue
        key, value = m[1], (m[2] or "").strip()
        if key == "summary":
            start = i
            while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
                i += 1
            summary = _text_value(value, lines[start:i])
        elif key == "name":
            if name is not None:
                raise GemError("the gemspec has two top-level 'name' keys")
            name = _scalar(value)
        elif key == "executables":
            if executables is not None:
                raise GemError("the gemspec has two top-level 'executables' keys")
            if value.startswith("[") and value.endswith("]"):
                executables = _flow_items(value)
            elif value in ("", "!ruby/array:Array"):
                executables = []
                while i < len(lines) and (item := _ITEM.match(lines[i])):
                    executables.append(_scalar(item[2] or ""))
                    i += 1
            elif value in ("~", "null"):
                executables = []
            else:
                raise GemError(f"'executables' is not a YAML sequence: {value[:40]!r}")
    if name is None:
        raise GemError("the gemspec has no top-level 'name'")
    return GemSpec(name=name, executables=tuple(executables or ()), summary=summary)


def read_gemspec(gem: bytes, *, complete: bool = True) -> GemSpec:
    """The gemspec fields of a ``.gem`` file's bytes (its start when not ``complete``)."""
    data = read_metadata(gem, complete=complete)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GemError(f"metadata is not UTF-8 (byte {exc.start})") from None
    return parse_gemspec(text)
