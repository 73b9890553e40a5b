"""The Go builder against a local GOPROXY serving ``@latest`` and real module zips."""

from __future__ import annotations

import io
import random
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator import GoBuilder
from recipeline_generator.gomodule import binary_name, escape_path, is_main_source, package_clause
from recipeline_schema import Recipe, parse_recipe_toml, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient, HttpSettings

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"

MAIN = "// Command tool.\npackage main\n\nfunc main() {}\n"
LIB = "package lib\n\nfunc F() {}\n"


def module_zip(module: str, version: str, files: dict[str, str], *, filler: int = 0) -> bytes:
    """A module zip as the proxy serves it: every path under ``<module>@<version>/``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if filler:
            zf.writestr(f"{module}@{version}/assets/blob.bin", random.Random(module).randbytes(filler))
        zf.writestr(f"{module}@{version}/go.mod", f"module {module}\n\ngo 1.22\n")
        for path, text in sorted(files.items()):
            zf.writestr(f"{module}@{version}/{path}", text)
    return buf.getvalue()


def _ranged(data: bytes, header: str | None) -> Response:
    if not header:
        return Response(data, 200, content_type="application/zip")
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header)
    assert m, header
    if m[1] == "":
        start, end = max(0, len(data) - int(m[2])), len(data) - 1
    else:
        start, end = int(m[1]), min(int(m[2]), len(data) - 1)
    return Response(
        data[start : end + 1],
        206,
        headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
        content_type="application/zip",
    )


class Proxy:
    """A GOPROXY on the local server; ``ranges`` records the Range header of every zip GET."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.ranges: list[str | None] = []

    @property
    def url(self) -> str:
        return self.server.url_for("/proxy")

    def publish(
        self,
        module: str,
        version: str,
        files: dict[str, str],
        *,
        ranges: bool = True,
        filler: int = 0,
        listed: str | None = None,
    ) -> None:
        """Serve ``module`` at ``version``: ``@v/list`` (``listed``, default the version and an
        older one, one per line, as text/plain), ``@latest`` (the ``.info`` JSON with ``Origin``,
        as proxy.golang.org answers), and the zip."""
        esc = escape_path(module)
        info = {
            "Version": version,
            "Time": "2024-01-01T00:00:00Z",
            "Origin": {
                "VCS": "git",
                "URL": f"https://{module}",
                "Ref": f"refs/tags/{version}",
                "Hash": "0" * 40,
            },
        }
        self.server.expect_request(f"/proxy/{esc}/@latest").respond_with_json(info)
        pseudo = re.match(r"^v0\.0\.0-\d{14}-[0-9a-f]{12}$", version)  # untagged: the list is empty
        body = listed if listed is not None else ("" if pseudo else f"{version}\n")
        self.server.expect_request(f"/proxy/{esc}/@v/list").respond_with_data(
            body, content_type="text/plain; charset=UTF-8"
        )
        data = module_zip(module, version, files, filler=filler)

        def handler(request: Request) -> Response:
            header = request.headers.get("Range")
            self.ranges.append(header)
            return _ranged(data, header if ranges else None)

        self.server.expect_request(f"/proxy/{esc}/@v/{escape_path(version)}.zip").respond_with_handler(
            handler
        )


@pytest.fixture
def proxy(httpserver: HTTPServer) -> Iterator[Proxy]:
    """A local module proxy; unknown modules answer 404 as proxy.golang.org's protocol says."""
    httpserver.no_handler_status_code = 404
    yield Proxy(httpserver)
    httpserver.clear()


@pytest.fixture
def go(http: HttpClient, proxy: Proxy) -> GoBuilder:
    """A Go builder on the local proxy."""
    return GoBuilder(http, proxy_url=proxy.url)


