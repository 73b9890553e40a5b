"""The PyPI and Homebrew weekly seeds against local servers answering in the real shapes
(``seeder_pypi_brew``), over lists modelled on the real top lists: PyPI's most downloaded
projects (the libraries at the top, the tools among them, libraries shipping a helper command,
an sdist-only and a Windows-only project) and Homebrew's installs on request (tools, libraries
installed on request, ``@``-versioned formulae, a tap formula, a macOS-only formula). The
executables are written for these tests from the packages' published wheels and bottles. The
share of real tools in each seed's top 50 is printed (``pytest -s -k top_50``).
"""

from __future__ import annotations

import io
import json
import random
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from pytest_httpserver import HTTPServer
from seeder_formats import serve_ranged
from seeder_pypi_brew import (
    SIMPLE,
    File,
    Storage,
    analytics,
    bottle,
    formula_json,
    ghcr_blob,
    sha256,
    simple_page,
    top_pypi,
    wheel,
)
from werkzeug import Response

from recipeline_schema.http import HttpClient
from recipeline_seeder import SourceError
from recipeline_seeder.config import DEFAULT_SETTINGS
from recipeline_seeder.popular import ApiSource, HomebrewSource, PypiSource
from recipeline_seeder.popular.homebrew import bottle_bin, command_name
from recipeline_seeder.popular.pypi import command_name as pypi_command_name

LINUX = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
OTHERS = ("cp312-cp312-win_amd64", "cp312-cp312-macosx_11_0_arm64")


@dataclass(frozen=True)
class Project:
    """A top-list entry and its newest release's wheel; ``command`` the queue name it must get
    (None: not queued), ``tool`` whether that command is a real command-line tool (False: a
    library's helper script)."""

    name: str
    downloads: int
    command: str | None
    tool: bool = True
    console: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    gui: tuple[str, ...] = ()
    wheels: str = "pure"  # pure, binary (manylinux + win + macOS), sdist, windows
    groups: str = ""


def lib(name: str, downloads: int, wheels: str = "pure", groups: str = "") -> Project:
    return Project(name, downloads, None, False, wheels=wheels, groups=groups)


_SETUPTOOLS_GROUPS = (
    "[distutils.commands]\nalias = setuptools.command.alias:alias\nbdist_egg = x:y\n\n"
    "[distutils.setup_keywords]\nentry_points = setuptools.dist:check_entry_points\n\n"
    "[egg_info.writers]\nPKG-INFO = setuptools.command.egg_info:write_pkg_info\n"
)

