"""The CPAN builder against a local MetaCPAN v1 API serving the documented JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_generator.__main__ import main
from recipeline_generator.cpan import CpanBuilder, ReleaseFile, script_names
from recipeline_schema import Failure, Recipe, recipe_from_toml, recipe_to_toml
from recipeline_schema.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "tsuku" / "recipes"


#: MIME types MetaCPAN's indexer gives (Plack::MIME by extension; a file without a ``.`` whose
#: first line is ``#!...perl`` is ``text/x-script.perl``, other extension-less files get none).
_MIMES = {".pm": "application/x-perl", ".pl": "text/x-script.perl", ".json": "application/json"}


def metacpan_mime(path: str, scripts: frozenset[str]) -> str | None:
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return "text/x-script.perl" if path in scripts else None
    return _MIMES.get("." + name.rsplit(".", 1)[-1].lower(), "text/plain")


class FakeMetaCpan:
    """``/v1/release/<dist>``, ``/v1/module/<Module>`` and ``/v1/file/_search`` on a local server.

    The search answers as MetaCPAN does since its Elasticsearch 8 client: hits with ``_source``
    (only the fields ``_source`` asks for), ``hits.total`` as ``{"value", "relation"}``, and HTTP
    500 for a ``fields`` parameter (the client forwards it and Elasticsearch 8 knows none).
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.queries: list[str] = []

    @property
    def url(self) -> str:
        return self.server.url_for("/v1")

    def release(
        self,
        dist: str,
        *,
        release: str | None = None,
        author: str = "PETDANCE",
        paths: list[str] | None = None,
        scripts: tuple[str, ...] = ("ack",),
        provides: list[str] | None = None,
        main_module: str | None = None,
        resources: dict[str, Any] | None = None,
        abstract: str = "A grep-like program for searching source code",
        total: Any = None,
        hit_source: Any = None,
    ) -> None:
        name = release or f"{dist}-v3.7.0"
        doc = {
            "name": name,
            "distribution": dist,
            "author": author,
            "version": "v3.7.0",
            "abstract": abstract,
            "main_module": main_module or dist.replace("-", "::"),
            "provides": provides if provides is not None else ["App::Ack", "App::Ack::Filter"],
            "resources": resources if resources is not None else {"homepage": "https://beyondgrep.com/"},
            "status": "latest",
        }
        self.server.expect_request(f"/v1/release/{dist}").respond_with_json(doc)
        # ack 3.x ships its script at the root of the distribution (Makefile.PL: EXE_FILES => ['ack'])
        files = paths if paths is not None else ["ack", "lib/App/Ack.pm", "Makefile.PL", "README.md"]
        known_scripts = frozenset(scripts)

        def search(request: Request) -> Response:
            if "fields" in request.args:
                body = {"code": 500, "message": "Internal Server Error"}
                return Response(json.dumps(body), 500, content_type="application/json")
            query = request.args.get("q", "")
            self.queries.append(query)
            wanted = f'release:"{name}" AND author:{author} AND directory:false AND (level:0 OR level:1)'
            listed = files if query == wanted else []
            keys = request.args.get("_source", "").split(",")
            hits: list[dict[str, Any]] = []
            for path in listed:
                full = {"path": path, "mime": metacpan_mime(path, known_scripts)}
                source = {k: full[k] for k in keys if k in full and full[k] is not None}
                hit: dict[str, Any] = {
                    "_index": "cpan_v1_01",
                    "_id": f"id-{path}",
                    "_score": 1.0,
                    "_source": source,
                }
                hits.append(hit if hit_source is None else hit | {"_source": hit_source})
            count = {"value": len(hits), "relation": "eq"} if total is None else total
            answer = {"took": 3, "timed_out": False, "hits": {"total": count, "hits": hits}}
            return Response(json.dumps(answer), 200, content_type="application/json")

        self.server.expect_request("/v1/file/_search").respond_with_handler(search)


@pytest.fixture
def metacpan(httpserver: HTTPServer) -> Iterator[FakeMetaCpan]:
    """An empty fake MetaCPAN; unknown paths answer 404."""
    httpserver.no_handler_status_code = 404
    yield FakeMetaCpan(httpserver)
    httpserver.clear()


def build(http: HttpClient, metacpan: FakeMetaCpan, identifier: str, name: str) -> Recipe | Failure:
    return CpanBuilder(http, api_url=metacpan.url).generate(identifier, name=name)


