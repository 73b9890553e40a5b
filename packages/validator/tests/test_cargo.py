"""``cargo_install`` end to end: the real cargo against a local sparse registry built here.

The registry (``config.json``, index files in cargo's layout, ``.crate`` downloads) is served on
loopback by ``pytest-httpserver``; one module-scoped run validates every scenario in parallel.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from registries.crates import build_crate
from validator_helpers import LoopbackServer

from recipeline_schema import RecipeResult, parse_environment
from recipeline_validator import Isolation, Limits, NativeOptions, RecipeInput, RunSettings, validate_all
from recipeline_validator.cargo import CargoRunner, download_url, index_path, pick_version

ENV = parse_environment("linux-debian-glibc-x86_64")
LIB_SOURCE = 'pub fn banner(name: &str, version: &str) -> String { format!("{name} {version}") }\n'
MAIN_SOURCE = 'fn main() {{ println!("{name} {{}}", {version}); }}\n'
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def _manifest(name: str, version: str, *, deps: str = "", lib: bool = False) -> str:
    target = "" if lib else f'\n[[bin]]\nname = "{name}"\npath = "src/main.rs"\n'
    return f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n{target}' + (
        f"\n[dependencies]\n{deps}" if deps else ""
    )


def _bin(name: str, version: str, *, prints: str | None = None) -> dict[str, str]:
    main = MAIN_SOURCE.format(name=name, version=f'"{prints}"' if prints else 'env!("CARGO_PKG_VERSION")')
    return {"Cargo.toml": _manifest(name, version), "src/main.rs": main, "Cargo.lock": _lock(name, version)}


def _lock(name: str, version: str, deps: tuple[tuple[str, str, str], ...] = ()) -> str:
    text = f'version = 3\n\n[[package]]\nname = "{name}"\nversion = "{version}"\n'
    if deps:
        text += "dependencies = [\n" + "".join(f' "{d}",\n' for d, _, _ in deps) + "]\n"
    for dep, dep_version, checksum in deps:
        text += (
            f'\n[[package]]\nname = "{dep}"\nversion = "{dep_version}"\nsource = "{CRATES_IO}"\n'
            f'checksum = "{checksum}"\n'
        )
    return text


@dataclass
class Published:
    """One version in the registry: its ``.crate`` bytes and index line fields."""

    name: str
    version: str
    data: bytes | None  # None: listed in the index, never served (it must not be downloaded)
    yanked: bool = False
    deps: tuple[dict[str, object], ...] = ()
    cksum: str | None = None  # None: the real sha256
    rust_version: str | None = None

    def line(self) -> str:
        entry: dict[str, object] = {
            "name": self.name,
            "vers": self.version,
            "deps": list(self.deps),
            "cksum": self.cksum or hashlib.sha256(self.data or b"").hexdigest(),
            "features": {},
            "yanked": self.yanked,
        }
        if self.rust_version:
            entry["rust_version"] = self.rust_version
        return json.dumps(entry)


def _dep(name: str, req: str) -> dict[str, object]:
    return {
        "name": name,
        "req": req,
        "features": [],
        "optional": False,
        "default_features": True,
        "target": None,
        "kind": "normal",
    }


def registry_crates() -> list[Published]:
    lib = build_crate(
        "tinylib", "1.0.0", {"Cargo.toml": _manifest("tinylib", "1.0.0", lib=True), "src/lib.rs": LIB_SOURCE}
    )
    dep_main = 'fn main() { println!("{}", tinylib::banner("tinydep", env!("CARGO_PKG_VERSION"))); }\n'
    tinydep = {"Cargo.toml": _manifest("tinydep", "2.1.0", deps='tinylib = "1.0"\n'), "src/main.rs": dep_main}
    broken = _bin("tinybroken", "0.1.0") | {"src/main.rs": 'fn main() { println!("{}", missing_value); }\n'}
    good = build_crate("tinytool", "0.3.0", _bin("tinytool", "0.3.0"))
    return [
        # the newest non-yanked release is 0.3.0: 0.2.0 is older, 0.4.0 yanked, 0.5.0-beta a pre-release
        Published("tinytool", "0.2.0", None),
        Published("tinytool", "0.3.0", good),
        Published("tinytool", "0.4.0", None, yanked=True),
        Published("tinytool", "0.5.0-beta.1", None),
        Published("tinylib", "1.0.0", lib),
        # published without Cargo.lock, depending on tinylib of the same registry
        Published(
            "tinydep", "2.1.0", build_crate("tinydep", "2.1.0", tinydep), deps=(_dep("tinylib", "^1.0"),)
        ),
        Published(
            "tinyliar", "1.0.0", build_crate("tinyliar", "1.0.0", _bin("tinyliar", "1.0.0", prints="9.9.9"))
        ),
        Published("tinybroken", "0.1.0", build_crate("tinybroken", "0.1.0", broken)),
        Published(
            "tinysum", "1.0.0", build_crate("tinysum", "1.0.0", _bin("tinysum", "1.0.0")), cksum="0" * 64
        ),
        Published(
            "tinyescape",
            "1.0.0",
            build_crate("tinyescape", "1.0.0", _bin("tinyescape", "1.0.0") | {"../escape.txt": "x"}),
        ),
        Published(
            "tinylink",
            "1.0.0",
            build_crate(
                "tinylink",
                "1.0.0",
                _bin("tinylink", "1.0.0"),
                links={"src/evil": "../../../../../etc/passwd"},
            ),
        ),
        Published(
            "tinyfuture",
            "1.0.0",
            build_crate("tinyfuture", "1.0.0", _bin("tinyfuture", "1.0.0")),
            rust_version="9.0",
        ),
    ]


def _reaching(port: int) -> dict[str, str]:
    """A crate whose build script tries the loopback server (it runs in phase 2 only, offline)."""
    manifest = _manifest("tinynet", "1.0.0").replace(
        'edition = "2021"\n', 'edition = "2021"\nbuild = "build.rs"\n'
    )
    build = textwrap.dedent(
        f"""\
        fn main() {{
            let addr = "127.0.0.1:{port}".parse().unwrap();
            match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3)) {{
                Ok(_) => println!("cargo:warning=tinynet build script reached the network"),
                Err(e) => println!("cargo:warning=tinynet build script could not connect: {{e}}"),
            }}
        }}
        """
    )
    return _bin("tinynet", "1.0.0") | {"Cargo.toml": manifest, "build.rs": build}


@pytest.fixture(scope="module")
def cargo_registry(loopback_server: LoopbackServer) -> Iterator[str]:
    """A sparse registry on loopback; yields its URL. Unknown paths answer 404, as a registry does."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.no_handler_status_code = 404
    server.start()
    base = server.url_for("/").rstrip("/")
    server.expect_request("/config.json").respond_with_json({"dl": f"{base}/api/v1/crates", "api": base})
    lines: dict[str, list[str]] = {}
    reaching = build_crate("tinynet", "1.0.0", _reaching(loopback_server.port))
    # tinygone: listed in the index, its .crate gone from the download host (404)
    gone = Published("tinygone", "1.0.0", None, cksum="1" * 64)
    for crate in [*registry_crates(), Published("tinynet", "1.0.0", reaching), gone]:
        lines.setdefault(crate.name, []).append(crate.line())
        if crate.data is not None:
            server.expect_request(f"/api/v1/crates/{crate.name}/{crate.version}/download").respond_with_data(
                crate.data, content_type="application/octet-stream"
            )
    for name, entries in lines.items():
        server.expect_request(f"/{index_path(name)}").respond_with_data("\n".join(entries) + "\n")
    server.expect_request(f"/{index_path('tinyflaky')}").respond_with_data("unavailable", status=500)
    server.expect_request(f"/{index_path('tinygarbage')}").respond_with_data("<html>not an index</html>")
    yield base
    server.clear()
    if server.is_running():
        server.stop()


