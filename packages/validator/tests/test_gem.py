"""``gem_install`` end to end: real ``gem build``, a gem source served on loopback, real ``gem
install --local`` in the sandbox, native extensions compiled offline.

The source serves RubyGems' JSON API (``/api/v1/versions/<name>.json``: number, platform, sha,
prerelease, ruby_version) and gem files (``/gems/<name>-<version>.gem``), the two things the
runner reads. One module-scoped run validates every scenario in parallel.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from registries.gems import TinyGem, build_gem, local_platform
from validator_helpers import LoopbackServer

from recipeline_schema import Recipe, RecipeResult, Step, Verify, parse_environment, recipe_to_toml
from recipeline_validator import Isolation, Limits, NativeOptions, RecipeInput, RunSettings, validate_all

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
SECRET = "sekrit-token-value-1234"
RUBY_HEADERS = 'exit File.exist?(File.join(RbConfig::CONFIG["rubyhdrdir"], "ruby.h"))'
MISSING_TOOLS = [name for name in ("ruby", "gem", "make", "cc") if shutil.which(name) is None] or [
    "ruby's headers (ruby-dev)"
    for _ in [0]
    if subprocess.run(["ruby", "-e", RUBY_HEADERS], capture_output=True, check=False).returncode != 0
]

LOCAL_PLATFORM = "" if MISSING_TOOLS else local_platform()

pytestmark = pytest.mark.skipif(
    bool(MISSING_TOOLS), reason=f"gem_install tests need {', '.join(MISSING_TOOLS)} (.ci/run installs them)"
)


def with_hostile_data(gem_bytes: bytes, member: tarfile.TarInfo) -> bytes:
    """The .gem with ``member`` added to its data.tar.gz (a ``../`` path or a link out)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(gem_bytes)) as outer, tarfile.open(fileobj=out, mode="w") as new:
        for info in outer.getmembers():
            data = outer.extractfile(info)
            assert data is not None
            body = data.read()
            if info.name == "data.tar.gz":
                inner_out = io.BytesIO()
                with (
                    tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as inner,
                    tarfile.open(fileobj=inner_out, mode="w") as rebuilt,
                ):
                    for item in inner.getmembers():
                        rebuilt.addfile(item, inner.extractfile(item))
                    payload = b"owned\n"
                    member.size = len(payload) if member.isfile() else 0
                    rebuilt.addfile(member, io.BytesIO(payload) if member.isfile() else None)
                body = gzip.compress(inner_out.getvalue())
                info.size = len(body)
            new.addfile(info, io.BytesIO(body))
    return out.getvalue()


EXE = """
    #!/usr/bin/env ruby
    require "tinylib"
    puts Tinylib.banner({name!r}, {shown})
"""
LIB = """
    module Tinylib
      def self.banner(name, version) = "#{{name}} #{{version}}"
      VERSION = {version!r}
    end
"""


def _lib(version: str) -> TinyGem:
    return TinyGem("tinylib", version, {"lib/tinylib.rb": LIB.format(version=version)})


def _tool(name: str, version: str, *, shown: str | None = None) -> TinyGem:
    printed = repr(shown) if shown else f'Gem.loaded_specs["{name}"].version'
    return TinyGem(
        name,
        version,
        {f"exe/{name}": EXE.format(name=name, shown=printed)},
        executables=(name,),
        dependencies=(("tinylib", "~> 1.0"),),
    )


def _ext(name: str, c_source: str) -> TinyGem:
    return TinyGem(
        name,
        "1.0.0",
        {
            f"ext/{name}/extconf.rb": f'require "mkmf"\ncreate_makefile("{name}/{name}")\n',
            f"ext/{name}/{name}.c": c_source,
            f"lib/{name}.rb": f'require "{name}/{name}"\n',
            f"exe/{name}": f'#!/usr/bin/env ruby\nrequire "{name}"\nputs "{name} #{{Extgem::FROM_C}}"\n',
        },
        executables=(name,),
        extensions=(f"ext/{name}/extconf.rb",),
    )


