"""One local server per ecosystem, answering the generator's API requests and the validator's
downloads with the same package data (loopback only).

Each registry publishes packages built by this package's artifact builders and gives the
environment variables that point recipeline at it (``env()``): the generator reads the API
documents (the shapes of the generator's own builder tests), the validator downloads what it
installs from the same server, so a recipe generated from a registry installs from it.

- ``CargoRegistry``: crates.io API v1 ``crates/<name>`` (``bin_names``), a sparse index
  (``config.json``, index files) and ``.crate`` downloads;
- ``GoProxy``: the GOPROXY protocol (``@latest``, ``@v/list``, ``.info``, ``.mod``, ``.zip``);
- ``GemSource``: RubyGems API v1 ``gems/<name>.json`` and ``versions/<name>.json``, ``.gem`` files;
- ``MiniCpan``: MetaCPAN ``release``, ``download_url`` and ``file/_search``, the mirror's ``authors/id``;
- ``BrewRegistry``: Homebrew's formula and cask JSON, an OCI registry (token endpoint, image
  index, blobs answering with a redirect) and a second server, the storage host, which rejects
  any request carrying ``Authorization`` as signed-URL storage does;
- ``NpmRegistry``: packuments and tarballs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_validator.cargo import index_path

from .cpan import AUTHOR, Dist, pack
from .gomodules import Module
from .npm import build_npm_tarball, packument

#: Every registry answers as fast as the test can ask: ARCHITECTURE §5's 1 request/s (10/min for
#: RubyGems) would make a batch wait on its own rate limiter.
UNTHROTTLED = "1000/1"
#: The token the OCI registry hands out; GHCR also accepts Homebrew's anonymous ``QQ==``.
REGISTRY_TOKEN = "anonymous-pull-token-for-tests"
ANONYMOUS = "QQ=="


def _server() -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.no_handler_status_code = 404
    server.start()
    return server


class Registry:
    """A started loopback server; ``base`` has no trailing ``/``."""

    def __init__(self) -> None:
        self.server = _server()
        self.base = self.server.url_for("/").rstrip("/")

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()


class CargoRegistry(Registry):
    """crates.io's API (``/api/v1``), its sparse index (the root) and downloads."""

    def __init__(self) -> None:
        super().__init__()
        self.server.expect_request("/config.json").respond_with_json(
            {"dl": f"{self.base}/api/v1/crates", "api": self.base}
        )

    def publish(
        self, name: str, version: str, crate: bytes, *, bin_names: list[str] | None, description: str
    ) -> None:
        """Publish a crate; ``bin_names=None`` answers as crates.io does for versions it never
        analysed (published before mid-2024): ``bin_names`` and ``has_lib`` are ``null``."""
        doc = {
            "crate": {
                "id": name,
                "name": name,
                "description": description,
                "homepage": None,
                "repository": f"https://example.invalid/{name}",
                "documentation": None,
                "max_version": version,
            },
            "versions": [
                {
                    "num": version,
                    "yanked": False,
                    "bin_names": bin_names,
                    "has_lib": None if bin_names is None else False,
                    "dl_path": f"/api/v1/crates/{name}/{version}/download",
                    "crate_size": len(crate),
                }
            ],
        }
        line = {
            "name": name,
            "vers": version,
            "deps": [],
            "cksum": hashlib.sha256(crate).hexdigest(),
            "features": {},
            "yanked": False,
        }
        self.server.expect_request(f"/api/v1/crates/{name}").respond_with_json(doc)
        self.server.expect_request(f"/{index_path(name)}").respond_with_data(json.dumps(line) + "\n")
        self.server.expect_request(f"/api/v1/crates/{name}/{version}/download").respond_with_data(
            crate, content_type="application/octet-stream"
        )

    def env(self) -> dict[str, str]:
        return {
            "RECIPELINE_CARGO_URL": f"{self.base}/api/v1",
            "RECIPELINE_CARGO_INDEX_URL": self.base,
            "RECIPELINE_RATE_LIMIT_CARGO": UNTHROTTLED,
        }