def cargo_recipe(name: str, crate: str, executables: list[str], command: str, pattern: str) -> str:
    """A cargo_install recipe as the generator writes it."""
    exes = ", ".join(f'"{e}"' for e in executables)
    return textwrap.dedent(
        f"""\
        [metadata]
        name = "{name}"
        description = "test tool"
        homepage = "https://example.invalid/{name}"

        [[steps]]
        action = "cargo_install"
        crate = "{crate}"
        executables = [{exes}]

        [verify]
        command = "{command}"
        pattern = "{pattern}"
        """
    )


SCENARIOS = {
    "tinytool": cargo_recipe(
        "tinytool", "tinytool", ["tinytool"], "tinytool --version", "tinytool {version}"
    ),
    "tinydep": cargo_recipe("tinydep", "tinydep", ["tinydep"], "tinydep", "tinydep {version}"),
    "tinynet": cargo_recipe("tinynet", "tinynet", ["tinynet"], "tinynet", "tinynet {version}"),
    "tinyliar": cargo_recipe(
        "tinyliar", "tinyliar", ["tinyliar"], "tinyliar --version", "tinyliar {version}"
    ),
    "tinybroken": cargo_recipe("tinybroken", "tinybroken", ["tinybroken"], "tinybroken", "{version}"),
    "tinysum": cargo_recipe("tinysum", "tinysum", ["tinysum"], "tinysum", "{version}"),
    "tinyescape": cargo_recipe("tinyescape", "tinyescape", ["tinyescape"], "tinyescape", "{version}"),
    "tinylink": cargo_recipe("tinylink", "tinylink", ["tinylink"], "tinylink", "{version}"),
    "tinyfuture": cargo_recipe("tinyfuture", "tinyfuture", ["tinyfuture"], "tinyfuture", "{version}"),
    "tinygone": cargo_recipe("tinygone", "tinygone", ["tinygone"], "tinygone", "{version}"),
    "tinymissing": cargo_recipe("tinymissing", "tinymissing", ["tinymissing"], "tinymissing", "{version}"),
    "tinyflaky": cargo_recipe("tinyflaky", "tinyflaky", ["tinyflaky"], "tinyflaky", "{version}"),
    "tinygarbage": cargo_recipe("tinygarbage", "tinygarbage", ["tinygarbage"], "tinygarbage", "{version}"),
}


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, isolation: Isolation, cargo_registry: str) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes."""
    caller_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),  # rustup's proxies find their toolchains there
        "RECIPELINE_CARGO_INDEX_URL": cargo_registry,
        "RECIPELINE_RATE_LIMIT_CARGO": "1000/1",
        "CARGO_REGISTRY_TOKEN": "sekrit-token-value-1234",
    }
    options = NativeOptions(
        isolation=isolation, limits=Limits(timeout=10, install_timeout=180), caller_env=caller_env
    )
    toolchain = CargoRunner().find_toolchain(options)
    if isinstance(toolchain, str):
        pytest.skip(f"cargo toolchain: {toolchain}")
    work = tmp_path_factory.mktemp("cargo-prefixes")
    settings = RunSettings(native=options, workers=4, work_root=work, keep_prefixes=True)
    items = [RecipeInput(name, f"cargo:{name}", text, f"{name}.toml") for name, text in SCENARIOS.items()]
    return Run({r.name: r for r in validate_all(items, ENV, settings)}, work)


def _prefix(run: Run, name: str) -> Path:
    (prefix,) = run.work.glob(f"recipeline-{name}-*")
    return prefix


def test_the_newest_non_yanked_release_is_built_offline_and_passes(run: Run, isolation: Isolation) -> None:
    result = run.results["tinytool"]
    assert result.outcome == "pass", result
    assert result.installed_version == "0.3.0"
    assert result.latest_version == "0.3.0"
    assert set(result.toolchain) == {"cargo", "rustc", "cc"}
    assert all(result.toolchain.values()), result.toolchain
    assert "installed tinytool 0.3.0" in result.reason
    log = (_prefix(run, "tinytool") / "logs" / "cargo-install-1.log").read_text()
    assert "Installed package `tinytool v0.3.0" in log
    if isolation.cuts_network:
        assert f"isolation: {isolation.description}" in result.reason


def test_a_dependency_from_the_registry_builds_offline_and_a_missing_lock_is_generated(run: Run) -> None:
    result = run.results["tinydep"]
    assert result.outcome == "pass", result
    assert result.installed_version == "2.1.0"
    assert "published without Cargo.lock" in result.reason
    prefix = _prefix(run, "tinydep")
    lock = (prefix / "stage" / "cargo-1" / "tinydep-2.1.0" / "Cargo.lock").read_text()
    assert 'name = "tinylib"' in lock
    assert "Compiling tinylib v1.0.0" in (prefix / "logs" / "cargo-install-1.log").read_text()


def test_build_scripts_run_only_in_phase_two_without_the_network(
    run: Run, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"no network isolation here: {isolation.description}")
    assert run.results["tinynet"].outcome == "pass", run.results["tinynet"]
    log = (_prefix(run, "tinynet") / "logs" / "cargo-install-1.log").read_text()
    assert "tinynet build script could not connect" in log
    assert loopback_server.accepted == [], "nothing of phase 1 or 2 reached the loopback server"


def test_phase_one_never_passes_a_token_and_keeps_cargo_home_in_the_prefix(run: Run) -> None:
    prefix = _prefix(run, "tinydep")
    config = (prefix / "cache" / "cargo-home" / "config.toml").read_text()
    assert 'replace-with = "recipeline"' in config
    fetched = list((prefix / "cache" / "cargo-home" / "registry" / "cache").glob("*/tinylib-1.0.0.crate"))
    assert fetched, "cargo fetch downloaded tinylib into the prefix's CARGO_HOME"
    for log in (prefix / "logs").glob("*.log"):
        assert "sekrit-token-value-1234" not in log.read_text()


def test_a_tool_that_reports_another_version_is_a_verify_mismatch(run: Run) -> None:
    result = run.results["tinyliar"]
    assert result.outcome == "fail"
    assert result.failure is not None
    assert result.failure.subcategory == "verify_pattern_mismatch"
    assert "tinyliar 1.0.0" in result.failure.message
    assert result.installed_version == "1.0.0"


def test_code_that_does_not_compile_is_an_install_failure_naming_the_error(run: Run) -> None:
    failure = run.results["tinybroken"].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("validation_failed", "install_failed")
    assert "cargo install tinybroken 0.1.0: error[E0425]" in failure.message
    assert "missing_value" in failure.message


def test_a_crate_whose_sha256_contradicts_the_index_is_refused(run: Run) -> None:
    failure = run.results["tinysum"].failure
    assert failure is not None
    assert failure.subcategory == "install_failed"
    assert "tinysum-1.0.0.crate: checksum mismatch" in failure.message
    assert "the index says " + "0" * 64 in failure.message
    assert not (_prefix(run, "tinysum") / "stage" / "cargo-1").exists(), "nothing was unpacked"


@pytest.mark.parametrize(
    ("name", "member"), [("tinyescape", "'../escape.txt'"), ("tinylink", "'tinylink-1.0.0/src/evil'")]
)
def test_a_hostile_crate_is_refused_and_nothing_is_left_unpacked(run: Run, name: str, member: str) -> None:
    failure = run.results[name].failure
    assert failure is not None
    assert failure.subcategory == "install_failed"
    assert f"{name}-1.0.0.crate: member {member} refused" in failure.message
    prefix = _prefix(run, name)
    assert not (prefix / "stage" / "cargo-1").exists()
    assert not (prefix / "stage" / "escape.txt").exists()


def test_a_crate_that_needs_a_newer_rustc_is_this_environments_gap(run: Run) -> None:
    result = run.results["tinyfuture"]
    assert result.outcome == "skipped"
    assert "tinyfuture 1.0.0 needs rustc 9.0, this host has rustc " in result.reason


@pytest.mark.parametrize(
    ("name", "subcategory", "text"),
    [
        ("tinymissing", "not_found", "HTTP 404"),
        ("tinygone", "not_found", "tinygone-1.0.0.crate: GET "),
        ("tinyflaky", "upstream_unavailable", "HTTP 500"),
        ("tinygarbage", "bad_response", "line 1 is not JSON"),
    ],
)
def test_registry_faults_of_phase_one_are_api_errors(
    run: Run, name: str, subcategory: str, text: str
) -> None:
    failure = run.results[name].failure
    assert failure is not None
    assert (failure.category, failure.subcategory) == ("api_error", subcategory)
    assert text in failure.message


def test_the_index_layout_and_download_template_follow_cargo() -> None:
    assert [index_path(n) for n in ("a", "ab", "abc", "Tinytool")] == [
        "1/a",
        "2/ab",
        "3/a/abc",
        "ti/ny/tinytool",
    ]
    assert (
        download_url("https://dl.example/c", "serde", "1.0.0", "x")
        == "https://dl.example/c/serde/1.0.0/download"
    )
    assert (
        download_url(
            "https://dl.example/{prefix}/{lowerprefix}/{crate}-{version}.{sha256-checksum}",
            "Serde",
            "1.0.0",
            "ab",
        )
        == "https://dl.example/Se/rd/se/rd/Serde-1.0.0.ab"
    )


def test_version_choice_skips_yanked_and_prefers_releases() -> None:
    line = '{{"name": "x", "vers": "{v}", "cksum": "{c}", "yanked": {y}}}'
    text = "\n".join(
        line.format(v=v, c="a" * 64, y=y)
        for v, y in (("1.0.0", "false"), ("1.1.0", "true"), ("2.0.0-rc.1", "false"))
    )
    chosen = pick_version("X", text)
    assert not isinstance(chosen, str)
    assert (chosen.name, chosen.version) == ("x", "1.0.0")  # the published spelling
    assert (
        pick_version("x", line.format(v="1.0.0", c="a" * 64, y="true"))
        == "crate x has no version that is not yanked"
    )


def test_a_cargo_that_cannot_read_sparse_registries_is_the_environments_gap(tmp_path: Path) -> None:
    scripts = {
        "cargo": 'echo "cargo 1.65.0"',
        "rustc": 'if [ "$1" = --print ]; then echo /nonexistent-sysroot; else echo "rustc 1.65.0"; fi',
        "cc": 'echo "cc (Debian 12.2.0-14) 12.2.0"',
    }
    for name, body in scripts.items():
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    options = NativeOptions(isolation=Isolation((), "none: test"), tool_path=str(tmp_path))
    assert CargoRunner().find_toolchain(options) == (
        "cargo 1.65.0 cannot read sparse registries (needs 1.68 or newer)"
    )
