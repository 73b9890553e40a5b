"""``gem_install`` in the native backend: fetch the gem and its runtime dependencies, then install
them offline into the prefix, with bin wrappers (as tsuku's action does).

Phase 1 (network; no gem code runs):

1. ``GET <api>/versions/<gem>.json`` (RubyGems' JSON API v1, ``API_BASE_URLS["rubygems"]``,
   ``RECIPELINE_RUBYGEMS_URL``): every release with its platform, ``sha`` (sha256) and
   ``ruby_version``. The host's ``ruby`` picks, with RubyGems' own ``Gem::Version`` and
   ``Gem::Requirement`` (``RUBY_HELPER``), the newest release for this host (the ``ruby``
   platform, or this host's own, preferred) that is not a prerelease, satisfies the
   requirement, and whose ``required_ruby_version`` this ruby meets; the newest release
   regardless of ruby is the recorded latest version.
2. ``GET <source>/gems/<name>-<version>[-<platform>].gem`` from the gem source (``API_BASE_URLS
   ["rubygems_source"]``, ``RECIPELINE_RUBYGEMS_SOURCE_URL``), its sha256 checked against the
   API's; the file and its ``data.tar.gz`` are unpacked once under ``stage/`` by
   ``archive.extract_tar``, so a hostile member refuses the gem before ``gem`` ever reads it.
3. Its metadata is read as data (``Gem::Package#spec``: YAML, no gem code), and each runtime
   dependency is resolved and fetched the same way (breadth first; a gem required again with
   a requirement its pick does not meet is picked again; ``gem install`` checks the whole set
   again offline).

Phase 2 (network cut): ``gem install --local --install-dir <prefix>/gems --bindir
<prefix>/gems/bin --no-document <gem>-<version>.gem`` in the directory holding the fetched
files (RubyGems resolves the dependencies from them), ``GEM_HOME``/``GEM_PATH`` in the prefix;
native extensions compile here, with ``make`` and ``cc`` on PATH. Each installed executable
gets a wrapper in ``<prefix>/gem-bin`` that sets ``GEM_HOME``/``GEM_PATH`` and runs it with the
host's ruby, so it runs from anywhere; the step's executables are linked from there.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .archive import UnsafeArchiveError, extract_tar
from .checks import EXECUTABLE_RE
from .fetching import (
    FetchError,
    bad_response,
    base_url,
    fetch_file,
    get_json,
    helper_json,
    program_version,
    published_sha256,
)
from .outcome import SandboxOutcome, fail
from .output import cause_line
from .registry import client_for
from .runner import Installed, PlannedStep, StepContext, Toolchain, find_programs, link_executables
from .wrappers import build_programs, compiler_error, write_wrappers

if TYPE_CHECKING:
    from recipeline_schema.http import HttpClient

    from .native import NativeOptions

#: Gem names as RubyGems accepts them; they become URL parts and file names.
GEM_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
#: Gem versions (``Gem::Version``): digits, letters, dots, dashes.
VERSION_RE = re.compile(r"^[0-9][0-9A-Za-z.-]{0,63}$")
#: Gem platforms (``ruby``, ``x86_64-linux``, ``arm64-darwin``, ``x86_64-linux-musl``).
PLATFORM_RE = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_.]+){0,2}$")
#: The most gems one step may fetch (a runaway dependency closure stops here).
MAX_GEMS = 200

#: RubyGems' own rules, run with the host's ruby: ``spec FILE`` prints a .gem's name, version,
#: platform and runtime dependencies (its YAML metadata, loaded by ``Gem::Package``, no gem code);
#: ``pick QUERY`` prints the newest release of a versions list matching a requirement that runs
#: here: this ruby, and the ``ruby`` platform or this host's (preferred, as ``gem install`` does;
#: on Linux only a platform of this host's C library, ``-gnu`` or ``-musl``).
RUBY_HELPER = r"""
require "json"
require "rubygems/package"

LIBC = RbConfig::CONFIG["host_os"].to_s.include?("musl") ? "musl" : "gnu"

def platform_here?(name)
  return true if name == "ruby"
  platform = Gem::Platform.new(name)
  platform === Gem::Platform.local && (platform.os != "linux" || [nil, LIBC].include?(platform.version))
rescue StandardError
  false
end

def release?(c)
  return false unless c.is_a?(Hash) && c["platform"].is_a?(String) && c["number"].is_a?(String)
  platform_here?(c["platform"]) && !c["prerelease"] && Gem::Version.correct?(c["number"]) &&
    !Gem::Version.new(c["number"]).prerelease?
