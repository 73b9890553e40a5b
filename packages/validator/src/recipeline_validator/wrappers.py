"""What the runners that install scripts for an interpreter share (``gem_install``, ``cpan_install``):
the build programs of phase 2, the compiler's error line, and the bin wrappers.

A gem's or a CPAN distribution's executables need their interpreter and its library path
(``GEM_HOME``/``GEM_PATH``, ``PERL5LIB``) to run. As tsuku does, each one gets a ``/bin/sh``
wrapper that sets them and runs the script with the toolchain's interpreter by its absolute
path, so it runs from any directory and any environment; the step's executables are linked
from the wrappers' directory into ``<prefix>/bin``. Unlike tsuku's, the wrapper does not put the
interpreter's directory (``/usr/bin``, often) on PATH: in the verify, what else the tool may run
is the clean room's decision, and an undeclared program must show as missing.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from .runner import Toolchain

#: Where a compiler reports an error (``broken.c:3:1: error: ...``).
_COMPILER_ERROR = re.compile(r":\d+(?::\d+)?: (?:fatal )?error: ")


def build_programs(toolchain: Toolchain) -> list[str]:
    """The directories of ``make`` and ``cc`` (a compiler driver finds its assembler there too)."""
    dirs = [
        str(Path(toolchain.programs[name]).parent) for name in ("make", "cc") if name in toolchain.programs
    ]
    return list(dict.fromkeys(dirs))


def write_wrappers(bin_dir: Path, wrappers: Path, template: str, **values: str) -> None:
    """A ``/bin/sh`` wrapper in ``wrappers`` for every file of ``bin_dir``, from ``template``
    (which gets ``exe``, ``script_q`` and each of ``values`` as is and shell-quoted, ``<key>_q``)."""
    wrappers.mkdir(parents=True, exist_ok=True)
    if not bin_dir.is_dir():
        return
    quoted = {f"{key}_q": shlex.quote(value) for key, value in values.items()}
    for script in sorted(bin_dir.iterdir()):
        if not script.is_file():
            continue
        text = template.format(exe=script.name, script_q=shlex.quote(str(script)), **values, **quoted)
        wrapper = wrappers / script.name
        wrapper.unlink(missing_ok=True)
        wrapper.write_text(text, encoding="utf-8")
        wrapper.chmod(0o755)


def compiler_error(output: str) -> str:
    """The compiler's first error line of a build's output (``""`` when there is none)."""
    return next((" ".join(line.split()) for line in output.splitlines() if _COMPILER_ERROR.search(line)), "")
