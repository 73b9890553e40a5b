"""``homebrew`` + ``install_binaries`` (and ``app_bundle``) end to end against a local registry.

The test serves a Homebrew API (formula JSON), an OCI registry (token and blob endpoints; the
blob answers with a redirect) and a second server, the storage host, which rejects any request
carrying ``Authorization`` as signed-URL storage services do. The bottles are built here: a shell
script and an ELF executable compiled with gcc against a shared library shipped in the bottle's
``lib/``, both carrying ``@@HOMEBREW_PREFIX@@`` (the ELF in its run path and interpreter), so the
tools run only when relocation worked. Real patchelf, real sandboxed commands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from registries.bottles import Member, build_bottle
from werkzeug import Request, Response

from recipeline_schema import RecipeResult, parse_environment
from recipeline_schema.http import ApiError, HttpClient, HttpSettings, RateLimit
from recipeline_validator import Isolation, Limits, NativeOptions, RecipeInput, RunSettings, validate_all
from recipeline_validator.archive import UnsafeArchiveError, extract_tar
from recipeline_validator.cask import LINUX_REASON
from recipeline_validator.homebrew import (
    LINUX_BOTTLE_TAGS,
    SYSTEM_LOADERS,
    BottleError,
    RegistryBearer,
    bearer_of,
    bottle_of,
    rpath_for,
)

ENV = parse_environment("linux-debian-glibc-x86_64")
NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
TOKEN = "anonymous-pull-token-for-tests"
TAG = LINUX_BOTTLE_TAGS.get(platform.machine(), "x86_64_linux")
GCC = shutil.which("gcc")
PATCHELF = shutil.which("patchelf")
needs_tools = pytest.mark.skipif(
    GCC is None or PATCHELF is None or platform.system() != "Linux",
    reason="needs Linux with gcc and patchelf (.ci/run installs Debian's)",
)

SCRIPT = """#!/bin/sh
echo "{name} {says}"
echo "prefix @@HOMEBREW_PREFIX@@"
echo "cellar @@HOMEBREW_CELLAR@@/{name}/{keg}/libexec"
"""
LIBRARY_C = 'const char *tiny_banner(void) { return "tinyelf 1.0"; }\n'
PROGRAM_C = (
    "#include <stdio.h>\nconst char *tiny_banner(void);\nint main(void) { puts(tiny_banner()); return 0; }\n"
)


# --- bottles ----------------------------------------------------------------------------------


def script(name: str, says: str, keg: str) -> Member:
    return Member(SCRIPT.format(name=name, says=says, keg=keg).encode(), 0o555)


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """(program, libtiny.so): the program's run path and interpreter name @@HOMEBREW_PREFIX@@."""
    if GCC is None:
        pytest.skip("gcc not found")
    work = tmp_path_factory.mktemp("elf")
    (work / "tiny.c").write_text(LIBRARY_C, encoding="utf-8")
    (work / "main.c").write_text(PROGRAM_C, encoding="utf-8")
    compile_lib = [GCC, "-shared", "-fPIC", "-Wl,-soname,libtiny.so", "-o", "libtiny.so", "tiny.c"]
    subprocess.run(compile_lib, cwd=work, check=True)
    subprocess.run(
        [
            GCC, "-o", "tinyelf", "main.c", "-L.", "-ltiny",
            "-Wl,-rpath,@@HOMEBREW_PREFIX@@/lib", "-Wl,--dynamic-linker,@@HOMEBREW_PREFIX@@/lib/ld.so",
        ],
        cwd=work,
        check=True,
    )  # fmt: skip
    return (work / "tinyelf").read_bytes(), (work / "libtiny.so").read_bytes()


@dataclass
class Registry:
    """The served formulae; what the storage host saw."""

    api: str
    ghcr: str
    storage: str
    storage_saw_authorization: list[str] = field(default_factory=list)


