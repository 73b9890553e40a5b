"""CPAN distribution tarballs (``<Dist>-<version>/`` with ``META.json``), as ``make dist`` writes them."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from dataclasses import dataclass, field

#: Where the tests' distributions live on the mirror (``authors/id/<AUTHOR_DIR>/``).
AUTHOR_DIR = "L/LO/LOCAL"
AUTHOR = "LOCAL"


@dataclass(frozen=True)
class Dist:
    """A distribution to pack: name, version, files (path -> text), executables, prerequisites."""

    name: str
    version: str
    files: dict[str, str]
    requires: dict[str, str] = field(default_factory=dict)
    provides: tuple[str, ...] = ()
    hostile: tarfile.TarInfo | None = None
    module_versions: dict[str, str] = field(default_factory=dict)  # a module's own, if not the release's

    @property
    def release(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def path(self) -> str:
        return f"{AUTHOR_DIR}/{self.release}.tar.gz"


def meta_json(dist: Dist) -> str:
    """The distribution's ``META.json`` (meta-spec 2)."""
    return json.dumps(
        {
            "name": dist.name,
            "version": dist.version,
            "abstract": "a test distribution",
            "author": ["recipeline tests"],
            "license": ["perl_5"],
            "dynamic_config": 0,
            "release_status": "stable",
            "generated_by": "recipeline tests",
            "meta-spec": {"version": 2},
            "prereqs": {
                "configure": {"requires": {"ExtUtils::MakeMaker": "0"}},
                "runtime": {"requires": {"perl": "5.008"} | dist.requires},
            },
            "provides": {
                module: {
                    "file": "lib/" + module.replace("::", "/") + ".pm",
                    "version": dist.module_versions.get(module, dist.version),
                }
                for module in dist.provides
            },
        },
        indent=2,
    )


def pack(dist: Dist) -> bytes:
    """``<release>.tar.gz`` with a top directory; ``dist.hostile`` is appended as it is."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, text in {"META.json": meta_json(dist), **dist.files}.items():
            data = textwrap.dedent(text).lstrip().encode()
            info = tarfile.TarInfo(f"{dist.release}/{path}")
            info.size = len(data)
            info.mode = 0o755 if not path.endswith((".pm", ".PL", ".json", ".xs")) else 0o644
            tar.addfile(info, io.BytesIO(data))
        if dist.hostile is not None:
            tar.addfile(dist.hostile, io.BytesIO(b"owned\n") if dist.hostile.isfile() else None)
    return out.getvalue()


def makefile_pl(module: str, exe_files: list[str], prereqs: dict[str, str]) -> str:
    """An ExtUtils::MakeMaker ``Makefile.PL`` installing ``exe_files`` as scripts."""
    return (
        "use ExtUtils::MakeMaker;\n"
        f"WriteMakefile(NAME => '{module}', VERSION_FROM => 'lib/{module.replace('::', '/')}.pm',\n"
        f"  EXE_FILES => [{', '.join(repr(e) for e in exe_files)}],\n"
        f"  PREREQ_PM => {{{', '.join(f'{k!r} => {v!r}' for k, v in prereqs.items())}}});\n"
    )


def perl_module(module: str, version: str, body: str = "") -> str:
    """A ``.pm`` file declaring ``$VERSION``."""
    return f"package {module};\nour $VERSION = '{version}';\n{body}1;\n"