def test_root_main_module_is_one_step_named_after_the_last_element(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish(
        "mvdan.cc/gofumpt",
        "v0.6.0",
        {
            "main.go": MAIN,
            "flags.go": "package main\n",
            "format/format.go": LIB,
            "main_test.go": "package main_test\n",
        },
        filler=400_000,
    )

    text = recipe_to_toml(recipe_of(go.generate("mvdan.cc/gofumpt", name="gofumpt")))

    assert text == (
        "[metadata]\n"
        'name = "gofumpt"\n'
        'description = "Go command gofumpt from the module mvdan.cc/gofumpt"\n'
        'homepage = "https://pkg.go.dev/mvdan.cc/gofumpt"\n'
        "\n"
        "[[steps]]\n"
        'action = "go_install"\n'
        'module = "mvdan.cc/gofumpt"\n'
        'executables = ["gofumpt"]\n'
        "\n"
        "[verify]\n"
        'command = "gofumpt --version"\n'
        'pattern = "{version}"\n'
    )
    assert proxy.ranges[0] == "bytes=-262144"
    assert len(proxy.ranges) < 6, "the 400 kB blob is never downloaded"


def test_package_path_source_resolves_its_module(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish(
        "github.com/go-delve/delve",
        "v1.23.0",
        {"cmd/dlv/main.go": MAIN, "cmd/other/main.go": MAIN, "pkg/proc/proc.go": LIB},
    )

    recipe = go.generate("github.com/go-delve/delve/cmd/dlv", name="dlv")

    assert isinstance(recipe, Recipe)
    assert [dict(s.params) for s in recipe.steps] == [
        {"module": "github.com/go-delve/delve/cmd/dlv", "executables": ("dlv",)}
    ]
    assert recipe.homepage == "https://github.com/go-delve/delve"
    asked = [req.path for req, _ in proxy.server.log if not req.path.endswith(".zip")]
    assert asked == [  # the protocol's @v/list first; @latest only where the list says nothing
        "/proxy/github.com/go-delve/delve/cmd/dlv/@v/list",
        "/proxy/github.com/go-delve/delve/cmd/dlv/@latest",
        "/proxy/github.com/go-delve/delve/cmd/@v/list",
        "/proxy/github.com/go-delve/delve/cmd/@latest",
        "/proxy/github.com/go-delve/delve/@v/list",
    ]


def test_prefixes_answered_410_with_a_not_found_text_are_unknown(go: GoBuilder, proxy: Proxy) -> None:
    # proxy.golang.org answered 410 Gone (404 since 2022), text/plain, "not found: ..." for a path
    # that is not a module, as in the go command's log recorded in golang/go#37079
    proxy.publish("example.com/tools", "v1.0.0", {"cmd/x/main.go": MAIN})
    for path in ("example.com/tools/cmd/x", "example.com/tools/cmd"):
        body = f'not found: module {path}: no matching versions for query "latest"'
        for end in ("@v/list", "@latest"):
            proxy.server.expect_request(f"/proxy/{path}/{end}").respond_with_data(
                body, status=410, content_type="text/plain; charset=UTF-8"
            )

    recipe = go.generate("example.com/tools/cmd/x", name="x")

    assert isinstance(recipe, Recipe), recipe
    assert recipe.steps[0].params["module"] == "example.com/tools/cmd/x"


def test_module_with_several_cmds_gets_a_step_each_in_name_order(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish(
        "github.com/Example/Tools/v2",
        "v2.1.0",
        {
            "cmd/zeta/main.go": "//go:build linux\n\n/* block\ncomment */\npackage main\n",
            "cmd/alpha/main.go": MAIN,
            "cmd/gen/gen.go": "//go:build ignore\n\npackage main\n",
            "cmd/lib/lib.go": LIB,
            "cmd/deep/nested/main.go": MAIN,
            "internal/tool/main.go": MAIN,
            "tools.go": LIB,
        },
        ranges=False,
    )

    recipe = go.generate("github.com/Example/Tools/v2", name="tools")

    assert isinstance(recipe, Recipe)
    assert [s.params["module"] for s in recipe.steps] == [
        "github.com/Example/Tools/v2/cmd/alpha",
        "github.com/Example/Tools/v2/cmd/zeta",
    ]
    assert next(req.path for req, _ in proxy.server.log) == "/proxy/github.com/!example/!tools/v2/@v/list"
    assert recipe.verify is not None and recipe.verify.command == "zeta --version"  # shortest, then a-z


def test_library_module_is_binary_discovery_failed(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish("golang.org/x/exp", "v0.0.0-20240101000000-abcdefabcdef", {"slices/slices.go": LIB})

    failure = failure_of(go.generate("golang.org/x/exp", name="exp"))

    assert (failure.category, failure.subcategory) == (
        "deterministic_insufficient",
        "binary_discovery_failed",
    )
    assert failure.package_id == "go:golang.org/x/exp"


def test_package_that_is_not_main_is_binary_discovery_failed(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish("example.com/mod", "v1.0.0", {"util/util.go": LIB, "main.go": MAIN})

    failure = failure_of(go.generate("example.com/mod/util", name="util"))

    assert (
        failure.subcategory == "binary_discovery_failed" and "util is not a main package" in failure.message
    )


def test_two_mains_building_one_name_fail(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish("example.com/tool", "v1.0.0", {"main.go": MAIN, "cmd/tool/main.go": MAIN})

    failure = failure_of(go.generate("example.com/tool", name="tool"))

    assert failure.subcategory == "binary_discovery_failed" and "same binary name" in failure.message


@pytest.mark.parametrize("hostile", ["$(id)", "a;b", "x'y", "-rf"])
def test_crafted_command_directories_fail(go: GoBuilder, proxy: Proxy, hostile: str) -> None:
    proxy.publish("example.com/crafted", "v1.0.0", {"cmd/ok/main.go": MAIN, f"cmd/{hostile}/main.go": MAIN})

    failure = failure_of(go.generate("example.com/crafted", name="crafted"))

    assert failure.subcategory == "binary_discovery_failed"
    assert "not a safe executable name" in failure.message


def test_members_outside_the_module_prefix_are_ignored(go: GoBuilder, proxy: Proxy) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil/cmd/pwn/main.go", MAIN)
        zf.writestr("example.com/lib@v1.0.0/lib.go", LIB)
    proxy.server.expect_request("/proxy/example.com/lib/@latest").respond_with_json({"Version": "v1.0.0"})
    proxy.server.expect_request("/proxy/example.com/lib/@v/v1.0.0.zip").respond_with_data(buf.getvalue())

    failure = failure_of(go.generate("example.com/lib", name="lib"))

    assert failure.subcategory == "binary_discovery_failed"


@pytest.mark.parametrize(
    "identifier",
    ["../x", "github.com/../x", "noDot/x", "example.com/a b", "example.com/$(id)", "EXAMPLE.com/x"],
)
def test_hostile_module_paths_are_refused_without_requests(
    go: GoBuilder, proxy: Proxy, identifier: str
) -> None:
    assert not go.can_build(identifier)
    assert failure_of(go.generate(identifier, name="x")).subcategory == "unsupported_source"
    assert proxy.server.log == []


def test_unknown_module_is_not_found(go: GoBuilder, proxy: Proxy) -> None:
    failure = failure_of(go.generate("example.com/nobody/home", name="home"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "not_found", False)
    assert len(proxy.server.log) == 4  # @v/list and @latest of example.com/nobody/home, example.com/nobody


def test_static_file_proxy_content_types_are_read_as_json(go: GoBuilder, proxy: Proxy) -> None:
    proxy.publish("example.com/static", "v1.0.0", {"main.go": MAIN})
    proxy.server.clear()  # the same module, served as a static-file proxy would
    proxy.server.no_handler_status_code = 404
    proxy.server.expect_request("/proxy/example.com/static/@latest").respond_with_data(
        '{"Version":"v1.0.0"}', content_type="text/plain; charset=utf-8"
    )
    proxy.server.expect_request("/proxy/example.com/static/@v/v1.0.0.zip").respond_with_data(
        module_zip("example.com/static", "v1.0.0", {"main.go": MAIN}), content_type="application/zip"
    )
    proxy.server.expect_request("/proxy/example.com/html/@latest").respond_with_data(
        "<html>", content_type="text/html"
    )

    assert isinstance(go.generate("example.com/static", name="static"), Recipe)
    assert failure_of(go.generate("example.com/html", name="html")).subcategory == "bad_response"


def test_bad_latest_answer_is_bad_response(go: GoBuilder, proxy: Proxy) -> None:
    proxy.server.expect_request("/proxy/example.com/odd/@latest").respond_with_json({"Version": "../1"})

    assert failure_of(go.generate("example.com/odd", name="odd")).subcategory == "bad_response"


def test_zip_that_is_not_a_zip_is_archive_extraction_failed(go: GoBuilder, proxy: Proxy) -> None:
    proxy.server.expect_request("/proxy/example.com/z/@latest").respond_with_json({"Version": "v1.0.0"})
    proxy.server.expect_request("/proxy/example.com/z/@v/v1.0.0.zip").respond_with_data(b"PK not really" * 10)

    assert failure_of(go.generate("example.com/z", name="z")).subcategory == "archive_extraction_failed"


def test_go_mod_of_another_module_is_archive_extraction_failed(go: GoBuilder, proxy: Proxy) -> None:
    # the members moved under example.com/mine@v1.0.0/, go.mod still declaring example.com/other
    buf = io.BytesIO()
    other = module_zip("example.com/other", "v1.0.0", {"main.go": MAIN})
    with zipfile.ZipFile(io.BytesIO(other)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("example.com/other@", "example.com/mine@"), src.read(info))
    proxy.server.expect_request("/proxy/example.com/mine/@latest").respond_with_json({"Version": "v1.0.0"})
    proxy.server.expect_request("/proxy/example.com/mine/@v/v1.0.0.zip").respond_with_data(buf.getvalue())

    failure = failure_of(go.generate("example.com/mine", name="mine"))

    assert failure.subcategory == "archive_extraction_failed" and "go.mod" in failure.message


def test_slow_proxy_is_timeout(proxy: Proxy) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.6)
        return Response('{"Version": "v1.0.0"}', 200, content_type="application/json")

    proxy.server.expect_request("/proxy/example.com/slow/@latest").respond_with_handler(slow)
    settings = HttpSettings(connect_timeout=1.0, read_timeout=0.2, max_attempts=1)
    with HttpClient(settings) as client:
        failure = failure_of(GoBuilder(client, proxy_url=proxy.url).generate("example.com/slow", name="slow"))

    assert (failure.category, failure.subcategory, failure.transient) == ("api_error", "timeout", True)
    # the slow answer is logged when its handler returns: wait, or it lands in the next test's log
    deadline = time.monotonic() + 5
    while len(proxy.server.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_source_rules() -> None:
    assert escape_path("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml"
    assert binary_name("example.com/tool/v3") == "tool" and binary_name("example.com/x/cmd/y") == "y"
    assert package_clause("\ufeff// a\n/* b */ package main // c\n") == ("main", "")
    assert package_clause("// +build ignore\n\npackage main\n") == ("main", "ignore")
    assert not is_main_source("// +build ignore\n\npackage main\n")
    assert not is_main_source("/* unterminated package main")
    assert is_main_source("//go:build !windows\npackage main\n")


def test_same_module_gives_byte_identical_recipes(http: HttpClient, proxy: Proxy) -> None:
    files = {f"cmd/{n}/main.go": MAIN for n in ("zz", "aa", "mm")}
    proxy.publish("example.com/many", "v1.2.3", files)

    first, second = (
        recipe_to_toml(
            recipe_of(GoBuilder(http, proxy_url=proxy.url).generate("example.com/many", name="many"))
        )
        for _ in range(2)
    )

    assert first == second
    assert [s["module"] for s in parse_recipe_toml(first)["steps"]] == [
        "example.com/many/cmd/aa",
        "example.com/many/cmd/mm",
        "example.com/many/cmd/zz",
    ]


@pytest.mark.parametrize("fixture", ["d/dlv.toml", "g/gofumpt.toml"])
def test_step_has_the_shape_of_tsuku_recipes(go: GoBuilder, proxy: Proxy, fixture: str) -> None:
    path = FIXTURES / fixture
    if not path.is_file():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    real = recipe_from_toml(path.read_text(encoding="utf-8"), str(path))
    package = real.steps[0].params["module"]
    exe = real.steps[0].params["executables"][0]
    module, _, rest = package.partition("/cmd/")
    proxy.publish(module, "v1.0.0", {(f"cmd/{rest}/main.go" if rest else "main.go"): MAIN})

    ours = go.generate(package, name=real.name)

    assert isinstance(ours, Recipe)
    assert ours.actions == real.actions == ("go_install",)
    assert dict(ours.steps[0].params) == {"module": package, "executables": (exe,)}


@pytest.mark.parametrize(
    ("listed", "chosen"),
    [
        # a release beats a newer pre-release (go install ...@latest); the list's order means nothing
        ("v1.10.0\nv1.9.0\nv1.11.0-rc.1\nv2.0.0+incompatible\n", "v2.0.0+incompatible"),
        ("v1.10.0\nv1.9.0\nv1.11.0-rc.1\n", "v1.10.0"),
        ("v0.1.0-beta.2\nv0.1.0-beta.10\n", "v0.1.0-beta.10"),
        # some proxies add a time stamp after the version (the go command reads the first field
        # only), lines come in no order, and a second version on a line is not a version
        ("v0.7.0 2019-03-01T12:34:56Z\nv0.3.0\nv0.10.0\nv0.9.0 foobar\nv0.2.0 v9.9.9\n", "v0.10.0"),
        ("v1.4.0\r\nv1.5.0\r\n", "v1.5.0"),
        # pseudo-versions in the list are not tags: the go command skips them
        ("v1.0.0-beta\nv1.0.0-beta.0.20240101000000-abcdefabcdef\n", "v1.0.0-beta"),
        ("v1.2.3\nv1.2.4-0.20240101000000-abcdefabcdef\n", "v1.2.3"),
        ("v0.0.0-20231201000000-aaaaaaaaaaaa\n", "v0.0.0-20240101000000-abcdefabcdef"),
        ("", "v0.0.0-20240101000000-abcdefabcdef"),  # no tags: @latest's pseudo-version
        ("not-a-version\n", "v0.0.0-20240101000000-abcdefabcdef"),
    ],
)
def test_the_version_list_decides_latest_as_the_go_command_does(
    go: GoBuilder, proxy: Proxy, listed: str, chosen: str
) -> None:
    proxy.server.expect_request("/proxy/example.com/v/@v/list").respond_with_data(
        listed, content_type="text/plain"
    )
    proxy.server.expect_request("/proxy/example.com/v/@latest").respond_with_json(
        {"Version": "v0.0.0-20240101000000-abcdefabcdef", "Time": "2024-01-01T00:00:00Z"}
    )
    proxy.server.expect_request(f"/proxy/example.com/v/@v/{chosen}.zip").respond_with_data(
        module_zip("example.com/v", chosen, {"main.go": MAIN}), content_type="application/zip"
    )

    recipe = go.generate("example.com/v", name="v")

    assert isinstance(recipe, Recipe), recipe
    asked = [req.path for req, _ in proxy.server.log]
    assert asked[0] == "/proxy/example.com/v/@v/list" and asked[-1] == f"/proxy/example.com/v/@v/{chosen}.zip"
    assert ("/proxy/example.com/v/@latest" in asked) == chosen.startswith("v0.0.0-")


@pytest.mark.parametrize("answer", [{"Version": None}, {"Version": 1}, {}, ["v1.0.0"], {"version": "v1.0.0"}])
def test_latest_without_a_string_version_is_bad_response_naming_it(
    go: GoBuilder, proxy: Proxy, answer: Any
) -> None:
    proxy.server.expect_request("/proxy/example.com/odd/@v/list").respond_with_data(
        "", content_type="text/plain"
    )
    proxy.server.expect_request("/proxy/example.com/odd/@latest").respond_with_json(answer)

    failure = failure_of(go.generate("example.com/odd", name="odd"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")
    assert "'Version'" in failure.message


def test_a_500_on_the_version_list_is_not_read_as_an_unknown_module(go: GoBuilder, proxy: Proxy) -> None:
    proxy.server.expect_request("/proxy/example.com/down/@v/list").respond_with_data("boom", status=500)

    failure = failure_of(go.generate("example.com/down", name="down"))

    assert (failure.category, failure.subcategory) == ("api_error", "upstream_unavailable")
    assert failure.message.startswith("version list of example.com/down:")