#: PyPI's most downloaded projects of a month (rounded, in their real order) and what their
#: newest wheel installs: entry points as published, ``.data/scripts`` for awscli, jmespath,
#: ruff and uv; pyspark publishes only an sdist, pywin32 only Windows wheels.
PYPI = [
    lib("boto3", 1_500_000_000),
    lib("urllib3", 1_000_000_000),
    lib("botocore", 950_000_000),
    lib("requests", 900_000_000),
    lib("setuptools", 850_000_000, groups=_SETUPTOOLS_GROUPS),
    lib("certifi", 800_000_000),
    Project("charset-normalizer", 780_000_000, "normalizer", False, console=("normalizer",), wheels="binary"),
    Project("idna", 760_000_000, "idna", False, console=("idna",)),
    lib("typing-extensions", 750_000_000),
    lib("python-dateutil", 700_000_000),
    lib("s3transfer", 680_000_000),
    lib("packaging", 660_000_000),
    lib("aiobotocore", 640_000_000),
    lib("six", 620_000_000),
    Project("numpy", 600_000_000, "f2py", False, console=("f2py", "numpy-config"), wheels="binary"),
    lib("grpcio-status", 580_000_000),
    lib("pyyaml", 560_000_000, wheels="binary"),
    lib("fsspec", 540_000_000),
    lib("s3fs", 520_000_000),
    Project("pip", 500_000_000, "pip", console=("pip", "pip3")),
    lib("cryptography", 490_000_000, wheels="binary"),
    lib("pydantic", 480_000_000),
    Project("cffi", 470_000_000, "cffi-gen-src", False, console=("cffi-gen-src",), wheels="binary"),
    lib("attrs", 460_000_000),
    lib("google-api-core", 450_000_000),
    lib("pycparser", 440_000_000),
    lib("pandas", 430_000_000, wheels="binary"),
    lib("importlib-metadata", 420_000_000),
    lib("protobuf", 410_000_000, wheels="binary"),
    Project("jmespath", 400_000_000, "jp.py", False, scripts=("jp.py",)),
    Project(
        "rsa", 390_000_000, "pyrsa-decrypt", False, console=("pyrsa-decrypt", "pyrsa-encrypt", "pyrsa-keygen")
    ),
    lib("pydantic-core", 380_000_000, wheels="binary"),
    lib("click", 370_000_000),
    lib("zipp", 360_000_000),
    lib("platformdirs", 350_000_000),
    lib("jinja2", 340_000_000),
    Project("wheel", 330_000_000, "wheel", console=("wheel",)),
    lib("markupsafe", 320_000_000, wheels="binary"),
    lib("pluggy", 310_000_000),
    Project(
        "awscli",
        300_000_000,
        "aws",
        scripts=("aws", "aws.cmd", "aws_bash_completer", "aws_completer", "aws_zsh_completer.sh"),
    ),
    lib("pytz", 290_000_000),
    lib("filelock", 280_000_000),
    lib("colorama", 270_000_000),
    lib("tomli", 260_000_000),
    lib("pyasn1", 250_000_000),
    Project(
        "virtualenv",
        240_000_000,
        "virtualenv",
        console=("virtualenv",),
        groups="[virtualenv.create]\nx = y\n",
    ),
    lib("cachetools", 230_000_000),
    Project("pytest", 220_000_000, "pytest", console=("py.test", "pytest")),
    lib("google-auth", 210_000_000),
    lib("pyjwt", 200_000_000),
    lib("wrapt", 195_000_000, wheels="binary"),
    lib("sqlalchemy", 190_000_000, wheels="binary"),
    Project("jsonschema", 185_000_000, "jsonschema", False, console=("jsonschema",)),
    lib("requests-oauthlib", 180_000_000),
    lib("aiohttp", 175_000_000, wheels="binary"),
    Project("docutils", 170_000_000, "docutils", console=("docutils", "rst2html", "rst2latex", "rst2man")),
    lib("yarl", 165_000_000, wheels="binary"),
    lib("psutil", 160_000_000, wheels="binary"),
    Project("pyspark", 158_000_000, None, False, wheels="sdist"),
    lib("multidict", 155_000_000, wheels="binary"),
    lib("tzdata", 150_000_000),
    lib("pyarrow", 145_000_000, wheels="binary"),
    Project("pygments", 140_000_000, "pygmentize", console=("pygmentize",)),
    Project("tqdm", 135_000_000, "tqdm", False, console=("tqdm",)),
    Project("pywin32", 130_000_000, None, False, scripts=("pywin32_postinstall.py",), wheels="windows"),
    Project("black", 125_000_000, "black", console=("black", "blackd"), wheels="binary"),
    Project(
        "coverage",
        120_000_000,
        "coverage",
        console=("coverage", "coverage3", "coverage-3.12"),
        wheels="binary",
    ),
    Project("httpx", 115_000_000, "httpx", False, console=("httpx",)),
    Project("ruff", 110_000_000, "ruff", scripts=("ruff",), wheels="binary"),
    Project("uv", 105_000_000, "uv", scripts=("uv", "uvx"), wheels="binary"),
    Project("isort", 100_000_000, "isort", console=("isort", "isort-identify-imports")),
    Project(
        "mypy", 95_000_000, "mypy", console=("dmypy", "mypy", "mypyc", "stubgen", "stubtest"), wheels="binary"
    ),
    Project("tabulate", 90_000_000, "tabulate", False, console=("tabulate",)),
    Project("fonttools", 88_000_000, "fonttools", console=("fonttools", "pyftmerge", "pyftsubset", "ttx")),
    Project("flake8", 85_000_000, "flake8", console=("flake8",)),
    Project("sqlparse", 82_000_000, "sqlformat", False, console=("sqlformat",)),
    Project("pylint", 80_000_000, "pylint", console=("pylint", "pylint-config", "pyreverse", "symilar")),
    Project("poetry", 78_000_000, "poetry", console=("poetry",)),
    Project("tox", 75_000_000, "tox", console=("tox",)),
    Project("pre-commit", 72_000_000, "pre-commit", console=("pre-commit",)),
    Project("gunicorn", 70_000_000, "gunicorn", console=("gunicorn",)),
    Project("uvicorn", 68_000_000, "uvicorn", console=("uvicorn",)),
    Project("twine", 65_000_000, "twine", console=("twine",)),
    Project("build", 62_000_000, "pyproject-build", console=("pyproject-build",)),
    Project("pipenv", 60_000_000, "pipenv", console=("pipenv", "pipenv-resolver")),
    Project("ipython", 58_000_000, "ipython", console=("ipython", "ipython3")),
    Project("pipx", 55_000_000, "pipx", console=("pipx",)),
    Project("nox", 52_000_000, "nox", console=("nox", "tox-to-nox")),
    Project("ansible-core", 50_000_000, "ansible", console=("ansible", "ansible-galaxy", "ansible-playbook")),
    Project("yt-dlp", 48_000_000, "yt-dlp", console=("yt-dlp",)),
    Project("httpie", 45_000_000, "httpie", console=("http", "httpie", "https")),
    Project("cookiecutter", 42_000_000, "cookiecutter", console=("cookiecutter",)),
    Project("setuptools-scm", 40_000_000, "setuptools-scm", False, console=("setuptools-scm",)),
    Project("pbr", 38_000_000, "pbr", False, console=("pbr",)),
    Project("nodeenv", 36_000_000, "nodeenv", console=("nodeenv",)),
    Project(
        "sphinx", 34_000_000, "sphinx-apidoc", console=("sphinx-apidoc", "sphinx-build", "sphinx-quickstart")
    ),
    Project("alembic", 32_000_000, "alembic", console=("alembic",)),
    Project("flask", 30_000_000, "flask", False, console=("flask",)),
    Project("pip-tools", 28_000_000, "pip-compile", console=("pip-compile", "pip-sync")),
    Project("bandit", 26_000_000, "bandit", console=("bandit", "bandit-baseline", "bandit-config-generator")),
    Project("celery", 24_000_000, "celery", console=("celery",)),
    Project("yamllint", 22_000_000, "yamllint", console=("yamllint",)),
    Project("thonny", 1_000_000, "thonny", gui=("thonny",)),
]


