"""The clean room: what an install (phase 2) and the verify see of the host, and what they lack.

PATH is ``<prefix>/bin``, then the declared toolchain runtime, then the base — nothing else of
the host's:

- ``<prefix>/base/bin`` holds symlinks to a fixed set of POSIX utilities (``BASE_UTILITIES``)
  found in ``/usr/bin:/bin``: what verify commands and install scripts legitimately use;
- the runtime: programs a recipe's action declares (``Toolchain.runtime``: node for npm
  tools, ruby for gems, perl for CPAN scripts) are linked into ``<prefix>/runtime/bin`` one by
  one, so a node in ``/usr/bin`` brings node and not the rest of ``/usr/bin``. A directory
  passed instead of a program goes on PATH as it is, unless it is a shared system directory
  (``SYSTEM_DIRS``), which is dropped;
- build programs (``build_dirs``): what an install command needs besides the runtime (cargo
  needs ``cc`` and the linker); same rules, except that a system directory is allowed there,
  since a compiler driver finds its assembler and linker on PATH. Only install commands get
  them, never the verify.

A tool that needs more is ``undeclared_dependency``, decided from structured facts only:

- ``shebang_gaps``: a linked executable is a script whose ``#!`` interpreter is neither in the
  prefix nor in the clean room (``#!/usr/bin/env node`` without node declared);
- ``missing_command``: the verify exited 127 and its command word is not on the clean PATH;
- ``library_gaps`` (``elfdeps``): an ELF file of the prefix needs a shared library that is
  neither in the prefix (its RUNPATH/RPATH, ``$ORIGIN``, or a library the prefix holds) nor in
  the base set of libraries (``BASE_LIBRARIES``: glibc's and musl's own, libgcc_s, libstdc++)
  nor one the declared toolchain's programs themselves load.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .elfdeps import ElfDeps, is_elf, read_deps

#: The utilities of the base, linked from ``HOST_BASE_PATH`` when the host has them.
BASE_UTILITIES = (
    "sh", "env", "cat", "echo", "printf", "test", "[", "true", "false", "expr",
    "grep", "sed", "awk", "head", "tail", "tr", "cut", "sort", "uniq", "wc", "tee", "xargs", "find",
    "ls", "mkdir", "rmdir", "rm", "cp", "mv", "ln", "chmod", "touch", "mktemp",
    "dirname", "basename", "readlink", "realpath", "pwd", "uname", "id", "date", "sleep", "cmp",
    "tar", "gzip",
)  # fmt: skip
HOST_BASE_PATH = "/usr/bin:/bin"
#: Directories shared by the whole system: never on the clean PATH as a whole.
SYSTEM_DIRS = frozenset({"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/local/sbin"})
#: Libraries every Linux program may need: the C library's own (glibc, musl) and the compiler's
#: runtime (libgcc_s, libstdc++), as every distribution installs them.
BASE_LIBRARIES = frozenset(
    {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
        "libresolv.so.2", "libanl.so.1", "libmvec.so.1", "libnsl.so.1", "libBrokenLocale.so.1",
        "libc_malloc_debug.so.0", "libthread_db.so.1", "libnss_files.so.2", "libnss_dns.so.2",
        "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld-linux-armhf.so.3",
        "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "ld-musl-x86_64.so.1",
        "ld-musl-aarch64.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libatomic.so.1",
    }
)  # fmt: skip
#: Where the host's libraries are looked up, only to say "the host has it" in a message.
HOST_LIBRARY_DIRS = (
    "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
    f"/lib/{platform.machine()}-linux-gnu", f"/usr/lib/{platform.machine()}-linux-gnu",
)  # fmt: skip
#: Top-level directories of a prefix that hold downloads, logs or the clean room itself, not
#: the installed tool: the library check does not look there.
NOT_INSTALLED = frozenset(
    {"cache", "npm-cache", "npm-stage", "logs", "tmp", "home", "work", "base", "runtime"}
)
MAX_SCANNED_FILES = 200_000
#: ELF e_machine of this host's architecture; files for another one are never loaded here.
HOST_MACHINE = {"x86_64": 62, "aarch64": 183, "arm64": 183}.get(platform.machine())


def base_bin(prefix: Path) -> Path:
    """``<prefix>/base/bin`` with the base utilities linked in (created on first use)."""
    target = prefix / "base" / "bin"
    if not target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for name in BASE_UTILITIES:
            found = shutil.which(name, path=HOST_BASE_PATH)
            if found is not None:
                (target / name).symlink_to(found)
    return target


def _place(prefix: Path, entries: Sequence[str], *, where: str, allow_system: bool) -> list[str]:
    """PATH entries for ``entries``: programs linked into ``<prefix>/<where>/bin``, directories
    as they are (system directories only with ``allow_system``)."""
    path: list[str] = []
    links = prefix / where / "bin"
    for entry in entries:
        if Path(entry).is_dir():
            if (allow_system or os.path.normpath(entry) not in SYSTEM_DIRS) and entry not in path:
                path.append(entry)
            continue
        links.mkdir(parents=True, exist_ok=True)
        link = links / Path(entry).name
        if not link.is_symlink():
            link.symlink_to(entry)
        if str(links) not in path:
            path.append(str(links))
    return path


def clean_env(prefix: Path, runtime: Sequence[str] = (), *, build_dirs: Sequence[str] = ()) -> dict[str, str]:
    """The clean room's environment: nothing inherited (no tokens), HOME and TMPDIR inside the
    prefix, PATH the prefix's bin, the runtime, the build programs (installs only), the base."""
    path = [
        str(prefix / "bin"),
        *_place(prefix, runtime, where="runtime", allow_system=False),
        *_place(prefix, build_dirs, where="build", allow_system=True),
        str(base_bin(prefix)),
    ]
    return {
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "HOME": str(prefix / "home"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(prefix / "tmp"),
    }


@dataclass(frozen=True, slots=True)
class Gap:
    """Something the installed tool needs that the clean room does not provide."""

    what: str  # "program" or "library"
    name: str  # node, libz.so.1, /usr/bin/python2
    needed_by: str  # the executable or file that needs it (relative to the prefix)
    host_has: str = ""  # where the host has it, when it does

    def message(self) -> str:
        where = (
            f"; this host has it at {self.host_has}, which is why it may work outside the sandbox"
            if self.host_has
            else "; this host does not have it either"
        )
        return (
            f"{self.needed_by} needs the {self.what} {self.name}, which is neither in the prefix "
            f"nor declared by the recipe's actions (the clean room's PATH has only the prefix, the "
            f"declared runtime and the base utilities){where}"
        )


def _inside(path: str, prefix: Path) -> bool:
    return os.path.normpath(path).startswith(str(prefix) + os.sep)


def interpreter_of(executable: Path) -> tuple[str, bool] | None:
    """A script's interpreter from its ``#!`` line: (name or path, looked up on PATH)."""
    try:
        with executable.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n")[0].decode("utf-8", "replace").split()
    if not words:
        return None
    if Path(words[0]).name != "env":
        return words[0], False
    rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]  # env -S, env A=B
    return (rest[0], True) if rest else None


