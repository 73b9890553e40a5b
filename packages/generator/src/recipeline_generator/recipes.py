"""Pure rules shared by builders: executable names, the verify command, homepages, recipes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from recipeline_schema import Recipe, Step, Verify, check_name

#: ARCHITECTURE §5: what an executable name may be before it reaches a recipe (at most 128 chars).
EXECUTABLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$")
DESCRIPTION_LIMIT = 300
URL_LIMIT = 2048

#: The package that *is* the installer an action runs, per action: (parameter naming the
#: package, its names up to case and ``-_.``). A recipe that installs one of these with that
#: action depends on itself (tsuku needs pipx to install pipx), so it is never generated.
INSTALLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pipx_install": ("package", ("pipx",)),
    "npm_install": ("package", ("npm",)),
    "cargo_install": ("crate", ("cargo",)),
    "gem_install": ("gem", ("rubygems-update",)),
    "go_install": ("module", ("golang.org/toolchain",)),
    "cpan_install": ("distribution", ("App-cpanminus", "App::cpanminus")),
}


@dataclass(frozen=True, slots=True)
class RejectedName:
    """An executable name that broke ``EXECUTABLE_RE``; ``shown`` is safe to print (repr, cut)."""

    shown: str


def _shown(name: str, limit: int = 60) -> str:
    text = repr(name)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def check_executables(names: Iterable[str]) -> tuple[str, ...] | RejectedName:
    """The names sorted and unique, or the first (in sorted order) that is not a safe file name.

    One hostile name rejects the whole set: metadata that tries to smuggle ``../`` or shell
    text into a recipe is not trusted for its other names either.
    """
    unique = sorted(set(names))
    for name in unique:
        if not EXECUTABLE_RE.fullmatch(name):
            return RejectedName(_shown(name))
    return tuple(unique)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def verify_executable(executables: tuple[str, ...], *, tool: str, project: str) -> str:
    """The executable whose ``--version`` verifies the install.

    Preference: the one named exactly like the tool (the recipe name), then one named like the
    project or the tool up to case and ``-_.``, then the shortest name (ties: alphabetical).
    """
    if not executables:
        raise ValueError("verify_executable needs at least one executable")
    if tool in executables:
        return tool
    for wanted in (_canonical(project), _canonical(tool)):
        for exe in executables:
            if _canonical(exe) == wanted:
                return exe
    return min(executables, key=lambda exe: (len(exe), exe))


def installs_itself(recipe: Recipe) -> str | None:
    """Why ``recipe`` installs the installer its own action needs (``INSTALLERS``), or ``None``."""
    for position, step in enumerate(recipe.steps, 1):
        entry = INSTALLERS.get(step.action)
        if entry is None:
            continue
        key, installers = entry
        package = str(step.params.get(key, ""))
        bare = _canonical(package.split("[", 1)[0].split("==", 1)[0].replace("::", "-"))
        if any(bare == _canonical(name.replace("::", "-")) for name in installers):
            return (
                f"step {position}: {step.action} of {package!r} would install the installer "
                f"{step.action} itself needs (a recipe that depends on itself)"
            )
    return None


def one_line_text(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """Whitespace and control characters collapsed to single spaces, cut to ``limit``."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def https_url(candidate: str, *, avoid_hosts: tuple[str, ...] = ()) -> str | None:
    """``candidate`` if it is a plain https URL with a host, not on ``avoid_hosts`` (or under them)."""
    value = candidate.strip()
    if len(value) > URL_LIMIT or any(not ch.isprintable() or ch.isspace() for ch in value):
        return None
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not host or parts.username or parts.password:
        return None
    if any(host == avoid or host.endswith("." + avoid) for avoid in avoid_hosts if avoid):
        return None
    return value


def install_recipe(
    *,
    name: str,
    action: str,
    package_key: str,
    package: str,
    executables: tuple[str, ...],
    description: str,
    homepage: str | None,
    project: str,
) -> Recipe:
    """A one-step ``<action>`` recipe verified by ``<executable> --version`` printing the version.

    ``project`` is the package's own short name, used to choose the verify executable.
    """
    check_name(name)
    exe = verify_executable(executables, tool=name, project=project)
    return Recipe(
        name=name,
        description=description,
        homepage=homepage or "",
        steps=(Step(action, {package_key: package, "executables": executables}),),
        verify=Verify(command=f"{exe} --version", pattern="{version}"),
    )
