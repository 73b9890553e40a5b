"""The eleven validation environments of ARCHITECTURE §6."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import InvalidValueError

EnvironmentId = Literal[
    "linux-debian-glibc-x86_64",
    "linux-rhel-glibc-x86_64",
    "linux-arch-glibc-x86_64",
    "linux-suse-glibc-x86_64",
    "linux-alpine-musl-x86_64",
    "linux-debian-glibc-arm64",
    "linux-rhel-glibc-arm64",
    "linux-suse-glibc-arm64",
    "linux-alpine-musl-arm64",
    "darwin-arm64",
    "darwin-x86_64",
]
ENVIRONMENTS: tuple[str, ...] = EnvironmentId.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Environment:
    id: str
    os: str  # linux | darwin
    family: str | None  # debian rhel arch suse alpine; None on darwin
    libc: str | None  # glibc | musl; None on darwin
    arch: str  # x86_64 | arm64

    @property
    def is_linux(self) -> bool:
        return self.os == "linux"


def parse_environment(env_id: str) -> Environment:
    """Split an environment id into its parts; raise for ids outside the eleven."""
    if env_id not in ENVIRONMENTS:
        raise InvalidValueError(f"environment {env_id!r}: expected one of {list(ENVIRONMENTS)}")
    parts = env_id.split("-")
    if parts[0] == "darwin":
        return Environment(env_id, "darwin", None, None, parts[1])
    return Environment(env_id, "linux", parts[1], parts[2], parts[3])


def environment_for(os: str, family: str | None, libc: str | None, arch: str) -> str:
    """The environment id for detected host facts; raise when the host is none of the eleven."""
    arch = {"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch)
    env_id = f"darwin-{arch}" if os == "darwin" else f"linux-{family}-{libc}-{arch}"
    return parse_environment(env_id).id