def _reaching(port: int) -> TinyGem:
    """A gem whose extconf.rb tries to reach a loopback server (and aborts if it can)."""
    extconf = f"""
        require "socket"
        begin
          TCPSocket.new("127.0.0.1", {port}).close
          abort "netgem reached 127.0.0.1:{port} while building"
        rescue SystemCallError => e
          warn "cannot connect: #{{e.message}}"
        end
        File.write("Makefile", "all:\\n\\ttrue\\ninstall:\\n\\ttrue\\nclean:\\n\\ttrue\\n")
    """
    return TinyGem(
        "netgem",
        "1.0.0",
        {"ext/netgem/extconf.rb": extconf, "exe/netgem": '#!/usr/bin/env ruby\nputs "netgem 1.0.0"\n'},
        executables=("netgem",),
        extensions=("ext/netgem/extconf.rb",),
    )


def _picky() -> list[TinyGem]:
    """pickygem needs tinylib >= 0 (first: 2.0.0) and midgem, which needs tinylib ~> 1.0 (later)."""
    exe = '#!/usr/bin/env ruby\nrequire "tinylib"\nputs "pickygem 1.0.0 (tinylib #{Tinylib::VERSION})"\n'
    return [
        TinyGem(
            "pickygem",
            "1.0.0",
            {"exe/pickygem": exe},
            executables=("pickygem",),
            dependencies=(("tinylib", ">= 0"), ("midgem", "~> 1.0")),
        ),
        TinyGem(
            "midgem",
            "1.0.0",
            {"lib/midgem.rb": "module Midgem; end\n"},
            dependencies=(("tinylib", "~> 1.0"),),
        ),
    ]


def _platform(platform: str, shown: str) -> TinyGem:
    exe = f'#!/usr/bin/env ruby\nputs "platgem 1.0.0 {shown}"\n'
    return TinyGem("platgem", "1.0.0", {"exe/platgem": exe}, executables=("platgem",), platform=platform)


EXT_OK = """
    #include <ruby.h>
    void Init_extgem(void) {
        VALUE m = rb_define_module("Extgem");
        rb_define_const(m, "FROM_C", rb_str_new_cstr("1.0.0"));
    }
"""
EXT_BROKEN = """
    #include <ruby.h>
    void Init_brokenext(void) { this is not C; }
"""


@dataclass
class Source:
    url: str
    server: HTTPServer


def _release(
    number: str, sha: str | None, *, ruby: str = ">= 0", prerelease: bool = False, platform: str = "ruby"
) -> dict[str, object]:
    return {
        "number": number,
        "platform": platform,
        "sha": sha,
        "prerelease": prerelease,
        "ruby_version": ruby,
    }