def formula_json(
    name: str, version: str, digest: str, *, revision: int = 0, tags: tuple[str, ...] = ()
) -> object:
    url = f"https://ghcr.io/v2/homebrew/core/{name}/blobs/sha256:{digest}"
    files = {
        tag: {"cellar": ":any", "url": url, "sha256": digest}
        for tag in tags or ("x86_64_linux", "arm64_linux")
    }
    return {
        "name": name,
        "desc": "test formula",
        "homepage": f"https://example.invalid/{name}",
        "versions": {"stable": version, "bottle": True},
        "revision": revision,
        "bottle": {"stable": {"rebuild": 0, "root_url": "https://ghcr.io/v2/homebrew/core", "files": files}},
    }


@pytest.fixture(scope="module")
def registry(elf: tuple[bytes, bytes]) -> Iterator[Registry]:
    program, library = elf
    api_server = HTTPServer(host="127.0.0.1", port=0)
    storage_server = HTTPServer(host="127.0.0.1", port=0)
    api_server.start()
    storage_server.start()
    reg = Registry(
        api=api_server.url_for("/api"),
        ghcr=api_server.url_for("/").rstrip("/"),
        storage=storage_server.url_for("/").rstrip("/"),
    )
    tiny = {"tinybrew/1.0/bin/tinybrew": script("tinybrew", "1.0", "1.0")}
    bottles: dict[str, tuple[str, bytes, dict[str, object]]] = {
        "tinybrew": (
            "1.0",
            build_bottle(
                tiny
                | {
                    "tinybrew/1.0/bin/tinyelf": Member(program, 0o555),
                    "tinybrew/1.0/lib/libtiny.so": Member(library, 0o444),
                    "tinybrew/1.0/libexec/data.txt": Member(b"no placeholder here\n"),
                }
            ),
            {},
        ),
        "tinyrev": (
            "1.0",
            build_bottle({"tinyrev/1.0_1/bin/tinyrev": script("tinyrev", "1.0", "1.0_1")}),
            {"revision": 1},
        ),
        "tinyliar": (
            "2.0",
            build_bottle({"tinyliar/2.0/bin/tinyliar": script("tinyliar", "1.0", "2.0")}),
            {},
        ),
        "tinyevil": ("1.0", build_bottle(tiny | {"../outside": Member(b"escaped\n")}), {}),
        "tinylink": (
            "1.0",
            build_bottle(tiny | {"tinybrew/1.0/bin/up": Member(link="../../../../../../etc/passwd")}),
            {},
        ),
        "tinymac": ("1.0", build_bottle(tiny), {"tags": ("arm64_sonoma", "sonoma")}),
        "tinymany": (
            "1.0",
            build_bottle({f"tinymany/1.0/bin/t{i:02d}": script("t", "1.0", "1.0") for i in range(25)}),
            {},
        ),
        # a link that stays inside the unpacked bottle (the archive rule allows it) but leaves the keg
        "tinyhop": (
            "1.0",
            build_bottle(
                {
                    "tinyhop/1.0/bin/tinyhop": script("tinyhop", "1.0", "1.0"),
                    "tinyhop/1.0/bin/hop": Member(link="../../../elsewhere"),
                    "elsewhere": Member(b"#!/bin/sh\necho hop 1.0\n", 0o555),
                }
            ),
            {},
        ),
    }
    for name in ("tinygone", "tinydown", "tinyprivate"):
        bottles[name] = ("1.0", build_bottle(tiny), {})
    served: dict[str, bytes] = {}
    for name, (version, data, extra) in bottles.items():
        digest = hashlib.sha256(data).hexdigest()
        served[digest] = data
        doc = formula_json(name, version, digest, **extra)  # type: ignore[arg-type]
        api_server.expect_request(f"/api/formula/{name}.json").respond_with_json(doc)
    # tinybad: the formula names a digest; the registry serves other bytes under it
    good = bottles["tinybrew"][1]
    bad_digest = hashlib.sha256(good + b"-declared").hexdigest()
    served[bad_digest] = good
    api_server.expect_request("/api/formula/tinybad.json").respond_with_json(
        formula_json("tinybad", "1.0", bad_digest)
    )

    def token(request: Request) -> Response:
        scope = request.args.get("scope", "")
        if request.args.get("service") != urlsplit(reg.ghcr).netloc:
            return Response("unknown service", status=400)
        if scope == "repository:homebrew/core/tinyprivate:pull":
            return Response(
                '{"errors":[{"code":"UNAUTHORIZED"}]}', status=401, content_type="application/json"
            )
        if not scope.startswith("repository:homebrew/core/") or not scope.endswith(":pull"):
            return Response("bad scope", status=400)
        if scope.endswith("/tinyrev:pull"):  # labelled as text, with the protocol's other key
            return Response(json.dumps({"access_token": TOKEN}), content_type="text/plain; charset=utf-8")
        return Response(json.dumps({"token": TOKEN}), content_type="application/json")

    def blob(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(
                '{"errors":[{"code":"UNAUTHORIZED"}]}', status=401, content_type="application/json"
            )
        repository, _, digest = request.path.removeprefix("/v2/").partition("/blobs/sha256:")
        if repository.endswith("/tinygone"):
            return Response(
                '{"errors":[{"code":"BLOB_UNKNOWN"}]}', status=404, content_type="application/json"
            )
        if repository.endswith("/tinydown"):
            return Response("upstream broke", status=500)
        return Response(
            status=307, headers={"Location": f"{reg.storage}/blobs/{digest}?X-Amz-Signature=s1gned"}
        )

    def storage(request: Request) -> Response:
        if "Authorization" in request.headers:
            reg.storage_saw_authorization.append(request.path)
            return Response(
                "<Error><Code>InvalidArgument</Code></Error>", status=400, content_type="text/xml"
            )
        data = served.get(request.path.removeprefix("/blobs/"))
        return Response(data, content_type="application/octet-stream") if data else Response(status=404)

    api_server.expect_request("/token").respond_with_handler(token)
    api_server.expect_request(re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")).respond_with_handler(blob)
    storage_server.expect_request(re.compile(r"^/blobs/[0-9a-f]{64}$")).respond_with_handler(storage)
    served["0" * 64] = b"blob for the client test"
    yield reg
    for server in (api_server, storage_server):
        server.clear()
        server.stop()


# --- recipes ----------------------------------------------------------------------------------


def brew_recipe(
    name: str, formula: str, binaries: list[str], command: str, pattern: str, mode: str = ""
) -> str:
    """A homebrew + install_binaries recipe as the generator writes it (``install_mode`` optional)."""
    exes = ", ".join(f'"{b}"' for b in binaries)
    install_mode = f'install_mode = "{mode}"\n' if mode else ""
    return (
        f'[metadata]\nname = "{name}"\ndescription = "test tool"\nhomepage = "https://example.invalid/{name}"\n\n'
        f'[[steps]]\naction = "homebrew"\nformula = "{formula}"\n\n'
        f'[[steps]]\naction = "install_binaries"\n{install_mode}binaries = [{exes}]\n\n'
        f'[verify]\ncommand = "{command}"\npattern = "{pattern}"\n'
    )


CASK_RECIPE = """[metadata]
name = "cask-app"
description = "a macOS application"
homepage = "https://example.invalid/cask-app"
supported_os = ["darwin"]

[version]
source = "cask"
cask = "tinyapp"

[[steps]]
action = "app_bundle"
url = "{version.url}"
checksum = "{version.checksum}"
app_name = "Tiny.app"
binaries = ["Contents/MacOS/tiny"]

[verify]
command = "tiny --version"
pattern = "{version}"
"""

SCENARIOS = {
    "brew-ok": brew_recipe("brew-ok", "tinybrew", ["bin/tinybrew"], "tinybrew --version", "{version}"),
    "brew-rev": brew_recipe("brew-rev", "tinyrev", ["bin/tinyrev"], "tinyrev --version", "tinyrev {version}"),
    "brew-elf": brew_recipe(
        "brew-elf", "tinybrew", ["bin/tinyelf"], "tinyelf", "tinyelf {version}", "directory"
    ),
    "brew-copied-elf": brew_recipe(
        "brew-copied-elf", "tinybrew", ["bin/tinyelf"], "tinyelf", "tinyelf {version}"
    ),
    "brew-liar": brew_recipe(
        "brew-liar", "tinyliar", ["bin/tinyliar"], "tinyliar --version", "tinyliar {version}"
    ),
    "brew-missing-exe": brew_recipe(
        "brew-missing-exe", "tinybrew", ["bin/tinybrew", "bin/nope"], "tinybrew", ""
    ),
    "brew-checksum": brew_recipe("brew-checksum", "tinybad", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-traversal": brew_recipe("brew-traversal", "tinyevil", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-symlink": brew_recipe("brew-symlink", "tinylink", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-many": brew_recipe("brew-many", "tinymany", ["bin/nope"], "nope", "{version}"),
    "brew-hop": brew_recipe("brew-hop", "tinyhop", ["bin/hop"], "hop", "{version}"),
    "brew-hop-tree": brew_recipe(
        "brew-hop-tree", "tinyhop", ["bin/tinyhop"], "tinyhop", "{version}", "directory"
    ),
    "brew-no-bottle": brew_recipe("brew-no-bottle", "tinymac", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-gone": brew_recipe("brew-gone", "tinygone", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-down": brew_recipe("brew-down", "tinydown", ["bin/tinybrew"], "tinybrew", "{version}"),
    "brew-private": brew_recipe("brew-private", "tinyprivate", ["bin/tinybrew"], "tinybrew", "{version}"),
    "cask-app": CASK_RECIPE,
}


@dataclass
class Run:
    results: dict[str, RecipeResult]
    work: Path

    def prefix(self, name: str) -> Path:
        (found,) = self.work.glob(f"recipeline-{name}-*")
        return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, registry: Registry, isolation: Isolation) -> Run:
    """Validate every scenario once, in parallel, keeping the prefixes."""
    if PATCHELF is None:
        pytest.skip("patchelf not found")
    work = tmp_path_factory.mktemp("prefixes")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RECIPELINE_HOMEBREW_URL": registry.api,
        "RECIPELINE_GHCR_URL": registry.ghcr,
        "RECIPELINE_RATE_LIMIT_HOMEBREW": "1000/1",
    }
    options = NativeOptions(
        isolation=isolation, limits=Limits(timeout=10, install_timeout=60), caller_env=env
    )
    settings = RunSettings(native=options, workers=8, work_root=work, keep_prefixes=True, now=lambda: NOW)
    items = [RecipeInput(name, f"homebrew:{name}", text, f"{name}.toml") for name, text in SCENARIOS.items()]
    return Run({r.name: r for r in validate_all(items, ENV, settings)}, work)


def _failure(result: RecipeResult) -> tuple[str, str | None, str]:
    assert result.outcome == "fail", result
    assert result.failure is not None
    return result.failure.category, result.failure.subcategory, result.failure.message


# --- end to end -------------------------------------------------------------------------------


@needs_tools
def test_a_bottle_installs_relocated_and_verifies(run: Run, registry: Registry) -> None:
    result = run.results["brew-ok"]
    assert result.outcome == "pass", result
    assert result.installed_version == "1.0"
    version = subprocess.run([str(PATCHELF), "--version"], capture_output=True, text=True, check=True)
    assert result.toolchain == {"patchelf": version.stdout.split()[-1]}
    prefix = run.prefix("brew-ok")
    output = (prefix / "logs" / "verify.log").read_text(encoding="utf-8")
    assert output.splitlines() == ["tinybrew 1.0", f"prefix {prefix}", f"cellar {prefix}/libexec"]
    # binaries mode copies the listed file only, as tsuku does
    assert (prefix / "bin" / "tinybrew").is_file() and not (prefix / "bin" / "tinybrew").is_symlink()
    assert not (prefix / "lib").exists()
    assert registry.storage_saw_authorization == []  # the token went to the registry only


@needs_tools
def test_a_revisioned_keg_relocates_its_cellar_path(run: Run) -> None:
    result = run.results["brew-rev"]
    assert result.outcome == "pass", result
    assert result.installed_version == "1.0"  # versions.stable, not the keg's 1.0_1
    prefix = run.prefix("brew-rev")
    output = (prefix / "logs" / "verify.log").read_text(encoding="utf-8")
    assert f"cellar {prefix}/libexec" in output.splitlines()


@needs_tools
def test_an_elf_gets_its_run_path_and_interpreter_from_patchelf(run: Run) -> None:
    result = run.results["brew-elf"]
    assert result.outcome == "pass", result
    program = run.prefix("brew-elf") / "bin" / "tinyelf"

    def show(flag: str) -> str:
        done = subprocess.run([str(PATCHELF), flag, str(program)], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert show("--print-rpath") == "$ORIGIN/../lib"
    assert show("--print-interpreter") == SYSTEM_LOADERS[TAG]
    assert (run.prefix("brew-elf") / "lib" / "libtiny.so").is_file()  # directory mode copied the keg


@needs_tools
def test_binaries_mode_leaves_the_bottles_library_behind_as_tsuku_does(run: Run) -> None:
    _category, _sub, message = _failure(run.results["brew-copied-elf"])
    assert "libtiny.so" in message


@needs_tools
def test_a_tool_printing_another_version_fails_verify(run: Run) -> None:
    category, subcategory, message = _failure(run.results["brew-liar"])
    assert (category, subcategory) == ("validation_failed", "verify_pattern_mismatch")
    assert run.results["brew-liar"].installed_version == "2.0"
    assert "tinyliar 1.0" in message


@pytest.mark.parametrize(
    ("name", "expected", "words"),
    [
        ("brew-missing-exe", ("validation_failed", "install_failed"), ["'bin/nope'", "it has: bin/tinybrew"]),
        ("brew-checksum", ("validation_failed", "install_failed"), ["checksum mismatch"]),
        ("brew-many", ("validation_failed", "install_failed"), ["bin/t00, bin/t01", "bin/t19 (+5 more)"]),
        ("brew-traversal", ("validation_failed", "install_failed"), ["'../outside'", "refused"]),
        ("brew-symlink", ("validation_failed", "install_failed"), ["'tinybrew/1.0/bin/up'", "refused"]),
        ("brew-hop", ("validation_failed", "install_failed"), ["'bin/hop' resolves outside the keg"]),
        ("brew-hop-tree", ("validation_failed", "install_failed"), ["bin/hop links outside the keg"]),
        (
            "brew-no-bottle",
            ("validation_failed", "install_failed"),
            [f"no bottle for {TAG}", "arm64_sonoma, sonoma"],
        ),
        ("brew-gone", ("api_error", "not_found"), ["HTTP 404"]),
        ("brew-down", ("api_error", "upstream_unavailable"), ["HTTP 500"]),
        ("brew-private", ("api_error", "bad_response"), ["/token", "HTTP 401"]),
    ],
)
@needs_tools
def test_bad_bottles_and_registry_faults_are_recorded(
    run: Run, name: str, expected: tuple[str, str], words: list[str]
) -> None:
    category, subcategory, message = _failure(run.results[name])
    assert (category, subcategory) == expected
    assert "\n" not in message
    for word in words:
        assert word in message
    assert TOKEN not in message


@needs_tools
def test_a_hostile_bottle_leaves_nothing_outside_the_prefix(run: Run) -> None:
    prefix = run.prefix("brew-traversal")
    assert not (prefix / "stage" / "outside").exists() and not (prefix / "outside").exists()
    assert not (prefix / "stage" / "homebrew-1").exists()  # removed, not left half-unpacked


@needs_tools
def test_a_cask_recipe_is_skipped_on_linux_with_the_reason(run: Run) -> None:
    result = run.results["cask-app"]
    assert result.outcome == "skipped"
    assert LINUX_REASON in result.reason
    assert "app_bundle" in result.reason


# --- the parts --------------------------------------------------------------------------------


@needs_tools
def test_the_storage_host_rejects_a_forwarded_authorization(registry: Registry) -> None:
    """The fixture bites: a request carrying the header fails at the storage host, and the shared
    client drops a caller's header on the redirect there (another origin), as requests and curl do."""
    url = f"{registry.ghcr}/v2/homebrew/core/tinyblob-test/blobs/sha256:{'0' * 64}"
    settings = HttpSettings(max_attempts=1).with_rate_limits({"homebrew": RateLimit(1000, 1.0)})
    stored = f"{registry.storage}/blobs/{'0' * 64}"
    with HttpClient(settings) as http, pytest.raises(ApiError) as raised:
        http.get("homebrew", stored, headers={"Authorization": f"Bearer {TOKEN}"})
    assert raised.value.status == 400
    with HttpClient(settings) as http:
        assert http.get("homebrew", url, headers={"Authorization": f"Bearer {TOKEN}"}).body == (
            b"blob for the client test"
        )
    assert registry.storage_saw_authorization == [f"/blobs/{'0' * 64}"]  # the direct request only
    registry.storage_saw_authorization.clear()
    with HttpClient(settings) as http:
        bearer_of(http).grant(registry.ghcr, "homebrew/core/tinyblob-test", TOKEN)
        assert http.get("homebrew", url).body == b"blob for the client test"


def test_the_registry_bearer_goes_to_the_granting_origin_and_repository_only() -> None:
    import requests

    bearer = RegistryBearer()
    bearer.grant("https://ghcr.example.invalid", "homebrew/core/tool", TOKEN)

    def sent(url: str, headers: dict[str, str] | None = None) -> str | None:
        prepared = requests.Request("GET", url, headers=headers).prepare()
        return bearer(prepared).headers.get("Authorization")

    blob = "/v2/homebrew/core/tool/blobs/sha256:" + "0" * 64
    assert sent("https://ghcr.example.invalid" + blob) == f"Bearer {TOKEN}"
    assert sent("https://ghcr.example.invalid:443" + blob) == f"Bearer {TOKEN}"
    assert sent("https://storage.example.invalid/blob", {"Authorization": "Bearer leaked"}) is None
    assert sent("https://ghcr.example.invalid:8443" + blob) is None
    assert sent("http://ghcr.example.invalid" + blob) is None
    assert sent("https://ghcr.example.invalid/v2/homebrew/core/other/blobs/sha256:" + "0" * 64) is None
    assert sent("https://ghcr.example.invalid/token?scope=repository:homebrew/core/tool:pull") is None


def _doc(**changes: object) -> dict[str, object]:
    digest = "a" * 64
    doc = formula_json("tool", "1.2", digest)
    assert isinstance(doc, dict)
    return doc | changes


@pytest.mark.parametrize(
    ("doc", "subcategory", "words"),
    [
        (["not", "an", "object"], "bad_response", "not a JSON object"),
        (_doc(versions={"stable": None}), "bad_response", "versions.stable"),
        (_doc(revision="1"), "bad_response", "revision"),
        (_doc(bottle={}), "install_failed", "bottles: none"),
        (
            _doc(
                bottle={
                    "stable": {
                        "files": {
                            TAG: {"url": "https://ghcr.io/v2/x/blobs/sha256:" + "b" * 64, "sha256": "a" * 64}
                        }
                    }
                }
            ),
            "bad_response",
            "digest differs",
        ),
        (
            _doc(
                bottle={"stable": {"files": {TAG: {"url": "https://ghcr.io/x.tar.gz", "sha256": "a" * 64}}}}
            ),
            "bad_response",
            ".url",
        ),
        (
            _doc(
                bottle={
                    "stable": {"files": {TAG: {"url": "https://ghcr.io/v2/x/blobs/sha256:a", "sha256": "A"}}}
                }
            ),
            "bad_response",
            ".sha256",
        ),
    ],
)
def test_a_formula_document_of_another_shape_is_a_precise_failure(
    doc: object, subcategory: str, words: str
) -> None:
    with pytest.raises(BottleError) as raised:
        bottle_of("tool", doc, TAG)
    assert raised.value.subcategory == subcategory
    assert words in str(raised.value)


def test_the_bottle_url_is_kept_as_a_path() -> None:
    url = "https://ghcr.io/v2/homebrew/core/tool/blobs/sha256:" + "c" * 64
    doc = _doc(revision=2, bottle={"stable": {"files": {TAG: {"url": url, "sha256": "c" * 64}}}})
    bottle = bottle_of("tool", doc, TAG)
    assert (bottle.tag, bottle.version, bottle.keg_version) == (TAG, "1.2", "1.2_2")
    assert bottle.blob_path == "/v2/homebrew/core/tool/blobs/sha256:" + "c" * 64
    assert bottle.repository == "homebrew/core/tool"


def test_an_all_bottle_is_not_taken_as_tsuku_does_not() -> None:
    url = "https://ghcr.io/v2/homebrew/core/tool/blobs/sha256:" + "c" * 64
    doc = _doc(bottle={"stable": {"files": {"all": {"url": url, "sha256": "c" * 64}}}})
    with pytest.raises(BottleError) as raised:
        bottle_of("tool", doc, TAG)
    assert (raised.value.category, raised.value.subcategory) == ("validation_failed", "install_failed")
    assert "(bottles: all); tsuku installs platform bottles only" in str(raised.value)


def test_extract_tar_stops_at_the_size_cap(tmp_path: Path) -> None:
    archive = tmp_path / "big.tar.gz"
    archive.write_bytes(build_bottle({"t/1/a": Member(b"x" * 600), "t/1/b": Member(b"y" * 600)}))
    with pytest.raises(UnsafeArchiveError, match="more than 1000 bytes"):
        extract_tar(archive, tmp_path / "out", max_bytes=1000)
    assert not (tmp_path / "out").exists()
    extract_tar(archive, tmp_path / "ok", max_bytes=1200)
    assert (tmp_path / "ok" / "t" / "1" / "b").read_bytes() == b"y" * 600


@pytest.mark.skipif(platform.system() != "Linux", reason="homebrew runs natively on Linux only")
@pytest.mark.parametrize(
    ("patchelf", "reason"),
    [
        (None, "patchelf not found on PATH"),
        ("#!/bin/sh\nexit 1\n", "patchelf --version failed"),
    ],
)
def test_a_missing_or_broken_patchelf_skips_the_recipe_with_the_reason(
    tmp_path: Path, isolation: Isolation, patchelf: str | None, reason: str
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    if patchelf is not None:
        (tools / "patchelf").write_text(patchelf, encoding="utf-8")
        (tools / "patchelf").chmod(0o755)
    options = NativeOptions(isolation=isolation, caller_env={"PATH": "/usr/bin:/bin"}, tool_path=str(tools))
    settings = RunSettings(native=options, workers=1, work_root=tmp_path, now=lambda: NOW)
    text = SCENARIOS["brew-ok"]
    (result,) = validate_all(
        [RecipeInput("brew-ok", "homebrew:tinybrew", text, "brew-ok.toml")], ENV, settings
    )
    assert result.outcome == "skipped"
    assert "homebrew" in result.reason and reason in result.reason


@pytest.mark.parametrize(
    ("file", "dirs", "expected"),
    [
        ("bin/tool", ["bin", "lib"], "$ORIGIN/../lib"),
        ("libexec/tool", ["libexec/lib", "lib"], "$ORIGIN/lib"),
        ("lib/libtool.so", ["lib"], "$ORIGIN"),
        ("share/x/tool", ["share/x"], "$ORIGIN"),
    ],
)
def test_the_run_path_points_at_the_kegs_lib_relative_to_the_file(
    tmp_path: Path, file: str, dirs: list[str], expected: str
) -> None:
    for d in dirs:
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    assert rpath_for(tmp_path / file) == expected