class GoProxy(Registry):
    """A module proxy; ``GOSUMDB=off`` is the documented setting for a proxy no database knows."""

    def publish(self, module: Module) -> None:
        base = f"/{module.path}/@v/{module.version}"
        info = {"Version": module.version, "Time": "2026-01-01T00:00:00Z"}
        self.server.expect_request(base + ".info").respond_with_json(info)
        self.server.expect_request(f"/{module.path}/@latest").respond_with_json(info)
        self.server.expect_request(base + ".mod").respond_with_data(module.files["go.mod"])
        self.server.expect_request(base + ".zip").respond_with_data(
            module.zip(), content_type="application/zip"
        )
        self.server.expect_request(f"/{module.path}/@v/list").respond_with_data(module.version + "\n")

    def env(self) -> dict[str, str]:
        return {"RECIPELINE_GO_URL": self.base, "RECIPELINE_RATE_LIMIT_GO": UNTHROTTLED, "GOSUMDB": "off"}


class GemSource(Registry):
    """RubyGems' API v1 (``/api/v1``) and its gem source (``/gems/<full name>.gem``)."""

    def publish(self, name: str, version: str, gem: bytes, *, summary: str) -> None:
        info = {
            "name": name,
            "version": version,
            "platform": "ruby",
            "info": summary,
            "homepage_uri": f"https://example.invalid/{name}",
            "source_code_uri": None,
            "documentation_uri": None,
        }
        release = {
            "number": version,
            "platform": "ruby",
            "sha": hashlib.sha256(gem).hexdigest(),
            "prerelease": False,
            "ruby_version": ">= 0",
        }
        self.server.expect_request(f"/api/v1/gems/{name}.json").respond_with_json(info)
        self.server.expect_request(f"/api/v1/versions/{name}.json").respond_with_json([release])
        self.server.expect_request(f"/gems/{name}-{version}.gem").respond_with_data(
            gem, content_type="application/octet-stream"
        )

    def env(self) -> dict[str, str]:
        return {
            "RECIPELINE_RUBYGEMS_URL": f"{self.base}/api/v1",
            "RECIPELINE_RUBYGEMS_SOURCE_URL": self.base,
            "RECIPELINE_RATE_LIMIT_RUBYGEMS": UNTHROTTLED,
        }