end

def runs_here?(c)
  Gem::Requirement.new(*c["ruby_version"].to_s.split(/,\s*/).reject(&:empty?)).satisfied_by?(Gem.ruby_version)
rescue ArgumentError
  false
end

def rank(c) = [Gem::Version.new(c["number"]), c["platform"] == "ruby" ? 0 : 1]

case ARGV[0]
when "spec"
  spec = Gem::Package.new(ARGV[1]).spec
  deps = spec.runtime_dependencies.map { |d| { "name" => d.name, "requirement" => d.requirement.as_list } }
  puts JSON.generate("name" => spec.name, "version" => spec.version.to_s, "platform" => spec.platform.to_s,
                     "dependencies" => deps)
when "pick"
  query = JSON.parse(File.read(ARGV[1]))
  wanted = Gem::Requirement.new(*query["requirement"])
  matching = query["candidates"].select do |c|
    release?(c) && wanted.satisfied_by?(Gem::Version.new(c["number"]))
  end
  newest = matching.max_by { |c| rank(c) }
  usable = matching.select { |c| runs_here?(c) }.max_by { |c| rank(c) }
  puts JSON.generate("newest" => newest && newest["number"], "usable" => usable && usable["number"],
                     "newest_ruby" => newest && newest["ruby_version"],
                     "platform" => usable && usable["platform"], "ruby" => RUBY_VERSION)
