"""The local stand-ins of the actions the workflows use, and of ``docker``, for act in host mode.

Each action in ``tests/act/actions/<owner>/<name>/action.yml`` is a composite action of one step
that runs ``python standins.py <command>`` with its inputs in ``INPUT_*`` variables (the names
GitHub gives JavaScript actions), so each stand-in keeps the documented inputs and outputs of
the action it replaces. What they share is configured by the harness through variables it
passes to every job (``act --env``):

- ``RECIPELINE_ACT_GIT``: the folder of bare repositories; ``owner/name`` is
  ``$RECIPELINE_ACT_GIT/owner/name.git`` (what ``github.server_url`` is on GitHub);
- ``RECIPELINE_ACT_ARTIFACTS``: this workflow run's artifact storage, one folder per artifact;
- ``RECIPELINE_ACT_PAGES``: the published Pages site and ``deployments.jsonl``;
- ``RECIPELINE_ACT_BASE_PYTHON``: the prepared Python environment (``tests/act/README.md``).

Python 3.11 standard library only: it runs with whatever interpreter the harness names.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


class StandInError(Exception):
    """The action fails with this message (an ``::error::`` line, exit 1)."""


def _input(name: str, default: str = "") -> str:
    """An action input as GitHub hands it to actions: ``INPUT_<NAME>``, spaces as ``_``."""
    value = os.environ.get("INPUT_" + name.replace(" ", "_").upper(), "")
    return value.strip() or default


def _flag(name: str, default: bool) -> bool:
    raw = _input(name, "true" if default else "false").lower()
    if raw not in ("true", "false"):
        raise StandInError(f'Input does not meet YAML 1.2 "Core Schema" specification: {name}')
    return raw == "true"


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise StandInError(f"{name} is not set: this stand-in runs only under the workflow harness")
    return value


def _append(variable: str, text: str) -> None:
    """Append to one of the runner's command files ($GITHUB_OUTPUT, $GITHUB_ENV, $GITHUB_PATH)."""
    with Path(_env(variable)).open("a", encoding="utf-8") as fh:
        fh.write(text)


def _output(name: str, value: str) -> None:
    _append("GITHUB_OUTPUT", f"{name}={value}\n")


def _workspace() -> Path:
    return Path(_env("GITHUB_WORKSPACE"))


