"""Which of the eleven validation environments the host is (ARCHITECTURE §6.4).

``detect_environment`` is a pure function of ``HostFacts``; ``host_facts`` reads them from the
machine (``/etc/os-release``, the musl loader, ``platform``).
"""

from __future__ import annotations

import platform
import shlex
from dataclasses import dataclass
from pathlib import Path

from recipeline_schema import ENVIRONMENTS, InvalidValueError, environment_for, parse_environment

from .errors import EnvironmentDetectionError

OS_RELEASE_PATHS = (Path("/etc/os-release"), Path("/usr/lib/os-release"))
MUSL_LOADER_GLOB = "ld-musl-*.so.1"  # in /lib

#: os-release ID / ID_LIKE values -> the environment family. opensuse-* is matched by prefix.
FAMILIES: dict[str, str] = {
    "debian": "debian",
    "ubuntu": "debian",
    "rhel": "rhel",
    "fedora": "rhel",
    "centos": "rhel",
    "rocky": "rhel",
    "almalinux": "rhel",
    "arch": "arch",
    "suse": "suse",
    "sles": "suse",
    "opensuse": "suse",
    "alpine": "alpine",
}
ARCHES: dict[str, str] = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What environment detection looks at; ``os_release`` is the file's text ("" when absent)."""

    system: str  # platform.system(): Linux, Darwin, ...
    machine: str  # platform.machine(): x86_64, aarch64, arm64, AMD64, ...
    os_release: str = ""
    musl_loader: bool = False


def parse_os_release(text: str) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (shell quoting undone, comments skipped)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:  # unbalanced quote: keep the text as written
            words = [value.strip("\"'")]
        out[key.strip()] = " ".join(words)
    return out


def linux_family(os_release: dict[str, str]) -> str | None:
    """The family from ID, then each ID_LIKE entry in order; None when none is known."""
    candidates = [os_release.get("ID", ""), *os_release.get("ID_LIKE", "").split()]
    for candidate in candidates:
        key = candidate.strip().lower()
        if key.startswith("opensuse"):
            return "suse"
        if key in FAMILIES:
            return FAMILIES[key]
    return None


def detect_environment(facts: HostFacts) -> str:
    """The environment id of a host; ``EnvironmentDetectionError`` when it is none of the eleven.

    Decisions: Alpine (by os-release) is always musl. A musl loader on a known glibc family is
    ignored (Debian's ``musl`` package installs one beside glibc); a musl loader on an unknown
    distribution makes it the Alpine-like musl environment.
    """
    arch = ARCHES.get(facts.machine.strip().lower())
    if arch is None:
        raise EnvironmentDetectionError(
            f"unsupported CPU architecture {facts.machine!r}: expected one of {sorted(ARCHES)}"
        )
    system = facts.system.strip().lower()
    if system == "darwin":
        return _checked("darwin", None, None, arch, "macOS")
    if system != "linux":
        raise EnvironmentDetectionError(
            f"unsupported operating system {facts.system!r}: recipeline validates on Linux and macOS"
        )
    release = parse_os_release(facts.os_release)
    family = linux_family(release)
    what = release.get("PRETTY_NAME") or release.get("ID") or "an unknown Linux distribution"
    if family is None and facts.musl_loader:
        family = "alpine"
    if family is None:
        raise EnvironmentDetectionError(
            f"cannot tell the Linux family of {what!r} from os-release ID={release.get('ID', '')!r} "
            f"ID_LIKE={release.get('ID_LIKE', '')!r}: expected debian/ubuntu, rhel/fedora/centos/"
            "rocky/almalinux, arch, opensuse/sles/suse or alpine; pass --environment explicitly"
        )
    libc = "musl" if family == "alpine" else "glibc"
    return _checked("linux", family, libc, arch, what)


def _checked(os_name: str, family: str | None, libc: str | None, arch: str, what: str) -> str:
    try:
        return environment_for(os_name, family, libc, arch)
    except InvalidValueError:
        name = f"{os_name}-{family}-{libc}-{arch}" if family else f"{os_name}-{arch}"
        raise EnvironmentDetectionError(
            f"host {what!r} would be environment {name!r}, which is not one of the validation "
            f"environments {list(ENVIRONMENTS)}"
        ) from None


# --- IO edge ---------------------------------------------------------------------------------


def host_facts() -> HostFacts:
    """Read the facts of this machine."""
    text = ""
    for path in OS_RELEASE_PATHS:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            break
        except OSError:
            continue
    return HostFacts(
        system=platform.system(),
        machine=platform.machine(),
        os_release=text,
        musl_loader=any(Path("/lib").glob(MUSL_LOADER_GLOB)),
    )


def detect_host_environment() -> str:
    """The environment id of this machine (``--environment auto``)."""
    return detect_environment(host_facts())


def resolve_environment(requested: str, *, any_linux_family: bool = False) -> str:
    """``auto`` -> the host's environment; an explicit id must be valid and match the host.

    The native backend installs on the machine it runs on, so claiming another environment
    would record results for a platform that was never tried. An explicit id is trusted only
    when the host cannot be detected at all (an unknown distribution the operator vouches for).
    ``any_linux_family`` (backend tsuku, whose containers provide the family): a Linux id of the
    host's architecture is accepted whatever its family and libc.
    """
    if requested == "auto":
        return detect_host_environment()
    if requested not in ENVIRONMENTS:
        raise EnvironmentDetectionError(
            f"--environment {requested!r}: expected 'auto' or one of {list(ENVIRONMENTS)}"
        )
    try:
        host = detect_host_environment()
    except EnvironmentDetectionError:
        return requested
    if any_linux_family:
        wanted, have = parse_environment(requested), parse_environment(host)
        if wanted.os == have.os == "linux" and wanted.arch == have.arch:
            return requested
    if host != requested:
        raise EnvironmentDetectionError(
            f"--environment {requested!r} does not match this host ({host}); the native backend "
            "validates only the environment it runs on (run it on a matching runner or use auto)"
        )
    return requested
