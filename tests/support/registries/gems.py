"""``.gem`` files built with the real ``gem build`` (ruby must be installed)."""

from __future__ import annotations

import functools
import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path


@functools.cache
def local_platform() -> str:
    """This host's ``Gem::Platform.local`` (e.g. ``x86_64-linux``), asked from ruby once."""
    done = subprocess.run(
        ["ruby", "-e", "print Gem::Platform.local"], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@dataclass(frozen=True)
class TinyGem:
    """A gem to build: its files (path -> text), executables, dependencies, extensions."""

    name: str
    version: str
    files: dict[str, str]
    executables: tuple[str, ...] = ()
    dependencies: tuple[tuple[str, str], ...] = ()
    extensions: tuple[str, ...] = ()
    platform: str = "ruby"  # "local": this host's (Gem::Platform.local)
    summary: str = "a test gem"

    @property
    def full_name(self) -> str:
        return f"{self.name}-{self.version}" + ("" if self.platform == "ruby" else f"-{local_platform()}")


def gemspec(gem: TinyGem) -> str:
    """The ``.gemspec`` of ``gem`` (executables in ``exe/``)."""
    lines = [
        "Gem::Specification.new do |s|",
        f"  s.name = {gem.name!r}",
        f"  s.version = {gem.version!r}",
        f"  s.summary = {gem.summary!r}",
        '  s.authors = ["recipeline tests"]',
        '  s.license = "MIT"',
        f"  s.files = {sorted(gem.files)!r}",
        '  s.bindir = "exe"',
        f"  s.executables = {list(gem.executables)!r}",
        f"  s.extensions = {list(gem.extensions)!r}",
        *(["  s.platform = Gem::Platform.local"] if gem.platform == "local" else []),
        *(f"  s.add_runtime_dependency {name!r}, {req!r}" for name, req in gem.dependencies),
        "end",
    ]
    return "\n".join(lines) + "\n"


def build_gem(work: Path, gem: TinyGem) -> bytes:
    """``gem build`` of ``gem`` in a directory of its own under ``work``; the .gem file's bytes."""
    src = work / gem.full_name
    for path, text in gem.files.items():
        target = src / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        if path.startswith("exe/"):
            target.chmod(0o755)
    (src / f"{gem.name}.gemspec").write_text(gemspec(gem), encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "SOURCE_DATE_EPOCH": "0"}
    subprocess.run(
        ["gem", "build", f"{gem.name}.gemspec"], cwd=src, env=env, check=True, capture_output=True, timeout=60
    )
    return (src / f"{gem.full_name}.gem").read_bytes()