def _run(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        raise StandInError(f"{shlex.join(args)} failed: {tail[-1] if tail else f'exit {proc.returncode}'}")
    return proc.stdout


# --- actions/checkout@v4 -------------------------------------------------------------------------


def checkout() -> None:
    """Like actions/checkout: the event's commit (``github.sha``) on the event's branch unless
    ``ref`` names another; ``fetch-depth`` commits (0: every branch and tag); into ``path``."""
    repository = _input("repository", os.environ.get("GITHUB_REPOSITORY", ""))
    if repository.count("/") != 1:
        raise StandInError(f"Invalid repository '{repository}'. Expected format {{owner}}/{{repo}}.")
    bare = Path(_env("RECIPELINE_ACT_GIT")) / f"{repository}.git"
    if not bare.is_dir():
        raise StandInError(f"repository {repository} not found ({bare})")
    url = bare.resolve().as_uri()  # file:// so that --depth is honoured (a plain path ignores it)
    depth_text = _input("fetch-depth", "1")
    if not depth_text.isdigit():
        raise StandInError(f"fetch-depth: expected a number, got {depth_text!r}")
    depth = int(depth_text)
    ref = _input("ref")
    commit = ""
    if not ref:  # the event's ref and commit, as actions/checkout does for the workflow's repository
        ref = os.environ.get("GITHUB_REF", "")
        commit = os.environ.get("GITHUB_SHA", "")
    target = _workspace() / _input("path", ".")
    target.mkdir(parents=True, exist_ok=True)
    if _flag("clean", True):
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    git = ("git", "-C", str(target))
    _run(*git, "init", "-q")
    _run(*git, "remote", "add", "origin", url)
    deepen = [] if depth == 0 else [f"--depth={depth}"]
    if depth == 0:
        _run(
            *git,
            "fetch",
            "-q",
            "--prune",
            "--no-recurse-submodules",
            "origin",
            "+refs/heads/*:refs/remotes/origin/*",
            "+refs/tags/*:refs/tags/*",
        )
    kind, name = _ref_kind(ref, git)
    if kind == "branch":
        source = commit or f"refs/heads/{name}"
        _run(*git, "fetch", "-q", "--no-tags", *deepen, "origin", f"+{source}:refs/remotes/origin/{name}")
        _run(*git, "checkout", "-q", "--force", "-B", name, f"refs/remotes/origin/{name}")
    elif kind == "tag":
        _run(*git, "fetch", "-q", "--no-tags", *deepen, "origin", f"+refs/tags/{name}:refs/tags/{name}")
        _run(*git, "checkout", "-q", "--force", f"refs/tags/{name}")
    else:
        _run(*git, "fetch", "-q", "--no-tags", *deepen, "origin", name)
        _run(*git, "checkout", "-q", "--force", name)
    head = _run(*git, "rev-parse", "HEAD").strip()
    print(f"checked out {repository} {ref or '(default)'} at {head}")
    _output("ref", ref)
    _output("commit", head)


def _ref_kind(ref: str, git: Sequence[str]) -> tuple[str, str]:
    """``branch``/``tag``/``commit`` and the short name, as actions/checkout reads ``ref``."""
    if ref.startswith("refs/heads/"):
        return "branch", ref.removeprefix("refs/heads/")
    if ref.startswith("refs/tags/"):
        return "tag", ref.removeprefix("refs/tags/")
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        return "commit", ref
    listed = _run(*git, "ls-remote", "origin", f"refs/heads/{ref}", f"refs/tags/{ref}")
    if f"refs/heads/{ref}" in listed:
        return "branch", ref
    if f"refs/tags/{ref}" in listed:
        return "tag", ref
    raise StandInError(f"A branch or tag with the name '{ref}' could not be found")


# --- actions/setup-python@v5 ---------------------------------------------------------------------


def setup_python() -> None:
    """Put a Python of the requested version on PATH: a fresh environment of its own per job,
    layered on the harness's prepared interpreter (see ``layered_python``)."""
    wanted = _input("python-version")
    if not wanted and _input("python-version-file"):
        wanted = (_workspace() / _input("python-version-file")).read_text(encoding="utf-8").split()[0]
    have = "{}.{}.{}".format(*sys.version_info[:3])
    if wanted and not _version_matches(wanted, have):
        raise StandInError(
            f"The version '{wanted}' with architecture 'x64' was not found for this runner: the "
            f"workflow harness prepares Python {have} only (tests/act/README.md)"
        )
    prefix = Path(_env("RUNNER_TEMP")) / "setup-python" / have
    python = layered_python(prefix)
    _append("GITHUB_PATH", f"{prefix / 'bin'}\n")
    _append("GITHUB_ENV", f"pythonLocation={prefix}\nPython_ROOT_DIR={prefix}\nPython3_ROOT_DIR={prefix}\n")
    _output("python-version", have)
    _output("python-path", str(python))
    _output("cache-hit", "false")
    print(f"Successfully set up CPython ({have}) at {prefix}")


def _version_matches(spec: str, version: str) -> bool:
    """``3.11``, ``3.11.x``, ``3.x``, ``3.11.7`` against ``version`` (the forms the workflows use)."""
    wanted = spec.strip().removeprefix("v").split(".")
    have = version.split(".")
    return all(w in ("x", "*") or w == h for w, h in zip(wanted, have, strict=False))


def layered_python(prefix: Path) -> Path:
    """A virtual environment at ``prefix`` that sees the prepared environment's packages.

    ``RECIPELINE_ACT_BASE_PYTHON`` is a virtual environment the harness built once per session
    with every third-party distribution of ``requirements.txt`` (and hatchling), but not the
    project's packages nor invoke. A ``.pth`` file makes them importable here, and ``pip`` runs
    from there: a job's ``pip install -r requirements.txt`` really installs invoke and the
    project's packages (editable, from the job's checkout) into this environment, and finds the
    rest already installed, in about two seconds instead of a minute.
    """
    base = Path(_env("RECIPELINE_ACT_BASE_PYTHON"))
    python = prefix / "bin" / "python"
    if python.exists():
        return python
    _run(str(base / "bin" / "python"), "-m", "venv", "--without-pip", str(prefix))
    purelib = _run(
        str(base / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).strip()
    own = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    Path(own, "_recipeline_act_base.pth").write_text(purelib + "\n", encoding="utf-8")
    for name in ("pip", "pip3", f"pip3.{sys.version_info[1]}"):
        script = prefix / "bin" / name
        script.write_text(
            f"#!{python}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n",
            encoding="utf-8",
        )
        script.chmod(0o755)
    return python


# --- actions/upload-artifact@v4 and actions/download-artifact@v4 ---------------------------------


def _artifacts() -> Path:
    path = Path(_env("RECIPELINE_ACT_ARTIFACTS"))
    path.mkdir(parents=True, exist_ok=True)
    return path


_NAME = re.compile(r'^[^":<>|*?\\/\r\n]+$')


def upload_artifact() -> None:
    """Store the files ``path`` matches as artifact ``name`` of this run (immutable, like v4)."""
    name = _input("name", "artifact")
    if not _NAME.match(name):
        raise StandInError(f"The artifact name is not valid: {name}")
    files, root = _search(_input("path"), include_hidden=_flag("include-hidden-files", False))
    if not files:
        missing = _input("if-no-files-found", "warn")
        message = (
            f"No files were found with the provided path: {_input('path')}. No artifacts will be uploaded."
        )
        if missing == "error":
            raise StandInError(message)
        if missing == "warn":
            print(f"::warning::{message}")
        return
    store = _artifacts() / name
    if store.exists():
        if not _flag("overwrite", False):
            raise StandInError(
                "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) "
                "Conflict: an artifact with this name already exists on the workflow run"
            )
        shutil.rmtree(store)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=_artifacts()))
    for file in files:
        destination = staging / file.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    staging.rename(store)  # whole or not at all: a job killed mid-upload leaves no half artifact
    artifact_id = str(len([p for p in _artifacts().iterdir() if not p.name.startswith(".")]))
    print(f"Artifact {name} has been successfully uploaded! Final size is {len(files)} files.")
    _output("artifact-id", artifact_id)
    _output("artifact-url", f"{store.as_uri()}")


