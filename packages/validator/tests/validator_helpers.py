"""Test helpers: tiny wheels built with zipfile, hand-written recipes, small servers."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Phase 1 and the CLI subprocesses never read the machine's pip configuration in tests.
PIP_ISOLATED_ENV = {"PIP_CONFIG_FILE": os.devnull, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    dest: Path,
    distribution: str,
    version: str,
    *,
    module_source: str,
    scripts: dict[str, str],
    requires: tuple[str, ...] = (),
    data_scripts: dict[str, bytes] | None = None,
    requires_python: str = "",
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write ``<distribution>-<version>-py3-none-any.whl`` with one module and console scripts.

    ``scripts`` maps an executable name to a function of the module (``main``, ``net``...);
    ``data_scripts`` maps a file name to bytes installed as they are into the venv's ``bin``
    (``<dist>-<version>.data/scripts/``: a script with its own ``#!`` line, an ELF program);
    ``extra_files`` are more files of the wheel's root (a ``.pth`` file).
    """
    norm = re.sub(r"[-_.]+", "_", distribution).lower()
    module = f"{norm}_cli"
    dist_info = f"{norm}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {req}\n" for req in requires)
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    entry_points = "[console_scripts]\n" + "".join(
        f"{exe} = {module}:{func}\n" for exe, func in scripts.items()
    )
    files = {
        f"{module}.py": textwrap.dedent(module_source).encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: recipeline-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{dist_info}/entry_points.txt": entry_points.encode(),
    }
    files.update(extra_files or {})
    for name, data in (data_scripts or {}).items():
        files[f"{norm}-{version}.data/scripts/{name}"] = data
    record = [_record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if ".data/scripts/" in name else 0o100644) << 16  # S_IFREG + mode
            zf.writestr(info, data)
    return path


def recipe_toml(
    name: str,
    package: str,
    executables: list[str],
    command: str,
    *,
    pattern: str | None = None,
    mode: str | None = None,
) -> str:
    """A pipx_install recipe as the generator writes it (written by hand, not through tomlkit)."""
    exes = ", ".join(f'"{e}"' for e in executables)
    verify = f'command = "{command}"\n'
    if pattern is not None:
        verify += f'pattern = "{pattern}"\n'
    if mode is not None:
        verify += f'mode = "{mode}"\n'
    if mode == "output":
        verify += 'reason = "the tool prints no version"\n'
    return (
        f'[metadata]\nname = "{name}"\ndescription = "test tool"\nhomepage = "https://example.invalid/{name}"\n\n'
        f'[[steps]]\naction = "pipx_install"\npackage = "{package}"\nexecutables = [{exes}]\n\n'
        f"[verify]\n{verify}"
    )


TOOL_SOURCE = """
    import os, socket, sys, time

    def ok():
        print("oktool 1.2.3")
        for key in sorted(os.environ):
            print(f"env {key}={os.environ[key]}")

    def liar():
        print("liar 9.9.9")

    def sleepy():
        print("going to sleep", flush=True)
        time.sleep(120)

    def quiet():
        print("this tool prints no version")

    def hog():
        print("allocating", flush=True)
        blocks = [bytearray(64 * 1024 * 1024) for _ in range(32)]  # 2 GiB: above the test's limit
        print(len(blocks))

    def net():
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
        except OSError as exc:
            print(f"cannot connect: {exc}", file=sys.stderr)
            sys.exit(1)
        print("connected")
"""


@dataclass(frozen=True)
class Wheelhouse:
    """A directory of test wheels; ``names`` maps distribution -> version."""

    path: Path
    names: dict[str, str]


@dataclass
class LoopbackServer:
    """A TCP server on 127.0.0.1 that counts the connections it accepted."""

    port: int
    accepted: list[str]


def npm_recipe(name: str, package: str, executables: list[str], command: str, pattern: str) -> str:
    """An npm_install recipe as the generator writes it."""
    exes = ", ".join(f'"{e}"' for e in executables)
    return (
        f'[metadata]\nname = "{name}"\ndescription = "test tool"\nhomepage = "https://example.invalid/{name}"\n\n'
        f'[[steps]]\naction = "npm_install"\npackage = "{package}"\nexecutables = [{exes}]\n\n'
        f'[verify]\ncommand = "{command}"\npattern = "{pattern}"\n'
    )


NODE_TOOL = """
    #!/usr/bin/env node
    const net = require("net");
    const helper = require("npmhelper");  // a dependency: proves the tree was installed offline
    const pkg = require("./package.json");
    if (process.argv[2] === "net") {
      const sock = net.connect(Number(process.argv[3]), "127.0.0.1");
      sock.on("connect", () => { console.log("connected"); process.exit(0); });
      sock.on("error", (e) => { console.error("cannot connect: " + e.message); process.exit(1); });
    } else {
      console.log(helper.banner(pkg.name, pkg.claims || pkg.version));
    }
"""
#: What ``npmhook``'s postinstall script leaves in its package directory when it runs.
HOOK_MARKER = "postinstall-ran"
NODE_HOOK = f"""
    require("fs").writeFileSync("{HOOK_MARKER}", "");
    console.error("hook: cannot find a C++ compiler to build the addon");
    process.exit(3);
"""
NODE_WRAPPER = """
    #!/usr/bin/env node
    const engine = require("npmengine/package.json");
    const arg = process.argv[2];
    if (arg === "--help") {
      console.log("Usage:\\n    npmwrap [input] [options]");
    } else if (arg === "--version" || arg === "-v") {
      console.log(engine.version);
    } else {
      console.error("Unknown option: " + arg);
      process.exit(2);
    }
"""
NODE_HELPER = """
    module.exports.banner = (name, version) => name + " " + version;
"""
