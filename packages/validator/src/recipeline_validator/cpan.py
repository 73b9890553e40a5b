"""``cpan_install`` in the native backend: fetch the distribution and its prerequisites into a
mini CPAN inside the prefix, then ``cpanm`` from it offline into a local lib (as tsuku's action
does, with the download split off).

Phase 1 (network; no distribution code runs):

1. ``GET <api>/release/<distribution>`` (MetaCPAN, ``API_BASE_URLS["cpan"]``,
   ``RECIPELINE_CPAN_URL``): the newest release's ``version``, ``download_url`` and
   ``checksum_sha256``. Only the ``authors/id/...`` part of ``download_url`` is used: the
   tarball comes from the CPAN mirror (``API_BASE_URLS["cpan_mirror"]``,
   ``RECIPELINE_CPAN_MIRROR_URL``), so an API answer cannot send the download elsewhere.
2. The tarball, its sha256 checked, is stored as ``<prefix>/mirror/authors/id/<path>`` and
   unpacked once under ``stage/`` by ``archive.extract_tar`` (a hostile member refuses it).
3. Its ``META.json`` (else ``META.yml``) is read as data with the host perl's ``CPAN::Meta``
   (``PERL_HELPER``): the ``requires`` of the configure, build and runtime phases, less what
   ``Module::CoreList`` says this perl ships in a version that satisfies them. Each module left
   is resolved by ``GET <api>/download_url/<Module>`` (its release's ``download_url``,
   ``checksum_sha256``, ``version``) and fetched the same way, breadth first.
4. ``<prefix>/mirror/modules/02packages.details.txt.gz`` lists every module resolved (and every
   package a fetched distribution's META ``provides``) with its tarball and version (the one
   META ``provides`` gives it, else the release's): a mini CPAN.

Phase 2 (network cut): ``perl cpanm --mirror file://<prefix>/mirror --mirror-only --notest
--local-lib-contained <prefix>/perl5 <tarball>``, with ``make`` and ``cc`` on PATH (XS modules
compile here) and cpanm's work directory in ``<prefix>/tmp``. cpanm installs what
``Makefile.PL``/``Build.PL`` install, wherever the script sits in the distribution
(``EXE_FILES``), into ``<prefix>/perl5/bin``; each gets a wrapper in ``<prefix>/cpan-bin`` that sets
``PERL5LIB`` and runs it with the host's perl, and the step's executables are linked from there.

A distribution with ``dynamic_config`` computes more prerequisites when its ``Makefile.PL``
runs; those are not in the mini CPAN, and cpanm's failure to find them is the install's.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

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
from .registry import client_for, version_number
from .runner import Installed, PlannedStep, StepContext, Toolchain, find_programs, link_executables
from .wrappers import build_programs, compiler_error, write_wrappers

if TYPE_CHECKING:
    from recipeline_schema.http import HttpClient

    from .native import NativeOptions

#: CPAN distribution and module names (as the generator's CPAN builder accepts them).
DISTRIBUTION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z0-9_]+)*$")
#: A tarball's path below ``authors/id/`` (``L/LO/LOCAL/Tiny-Tool-1.0.tar.gz``).
AUTHOR_PATH_RE = re.compile(
    r"^[A-Z]/[A-Z0-9]{2}/[A-Z0-9-]+/(?:[A-Za-z0-9_][A-Za-z0-9._+-]*/)*[A-Za-z0-9_][A-Za-z0-9._+-]*$"
)
VERSION_RE = re.compile(r"^v?[0-9][0-9A-Za-z._-]{0,63}$")
#: The most distributions one step may fetch (a runaway prerequisite closure stops here).
MAX_DISTRIBUTIONS = 300
_CPANM_FAIL = ("-> FAIL ", "! ")
_SEE_LOG = re.compile(r"\s*See \S+ for details\.?.*$")
#: cpanm's progress words that start the line a build's own output continues (``--verbose``).
_PROGRESS = re.compile(r"^(?:Configuring|Building|Installing|Fetching) \S+ \.\.\. ")

#: Reads an unpacked distribution's META file as data (``CPAN::Meta``, no distribution code):
#: prints its name, version, ``provides``, the prerequisites this perl's core does not meet, and
#: whether this perl is recent enough.
PERL_HELPER = r"""
use strict; use warnings;
use CPAN::Meta; use JSON::PP; use Module::CoreList;
my ($dir) = @ARGV;
my ($file) = grep { -f "$dir/$_" } qw(META.json META.yml);
die "no META.json or META.yml in the distribution\n" unless $file;
my $meta = CPAN::Meta->load_file("$dir/$file");
my $reqs = $meta->effective_prereqs->merged_requirements([qw(configure build runtime)], ['requires']);
# as cpanm does: a Build.PL-only distribution that names no configure prerequisite needs Module::Build
$reqs->add_minimum('Module::Build' => '0.38') if -f "$dir/Build.PL" && !-f "$dir/Makefile.PL";
my $perl = $reqs->requirements_for_module('perl');
my $core = $Module::CoreList::version{ 0 + $] } || {};
my %needed;
for my $module (sort $reqs->required_modules) {
  next if $module eq 'perl';
  next if exists $core->{$module} && $reqs->accepts_module($module, $core->{$module} // 0);
  $needed{$module} = $reqs->requirements_for_module($module);
}
my $provides = $meta->provides || {};
print JSON::PP->new->canonical->encode({
  name => $meta->name, version => "" . $meta->version, requires => \%needed,
  perl => { needs => $perl, ok => ($reqs->accepts_module('perl', $]) ? JSON::PP::true : JSON::PP::false),
            here => sprintf('%vd', $^V) },
  provides => { map { $_ => ($provides->{$_}{version} // 'undef') } keys %$provides },
}), "\n";
"""

WRAPPER = """#!/bin/sh
# recipeline: {exe} of the distributions in {lib}, run with {perl}
export PERL5LIB={lib_q}
exec {perl_q} {script_q} "$@"
"""


@dataclass(frozen=True, slots=True)
class _Distribution:
    """A fetched distribution: its tarball's path below ``authors/id/`` and what its META says."""

    path: str
    version: str
    requires: dict[str, str] = field(default_factory=dict)
    provides: dict[str, str] = field(default_factory=dict)


def step_problem(step: PlannedStep) -> str | None:
    """Why the step's parameters cannot go to MetaCPAN or cpanm, or None."""
    dist = step.text("distribution")
    if len(dist) > 128 or not DISTRIBUTION_RE.fullmatch(dist):
        return f"step {step.step}: distribution: expected a CPAN distribution name, got {dist!r}"
    module = step.params.get("module")
    if module is not None and (not isinstance(module, str) or not MODULE_RE.fullmatch(module)):
        return f"step {step.step}: module: expected a Perl module name, got {module!r}"
    bad = [exe for exe in step.executables if not EXECUTABLE_RE.fullmatch(exe) or ".." in exe]
    if bad:
        return f"step {step.step}: executables: {bad[0]!r} is not a valid executable name"
    return None


def cpanm_cause(output: str) -> str:
    """cpanm's failure line (``Configure failed for X``) with its cause: the compiler's error,
    else the last line the build printed before cpanm gave up (a ``die`` in Makefile.PL)."""
    lines = [" ".join(line.split()) for line in output.splitlines() if line.strip()]
    at = next((i for i, line in enumerate(lines) if line.startswith(_CPANM_FAIL)), None)
    if at is None:
        return cause_line(output)
    head = _SEE_LOG.sub("", lines[at].removeprefix("-> FAIL ").removeprefix("! ")).strip().rstrip(".")
    cause = compiler_error(output) or next(
        (line for line in reversed(lines[:at]) if not line.startswith(("-> ", "--> ", "==> "))), ""
    )
    cause = _PROGRESS.sub("", cause)
    return f"{head}: {cause}" if cause else head


def _author_path(download_url: object, url: str) -> str:
    """The ``authors/id/`` part of a MetaCPAN ``download_url`` (checked)."""
    if not isinstance(download_url, str):
        raise bad_response(url, "expected a 'download_url' string")
    _, sep, path = urlsplit(download_url).path.partition("/authors/id/")
    if not sep or not AUTHOR_PATH_RE.fullmatch(path) or ".." in path:
        raise bad_response(url, f"download_url {download_url[:120]!r} is not a CPAN authors/id/ path")
    return path


def _version(value: object) -> str:
    text = str(value) if isinstance(value, str | int | float) else ""
    return text if VERSION_RE.fullmatch(text) else "undef"


class CpanRunner:
    """``cpan_install``: a mini CPAN fetched into the prefix, then ``cpanm --mirror-only`` offline."""

    action: ClassVar[str] = "cpan_install"
    needs: ClassVar[tuple[str, ...]] = ("perl",)

    def find_toolchain(self, options: NativeOptions) -> Toolchain | str:
        found = find_programs(("perl", "cpanm", "make"), options.search_path)
        if isinstance(found, str):
            return found
        programs = dict(found)
        perl = program_version([programs["perl"], "-e", "print substr($^V, 1)"])
        if perl is None:
            return f"perl does not run ({programs['perl']} -e 'print $^V' failed)"
        cpanm = program_version([programs["perl"], programs["cpanm"], "--version"])
        if cpanm is None:
            return f"cpanm does not run ({programs['cpanm']} --version failed)"
        cc = shutil.which("cc", path=options.search_path)  # only XS modules need it
        if cc is not None:
            programs["cc"] = cc
        return Toolchain(programs, {"perl": perl, "cpanm": version_number(cpanm)}, runtime=("perl",))

    def download(self, step: PlannedStep, ctx: StepContext) -> SandboxOutcome | None:
        problem = step_problem(step)
        if problem is not None:
            return fail("schema_invalid", problem)
        try:
            root = _fetch_closure(step, ctx)
        except FetchError as exc:
            return exc.outcome
        manifest = {"distribution": step.text("distribution"), "version": root.version, "path": root.path}
        _manifest(step, ctx).write_text(json.dumps(manifest), encoding="utf-8")
        return None

    def install(self, step: PlannedStep, ctx: StepContext) -> Installed | SandboxOutcome:
        manifest = json.loads(_manifest(step, ctx).read_text(encoding="utf-8"))
        dist, version = str(manifest["distribution"]), str(manifest["version"])
        mirror = ctx.prefix / "mirror"
        tarball = mirror / "authors" / "id" / str(manifest["path"])
        perl5 = ctx.prefix / "perl5"
        perl = ctx.toolchain.path("perl")
        env = ctx.offline_env(build=build_programs(ctx.toolchain)) | {
            "PERL_CPANM_HOME": str(ctx.prefix / "tmp" / "cpanm"),
            "PERL_MM_USE_DEFAULT": "1",  # a prompt in Makefile.PL takes its default, never waits
        }
        done = ctx.run_offline(
            [
                perl, ctx.toolchain.path("cpanm"), "--mirror", mirror.as_uri(), "--mirror-only", "--notest",
                "--no-man-pages", "--verbose", "--local-lib-contained", str(perl5), str(tarball),
            ],
            env=env,
            log=ctx.log("cpanm", step),
        )  # fmt: skip
        what = f"{dist}-{version}"
        if done.exit_code is None:
            return fail(
                "install_failed", f"cpanm {what} did not finish within {ctx.limits.install_timeout:g}s"
            )
        if done.exit_code != 0:
            return fail("install_failed", f"cpanm {what}: {cpanm_cause(done.output)}", output=done.output)
        wrappers = ctx.prefix / "cpan-bin"
        lib = str(perl5 / "lib" / "perl5")
        write_wrappers(perl5 / "bin", wrappers, WRAPPER, lib=lib, perl=perl)
        linked = link_executables(step, wrappers, ctx.prefix, what=f"distribution {what}")
        if linked is not None:
            return linked
        return Installed(dist, version, version)


def _manifest(step: PlannedStep, ctx: StepContext) -> Path:
    return ctx.prefix / "cache" / f"cpan-{step.step}.json"


def _fetch_closure(step: PlannedStep, ctx: StepContext) -> _Distribution:
    """Fetch the step's distribution and its prerequisites into the mini CPAN; the root's."""
    env = ctx.options.caller_env
    api = base_url("cpan", env)
    http = client_for(env)
    dist = step.text("distribution")
    url = f"{api}/release/{quote(dist)}"
    root = _fetch_distribution(http, ctx, step, url, get_json(http, "cpan", url, f"release of {dist}"))
    packages: dict[str, tuple[str, str]] = {name: (v, root.path) for name, v in root.provides.items()}
    fetched = {root.path: root}
    pending = deque((module, dist) for module in root.requires)
    seen: set[str] = set()
    while pending:
        module, needed_by = pending.popleft()
        if module in seen:
            continue
        seen.add(module)
        if not MODULE_RE.fullmatch(module):
            raise FetchError(
                fail("install_failed", f"{needed_by} requires {module[:80]!r}, not a module name")
            )
        url = f"{api}/download_url/{quote(module, safe=':')}"
        doc = get_json(http, "cpan", url, f"module {module} (required by {needed_by})")
        if not isinstance(doc, dict):
            raise bad_response(url, "expected a JSON object")
        path = _author_path(doc.get("download_url"), url)
        if path in fetched:  # the module's own version when its META says, else the release's
            packages[module] = (fetched[path].provides.get(module, _version(doc.get("version"))), path)
            continue
        if len(fetched) >= MAX_DISTRIBUTIONS:
            raise FetchError(
                fail("install_failed", f"{dist} needs more than {MAX_DISTRIBUTIONS} distributions")
            )
        found = fetched[path] = _fetch_distribution(http, ctx, step, url, doc)
        packages[module] = (found.provides.get(module, _version(doc.get("version"))), path)
        for name, version in found.provides.items():
            packages.setdefault(name, (version, found.path))
        pending.extend((name, Path(found.path).name) for name in found.requires)
    _write_index(ctx.prefix / "mirror", packages)
    return root


def _fetch_distribution(
    http: HttpClient, ctx: StepContext, step: PlannedStep, url: str, doc: Any
) -> _Distribution:
    """Download the tarball a MetaCPAN document names, check it, unpack it, read its META."""
    if not isinstance(doc, dict):
        raise bad_response(url, "expected a JSON object")
    path = _author_path(doc.get("download_url"), url)
    sha = published_sha256(doc.get("checksum_sha256"), url)
    version = doc.get("version")
    if not isinstance(version, str | int | float) or not VERSION_RE.fullmatch(str(version)):
        raise bad_response(url, f"version {str(version)[:60]!r} is not a CPAN version")
    mirror = base_url("cpan_mirror", ctx.options.caller_env)
    name = Path(path).name
    tarball = ctx.prefix / "mirror" / "authors" / "id" / path
    fetch_file(http, "cpan", f"{mirror}/authors/id/{path}", tarball, sha256=sha, what=name)
    stage = ctx.prefix / "stage" / f"cpan-{step.step}" / name
    try:
        extract_tar(tarball, stage)
    except UnsafeArchiveError as exc:
        raise FetchError(fail("install_failed", f"unsafe archive: {exc}")) from None
    tops = [p for p in stage.iterdir() if p.is_dir()]
    top = tops[0] if len(tops) == 1 and not (stage / "META.json").exists() else stage
    meta = helper_json(
        ctx,
        [ctx.toolchain.path("perl"), "-e", PERL_HELPER, str(top)],
        log=ctx.log(f"cpan-meta-{name}", step),
        what=f"{name}: META",
    )
    perl = meta.get("perl") if isinstance(meta.get("perl"), dict) else {}
    if perl.get("ok") is False:  # this host's perl is too old: the environment's gap
        message = (
            f"step {step.step}: {name} needs perl {perl.get('needs')}, this host has perl {perl.get('here')}"
        )
        raise FetchError(SandboxOutcome(False, message, skipped=True))
    requires = meta.get("requires") if isinstance(meta.get("requires"), dict) else {}
    provides = meta.get("provides") if isinstance(meta.get("provides"), dict) else {}
    return _Distribution(
        path,
        str(version),
        {str(k): str(v) for k, v in (requires or {}).items()},
        {str(k): _version(v) for k, v in (provides or {}).items() if MODULE_RE.fullmatch(str(k))},
    )


def _write_index(mirror: Path, packages: dict[str, tuple[str, str]]) -> None:
    """The mini CPAN's ``modules/02packages.details.txt.gz`` (the header cpanm and CPAN.pm read)."""
    lines = [f"{name} {version} {path}" for name, (version, path) in sorted(packages.items())]
    header = (
        "File:         02packages.details.txt\n"
        "Description:  the distributions recipeline fetched for one recipe\n"
        "Columns:      package name, version, path\n"
        "Intended-For: cpanm --mirror-only, offline\n"
        "Written-By:   recipeline-validator\n"
        f"Line-Count:   {len(lines)}\n"
        "Last-Updated: Thu, 01 Jan 1970 00:00:00 GMT\n\n"
    )
    index = mirror / "modules" / "02packages.details.txt.gz"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_bytes(gzip.compress((header + "".join(f"{line}\n" for line in lines)).encode(), mtime=0))