def shebang_gaps(prefix: Path, executables: Iterable[str], path: str, host_path: str | None) -> list[Gap]:
    """Linked executables whose script interpreter the clean room (``path``) does not provide."""
    gaps = []
    allowed = {os.path.realpath(p) for d in path.split(os.pathsep) for p in _entries(d)}
    for exe in executables:
        script = prefix / "bin" / exe
        found = interpreter_of(script)
        if found is None:
            continue
        name, on_path = found
        if on_path:
            if shutil.which(name, path=path) is None:
                gaps.append(Gap("program", name, f"bin/{exe}", shutil.which(name, path=host_path) or ""))
        elif not _inside(name, prefix) and os.path.realpath(name) not in allowed:
            gaps.append(Gap("program", name, f"bin/{exe}", name if Path(name).exists() else ""))
    return gaps


def _entries(directory: str) -> list[Path]:
    try:
        return list(Path(directory).iterdir())
    except OSError:
        return []


#: Words a POSIX shell runs itself: never looked up on PATH.
SHELL_WORDS = frozenset(
    {
        ":", ".", "!", "{", "}", "[", "alias", "break", "case", "cd", "command", "continue", "do",
        "done", "elif", "else", "esac", "eval", "exec", "exit", "export", "false", "fi", "for",
        "getopts", "if", "read", "readonly", "return", "set", "shift", "test", "then", "times",
        "trap", "true", "type", "ulimit", "umask", "unset", "until", "wait", "while", "echo",
        "printf", "pwd", "local", "kill",
    }
)  # fmt: skip
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})
COMMAND = "command"
#: Words whose next word is run as a command.
PREFIX_WORDS = frozenset({"exec", COMMAND})
#: Reserved words after which a command follows.
SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{"})
#: Reserved words that end a compound command (what follows is not a command).
SHELL_CLOSERS = frozenset({"fi", "done", "}", "esac"})


def command_words(command: str) -> list[str]:
    """The words of ``command`` in command position (after ``&&``, ``|``, ``;``, ``(``...),
    assignments skipped; an unparsable command has none."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return []
    words: list[str] = []
    expecting = True
    after_command = False  # the previous word was `command`
    for word in tokens:
        if word in SHELL_OPERATORS or set(word) <= set("&|;()"):
            expecting, after_command = True, False
        elif not expecting or word.startswith(("<", ">")):
            continue
        elif after_command and word.startswith("-"):
            expecting = False  # command -v NAME looks NAME up, it does not run it
        elif "=" in word and not word.startswith("="):
            continue  # VAR=value before the command
        elif word in SHELL_CLOSERS:
            expecting = False
        elif word in SHELL_KEYWORDS or word in PREFIX_WORDS:
            after_command = word == COMMAND  # the next word is a command (exec, command run it)
        else:
            words.append(word)
            expecting = False
    return words


def missing_command(command: str, path: str, host_path: str | None) -> Gap | None:
    """For a verify that exited 127: the first word in command position that the clean PATH
    lacks (shell builtins and keywords are the shell's own)."""
    for word in command_words(command):
        if word in SHELL_WORDS or word.startswith("-") or "$" in word:
            continue
        if "/" in word:
            if not Path(word).exists():
                return Gap("program", word, "the verify command")
            continue
        if not any((Path(d) / word).exists() for d in path.split(os.pathsep) if d):
            return Gap("program", word, "the verify command", shutil.which(word, path=host_path) or "")
    return None


def provided_libraries(programs: Iterable[str]) -> set[str]:
    """The libraries the toolchain's programs load themselves (their DT_NEEDED)."""
    names: set[str] = set()
    for program in programs:
        deps = read_deps(Path(os.path.realpath(program)))
        if deps is not None:
            names.update(deps.needed)
    return names


#: A directory of prebuilt binaries for another OS (node-gyp-build's ``prebuilds/android-x64``,
#: ``darwin-arm64``, ``win32-x64``): never loaded on Linux, so their libraries are no gap
#: (firebase-tools and lighthouse carry bare-url's Android build, which needs bionic's libm.so).
OTHER_PLATFORM = re.compile(r"/(?:android|darwin|win32|ios|freebsd|openbsd|netbsd|sunos|aix)[-_][^/]*(?:/|$)")


def library_gaps(prefix: Path, provided: set[str]) -> list[Gap]:
    """ELF files of the installed tool needing a library from outside the prefix and the base."""
    elves: list[tuple[Path, ElfDeps]] = []
    held: set[str] = set()
    scanned = 0
    for root, dirs, files in os.walk(prefix):
        if Path(root) == prefix:
            dirs[:] = [d for d in dirs if d not in NOT_INSTALLED]
        for name in files:
            scanned += 1
            if scanned > MAX_SCANNED_FILES:
                break
            path = Path(root) / name
            held.add(name)
            if path.is_symlink() or OTHER_PLATFORM.search(root) or not is_elf(path):
                continue
            deps = read_deps(path)
            if deps is not None and (HOST_MACHINE is None or deps.machine == HOST_MACHINE):
                elves.append((path, deps))
    gaps = []
    for path, deps in elves:
        for library in deps.needed:
            if library in BASE_LIBRARIES or library in provided or _found(library, path, deps, prefix, held):
                continue
            gaps.append(Gap("library", library, str(path.relative_to(prefix)), _host_library(library)))
    return gaps


def _found(library: str, path: Path, deps: ElfDeps, prefix: Path, held: set[str]) -> bool:
    if "/" in library:
        full = library.replace("$ORIGIN", str(path.parent))
        return _inside(full, prefix) and Path(full).exists()
    for directory in deps.search_dirs(path.parent):
        if _inside(str(directory), prefix) and (directory / library).exists():
            return True
    # a library the prefix holds elsewhere: loaded through an executable's inherited RPATH, or
    # already loaded by the time this object is (the loader matches by soname)
    return library in held


def _host_library(library: str) -> str:
    for directory in HOST_LIBRARY_DIRS:
        candidate = Path(directory) / library
        if candidate.exists():
            return str(candidate)
    return ""