def _sdist(name: str, version: str) -> bytes:
    """A real sdist whose commands only its setup.py names (pyspark's: ``scripts=`` in code)."""
    buf = io.BytesIO()
    root = f"{name.replace('-', '_')}-{version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "setup.py": "setup()\n",
    }
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for member, text in files.items():
            info = tarfile.TarInfo(f"{root}/{member}")
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def _files(p: Project) -> list[File]:
    """The project page's files, oldest first: an older release, then the newest."""
    out = []
    for version in ("1.0.0", "2.0.0"):
        sdist = File(f"{p.name.replace('-', '_')}-{version}.tar.gz", _sdist(p.name, version))
        if p.wheels == "sdist":
            out.append(sdist)
            continue
        tags = {"pure": ("py3-none-any",), "binary": (LINUX, *OTHERS), "windows": OTHERS[:1]}[p.wheels]
        if p.name in ("ruff", "uv"):  # maturin binaries: one wheel per platform, no ABI
            tags = ("py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64", "py3-none-win_amd64")
        dist = p.name.replace("-", "_")
        for tag in tags:
            # only the newest wheel for Linux has the executables; older ones would mislead
            newest = version == "2.0.0" and ("win" not in tag or p.wheels == "windows")
            data = wheel(
                p.name,
                version,
                tag=tag,
                console=p.console if newest else (),
                gui=p.gui if newest else (),
                scripts=p.scripts if newest else (),
                other_groups=p.groups,
            )
            out.append(File(f"{dist}-{version}-{tag}.whl", data))
        out.append(sdist)
    return out


def serve_pypi(server: HTTPServer, corpus: list[Project], *, gone: tuple[str, ...] = ()) -> None:
    server.no_handler_status_code = 404
    files_base = server.url_for("/files").rstrip("/")
    server.expect_request("/top/top-pypi-packages.min.json").respond_with_json(
        top_pypi([(p.name, p.downloads) for p in corpus])
    )
    for p in corpus:
        if p.name in gone:
            server.expect_request(f"/simple/{p.name}/").respond_with_data(
                "404 Not Found", status=404, content_type="text/html"
            )
            continue
        files = _files(p)
        page = simple_page(p.name, files_base, files)
        server.expect_request(f"/simple/{p.name}/").respond_with_data(json.dumps(page), content_type=SIMPLE)
        for f, entry in zip(files, page["files"], strict=True):
            path = entry["url"].removeprefix(server.url_for("").rstrip("/"))
            serve_ranged(server, path, f.data, content_type="binary/octet-stream")


def pypi_source(server: HTTPServer, client: HttpClient, *, scan_limit: int = 400) -> PypiSource:
    return PypiSource(
        client,
        server.url_for("/top"),
        replace(DEFAULT_SETTINGS["pypi"], scan_limit=scan_limit),
        index_url=server.url_for("/simple/"),
    )


def check(source: ApiSource, corpus: dict[str, tuple[int, str | None, bool]], eco: str) -> list[str]:
    """Every queued candidate is the expected command, in popularity order; every other package
    is in the run's not-added list with a reason. Returns the queued names."""
    got = source.fetch()
    assert got, "the seed queued nothing"
    expected = [
        (command, f"{eco}:{name}", downloads)
        for name, (downloads, command, _tool) in sorted(corpus.items(), key=lambda kv: -kv[1][0])
        if command is not None
    ]
    assert [(c.name, c.source, c.popularity) for c in got] == expected
    dropped = {d.name: d.reason for d in source.dropped}
    not_queued = {name for name, (_d, command, _t) in corpus.items() if command is None}
    assert not_queued <= set(dropped), not_queued - set(dropped)
    assert all(dropped[n] for n in not_queued)
    return [c.name for c in got]


