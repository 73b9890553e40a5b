"""Registry endpoints from the user's pip/npm configuration (real pip, tmp config files, no network)."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from recipeline_schema import API_BASE_URLS, EndpointError, api_base_url, npm_registry_url, pypi_index_url
from recipeline_schema.endpoints import parse_pip_config_list, scrub_secret


def pip_env(tmp_path: Path, config: str | None) -> dict[str, str]:
    """Environment where pip reads only ``config`` (as PIP_CONFIG_FILE) besides the global files."""
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if config is None:
        env["PIP_CONFIG_FILE"] = os.devnull
    else:
        path = tmp_path / "pip.conf"
        path.write_text(config)
        env["PIP_CONFIG_FILE"] = str(path)
    return env


@pytest.fixture
def no_global_index(tmp_path: Path) -> None:
    """Skip when this machine's global pip files set an index-url (it would mask the tmp file's)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        env=pip_env(tmp_path, ""),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"pip cannot be run here: {proc.stderr.strip()[:200]}")
    if "index-url" in proc.stdout.replace("extra-index-url", ""):
        pytest.skip("the machine's global pip configuration sets an index-url")


# --- PyPI -------------------------------------------------------------------------------------


def test_pip_index_url_env_wins_without_asking_pip(tmp_path: Path) -> None:
    env = {"PIP_INDEX_URL": " https://mirror.example/simple "}
    assert pypi_index_url(env, python=str(tmp_path / "no-python")) == "https://mirror.example/simple/"


@pytest.mark.usefixtures("no_global_index")
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("[global]\nindex-url = https://global.example/simple\n", "https://global.example/simple/"),
        ("[global]\nindex_url = https://underscore.example/simple/\n", "https://underscore.example/simple/"),
        (
            "[global]\nindex-url = https://global.example/simple\n[install]\nindex-url = https://install.example/s\n",
            "https://install.example/s/",
        ),
        (
            "[download]\nindex-url = https://download.example/simple\n[global]\nindex-url = https://g.example/\n",
            "https://g.example/",
        ),
        ("[download]\nindex-url = https://download.example/simple\n", "https://download.example/simple/"),
    ],
)
def test_pip_configuration_file_is_read_in_pips_order(tmp_path: Path, config: str, expected: str) -> None:
    assert pypi_index_url(pip_env(tmp_path, config)) == expected


def test_without_configuration_the_default_comes_from_pip(tmp_path: Path) -> None:
    pip_index = pytest.importorskip("pip._internal.models.index", reason="pip's own default is the reference")
    url = pypi_index_url(pip_env(tmp_path, None))
    assert url == pip_index.PyPI.simple_url.rstrip("/") + "/"
    assert url.startswith("https://")


def test_no_pip_and_no_env_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EndpointError, match=r"no PyPI index: PIP_INDEX_URL is not set.*--index-url"):
        pypi_index_url({"HOME": str(tmp_path)}, python=str(tmp_path / "no-python"))


@pytest.mark.parametrize("value", ["ftp://mirror.example/simple", "mirror.example/simple", "https://a b/"])
def test_a_configured_index_that_is_not_http_is_refused(value: str) -> None:
    with pytest.raises(EndpointError, match="PIP_INDEX_URL: expected an http"):
        pypi_index_url({"PIP_INDEX_URL": value})


@pytest.mark.usefixtures("no_global_index")
def test_errors_never_show_credentials(tmp_path: Path) -> None:
    env = pip_env(tmp_path, "[global]\nindex-url = gopher://user:s3cret@mirror.example/simple\n")
    with pytest.raises(EndpointError) as info:
        pypi_index_url(env)
    assert "s3cret" not in str(info.value) and "pip configuration global.index-url" in str(info.value)


def test_parse_pip_config_list() -> None:
    text = "global.index-url='https://a.example/simple'\n:env:.index-url='https://e.example'\nnoise\n"
    assert parse_pip_config_list(text) == {
        "global.index-url": "https://a.example/simple",
        ":env:.index-url": "https://e.example",
    }


# --- npm --------------------------------------------------------------------------------------


def fake_npm(tmp_path: Path, output: str, code: int = 0) -> str:
    """An ``npm`` executable that prints ``output`` for any arguments."""
    path = tmp_path / "npm"
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' '{output}'\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.parametrize("key", ["npm_config_registry", "NPM_CONFIG_REGISTRY"])
def test_npm_registry_env_wins(tmp_path: Path, key: str) -> None:
    env = {key: "https://npm-mirror.example"}
    assert npm_registry_url(env, npm=str(tmp_path / "no-npm")) == "https://npm-mirror.example/"