def test_module_identifier_gives_the_ack_recipe(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.server.expect_request("/v1/module/App::Ack").respond_with_json(
        {"name": "Ack.pm", "distribution": "ack", "release": "ack-v3.7.0", "author": "PETDANCE"}
    )
    metacpan.release("ack", main_module="ack")
    result = build(http, metacpan, "App::Ack", "ack")
    assert isinstance(result, Recipe)
    text = recipe_to_toml(result)
    assert text == (
        "[metadata]\n"
        'name = "ack"\n'
        'description = "A grep-like program for searching source code"\n'
        'homepage = "https://beyondgrep.com/"\n'
        "\n[[steps]]\n"
        'action = "cpan_install"\n'
        'distribution = "ack"\n'
        'module = "App::Ack"\n'
        'executables = ["ack"]\n'
        "\n[verify]\n"
        'command = "ack --version"\n'
        'pattern = "{version}"\n'
    )
    assert text == recipe_to_toml(build(http, metacpan, "App::Ack", "ack"))  # type: ignore[arg-type]
    real = FIXTURES / "a" / "ack.toml"
    if real.is_file():  # the real tsuku recipe has the same step
        assert recipe_from_toml(real.read_text(), str(real)).steps == recipe_from_toml(text).steps


def test_distribution_identifier_and_main_module(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.release(
        "Carton",
        release="Carton-v1.0.35",
        author="MIYAGAWA",
        paths=["script/carton", "script/carton.bat", "bin/.hidden", "script/sub/x", "lib/Carton.pm"],
        provides=["Carton", "Carton::CLI"],
        resources={
            "homepage": "http://insecure.example",
            "repository": {"web": "https://github.com/perl-carton/carton"},
        },
        abstract="Perl module dependency manager",
    )
    result = build(http, metacpan, "Carton", "carton")
    assert isinstance(result, Recipe)
    assert result.steps[0].params == {"distribution": "Carton", "executables": ("carton",)}
    assert result.homepage == "https://github.com/perl-carton/carton"
    real = FIXTURES / "c" / "carton.toml"
    if real.is_file():  # tsuku's real carton recipe has the same step
        ours = recipe_from_toml(recipe_to_toml(result)).steps
        assert recipe_from_toml(real.read_text(), str(real)).steps == ours


def test_pl_generators_name_the_generated_script(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.release(
        "Perl-Tidy",
        release="Perl-Tidy-20250105",
        author="SHANCOCK",
        paths=["bin/perltidy.PL", "bin/perltidy"],
        provides=["Perl::Tidy"],
        resources={},
    )
    result = build(http, metacpan, "Perl-Tidy", "perltidy")
    assert isinstance(result, Recipe)
    assert result.steps[0].params["executables"] == ("perltidy",)
    assert result.homepage == "https://metacpan.org/dist/Perl-Tidy"
    assert "module" not in result.steps[0].params  # Perl::Tidy is the distribution's own name
    listing = [ReleaseFile(p, None) for p in ("script/a.PL", "bin/b.cmd", "README", "bin/c")]
    assert script_names(listing) == ["a", "c"]
    assert script_names(
        [ReleaseFile("ack", "text/x-script.perl"), ReleaseFile("Build.PL", "text/x-script.perl")]
    ) == ["ack"]


def test_library_only_and_empty_release(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.release("File-Slurp", author="CAPOEIRAB", paths=["lib/File/Slurp.pm"], provides=["File::Slurp"])
    result = build(http, metacpan, "File-Slurp", "file-slurp")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "library_only")
    metacpan.release("Empty", author="NOBODY", paths=["README"], provides=[])
    result = build(http, metacpan, "Empty", "empty")
    assert isinstance(result, Failure) and result.subcategory == "binary_discovery_failed"


def test_root_level_script_is_an_executable_not_library_only(
    http: HttpClient, metacpan: FakeMetaCpan
) -> None:
    """ack keeps ``ack`` at the distribution root, next to Makefile.PL: MetaCPAN's mime says it is Perl."""
    metacpan.release("ack")
    result = build(http, metacpan, "ack", "ack")
    assert isinstance(result, Recipe), result
    assert result.steps[0].params["executables"] == ("ack",)
    # the same root file without a mime (MetaCPAN could not tell) is not a confident library_only
    metacpan.server.clear()
    metacpan.release("ack", scripts=())
    result = build(http, metacpan, "ack", "ack")
    assert isinstance(result, Failure) and result.subcategory == "binary_discovery_failed"
    assert "no mime for ack" in result.message


def test_a_cut_listing_is_never_library_only(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.release(
        "Big-Dist",
        author="BIG",
        paths=["lib/Big.pm"],
        provides=["Big"],
        total={"value": 10000, "relation": "gte"},
    )
    result = build(http, metacpan, "Big-Dist", "big")
    assert isinstance(result, Failure) and result.subcategory == "binary_discovery_failed"
    assert "the file listing is cut" in result.message


def test_the_search_asks_for_source_fields_never_fields(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    """MetaCPAN answers a ``fields`` parameter with HTTP 500; the builder must not send one."""
    metacpan.release("Perl-Critic", author="PETDANCE", paths=["bin/perlcritic"], provides=["Perl::Critic"])
    assert isinstance(build(http, metacpan, "Perl-Critic", "perlcritic"), Recipe)
    log = [req for req, _ in metacpan.server.log if req.path == "/v1/file/_search"]
    assert log and all("fields" not in req.args and req.args["_source"] == "path,mime" for req in log)


@pytest.mark.parametrize(
    ("hit_source", "field"),
    [
        ({}, "hits.hits[0]._source.path"),
        ({"path": None}, "hits.hits[0]._source.path"),
        ({"path": 7}, "._source.path"),
    ],
)
def test_search_hit_without_a_path_is_bad_response(
    http: HttpClient, metacpan: FakeMetaCpan, hit_source: Any, field: str
) -> None:
    metacpan.release("ack", hit_source=hit_source)
    result = build(http, metacpan, "ack", "ack")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == (
        "api_error",
        "bad_response",
    )
    assert field in result.message


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"name": "x-1", "author": "A", "distribution": None}, "'distribution'"),
        ({"name": "x-1", "author": 3, "distribution": "x"}, "'author'"),
        ({"name": "x-1", "author": "A", "distribution": "x", "provides": "X"}, "'provides'"),
    ],
)
def test_release_with_missing_null_or_wrong_typed_fields(
    http: HttpClient, metacpan: FakeMetaCpan, doc: dict[str, Any], field: str
) -> None:
    metacpan.server.expect_request("/v1/release/x").respond_with_json(doc)
    result = build(http, metacpan, "x", "x")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == (
        "api_error",
        "bad_response",
    )
    assert field in result.message


@pytest.mark.parametrize("script", ["script/a;b", "script/$(id)", "bin/'x'", 'script/a"b', "bin/new\nline"])
def test_hostile_script_names_fail_the_package(http: HttpClient, metacpan: FakeMetaCpan, script: str) -> None:
    metacpan.release("Evil", author="EVIL", paths=["script/good", script])
    result = build(http, metacpan, "Evil", "evil")
    assert isinstance(result, Failure)
    assert (result.category, result.subcategory) == ("deterministic_insufficient", "binary_discovery_failed")
    assert "\n" not in result.message


def test_hostile_release_fields_and_identifiers(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    metacpan.release("Sneaky", release='x" OR author:*', author="EVIL")
    result = build(http, metacpan, "Sneaky", "sneaky")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == (
        "api_error",
        "bad_response",
    )
    assert metacpan.queries == []  # the query was never built from the hostile name
    metacpan.server.expect_request("/v1/module/Evil::Mod").respond_with_json({"distribution": "../../etc"})
    result = build(http, metacpan, "Evil::Mod", "evil")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == (
        "api_error",
        "bad_response",
    )
    builder = CpanBuilder(http, api_url=metacpan.url)
    for ident in ("../etc", "App::", "a b", "x;y", "-rf", "App/Ack"):
        assert not builder.can_build(ident)
        failed = builder.generate(ident, name="x")
        assert isinstance(failed, Failure) and failed.subcategory == "unsupported_source"


def test_unknown_distribution_is_not_found(http: HttpClient, metacpan: FakeMetaCpan) -> None:
    result = build(http, metacpan, "No-Such-Dist", "nsd")
    assert isinstance(result, Failure) and (result.category, result.subcategory) == ("api_error", "not_found")
    assert result.message.startswith("release of No-Such-Dist: HTTP 404")


def test_cli_from_cpan_prints_the_recipe(
    metacpan: FakeMetaCpan, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    metacpan.release("Perl-Critic", author="PETDANCE", paths=["bin/perlcritic"], provides=["Perl::Critic"])
    monkeypatch.setenv("RECIPELINE_CPAN_URL", metacpan.url)
    monkeypatch.delenv("RECIPELINE_TSUKU", raising=False)
    assert main(["--from", "cpan:Perl-Critic", "--name", "perlcritic", "--rate-limit", "cpan=1000/1"]) == 0
    assert 'executables = ["perlcritic"]' in capsys.readouterr().out