@pytest.fixture(scope="module")
def gem_source(tmp_path_factory: pytest.TempPathFactory, loopback_server: LoopbackServer) -> Iterator[Source]:
    """The test gems, built once, served as a RubyGems-compatible source on loopback."""
    work = tmp_path_factory.mktemp("gems")
    built: dict[str, list[tuple[str, str, bytes]]] = {}
    gems = [
        _lib("1.0.0"),
        _lib("1.1.0"),
        _lib("2.0.0"),
        _tool("tinygem", "1.0.0"),
        _tool("tinygem", "1.2.0"),
        _tool("liargem", "1.0.0", shown="9.9.9"),
        _tool("badsumgem", "1.0.0"),
        _tool("evilgem", "1.0.0"),
        _tool("linkgem", "1.0.0"),
        _ext("extgem", EXT_OK),
        _ext("brokenext", EXT_BROKEN),
        _reaching(loopback_server.port),
        _platform("ruby", "from source"),
        _platform("local", "native"),
        *_picky(),
    ]
    for gem in gems:
        built.setdefault(gem.name, []).append((gem.full_name, gem.version, build_gem(work, gem)))
    traversal = tarfile.TarInfo("../escaped.txt")
    link = tarfile.TarInfo("lib/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "../../../../../../etc/passwd"
    built["evilgem"] = [("evilgem-1.0.0", "1.0.0", with_hostile_data(built["evilgem"][0][2], traversal))]
    built["linkgem"] = [("linkgem-1.0.0", "1.0.0", with_hostile_data(built["linkgem"][0][2], link))]

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    for name, versions in built.items():
        releases = []
        for full_name, version, data in versions:
            server.expect_request(f"/gems/{full_name}.gem").respond_with_data(
                data, content_type="application/octet-stream"
            )
            sha = hashlib.sha256(data).hexdigest()
            platform = full_name.removeprefix(f"{name}-{version}").removeprefix("-") or "ruby"
            releases.append(_release(version, "0" * 64 if name == "badsumgem" else sha, platform=platform))
        if name == "tinygem":  # newer releases the runner must not pick: one needs a future ruby,
            releases.append(_release("1.3.0", "1" * 64, ruby=">= 99.0"))  # one is a prerelease
            releases.append(_release("2.0.0.pre1", "2" * 64, prerelease=True))
        if name == "platgem":  # newer releases for platforms that are not this host's
            cpu = LOCAL_PLATFORM.split("-")[0]
            releases.append(
                _release(
                    "1.1.0", "3" * 64, platform=f"{cpu}-linux-{'gnu' if 'musl' in LOCAL_PLATFORM else 'musl'}"
                )
            )
            releases.append(_release("2.0.0", "4" * 64, platform="java"))
        server.expect_request(f"/api/v1/versions/{name}.json").respond_with_json(releases)
    server.expect_request("/api/v1/versions/nogem.json").respond_with_json({"error": "not found"}, status=404)
    server.expect_request("/api/v1/versions/downgem.json").respond_with_data("down", status=500)
    server.expect_request("/api/v1/versions/garbagegem.json").respond_with_data(
        "<html>not json</html>", content_type="text/html"
    )
    yield Source(server.url_for("/").rstrip("/"), server)
    server.clear()
    if server.is_running():
        server.stop()


def gem_recipe(name: str, gem: str, executables: tuple[str, ...], command: str, pattern: str) -> str:
    """A gem_install recipe of the generator's shape (written by the schema's TOML writer)."""
    return recipe_to_toml(
        Recipe(
            name=name,
            description="test tool",
            homepage=f"https://example.invalid/{name}",
            steps=(Step("gem_install", {"gem": gem, "executables": executables}),),
            verify=Verify(command=command, pattern=pattern),
        )
    )


SCENARIOS = {
    "tinygem": gem_recipe("tinygem", "tinygem", ("tinygem",), "tinygem --version", "tinygem {version}"),
    "absolute": gem_recipe("absolute", "tinygem", ("tinygem",), "{install_dir}/bin/tinygem", "{version}"),
    "liar": gem_recipe("liar", "liargem", ("liargem",), "liargem --version", "liargem {version}"),
    "missing-exe": gem_recipe("missing-exe", "tinygem", ("tinygem", "nope"), "tinygem", ""),
    "ext": gem_recipe("ext", "extgem", ("extgem",), "extgem", "extgem {version}"),
    "platform": gem_recipe("platform", "platgem", ("platgem",), "platgem", "platgem {version} native"),
    "picky": gem_recipe("picky", "pickygem", ("pickygem",), "pickygem", "pickygem {version} (tinylib 1.1.0)"),
    "net": gem_recipe("net", "netgem", ("netgem",), "netgem", "netgem {version}"),
    "broken-ext": gem_recipe("broken-ext", "brokenext", ("brokenext",), "brokenext", "{version}"),
    "badsum": gem_recipe("badsum", "badsumgem", ("badsumgem",), "badsumgem", "{version}"),
    "evil": gem_recipe("evil", "evilgem", ("evilgem",), "evilgem", "{version}"),
    "link": gem_recipe("link", "linkgem", ("linkgem",), "linkgem", "{version}"),
    "missing": gem_recipe("missing", "nogem", ("nogem",), "nogem", "{version}"),
    "down": gem_recipe("down", "downgem", ("downgem",), "downgem", "{version}"),
    "garbage": gem_recipe("garbage", "garbagegem", ("garbagegem",), "garbagegem", "{version}"),
}


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, gem_source: Source, isolation: Isolation) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes."""
    work = tmp_path_factory.mktemp("gem-prefixes")
    options = NativeOptions(
        isolation=isolation,
        limits=Limits(timeout=20, install_timeout=120),
        caller_env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RECIPELINE_RUBYGEMS_URL": f"{gem_source.url}/api/v1",
            "RECIPELINE_RUBYGEMS_SOURCE_URL": gem_source.url,
            "RECIPELINE_RATE_LIMIT_RUBYGEMS": "1000/1",
            "GEM_HOST_API_KEY": SECRET,
        },
        npm_tools=None,
    )
    settings = RunSettings(native=options, workers=6, work_root=work, keep_prefixes=True, now=lambda: NOW)
    items = [RecipeInput(name, f"rubygems:{name}", text, f"{name}.toml") for name, text in SCENARIOS.items()]
    results = validate_all(items, ENV, settings)
    return Run({r.name: r for r in results}, work)


def _prefix(run: Run, name: str) -> Path:
    (prefix,) = run.work.glob(f"recipeline-{name}-*")
    return prefix


def _failure(run: Run, name: str) -> tuple[str, str | None, str]:
    result = run.results[name]
    assert result.outcome == "fail", result
    assert result.failure is not None
    return result.failure.category, result.failure.subcategory, result.failure.message


def test_a_gem_with_a_dependency_installs_offline_and_passes(run: Run) -> None:
    result = run.results["tinygem"]
    assert result.outcome == "pass", result.failure
    assert result.installed_version == "1.2.0"  # not 1.3.0 (needs ruby >= 99) nor 2.0.0.pre1
    assert result.latest_version == "1.3.0"
    assert "the latest, 1.3.0, needs ruby >= 99.0" in result.reason
    assert set(result.toolchain) >= {"ruby", "gem"}
    prefix = _prefix(run, "tinygem")
    installed = sorted(p.name for p in (prefix / "gems" / "gems").iterdir())
    assert installed == ["tinygem-1.2.0", "tinylib-1.1.0"]  # ~> 1.0: the newest 1.x, not 2.0.0
    assert (prefix / "bin" / "tinygem").is_symlink()


def test_a_later_requirement_re_picks_a_dependency(run: Run) -> None:
    """tinylib is picked at 2.0.0 for '>= 0', then again at 1.1.0 when midgem needs '~> 1.0'."""
    result = run.results["picky"]
    assert result.outcome == "pass", result.failure
    prefix = _prefix(run, "picky")
    installed = sorted(p.name for p in (prefix / "gems" / "gems").iterdir())
    assert installed == ["midgem-1.0.0", "pickygem-1.0.0", "tinylib-1.1.0"]
    assert not (prefix / "cache" / "gem-1" / "tinylib-2.0.0.gem").exists()


def test_the_wrapper_runs_from_anywhere(run: Run) -> None:
    """The bin wrapper sets GEM_HOME/GEM_PATH itself: an empty environment, another directory."""
    prefix = _prefix(run, "tinygem")
    done = subprocess.run(
        [str(prefix / "bin" / "tinygem")],
        env={},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "tinygem 1.2.0"), done.stderr


def test_install_dir_paths_reach_the_wrapper(run: Run) -> None:
    result = run.results["absolute"]
    assert result.outcome == "pass", result.failure


def test_this_hosts_platform_gem_is_preferred(run: Run) -> None:
    """As gem install does: the host's platform over ruby, never another libc's or java."""
    result = run.results["platform"]
    assert result.outcome == "pass", result.failure
    assert (result.installed_version, result.latest_version) == ("1.0.0", "1.0.0")
    specs = _prefix(run, "platform") / "gems" / "specifications"
    assert [p.name for p in specs.iterdir()] == [f"platgem-1.0.0-{LOCAL_PLATFORM}.gemspec"]


def test_a_native_extension_compiles_offline(run: Run) -> None:
    result = run.results["ext"]
    assert result.outcome == "pass", result.failure
    assert result.installed_version == "1.0.0"
    assert list((_prefix(run, "ext") / "gems" / "extensions").rglob("extgem.so"))


def test_an_extension_build_cannot_reach_the_network(
    run: Run, isolation: Isolation, loopback_server: LoopbackServer
) -> None:
    if not isolation.cuts_network:
        pytest.skip(f"network isolation unavailable here: {isolation.description}")
    result = run.results["net"]
    assert result.outcome == "pass", result.failure  # its extconf.rb aborts when it connects
    (build_log,) = (_prefix(run, "net") / "gems" / "extensions").rglob("gem_make.out")
    assert "cannot connect" in build_log.read_text()
    assert loopback_server.accepted == []


def test_a_wrong_version_is_a_pattern_mismatch(run: Run) -> None:
    category, subcategory, message = _failure(run, "liar")
    assert (category, subcategory) == ("validation_failed", "verify_pattern_mismatch")
    assert "'liargem 1.0.0'" in message and "'liargem 9.9.9'" in message


def test_a_missing_executable_is_named(run: Run) -> None:
    _, subcategory, message = _failure(run, "missing-exe")
    assert subcategory == "install_failed"
    assert "'nope'" in message and "tinygem" in message


def test_an_extension_that_does_not_compile_is_an_install_failure(run: Run) -> None:
    category, subcategory, message = _failure(run, "broken-ext")
    assert (category, subcategory) == ("validation_failed", "install_failed")
    assert message.startswith("gem install brokenext-1.0.0: Failed to build gem native extension")
    assert "brokenext.c" in message and "error" in message  # the compiler's own line


def test_a_checksum_mismatch_is_an_install_failure(run: Run) -> None:
    category, subcategory, message = _failure(run, "badsum")
    assert (category, subcategory) == ("validation_failed", "install_failed")
    assert "badsumgem-1.0.0.gem: checksum mismatch" in message and "0" * 64 in message
    assert not (_prefix(run, "badsum") / "gems").exists()  # nothing was installed


@pytest.mark.parametrize(("name", "member"), [("evil", "../escaped.txt"), ("link", "lib/passwd")])
def test_a_hostile_gem_is_refused_before_gem_reads_it(run: Run, name: str, member: str) -> None:
    _, subcategory, message = _failure(run, name)
    assert subcategory == "install_failed"
    assert "unsafe archive" in message and repr(member) in message
    prefix = _prefix(run, name)
    assert not list(prefix.rglob("escaped.txt"))
    assert not (prefix / "gems").exists()  # gem never ran


@pytest.mark.parametrize(
    ("name", "subcategory", "expected"),
    [
        ("missing", "not_found", "versions of gem nogem: GET "),
        ("down", "upstream_unavailable", "versions of gem downgem: GET "),
        ("garbage", "bad_response", "content type 'text/html'"),
    ],
)
def test_registry_faults_are_api_errors(run: Run, name: str, subcategory: str, expected: str) -> None:
    category, got, message = _failure(run, name)
    assert (category, got) == ("api_error", subcategory)
    assert expected in message


def test_no_secret_reaches_a_log(run: Run) -> None:
    for prefix in run.work.glob("recipeline-*"):
        for log in (prefix / "logs").iterdir():
            assert SECRET not in log.read_text(errors="replace"), log


def test_a_missing_ruby_skips_the_recipe(tmp_path: Path, isolation: Isolation) -> None:
    """No ruby on the toolchain path: the environment's gap, recorded as skipped with the reason."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    options = NativeOptions(
        isolation=isolation, caller_env={"PATH": str(empty)}, npm_tools=None, tool_path=str(empty)
    )
    settings = RunSettings(native=options, workers=1, work_root=tmp_path, now=lambda: NOW)
    (result,) = validate_all(
        [RecipeInput("tinygem", "rubygems:tinygem", SCENARIOS["tinygem"], "t.toml")], ENV, settings
    )
    assert result.outcome == "skipped"
    assert "ruby not found" in result.reason


def test_every_scenario_was_validated(run: Run) -> None:
    """Control: no scenario was skipped (a skip would hide a missing toolchain as a non-failure)."""
    skipped = {name: r.reason for name, r in run.results.items() if r.outcome == "skipped"}
    assert skipped == {}
    assert json.dumps(sorted(run.results)) == json.dumps(sorted(SCENARIOS))