def top_50(source: ApiSource, corpus: dict[str, tuple[int, str | None, bool]]) -> tuple[int, int, list[str]]:
    """(queued in the top 50, real tools among them, the helper scripts of libraries queued)."""
    got = source.fetch()[:50]
    helpers = [c.name for c in got if not corpus[c.source.split(":", 1)[1]][2]]
    return len(got), len(got) - len(helpers), helpers


def _pypi_truth(corpus: list[Project]) -> dict[str, tuple[int, str | None, bool]]:
    return {p.name: (p.downloads, p.command, p.tool) for p in corpus}


def test_pypi_seed_queues_projects_whose_wheel_installs_a_command(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    serve_pypi(httpserver, PYPI)
    source = pypi_source(httpserver, client)
    names = check(source, _pypi_truth(PYPI), "pypi")
    assert {"pytest", "black", "virtualenv", "pip", "ruff", "uv", "aws", "thonny"} <= set(names)
    reasons = {d.name: d.reason for d in source.dropped}
    assert "no console_scripts or gui_scripts entry points and no .data/scripts files" in reasons["boto3"]
    assert (
        "pyspark-2.0.0.tar.gz (no wheel) declares no command readable without a build" in reasons["pyspark"]
    )
    assert "no wheel for Linux (pywin32-2.0.0-cp312-cp312-win_amd64.whl" in reasons["pywin32"]
    # the wheel read is the Linux one: black's mypyc wheel for manylinux, not Windows or macOS
    wheels = [r.path for r, _ in httpserver.log if r.path.endswith(".whl")]
    assert any("black-2.0.0-" + LINUX in w for w in wheels)
    assert not any("win_amd64" in w or "macosx" in w for w in wheels if "pywin32" not in w)
    # read by range requests at the end of the zip, never the whole wheel
    ranged = [r for r, _ in httpserver.log if r.path.endswith(".whl")]
    assert ranged and all(r.headers.get("Range", "").startswith("bytes=") for r in ranged)


def test_pypi_top_50_share_of_real_tools(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_pypi(httpserver, PYPI)
    queued, tools, helpers = top_50(pypi_source(httpserver, client), _pypi_truth(PYPI))
    print(
        f"pypi: {len(PYPI)} top projects checked; {queued} queued in the top 50, {tools} real tools, "
        f"{len(helpers)} libraries' helper commands ({', '.join(helpers)})"
    )
    assert (queued, tools) == (50, 36)
    assert helpers == [
        "normalizer", "idna", "f2py", "cffi-gen-src", "jp.py", "pyrsa-decrypt", "jsonschema", "tqdm", "httpx",
        "tabulate", "sqlformat", "setuptools-scm", "pbr", "flask",
    ]  # fmt: skip


def test_pypi_a_failing_project_drops_that_project_only(httpserver: HTTPServer, client: HttpClient) -> None:
    corpus = [
        Project("black", 3, "black", console=("black",)),
        Project("removed-project", 2, None),
        Project("broken", 1, None, console=("broken",)),
        Project("pytest", 0, "pytest", console=("pytest",)),
    ]
    serve_pypi(httpserver, corpus, gone=("removed-project",))
    # broken's page lists a wheel whose bytes are not a zip
    source = pypi_source(httpserver, client)
    html = b"<html>not a wheel</html>" * 50
    page = simple_page(
        "broken", httpserver.url_for("/files").rstrip("/"), [File("broken-2.0.0-py3-none-any.whl", html)]
    )
    bad_url = page["files"][0]["url"].removeprefix(httpserver.url_for("").rstrip("/"))
    httpserver.expect_oneshot_request("/simple/broken/").respond_with_data(
        json.dumps(page), content_type=SIMPLE
    )
    httpserver.expect_request(bad_url).respond_with_data(html, content_type="binary/octet-stream")
    assert [c.name for c in source.fetch()] == ["black", "pytest"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert reasons["removed-project"].startswith(
        "api_error/not_found: index page of removed-project: HTTP 404"
    )
    assert (
        "api_error/bad_response: wheel broken-2.0.0-py3-none-any.whl: not a readable wheel"
        in reasons["broken"]
    )
    assert "127.0.0.1" not in reasons["removed-project"]  # the index URL is the user's configuration


def test_pypi_a_page_of_another_shape_drops_that_project(httpserver: HTTPServer, client: HttpClient) -> None:
    corpus = [Project("black", 3, "black", console=("black",)), Project("odd", 2, None)]
    serve_pypi(httpserver, corpus, gone=("odd",))
    httpserver.expect_oneshot_request("/simple/odd/").respond_with_data(
        json.dumps({"meta": {"api-version": "2.0"}, "name": "odd", "files": []}), content_type=SIMPLE
    )
    source = pypi_source(httpserver, client)
    assert [c.name for c in source.fetch()] == ["black"]
    reasons = {d.name: d.reason for d in source.dropped}
    assert (
        "api_error/bad_response: index page of odd is not PEP 691 JSON: $.meta.api-version" in reasons["odd"]
    )


def test_pypi_interpreter_bound_names_alone_are_no_command(
    httpserver: HTTPServer, client: HttpClient
) -> None:
    corpus = [Project("pinned", 2, None, console=("pinned-3.12", "pinned3.12"))]
    serve_pypi(httpserver, corpus)
    source = pypi_source(httpserver, client)
    assert source.fetch() == ()
    assert "left out: pinned-3.12, pinned3.12" in {d.name: d.reason for d in source.dropped}["pinned"]


def test_pypi_yanked_newest_release_is_not_read(httpserver: HTTPServer, client: HttpClient) -> None:
    base = httpserver.url_for("/files").rstrip("/")
    old = File("tool-1.0.0-py3-none-any.whl", wheel("tool", "1.0.0", console=("tool",)))
    new = File("tool-2.0.0-py3-none-any.whl", wheel("tool", "2.0.0"), yanked="broken release")
    page = simple_page("tool", base, [old, new])
    httpserver.expect_request("/top/top-pypi-packages.min.json").respond_with_json(top_pypi([("tool", 5)]))
    httpserver.expect_request("/simple/tool/").respond_with_data(json.dumps(page), content_type=SIMPLE)
    serve_ranged(
        httpserver,
        page["files"][0]["url"].removeprefix(httpserver.url_for("").rstrip("/")),
        old.data,
        content_type="binary/octet-stream",
    )
    assert [c.name for c in pypi_source(httpserver, client).fetch()] == ["tool"]


def test_pypi_scan_limit_bounds_the_projects_checked(httpserver: HTTPServer, client: HttpClient) -> None:
    serve_pypi(httpserver, PYPI)
    source = pypi_source(httpserver, client, scan_limit=20)
    assert [c.name for c in source.fetch()] == ["normalizer", "idna", "f2py", "pip"]  # cffi is 23rd
    pages = [r.path for r, _ in httpserver.log if r.path.startswith("/simple/")]
    assert len(pages) == 20


def test_pypi_command_names() -> None:
    assert pypi_command_name("pytest", ("py.test", "pytest")) == "pytest"
    assert pypi_command_name("Pre_Commit", ("pre-commit",)) == "pre-commit"
    assert pypi_command_name("ansible-core", ("ansible", "ansible-galaxy")) == "ansible"


# --- Homebrew ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """An install-on-request entry and its Linux bottle's ``bin/`` (``bins``; ``libs``: lib/ files);
    ``command`` the queue name it must get (None: not queued), ``tool`` as for ``Project``."""

    name: str
    installs: int
    command: str | None
    tool: bool = True
    bins: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ("x86_64_linux",)


def f_lib(
    name: str, installs: int, libs: tuple[str, ...] = ("libx.so",), bins: tuple[str, ...] = ()
) -> Formula:
    return Formula(name, installs, None, False, bins=bins, libs=libs)


def versioned(name: str, installs: int, bins: tuple[str, ...] = ("x",)) -> Formula:
    return Formula(name, installs, None, False, bins=bins)


#: Homebrew's installs on request over 30 days (rounded, real order of magnitude) and what the
#: formulae's x86_64_linux bottles hold in bin/.
HOMEBREW = [
    Formula("node", 420_000, "node", bins=("corepack", "node", "npm", "npx")),
    Formula("git", 380_000, "git", bins=("git", "git-cvsserver", "git-receive-pack", "git-shell", "scalar")),
    versioned("python@3.13", 350_000, ("idle3.13", "pip3.13", "python3", "python3.13")),
    Formula("wget", 300_000, "wget", bins=("wget",)),
    versioned("openssl@3", 290_000, ("c_rehash", "openssl")),
    Formula("gh", 280_000, "gh", bins=("gh",)),
    Formula("jq", 250_000, "jq", bins=("jq",)),
    Formula("ffmpeg", 240_000, "ffmpeg", bins=("ffmpeg", "ffplay", "ffprobe")),
    Formula("pkgconf", 230_000, "pkgconf", bins=("pkg-config", "pkgconf")),
    Formula("cmake", 220_000, "cmake", bins=("ccmake", "cmake", "cpack", "ctest")),
    f_lib("ca-certificates", 210_000, libs=()),
    Formula("go", 200_000, "go", bins=("go", "gofmt")),
    Formula("yt-dlp", 190_000, "yt-dlp", bins=("yt-dlp",)),
    versioned("python@3.12", 185_000, ("python3.12",)),
    Formula("htop", 180_000, "htop", bins=("htop",)),
    Formula("ripgrep", 170_000, "rg", bins=("rg",)),
    Formula("fzf", 165_000, "fzf", bins=("fzf", "fzf-tmux")),
    Formula("neovim", 160_000, "nvim", bins=("nvim",)),
    Formula("awscli", 155_000, "aws", bins=("aws", "aws_completer")),
    Formula("tree", 150_000, "tree", bins=("tree",)),
    f_lib("libyaml", 145_000, libs=("libyaml.so", "libyaml-0.so.2")),
    f_lib("readline", 140_000, libs=("libreadline.so.8", "libhistory.so.8")),
    Formula("sqlite", 135_000, "sqlite3", bins=("sqlite3",), libs=("libsqlite3.so",)),
    Formula("rust", 130_000, "rustc", bins=("cargo", "rust-gdb", "rustc", "rustdoc", "rustfmt")),
    Formula("xz", 125_000, "xz", bins=("lzcat", "lzma", "unxz", "xz", "xzcat"), libs=("liblzma.so",)),
    Formula("zstd", 120_000, "zstd", bins=("pzstd", "unzstd", "zstd", "zstdcat"), libs=("libzstd.so",)),
    Formula(
        "pcre2",
        115_000,
        "pcre2grep",
        False,
        bins=("pcre2-config", "pcre2grep", "pcre2test"),
        libs=("libpcre2-8.so",),
    ),
    f_lib("libpng", 110_000, libs=("libpng16.so",), bins=("libpng-config", "libpng16-config")),
    versioned("icu4c@77", 105_000, ("uconv",)),
    versioned("node@22", 100_000, ("node", "npm")),
    Formula("openjdk", 98_000, "jar", bins=("jar", "jarsigner", "java", "javac", "jshell")),
    Formula("docker", 96_000, "docker", bins=("docker",)),
    Formula("kubernetes-cli", 94_000, "kubectl", bins=("kubectl",)),
    Formula("tmux", 92_000, "tmux", bins=("tmux",)),
    Formula("bash", 90_000, "bash", bins=("bash", "bashbug")),
    Formula("zsh", 88_000, "zsh", bins=("zsh", "zsh-5.9")),
    Formula("coreutils", 86_000, "arch", bins=("[", "arch", "b2sum", "base32", "cat", "ls")),
    Formula("hashicorp/tap/terraform", 84_000, None, False),
    Formula("mas", 82_000, None, True, bins=("mas",), tags=("arm64_sequoia", "sonoma")),
    versioned("postgresql@17", 80_000, ("pg_ctl", "postgres", "psql")),
    Formula("redis", 78_000, "redis-cli", bins=("redis-benchmark", "redis-cli", "redis-server")),
    Formula("mysql", 76_000, "mysql", bins=("mysql", "mysql_config", "mysqld")),
    Formula("gettext", 74_000, "gettext", bins=("envsubst", "gettext", "msgfmt", "xgettext")),
    f_lib("gmp", 72_000, libs=("libgmp.so",)),
    f_lib("libffi", 70_000, libs=("libffi.so",)),
    Formula("ncurses", 68_000, "captoinfo", False, bins=("captoinfo", "clear", "ncursesw6-config", "tput")),
    Formula("libtool", 66_000, "libtool", bins=("libtool", "libtoolize")),
    Formula("autoconf", 64_000, "autoconf", bins=("autoconf", "autoheader", "autoreconf")),
    Formula("pyenv", 62_000, "pyenv", bins=("pyenv",)),
    Formula("uv", 60_000, "uv", bins=("uv", "uvx")),
    Formula("pipx", 58_000, "pipx", bins=("pipx",)),
    Formula("bat", 56_000, "bat", bins=("bat",)),
    Formula("eza", 54_000, "eza", bins=("eza",)),
    Formula("fd", 52_000, "fd", bins=("fd",)),
    Formula("lazygit", 50_000, "lazygit", bins=("lazygit",)),
    Formula("btop", 48_000, "btop", bins=("btop",)),
    Formula("starship", 46_000, "starship", bins=("starship",)),
    Formula("zoxide", 44_000, "zoxide", bins=("zoxide",)),
    Formula("git-lfs", 42_000, "git-lfs", bins=("git-lfs",)),
    Formula(
        "glib",
        40_000,
        "glib-compile-schemas",
        False,
        bins=("gdbus", "gio", "glib-compile-schemas"),
        libs=("libglib-2.0.so",),
    ),
    Formula("terraform", 38_000, None, False),  # gone from homebrew/core: 404
    Formula("tldr", 36_000, "tldr", bins=("tldr",)),
    Formula("httpie", 34_000, "http", bins=("http", "https")),
    Formula("watch", 32_000, "watch", bins=("watch",)),
    Formula("curl", 30_000, "curl", bins=("curl", "curl-config"), libs=("libcurl.so",)),
    Formula("ninja", 28_000, "ninja", bins=("ninja",)),
    Formula("helm", 26_000, "helm", bins=("helm",)),
    Formula("deno", 24_000, "deno", bins=("deno",)),
]


@dataclass
class Brew:
    """The formula API and GHCR on ``server``, GHCR's storage host on ``storage_server``."""

    server: HTTPServer
    storage_server: HTTPServer
    storage: Storage

    def source(self, client: HttpClient) -> HomebrewSource:
        return HomebrewSource(
            client,
            self.server.url_for("/api"),
            DEFAULT_SETTINGS["homebrew"],
            ghcr_url=self.server.url_for("/").rstrip("/"),
        )


@pytest.fixture
def brew(httpserver: HTTPServer) -> Iterator[Brew]:
    httpserver.no_handler_status_code = 404
    storage_server = HTTPServer(host="127.0.0.1", port=0)
    storage_server.no_handler_status_code = 404
    storage_server.start()
    storage = Storage()
    storage_server.expect_request(re.compile(r"^/ghcr1/blobs/sha256:[0-9a-f]{64}$")).respond_with_handler(
        storage.handle
    )
    yield Brew(httpserver, storage_server, storage)
    storage_server.clear()
    if storage_server.is_running():
        storage_server.stop()


def serve_brew(brew: Brew, corpus: list[Formula]) -> None:
    server = brew.server
    ghcr = server.url_for("/").rstrip("/")
    server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_json(
        analytics([(f.name, f.installs) for f in corpus])
    )
    for f in corpus:
        if "/" in f.name or f.name == "terraform":
            continue
        data = bottle(
            f.name,
            "1.0",
            bins=tuple(b for b in f.bins if b != "pkg-config"),
            libs=f.libs,
            links=(("pkg-config", "pkgconf"),) if "pkg-config" in f.bins else (),
        )
        sha = sha256(data)
        brew.storage.blobs[sha] = data
        server.expect_request(f"/api/formula/{f.name}.json").respond_with_json(
            formula_json(f.name, "1.0", ghcr, sha, tags=f.tags)
        )
        repo = f.name.replace("@", "/").replace("+", "x")
        server.expect_request(f"/v2/homebrew/core/{repo}/blobs/sha256:{sha}").respond_with_handler(
            ghcr_blob(brew.storage_server.url_for("").rstrip("/"))
        )


def _brew_truth(corpus: list[Formula]) -> dict[str, tuple[int, str | None, bool]]:
    return {f.name: (f.installs, f.command, f.tool) for f in corpus}


def test_homebrew_seed_queues_formulae_whose_bottle_installs_a_command(
    brew: Brew, client: HttpClient
) -> None:
    serve_brew(brew, HOMEBREW)
    source = brew.source(client)
    check(source, _brew_truth(HOMEBREW), "homebrew")
    reasons = {d.name: d.reason for d in source.dropped}
    for name in ("python@3.13", "openssl@3", "icu4c@77", "node@22", "postgresql@17", "python@3.12"):
        assert reasons[name].startswith("a versioned formula"), name
    assert "installs no command in bin/ (a library)" in reasons["libyaml"]
    assert "(only libpng-config, libpng16-config)" in reasons["libpng"]
    assert reasons["hashicorp/tap/terraform"].startswith("a tap formula")
    assert "no x86_64_linux bottle (bottles: arm64_sequoia, arm64_sonoma, sonoma)" in reasons["mas"]
    assert "HTTP 404" in reasons["terraform"]
    # versioned formulae are never asked for: no request names them
    assert not [r for r, _ in brew.server.log if "@" in r.path]
    # GHCR got the anonymous token; its storage host never did, and was asked for a prefix only
    assert brew.storage.auth_seen == []
    assert brew.storage.ranges and all(r == "bytes=0-262143" for r in brew.storage.ranges)


def test_homebrew_top_50_share_of_real_tools(brew: Brew, client: HttpClient) -> None:
    serve_brew(brew, HOMEBREW)
    queued, tools, helpers = top_50(brew.source(client), _brew_truth(HOMEBREW))
    print(
        f"homebrew: {len(HOMEBREW)} formulae of the install-on-request list checked; {queued} queued in "
        f"the top 50, {tools} real tools, {len(helpers)} libraries' helper commands ({', '.join(helpers)}); "
        f"dropped: {sum(1 for f in HOMEBREW if '@' in f.name)} versioned, the libraries, a tap and a "
        "macOS-only formula"
    )
    assert (queued, tools) == (50, 47)
    assert helpers == ["pcre2grep", "captoinfo", "glib-compile-schemas"]


def test_homebrew_a_long_head_is_read_in_growing_ranges(brew: Brew, client: HttpClient) -> None:
    # 3 MB of docs before bin/ (upper-case names sort first): the first 256 KiB do not reach it
    server = brew.server
    ghcr = server.url_for("/").rstrip("/")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, payload in [
            ("docs/1.0/CHANGES", random.Random(1).randbytes(3_000_000)),
            ("docs/1.0/bin/docs", b"\x7fELF"),
            ("docs/1.0/share/x", random.Random(2).randbytes(1_000_000)),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    data = buf.getvalue()
    sha = sha256(data)
    brew.storage.blobs[sha] = data
    server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_json(
        analytics([("docs", 9)])
    )
    server.expect_request("/api/formula/docs.json").respond_with_json(formula_json("docs", "1.0", ghcr, sha))
    server.expect_request(f"/v2/homebrew/core/docs/blobs/sha256:{sha}").respond_with_handler(
        ghcr_blob(brew.storage_server.url_for("").rstrip("/"))
    )
    assert [c.name for c in brew.source(client).fetch()] == ["docs"]
    assert brew.storage.ranges == ["bytes=0-262143", "bytes=0-1048575", "bytes=0-4194303"]


def test_homebrew_bad_formula_documents_name_the_field(brew: Brew, client: HttpClient) -> None:
    server = brew.server
    ghcr = server.url_for("/").rstrip("/")
    server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_json(
        analytics([("nosha", 3), ("oddbottle", 2), ("nobottle", 1)])
    )
    doc = formula_json("nosha", "1.0", ghcr, "a" * 64)
    doc["bottle"]["stable"]["files"]["x86_64_linux"]["sha256"] = None
    server.expect_request("/api/formula/nosha.json").respond_with_json(doc)
    odd = formula_json("oddbottle", "1.0", ghcr, "b" * 64)
    odd["bottle"]["stable"]["files"] = []
    server.expect_request("/api/formula/oddbottle.json").respond_with_json(odd)
    server.expect_request("/api/formula/nobottle.json").respond_with_json(
        formula_json("nobottle", "1.0", ghcr, None)
    )
    source = brew.source(client)
    assert source.fetch() == ()
    reasons = {d.name: d.reason for d in source.dropped}
    assert "at $.bottle.stable.files.x86_64_linux.sha256: expected 64 hex digits" in reasons["nosha"]
    assert "at $.bottle.stable.files: expected an object, got list" in reasons["oddbottle"]
    assert "no x86_64_linux bottle (bottles: none)" in reasons["nobottle"]


def test_homebrew_a_blob_that_is_not_a_bottle_drops_that_formula(brew: Brew, client: HttpClient) -> None:
    server = brew.server
    ghcr = server.url_for("/").rstrip("/")
    data = b"<html>maintenance</html>" * 20
    sha = sha256(data)
    brew.storage.blobs[sha] = data
    server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_json(
        analytics([("broken", 2), ("jq", 1)])
    )
    server.expect_request("/api/formula/broken.json").respond_with_json(
        formula_json("broken", "1.0", ghcr, sha)
    )
    server.expect_request(f"/v2/homebrew/core/broken/blobs/sha256:{sha}").respond_with_handler(
        ghcr_blob(brew.storage_server.url_for("").rstrip("/"))
    )
    jq = bottle("jq", "1.7.1", bins=("jq",))
    brew.storage.blobs[sha256(jq)] = jq
    server.expect_request("/api/formula/jq.json").respond_with_json(
        formula_json("jq", "1.7.1", ghcr, sha256(jq))
    )
    server.expect_request(f"/v2/homebrew/core/jq/blobs/sha256:{sha256(jq)}").respond_with_handler(
        ghcr_blob(brew.storage_server.url_for("").rstrip("/"))
    )
    source = brew.source(client)
    assert [c.name for c in source.fetch()] == ["jq"]
    assert "not a gzip file" in {d.name: d.reason for d in source.dropped}["broken"]


def test_homebrew_analytics_gone_is_named(brew: Brew, client: HttpClient) -> None:
    brew.server.expect_request("/api/analytics/install-on-request/30d.json").respond_with_response(
        Response("Not Found", 404, content_type="text/html")
    )
    with pytest.raises(SourceError, match=r"the endpoint is gone \(HTTP 404\)"):
        brew.source(client).fetch()


def test_bottle_bin_needs_bytes_past_bin() -> None:
    data = bottle("jq", "1.7.1", bins=("jq",), libs=("libjq.so",))
    assert bottle_bin(data, "x") == ("jq",)
    assert bottle_bin(data[:300], "x") is None  # cut inside the docs: not known yet
    no_bin = bottle("libyaml", "0.2.5", libs=("libyaml.so",))
    assert bottle_bin(no_bin, "x") == ()


def test_homebrew_command_names() -> None:
    assert command_name("sqlite", ("sqlite3",)) == "sqlite3"
    assert command_name("rust", ("cargo", "rust-gdb", "rustc")) == "rustc"
    assert command_name("awscli", ("aws", "aws_completer")) == "aws"
    assert command_name("ripgrep", ("rg",)) == "rg"
    assert command_name("git", ("git", "git-shell")) == "git"