def _search(text: str, *, include_hidden: bool) -> tuple[list[Path], Path]:
    """The files the lines of ``path`` match (globs, ``!`` exclusions) and their upload root:
    the least common ancestor of the search paths, as @actions/artifact computes it."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not lines:
        raise StandInError("Input required and not supplied: path")
    include = [ln for ln in lines if not ln.startswith("!")]
    exclude = [_absolute(ln[1:].strip()) for ln in lines if ln.startswith("!")]
    found: dict[Path, None] = {}
    searched: list[Path] = []
    for pattern in include:
        absolute = _absolute(pattern)
        searched.append(_static_part(absolute))
        for match in _glob(absolute):
            candidates = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            for file in candidates:
                hidden = any(part.startswith(".") for part in file.relative_to(_static_part(absolute)).parts)
                if hidden and not include_hidden:
                    continue
                if not any(fnmatch.fnmatch(str(file), str(ex)) or ex in file.parents for ex in exclude):
                    found[file] = None
    files = list(found)
    if not files:
        return [], Path("/")
    if len(searched) == 1 and len(files) == 1 and searched[0] == files[0]:
        return files, files[0].parent  # a single file is stored by its name
    root = Path(os.path.commonpath([str(p) for p in searched]))
    return files, root if root.is_dir() else root.parent


def _absolute(pattern: str) -> Path:
    path = Path(os.path.expanduser(pattern))
    return path if path.is_absolute() else Path.cwd() / path


def _static_part(pattern: Path) -> Path:
    """The path up to its first glob segment."""
    parts: list[str] = []
    for part in pattern.parts:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return Path(*parts)


def _glob(pattern: Path) -> list[Path]:
    static = _static_part(pattern)
    if static == pattern:
        return [pattern] if pattern.exists() else []
    rest = str(pattern.relative_to(static))
    return sorted(static.glob(rest))


def download_artifact() -> None:
    """Copy artifact ``name``, or every artifact ``pattern`` matches, of this run into ``path``."""
    if _input("run-id") or _input("repository"):
        raise StandInError(
            "the workflow harness keeps the artifacts of the current run only (run-id, repository)"
        )
    name = _input("name")
    target = _absolute(_input("path", str(_workspace())))
    stored = {p.name: p for p in _artifacts().iterdir() if p.is_dir() and not p.name.startswith(".")}
    if name:
        if name not in stored:
            raise StandInError(f"Unable to download artifact(s): Artifact not found for name: {name}")
        chosen = {name: stored[name]}
        merge = True  # one named artifact goes straight into path
    else:
        pattern = _input("pattern", "*")
        chosen = {n: p for n, p in sorted(stored.items()) if fnmatch.fnmatchcase(n, pattern)}
        merge = _flag("merge-multiple", False)
        print(f"Found {len(chosen)} artifact(s) matching {pattern!r}")
    for artifact, source in chosen.items():
        destination = target if merge else target / artifact
        shutil.copytree(source, destination, dirs_exist_ok=True)
        print(f"Artifact {artifact} was downloaded to {destination}")
    _output("download-path", str(target))


# --- actions/upload-pages-artifact@v3 and actions/deploy-pages@v4 --------------------------------


def upload_pages_artifact() -> None:
    """Like upload-pages-artifact: ``path`` as ``artifact.tar`` in artifact ``name`` (github-pages)."""
    site = _absolute(_input("path", "_site/"))
    if not site.is_dir():
        raise StandInError(f"tar: {site}: Cannot open: No such file or directory")
    name = _input("name", "github-pages")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=_artifacts()))
    with tarfile.open(staging / "artifact.tar", "w") as tar:
        for file in sorted(site.rglob("*")):
            relative = file.relative_to(site)
            if relative.parts[0] in (".git", ".github") or not file.is_file():
                continue
            tar.add(file, arcname=f"./{relative}", recursive=False)
    if (_artifacts() / name).exists():
        raise StandInError(f"an artifact named {name} already exists on the workflow run")
    staging.rename(_artifacts() / name)
    _output("artifact_id", name)


def deploy_pages() -> None:
    """Publish the Pages artifact: its files become the site; one line in ``deployments.jsonl``."""
    name = _input("artifact_name", "github-pages")
    archive = _artifacts() / name / "artifact.tar"
    if not archive.is_file():
        raise StandInError(f"Fetching artifact metadata failed. Is artifact {name} uploaded?")
    pages = Path(_env("RECIPELINE_ACT_PAGES"))
    pages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=pages))
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    site = pages / "site"
    old = pages / f".old-{time.monotonic_ns()}"
    if site.exists():
        site.rename(old)
    staging.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    record = {
        "sha": os.environ.get("GITHUB_SHA", ""),
        "workflow": os.environ.get("GITHUB_WORKFLOW", ""),
        "event": os.environ.get("GITHUB_EVENT_NAME", ""),
        "files": sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()),
    }
    with (pages / "deployments.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    _output("page_url", site.as_uri() + "/")
    print(f"Reported success! Deployed to {site}")


# --- docker ----------------------------------------------------------------------------------------

IN_CONTAINER = ".ci/in-container"


def docker(argv: Sequence[str]) -> int:
    """``docker run ... IMAGE .ci/in-container ARGS``: ARGS on the host, as tests/act/README.md says.

    The image must be the host's own distribution (the one environment this machine can really
    validate); any other image cannot start here and fails as ``docker run`` fails then (exit
    125). What ``.ci/in-container`` does inside the image (the image's Python, git, toolchains,
    a venv with requirements.txt) is replaced by a venv from the prepared Python with
    ``pip install -r requirements.txt``; then ARGS run in the container's working directory.
    """
    if not argv or argv[0] != "run":
        print(
            f"docker: the workflow harness runs only 'docker run', not {shlex.join(argv)!r}", file=sys.stderr
        )
        return 125
    options, image, command = _parse_run(argv[1:])
    host = _host_image()
    if image not in host:
        print(
            f"docker: Error response from daemon: image {image!r} cannot start on this host: the "
            f"workflow harness starts only the host's own distribution ({' or '.join(sorted(host))}); "
            "see tests/act/README.md",
            file=sys.stderr,
        )
        return 125
    if len(command) == 3 and command[0] in ("sh", "bash") and command[1] == "-c":
        command = shlex.split(command[2])
    if not command or not command[0].endswith(IN_CONTAINER):
        print(
            f"docker: the harness runs only '{IN_CONTAINER} ...' commands, got {shlex.join(command)!r}",
            file=sys.stderr,
        )
        return 125
    workdir = _host_path(options["workdir"] or "/", options["volumes"])
    env = {**os.environ, **options["env"]}
    with tempfile.TemporaryDirectory(prefix="recipeline-container-") as tmp:
        venv = layered_python(Path(tmp) / "venv")
        pip = [str(venv), "-m", "pip", "install", "-q", "-r", "requirements.txt"]
        if subprocess.run(pip, cwd=workdir, env=env, check=False).returncode != 0:
            return 1
        env["PATH"] = f"{venv.parent}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(command[1:], cwd=workdir, env=env, check=False).returncode


def _parse_run(args: Sequence[str]) -> tuple[dict[str, Any], str, list[str]]:
    """``docker run`` options the workflows use (-v, -w, -e, --rm, --cap-add, --platform)."""
    options: dict[str, Any] = {"volumes": [], "workdir": "", "env": {}}
    rest = list(args)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("--rm", "-i", "-t", "-it", "--init", "--privileged"):
            continue
        if "=" in flag and flag.startswith("--"):
            flag, value = flag.split("=", 1)
        else:
            value = rest.pop(0)
        if flag in ("-v", "--volume"):
            host, _, container = value.partition(":")
            options["volumes"].append((host, container.split(":")[0]))
        elif flag in ("-w", "--workdir"):
            options["workdir"] = value
        elif flag in ("-e", "--env"):
            key, sep, val = value.partition("=")
            options["env"][key] = val if sep else os.environ.get(key, "")
        elif flag not in ("--cap-add", "--platform", "--user", "-u", "--network", "--security-opt"):
            raise SystemExit(f"docker: the workflow harness does not know the option {flag}")
    if not rest:
        raise SystemExit('docker: "docker run" requires at least 1 argument.')
    return options, rest[0], rest[1:]


def _host_path(path: str, volumes: Sequence[tuple[str, str]]) -> Path:
    for host, container in volumes:
        if path == container or path.startswith(container.rstrip("/") + "/"):
            return Path(host) / path[len(container) :].lstrip("/")
    raise SystemExit(f"docker: working directory {path} is not in a mounted volume")


def _host_image() -> set[str]:
    """The image names of this host's distribution: ``debian:bookworm``, ``debian:12``."""
    fields: dict[str, str] = {}
    for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value.strip().strip('"')
    name = fields.get("ID", "")
    tags = {fields.get("VERSION_CODENAME", ""), fields.get("VERSION_ID", "")} - {""}
    return {f"{name}:{tag}" for tag in tags}


