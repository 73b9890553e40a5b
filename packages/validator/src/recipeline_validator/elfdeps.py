"""The shared libraries an ELF file needs (DT_NEEDED) and where it looks for them (RPATH, RUNPATH).

A small reader of the ELF header, the program headers and the dynamic segment, nothing more:
it reads the few bytes it needs with bounds checks, never maps or runs the file, and returns
None for anything that is not a well-formed dynamic ELF object. (pyelftools reads all of ELF
and DWARF; three dynamic tags do not need a dependency, and a reader this size is easy to audit
against files a package chose.)
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ELF_MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 15, 29
MAX_PROGRAM_HEADERS = 4096
MAX_DYNAMIC_ENTRIES = 65536
MAX_STRING = 4096


@dataclass(frozen=True, slots=True)
class ElfDeps:
    """What the dynamic loader reads from one ELF file."""

    machine: int
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    interpreter: str

    def search_dirs(self, origin: Path) -> list[Path]:
        """RUNPATH (or, without one, RPATH) with ``$ORIGIN`` expanded; other tokens dropped."""
        dirs = []
        for entry in self.runpath or self.rpath:
            expanded = entry.replace("${ORIGIN}", str(origin)).replace("$ORIGIN", str(origin))
            if "$" not in expanded and expanded:
                dirs.append(Path(expanded))
        return dirs


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def read_deps(path: Path) -> ElfDeps | None:
    """The dynamic dependencies of ``path``, or None (not ELF, static, or malformed)."""
    try:
        with path.open("rb") as fh:
            return _read(fh, os.fstat(fh.fileno()).st_size)
    except (OSError, struct.error, ValueError, UnicodeDecodeError):
        return None


def _read(fh: BinaryIO, size: int) -> ElfDeps | None:
    def at(offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > size:
            raise ValueError("outside the file")
        fh.seek(offset)
        data = fh.read(length)
        if len(data) != length:
            raise ValueError("short read")
        return data

    ident = at(0, 16)
    if ident[:4] != ELF_MAGIC or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return None
    wide = ident[4] == 2
    order = "<" if ident[5] == 1 else ">"
    if wide:
        e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum = struct.unpack(
            order + "HHIQQQIHHH", at(16, 42)
        )
        ph_format, ph_size = order + "IIQQQQQQ", 56
    else:
        e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum = struct.unpack(
            order + "HHIIIIIHHH", at(16, 30)
        )
        ph_format, ph_size = order + "IIIIIIII", 32
    if e_type not in (ET_EXEC, ET_DYN) or e_phentsize < ph_size or e_phnum > MAX_PROGRAM_HEADERS:
        return None
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None
    interpreter = ""
    for n in range(e_phnum):
        fields = struct.unpack(ph_format, at(e_phoff + n * e_phentsize, ph_size))
        if wide:
            p_type, _, p_offset, p_vaddr, _, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = fields[:5]
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
        elif p_type == PT_INTERP:
            interpreter = at(p_offset, min(p_filesz, MAX_STRING)).split(b"\0")[0].decode()
    if dynamic is None:
        return None
    entry_format, entry_size = (order + "qQ", 16) if wide else (order + "iI", 8)
    entries: list[tuple[int, int]] = []
    for n in range(min(dynamic[1] // entry_size, MAX_DYNAMIC_ENTRIES)):
        tag, value = struct.unpack(entry_format, at(dynamic[0] + n * entry_size, entry_size))
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab_addr = next((v for t, v in entries if t == DT_STRTAB), None)
    strsz = next((v for t, v in entries if t == DT_STRSZ), 0)
    if strtab_addr is None:
        return None
    strtab = next((off + strtab_addr - va for va, off, sz in loads if va <= strtab_addr < va + sz), None)
    if strtab is None:
        return None

    def string(offset: int) -> str:
        if offset >= strsz:
            raise ValueError("string outside the string table")
        raw = at(strtab + offset, min(MAX_STRING, strsz - offset, size - strtab - offset))
        return raw.split(b"\0")[0].decode()

    def strings(tag: int) -> tuple[str, ...]:
        return tuple(string(v) for t, v in entries if t == tag)

    def paths(tag: int) -> tuple[str, ...]:
        return tuple(p for value in strings(tag) for p in value.split(":") if p)

    return ElfDeps(
        machine=e_machine,
        needed=strings(DT_NEEDED),
        rpath=paths(DT_RPATH),
        runpath=paths(DT_RUNPATH),
        interpreter=interpreter,
    )