end
"""

WRAPPER = """#!/bin/sh
# recipeline: {exe} of the gems in {gems}, run with {ruby}
export GEM_HOME={gems_q}
export GEM_PATH={gems_q}
exec {ruby_q} {script_q} "$@"
"""


@dataclass(frozen=True, slots=True)
class _Pick:
    version: str
    platform: str
    latest: str
    note: str = ""

    def full_name(self, gem: str) -> str:
        """``<gem>-<version>``, with ``-<platform>`` for a platform gem (its file's name)."""
        return f"{gem}-{self.version}" if self.platform == "ruby" else f"{gem}-{self.version}-{self.platform}"


def step_problem(step: PlannedStep) -> str | None:
    """Why the step's parameters cannot go to RubyGems or become file names, or None."""
    gem = step.text("gem")
    if not GEM_RE.fullmatch(gem) or ".." in gem:
        return f"step {step.step}: gem: expected a gem name ({GEM_RE.pattern}), got {gem!r}"
    bad = [exe for exe in step.executables if not EXECUTABLE_RE.fullmatch(exe) or ".." in exe]
    if bad:
        return f"step {step.step}: executables: {bad[0]!r} is not a valid executable name"
    return None


def gem_cause(output: str) -> str:
    """gem's own error line (its last ``ERROR:``, what follows it is the build log), with the
    compiler's first error when an extension did not build."""
    marked = [line.strip() for line in output.splitlines() if line.strip().startswith("ERROR:")]
    cause = " ".join(marked[-1].removeprefix("ERROR:").split()) if marked else cause_line(output)
    compiler = compiler_error(output)
    return f"{cause} ({compiler})" if compiler and compiler not in cause else cause


class GemRunner:
    """``gem_install``: the gem and its runtime closure fetched, installed with ``gem --local``."""

    action: ClassVar[str] = "gem_install"
    needs: ClassVar[tuple[str, ...]] = ("ruby",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        found = find_programs(("ruby", "gem"), options.search_path)
        if isinstance(found, str):
            return found
        programs = dict(found)
        ruby = program_version([programs["ruby"], "-e", "print RUBY_VERSION"])
        if ruby is None:
            return f"ruby does not run ({programs['ruby']} -e 'print RUBY_VERSION' failed)"
        gem = program_version([programs["gem"], "--version"])
        if gem is None:
            return f"gem does not run ({programs['gem']} --version failed)"
        for name in ("make", "cc"):  # only gems with native extensions need them
            where = shutil.which(name, path=options.search_path)
            if where is not None:
                programs[name] = where
        return Toolchain(programs, {"ruby": ruby, "gem": gem}, runtime=("ruby",))

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        problem = step_problem(step)
        if problem is not None:
            return fail("schema_invalid", problem)
        try:
            root = _fetch_closure(step, ctx)
        except FetchError as exc:
            return exc.outcome
        manifest = {
            "gem": step.text("gem"),
            "version": root.version,
            "full_name": root.full_name(step.text("gem")),
            "latest": root.latest,
            "note": root.note,
        }
        (_cache(step, ctx) / "gem.json").write_text(json.dumps(manifest), encoding="utf-8")
        return None

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        cache = _cache(step, ctx)
        manifest = json.loads((cache / "gem.json").read_text(encoding="utf-8"))
        gem, version, full = str(manifest["gem"]), str(manifest["version"]), str(manifest["full_name"])
        gems = ctx.prefix / "gems"
        env = ctx.offline_env(build=build_programs(ctx.toolchain)) | {
            "GEM_HOME": str(gems),
            "GEM_PATH": str(gems),
            "GEM_SPEC_CACHE": str(ctx.prefix / "tmp" / "gem-specs"),
        }
        done = ctx.run_offline(
            [
                ctx.toolchain.path("gem"), "install", "--local", "--install-dir", str(gems),
                "--bindir", str(gems / "bin"), "--no-document", "--no-user-install", f"{full}.gem",
            ],
            env=env,
            log=ctx.log("gem-install", step),
            cwd=cache,
        )  # fmt: skip
        if done.exit_code is None:
            return fail(
                "install_failed", f"gem install {full} did not finish within {ctx.limits.install_timeout:g}s"
            )
        if done.exit_code != 0:
            return fail("install_failed", f"gem install {full}: {gem_cause(done.output)}", output=done.output)
        if not (gems / "specifications" / f"{full}.gemspec").is_file():
            return fail("install_failed", f"gem install {full} succeeded but installed no {full}.gemspec")
        ruby = ctx.toolchain.path("ruby")
        wrappers = ctx.prefix / "gem-bin"
        write_wrappers(gems / "bin", wrappers, WRAPPER, gems=str(gems), ruby=ruby)
        linked = link_executables(step, wrappers, ctx.prefix, what=f"gem {full}")
        if linked is not None:
            return linked
        return Installed(gem, version, str(manifest["latest"]), str(manifest["note"]))


def _cache(step: PlannedStep, ctx: StepContext) -> Path:
    return ctx.prefix / "cache" / f"gem-{step.step}"


def _fetch_closure(step: PlannedStep, ctx: StepContext) -> _Pick:
    """Fetch the step's gem and its runtime dependencies into its cache; the root gem's pick.

    Breadth first; a gem required again with a requirement its pick does not meet is picked
    again with every requirement seen for it (its newer file replaced), so ``>= 0`` first and
    ``~> 1.0`` later end with a 1.x, as ``gem install`` would resolve.
    """
    env = ctx.options.caller_env
    api = base_url("rubygems", env)
    source = base_url("rubygems_source", env)
    cache = _cache(step, ctx)
    cache.mkdir(parents=True, exist_ok=True)
    root_gem = step.text("gem")
    pending: deque[tuple[str, list[str], str]] = deque([(root_gem, [], "")])
    chosen: dict[str, _Pick] = {}
    wanted: dict[str, list[str]] = {}  # every requirement seen for a gem
    releases: dict[str, list[Any]] = {}  # its versions list, asked once
    http = client_for(env)
    while pending:
        name, requirement, needed_by = pending.popleft()
        if name in chosen:
            added = [r for r in requirement if r not in wanted[name]]
            if not added:
                continue
            wanted[name] += added
            pick = _pick(ctx, step, name, wanted[name], releases[name], needed_by)
            if pick.full_name(name) == chosen[name].full_name(name):
                continue
            (cache / f"{chosen[name].full_name(name)}.gem").unlink(missing_ok=True)
        else:
            if len(chosen) >= MAX_GEMS:
                raise FetchError(fail("install_failed", f"gem {root_gem} needs more than {MAX_GEMS} gems"))
            if not GEM_RE.fullmatch(name) or ".." in name:
                raise FetchError(fail("install_failed", f"{needed_by} depends on {name!r}, not a gem name"))
            url = f"{api}/versions/{name}.json"
            found = get_json(http, "rubygems", url, f"versions of gem {name}")
            if not isinstance(found, list):
                raise bad_response(url, "expected a JSON array of versions")
            releases[name], wanted[name] = found, list(requirement)
            pick = _pick(ctx, step, name, requirement, found, needed_by)
        chosen[name] = pick
        dependencies = _fetch_gem(
            http, ctx, step, name, pick, f"{api}/versions/{name}.json", source, releases[name]
        )
        pending.extend((dep, reqs, pick.full_name(name)) for dep, reqs in dependencies)
    return chosen[root_gem]


def _fetch_gem(
    http: HttpClient,
    ctx: StepContext,
    step: PlannedStep,
    name: str,
    pick: _Pick,
    url: str,
    source: str,
    releases: list[Any],
) -> list[tuple[str, list[str]]]:
    """Download the picked .gem (sha256 checked), check it unpacks safely, read its metadata;
    its runtime dependencies as (name, requirement) pairs."""
    sha = next(
        (
            published_sha256(c.get("sha"), url)
            for c in releases
            if isinstance(c, dict) and c.get("number") == pick.version and c.get("platform") == pick.platform
        ),
        None,
    )
    full = pick.full_name(name)
    gem_file = _cache(step, ctx) / f"{full}.gem"
    fetch_file(http, "rubygems", f"{source}/gems/{full}.gem", gem_file, sha256=sha, what=f"{full}.gem")
    _check_archive(gem_file, ctx.prefix / "stage" / f"gem-{step.step}" / full)
    spec = helper_json(
        ctx,
        [ctx.toolchain.path("ruby"), "-e", RUBY_HELPER, "spec", str(gem_file)],
        log=ctx.log(f"gem-spec-{full}", step),
        what=f"{full}.gem metadata",
    )
    names = (spec.get("name"), spec.get("version"), spec.get("platform"))
    if names != (name, pick.version, pick.platform):
        named = " ".join(repr(value) for value in names)
        raise FetchError(fail("install_failed", f"{full}.gem: its metadata names {named}"))
    return [
        (str(dep.get("name")), [str(r) for r in dep.get("requirement") or []])
        for dep in spec.get("dependencies") or []
        if isinstance(dep, dict)
    ]


def _pick(
    ctx: StepContext,
    step: PlannedStep,
    name: str,
    requirement: list[str],
    candidates: list[Any],
    needed_by: str,
) -> _Pick:
    """The release of ``name`` to install (RubyGems' rules, this ruby), and the newest one."""
    query = ctx.prefix / "tmp" / f"gem-pick-{name}.json"
    query.parent.mkdir(parents=True, exist_ok=True)
    query.write_text(json.dumps({"requirement": requirement, "candidates": candidates}), encoding="utf-8")
    found = helper_json(
        ctx,
        [ctx.toolchain.path("ruby"), "-e", RUBY_HELPER, "pick", str(query)],
        log=ctx.log(f"gem-pick-{name}", step),
        what=f"versions of gem {name}",
    )
    wanted = f" {', '.join(requirement)}" if requirement else ""
    by = f" (needed by {needed_by})" if needed_by else ""
    newest, usable, ruby = found.get("newest"), found.get("usable"), found.get("ruby")
    platform = found.get("platform")
    if not isinstance(newest, str):
        raise FetchError(
            fail("install_failed", f"gem {name}{wanted}{by}: no release for the ruby platform or this host's")
        )
    if not isinstance(usable, str):  # this host's ruby is too old: the environment's gap
        message = (
            f"step {step.step}: gem {name}{wanted}{by}: no release runs on ruby {ruby} "
            f"(the newest, {newest}, needs ruby {found.get('newest_ruby')})"
        )
        raise FetchError(SandboxOutcome(False, message, skipped=True))
    for version in (newest, usable):
        if not VERSION_RE.fullmatch(version) or ".." in version:
            raise bad_response(f"versions of gem {name}", f"version {version[:60]!r} is not a gem version")
    if not isinstance(platform, str) or not PLATFORM_RE.fullmatch(platform):
        raise bad_response(
            f"versions of gem {name}", f"platform {str(platform)[:60]!r} is not a gem platform"
        )
    note = ""
    if usable != newest:
        note = f"the latest, {newest}, needs ruby {found.get('newest_ruby')}, this host has ruby {ruby}"
    return _Pick(usable, platform, newest, note)


def _check_archive(gem_file: Path, dest: Path) -> None:
    """Unpack the .gem and its data.tar.gz under ``stage/`` with the one safe rule (refusing a
    hostile member before ``gem`` reads the file)."""
    try:
        extract_tar(gem_file, dest)
    except UnsafeArchiveError as exc:
        raise FetchError(fail("install_failed", f"unsafe archive: {exc}")) from None
    data = dest / "data.tar.gz"
    try:
        if data.is_file():
            extract_tar(data, dest / "data")
    except UnsafeArchiveError as exc:
        raise FetchError(fail("install_failed", f"unsafe archive: {gem_file.name}, {exc}")) from None