class MiniCpan(Registry):
    """MetaCPAN's API (``/v1``) and a CPAN mirror (``/authors/id/...``)."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, list[dict[str, str]]] = {}  # release name -> its files one directory deep
        self.server.expect_request("/v1/file/_search").respond_with_handler(self._search)

    def publish(self, dist: Dist, *, main_module: str) -> None:
        data = pack(dist)
        self.server.expect_request(f"/authors/id/{dist.path}").respond_with_data(
            data, content_type="application/x-gzip"
        )
        download = {
            "download_url": f"{self.base}/authors/id/{dist.path}",
            "version": dist.version,
            "checksum_sha256": hashlib.sha256(data).hexdigest(),
        }
        release = download | {
            "name": dist.release,
            "distribution": dist.name,
            "author": AUTHOR,
            "abstract": "a test distribution",
            "main_module": main_module,
            "provides": list(dist.provides),
            "resources": {},
        }
        self.server.expect_request(f"/v1/release/{dist.name}").respond_with_json(release)
        for module in dist.provides:
            self.server.expect_request(f"/v1/download_url/{module}").respond_with_json(
                download | {"release": dist.release, "status": "latest"}
            )
        texts = {"META.json": "{}", **dist.files}
        self.files[dist.release] = [
            _metacpan_file(path, texts[path]) for path in sorted(texts) if path.count("/") <= 1
        ]

    def _search(self, request: Request) -> Response:
        # MetaCPAN's Elasticsearch 8 client knows no ``fields`` parameter: HTTP 500 for it
        if "fields" in request.args:
            return Response(
                '{"code":500,"message":"Internal Server Error"}', 500, content_type="application/json"
            )
        query = request.args.get("q", "")
        found = re.search(r'release:"([^"]+)"', query)
        files = self.files.get(found[1], []) if found else []
        keys = request.args.get("_source", "").split(",")
        hits = [
            {"_index": "cpan_v1_01", "_id": f["path"], "_source": {k: f[k] for k in keys if k in f}}
            for f in files
        ]
        total = {"value": len(hits), "relation": "eq"}
        return Response(json.dumps({"hits": {"total": total, "hits": hits}}), content_type="application/json")

    def env(self) -> dict[str, str]:
        return {
            "RECIPELINE_CPAN_URL": f"{self.base}/v1",
            "RECIPELINE_CPAN_MIRROR_URL": self.base,
            "RECIPELINE_RATE_LIMIT_CPAN": UNTHROTTLED,
        }


def _metacpan_file(path: str, text: str) -> dict[str, str]:
    """A file as MetaCPAN indexes it: ``path`` and ``mime`` (``text/x-script.perl`` for a file
    without a ``.`` whose first line is ``#!...perl``; none for other extension-less files)."""
    name = path.rsplit("/", 1)[-1]
    if "." in name:
        return {
            "path": path,
            "mime": "text/x-script.perl" if name.lower().endswith((".pl", ".t")) else "text/plain",
        }
    if re.match(r"#!.*?perl", text.lstrip()):
        return {"path": path, "mime": "text/x-script.perl"}
    return {"path": path}


@dataclass
class _Blobs:
    data: dict[str, bytes] = field(default_factory=dict)  # hex digest -> bytes
    storage_saw_authorization: list[str] = field(default_factory=list)


#: Bottle tags published for every formula (the generator reads x86_64_linux by default, the
#: validator this host's).
LINUX_TAGS = ("x86_64_linux", "arm64_linux")
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_PLATFORMS = {"x86_64_linux": ("linux", "amd64"), "arm64_linux": ("linux", "arm64")}


class BrewRegistry(Registry):
    """Homebrew's API (``/api``: formulae and casks), GHCR (``/token``, ``/v2/...``) and a storage host."""

    def __init__(self) -> None:
        super().__init__()
        self.storage = _server()
        self.storage_base = self.storage.url_for("/").rstrip("/")
        self.blobs = _Blobs()
        self.server.expect_request("/token").respond_with_handler(self._token)
        self.server.expect_request(re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")).respond_with_handler(
            self._blob
        )
        self.storage.expect_request(re.compile(r"^/blobs/[0-9a-f]{64}$")).respond_with_handler(self._stored)

    @property
    def storage_saw_authorization(self) -> list[str]:
        """Paths the storage host was asked for with an ``Authorization`` header (a leak)."""
        return self.blobs.storage_saw_authorization

    def publish_formula(self, name: str, version: str, bottle: bytes, *, desc: str) -> None:
        digest = hashlib.sha256(bottle).hexdigest()
        self.blobs.data[digest] = bottle
        url = f"https://ghcr.io/v2/homebrew/core/{name}/blobs/sha256:{digest}"
        files = {tag: {"cellar": ":any", "url": url, "sha256": digest} for tag in LINUX_TAGS}
        formula = {
            "name": name,
            "desc": desc,
            "homepage": f"https://example.invalid/{name}",
            "versions": {"stable": version, "bottle": True},
            "revision": 0,
            "dependencies": [],
            "uses_from_macos": [],
            "bottle": {
                "stable": {"rebuild": 0, "root_url": "https://ghcr.io/v2/homebrew/core", "files": files}
            },
        }
        manifests = [
            {
                "mediaType": _OCI_MANIFEST,
                "digest": f"sha256:{hashlib.sha256(f'{name}-{tag}'.encode()).hexdigest()}",
                "platform": {"os": _PLATFORMS[tag][0], "architecture": _PLATFORMS[tag][1]},
                "annotations": {
                    "org.opencontainers.image.ref.name": f"{version}.{tag}",
                    "sh.brew.bottle.digest": f"sha256:{digest}",
                },
            }
            for tag in LINUX_TAGS
        ]
        index = {"schemaVersion": 2, "mediaType": _OCI_INDEX, "manifests": manifests}
        self.server.expect_request(f"/api/formula/{name}.json").respond_with_json(formula)
        self.server.expect_request(f"/v2/homebrew/core/{name}/manifests/{version}").respond_with_handler(
            lambda request: self._authorized(request) or Response(json.dumps(index), content_type=_OCI_INDEX)
        )

    def publish_cask(self, token: str, version: str, *, app: str, desc: str) -> None:
        doc = {
            "token": token,
            "name": [app.removesuffix(".app")],
            "desc": desc,
            "homepage": f"https://example.invalid/{token}",
            "url": f"https://example.invalid/{token}-{version}.zip",
            "version": version,
            "sha256": "a" * 64,
            "artifacts": [{"app": [app]}],
            "depends_on": {"macos": {">=": ["12"]}},
        }
        self.server.expect_request(f"/api/cask/{token}.json").respond_with_json(doc)

    def _authorized(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") in (f"Bearer {REGISTRY_TOKEN}", f"Bearer {ANONYMOUS}"):
            return None
        return Response('{"errors":[{"code":"UNAUTHORIZED"}]}', status=401, content_type="application/json")

    def _token(self, request: Request) -> Response:
        scope = request.args.get("scope", "")
        if request.args.get("service") != urlsplit(self.base).netloc:
            return Response("unknown service", status=400)
        if not scope.startswith("repository:homebrew/core/") or not scope.endswith(":pull"):
            return Response("bad scope", status=400)
        return Response(json.dumps({"token": REGISTRY_TOKEN}), content_type="application/json")

    def _blob(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        digest = request.path.partition("/blobs/sha256:")[2]
        if digest not in self.blobs.data:
            return Response(
                '{"errors":[{"code":"BLOB_UNKNOWN"}]}', status=404, content_type="application/json"
            )
        return Response(
            status=307, headers={"Location": f"{self.storage_base}/blobs/{digest}?X-Amz-Signature=s1gned"}
        )

    def _stored(self, request: Request) -> Response:
        if "Authorization" in request.headers:
            self.blobs.storage_saw_authorization.append(request.path)
            return Response(
                "<Error><Code>InvalidArgument</Code></Error>", status=400, content_type="text/xml"
            )
        data = self.blobs.data.get(request.path.removeprefix("/blobs/"))
        return Response(data, content_type="application/octet-stream") if data else Response(status=404)

    def env(self) -> dict[str, str]:
        return {
            "RECIPELINE_HOMEBREW_URL": f"{self.base}/api",
            "RECIPELINE_GHCR_URL": self.base,
            "RECIPELINE_RATE_LIMIT_HOMEBREW": UNTHROTTLED,
            "RECIPELINE_RATE_LIMIT_CASK": UNTHROTTLED,
        }

    def stop(self) -> None:
        super().stop()
        self.storage.clear()
        if self.storage.is_running():
            self.storage.stop()


class NpmRegistry(Registry):
    """An npm registry: ``/<name>`` packuments, ``/tarballs/<name>-<version>.tgz``."""

    def publish(
        self, manifest: dict[str, Any], files: dict[str, str], *, executable: tuple[str, ...]
    ) -> None:
        tarball = build_npm_tarball(manifest, files, executable=executable)
        path = f"/tarballs/{manifest['name']}-{manifest['version']}.tgz"
        self.server.expect_request(path).respond_with_data(tarball, content_type="application/octet-stream")
        self.server.expect_request(f"/{manifest['name']}").respond_with_json(
            packument(manifest, tarball, self.base + path)
        )

    def env(self) -> dict[str, str]:
        return {"npm_config_registry": self.base + "/", "RECIPELINE_RATE_LIMIT_NPM": UNTHROTTLED}


@contextmanager
def started(*registries: Registry) -> Iterator[dict[str, str]]:
    """The registries' environment variables together; every server is stopped afterwards."""
    try:
        env: dict[str, str] = {}
        for registry in registries:
            env.update(registry.env())
        yield env
    finally:
        for registry in registries:
            registry.stop()
