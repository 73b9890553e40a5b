"""What a validation container adds: .ci/container-python and .ci/in-container, with recording
package managers (the workflow harness runs the container's task on the host; tests/act/README.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flowsupport import PROJECT

MANAGERS = {"apt": "apt-get", "dnf": "dnf", "pacman": "pacman", "zypper": "zypper", "apk": "apk"}


def _bin(tmp_path: Path, manager: str) -> Path:
    """A PATH with only: the package manager (it records its arguments), python3(.11), ln, dirname."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "installs.log"
    (bindir / manager).write_text(f'#!/bin/sh\necho "{manager} $*" >> "{log}"\n')
    for name in ("python3", "python3.11"):
        (bindir / name).write_text("#!/bin/sh\necho Python 3.11.9\n")
    for tool in ("ln", "dirname", "cat"):
        os.symlink(shutil.which(tool) or f"/usr/bin/{tool}", bindir / tool)
    for path in bindir.iterdir():
        path.chmod(0o755)
    return bindir


def _run(tmp_path: Path, manager: str, *args: str) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin" if (tmp_path / "bin").exists() else _bin(tmp_path, manager)
    env = {"PATH": str(bindir), "RECIPELINE_CONTAINER_BIN": str(bindir)}
    script = str(PROJECT / ".ci" / "container-python")
    return subprocess.run(["/bin/sh", script, *args], env=env, capture_output=True, text=True, check=False)


def _installs(tmp_path: Path) -> list[str]:
    log = tmp_path / "installs.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize(
    ("family", "base"),
    [
        ("apt", "apt-get install -y -q python3 python3-venv python3-pip git"),
        ("dnf", "dnf install -y -q python3.11 python3.11-pip git"),
        ("pacman", "pacman -Sy --noconfirm --needed python python-pip git"),
        ("zypper", "zypper --non-interactive install python311 python311-pip git"),
        ("apk", "apk add --no-cache python3 py3-pip git util-linux"),
    ],
)
def test_the_base_is_python_pip_and_git_of_the_family(tmp_path: Path, family: str, base: str) -> None:
    result = _run(tmp_path, MANAGERS[family])
    assert result.returncode == 0, result.stderr
    assert _installs(tmp_path)[-1] == base
    assert "Python 3.11" in result.stdout
    if family in ("dnf", "zypper"):  # python3 is the distribution's 3.11
        assert os.readlink(tmp_path / "bin" / "python3").endswith("python3.11")


@pytest.mark.parametrize(
    ("family", "packages"),
    [
        ("apt", "nodejs npm cargo golang-go ruby perl patchelf"),
        ("dnf", "nodejs npm cargo golang ruby perl patchelf"),
        ("pacman", "nodejs npm rust go ruby perl patchelf"),
        ("apk", "nodejs npm cargo go ruby perl patchelf"),
    ],
)
def test_toolchains_become_the_familys_packages(tmp_path: Path, family: str, packages: str) -> None:
    result = _run(tmp_path, MANAGERS[family], "python", "node", "rust", "go", "ruby", "perl", "patchelf")
    assert result.returncode == 0, result.stderr
    assert _installs(tmp_path)[-1].endswith(f" {packages}")


def test_python_alone_installs_nothing_more_and_an_unknown_toolchain_fails(tmp_path: Path) -> None:
    assert _run(tmp_path, "apt-get", "python").returncode == 0
    assert _installs(tmp_path) == []
    unknown = _run(tmp_path, "apt-get", "node", "cobol")
    assert unknown.returncode != 0
    assert "unknown toolchain 'cobol'" in unknown.stderr
    assert _installs(tmp_path) == []


def test_an_image_without_a_known_package_manager_fails_clearly(tmp_path: Path) -> None:
    result = _run(tmp_path, "yum")
    assert result.returncode == 1
    assert "no known package manager" in result.stderr


def test_in_container_provisions_builds_the_venv_then_runs_its_arguments(tmp_path: Path) -> None:
    bindir = _bin(tmp_path, "apt-get")
    calls = tmp_path / "calls.log"
    venv = tmp_path / "venv"
    # python3 -m venv DIR makes a venv whose pip records and whose python answers `toolchains`
    (bindir / "python3").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = venv ]; then\n'
        '  mkdir -p "$3/bin"\n'
        f'  printf \'#!/bin/sh\\necho "pip $*" >> "{calls}"\\n\' > "$3/bin/pip"\n'
        f'  printf \'#!/bin/sh\\necho "python $*" >> "{calls}"\\n\' > "$3/bin/python"\n'
        '  printf \'printf "python\\\\nnode\\\\n"\\n\' >> "$3/bin/python"\n'
        '  chmod +x "$3/bin/pip" "$3/bin/python"\n'
        "else echo Python 3.11.9; fi\n"
    )
    (bindir / "mkdir").symlink_to(shutil.which("mkdir") or "/usr/bin/mkdir")
    (bindir / "chmod").symlink_to(shutil.which("chmod") or "/usr/bin/chmod")
    env = {"PATH": str(bindir), "RECIPELINE_CONTAINER_VENV": str(venv)}
    result = subprocess.run(
        ["/bin/sh", str(PROJECT / ".ci" / "in-container"), "/bin/sh", "-c", 'echo "ran in $PWD with $PATH"',
         "--batch-dir", "build/batches/2026-01-29-001"],
        env=env, capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _installs(tmp_path) == [
        "apt-get update -q",
        "apt-get install -y -q python3 python3-venv python3-pip git",
        "apt-get update -q",
        "apt-get install -y -q nodejs npm",
    ]
    assert calls.read_text().splitlines() == [
        "pip install -q -r requirements.txt",
        "python -m recipeline_validator toolchains --batch-dir build/batches/2026-01-29-001",
    ]
    assert f"ran in {PROJECT} with {venv}/bin:" in result.stdout