# --- tsuku ------------------------------------------------------------------------------------------


def tsuku(argv: Sequence[str]) -> int:
    """``tsuku create NAME --from pypi:ID --output PATH ... --deterministic-only``, as the generator's
    second backend calls it (RECIPELINE_TSUKU): the recipe tsuku writes for a PyPI console tool.

    tsuku is not on this machine; this stand-in exists for the one scenario that needs a recipe
    no deterministic builder of this project writes: one that installs and verifies fine but
    needs review. A package named in ``RECIPELINE_ACT_TSUKU_REVIEW`` gets a verify command with
    ``&&`` (the safety analysis flags conditional execution); every other one the plain form.
    Another ecosystem ends as tsuku's exit 9 with its ``[requires_llm]`` tag.
    """
    if len(argv) < 2 or argv[0] != "create":
        print("tsuku (workflow harness stand-in): only 'create' is known", file=sys.stderr)
        return 2
    name, options = argv[1], list(argv[2:])
    source = options[options.index("--from") + 1]
    output = Path(options[options.index("--output") + 1])
    ecosystem, _, identifier = source.partition(":")
    if ecosystem != "pypi":
        print(
            f"Error: deterministic generation failed: [requires_llm] {source} needs an LLM", file=sys.stderr
        )
        return 9
    review = name in os.environ.get("RECIPELINE_ACT_TSUKU_REVIEW", "").split()
    command = f"{name} --version" + (f" && {name} --help" if review else "")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        f'[metadata]\nname = "{name}"\ndescription = "a test tool"\nhomepage = "https://example.org/{identifier}"\n\n'
        f'[[steps]]\naction = "pipx_install"\npackage = "{identifier}"\nexecutables = ["{name}"]\n\n'
        f'[verify]\ncommand = "{command}"\npattern = "{{version}}"\n',
        encoding="utf-8",
    )
    print(f"Recipe written to {output}")
    return 0


COMMANDS: dict[str, Callable[[], None]] = {
    "checkout": checkout,
    "setup-python": setup_python,
    "upload-artifact": upload_artifact,
    "download-artifact": download_artifact,
    "upload-pages-artifact": upload_pages_artifact,
    "deploy-pages": deploy_pages,
}


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "docker":
        return docker(argv[1:])
    if argv and argv[0] == "tsuku":
        return tsuku(argv[1:])
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: standins.py {{{','.join(COMMANDS)},docker}}", file=sys.stderr)
        return 2
    try:
        COMMANDS[argv[0]]()
    except StandInError as exc:
        print(f"::error::{exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
