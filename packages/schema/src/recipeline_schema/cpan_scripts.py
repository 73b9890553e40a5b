"""Which files of a CPAN release are the commands it installs: one rule for the generator's CPAN
builder and the seeder's CPAN source (so both decide alike). Pure.

MetaCPAN lists a release's files (``/v1/file/_search``, ``_source=path,mime``). The commands are
the files of ``script/`` and ``bin/`` one level deep (``x.PL`` builds ``x``), and Perl scripts at
the root of the distribution (ack keeps ``ack`` there): no extension and MetaCPAN's ``mime`` for a
``#!...perl`` first line. Documentation, Windows wrappers and dot files are not commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: CPAN distribution names (``Perl-Critic``, ``ack``, ``libwww-perl``).
DISTRIBUTION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*$")
PAUSE_ID_RE = re.compile(r"^[A-Z][A-Z0-9-]{0,63}$")
RELEASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")
#: Where a release keeps its executables, one level deep.
_SCRIPT_PATH = re.compile(r"^(?:script|bin)/([^/]+)$")
#: MetaCPAN's ``mime`` for a file without an extension whose first line is a ``#!...perl`` line.
PERL_SCRIPT_MIME = "text/x-script.perl"
_NOT_EXECUTABLES = (".bat", ".cmd", ".exe", ".pod", ".md", ".txt")


def script_names(files: Iterable[tuple[str, str | None]]) -> list[str]:
    """Executable names of a release's ``(path, mime)`` listing, in listing order."""
    names = []
    for path, mime in files:
        m = _SCRIPT_PATH.match(path)
        if m is not None:
            name = m.group(1).removesuffix(".PL")
        elif "/" not in path and "." not in path and mime == PERL_SCRIPT_MIME:
            name = path
        else:
            continue
        if name and not name.startswith(".") and not name.lower().endswith(_NOT_EXECUTABLES):
            names.append(name)
    return names