def test_npm_config_get_registry_is_asked(tmp_path: Path) -> None:
    npm = fake_npm(tmp_path, "https://from-npm.example/")
    assert npm_registry_url({"HOME": str(tmp_path)}, npm=npm) == "https://from-npm.example/"


def test_real_npm_reads_the_user_config(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    rc = tmp_path / "npmrc"
    rc.write_text("registry=https://corp-npm.example/repo/\n")
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "NPM_CONFIG_USERCONFIG": str(rc)}
    assert npm_registry_url(env, npm=npm) == "https://corp-npm.example/repo/"


def test_without_npm_the_user_npmrc_is_read(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text(
        "; comment\nregistry = https://first.example/\nregistry=https://rc.example/x\n"
    )
    assert npm_registry_url({"HOME": str(tmp_path)}, npm=str(tmp_path / "no-npm")) == "https://rc.example/x/"


def test_npm_that_fails_falls_back_to_npmrc_named_by_userconfig(tmp_path: Path) -> None:
    rc = tmp_path / "custom-rc"
    rc.write_text("registry=https://userconfig.example/\n")
    npm = fake_npm(tmp_path, "boom", code=1)
    env = {"HOME": str(tmp_path), "NPM_CONFIG_USERCONFIG": str(rc)}
    assert npm_registry_url(env, npm=npm) == "https://userconfig.example/"


def test_no_npm_registry_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EndpointError, match=r"no npm registry: .*\.npmrc has no 'registry=' line"):
        npm_registry_url({"HOME": str(tmp_path)}, npm=str(tmp_path / "no-npm"))


# --- the other ecosystems ---------------------------------------------------------------------


def test_api_base_urls_are_https_and_overridable() -> None:
    assert set(API_BASE_URLS) >= {"cargo", "rubygems", "homebrew", "ghcr", "go", "cpan"}
    assert all(url.startswith("https://") and not url.endswith("/") for url in API_BASE_URLS.values())
    assert api_base_url("cargo", {}) == API_BASE_URLS["cargo"]
    assert (
        api_base_url("cargo", {"RECIPELINE_CARGO_URL": "http://127.0.0.1:8080/api/"})
        == "http://127.0.0.1:8080/api"
    )
    assert (
        api_base_url("go_index", {"RECIPELINE_GO_INDEX_URL": "https://idx.example"}) == "https://idx.example"
    )


def test_api_base_url_refuses_unknown_keys_and_bad_overrides() -> None:
    with pytest.raises(EndpointError, match="unknown API 'pip'"):
        api_base_url("pip", {})
    with pytest.raises(EndpointError, match="RECIPELINE_CPAN_URL: expected an http"):
        api_base_url("cpan", {"RECIPELINE_CPAN_URL": "metacpan"})


@pytest.mark.parametrize(
    "form",
    [
        lambda s: s,
        lambda s: quote(s, safe=""),
        lambda s: quote_plus(s),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.b64encode(f"x-access-token:{s}".encode()).decode(),
        lambda s: base64.b64encode(f"ab:{s}".encode()).decode(),
        lambda s: base64.urlsafe_b64encode(f"user:{s}".encode()).decode().rstrip("="),
        lambda s: "x" + base64.b64encode(f"user1:{s}".encode()).decode(),
    ],
    ids=["literal", "quote", "quote_plus", "b64", "basic", "basic-short-user", "urlsafe-unpadded", "glued"],
)
def test_scrub_secret_hides_every_encoded_form(form: Callable[[str], str]) -> None:
    secret = "ghp_s3cret+/= value"
    text = f"remote: invalid credentials {form(secret)} for o/r"
    scrubbed = scrub_secret(text, secret)
    assert form(secret) not in scrubbed and "***" in scrubbed
    assert scrubbed.startswith("remote: invalid credentials ") and scrubbed.endswith(" for o/r")


def test_scrub_secret_leaves_other_text_alone() -> None:
    text = "Basic " + base64.b64encode(b"user:other").decode() + " aGVsbG8gd29ybGQ="
    assert scrub_secret(text, "ghp_s3cret") == text
    assert scrub_secret("nothing", "") == "nothing"
