"""Platform constraints of a recipe from its per-environment results (ARCHITECTURE §7), pure.

Only evidence restricts: an environment that was not run, or ``skipped``, says nothing, so a
recipe validated on Linux only gets no macOS constraint. The narrowest correct form, applied in
order, each step only among what the previous one kept:

1. ``supported_os``: when some tested OS has no pass, the OSes that passed somewhere;
2. ``supported_libc``: among Linux environments, when some tested libc has no pass, the libcs
   that passed;
3. ``unsupported_platforms``: ``<os>/<arch>`` for each tested architecture of a kept OS (and
   kept libc) without a pass, while another architecture of that OS passed.

Distribution-specific failures (Debian passes, Arch fails, same libc and arch) cannot be
expressed by these keys; the recipe is kept without a constraint and the failure is recorded.
Constraints the generator already wrote are narrowed, never widened: lists are intersected
(``supported_*``) or united (``unsupported_platforms``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping

import tomlkit

_LINUX = re.compile(r"^linux-(?P<distro>[a-z0-9]+)-(?P<libc>[a-z0-9]+)-(?P<arch>[a-z0-9_]+)$")
_DARWIN = re.compile(r"^darwin-(?P<arch>[a-z0-9_]+)$")
KEYS = ("supported_os", "supported_libc", "unsupported_platforms")


def _platform(environment: str) -> tuple[str, str | None, str] | None:
    """``(os, libc, arch)`` of an environment id; ``None`` for one we cannot read."""
    if m := _LINUX.fullmatch(environment):
        return "linux", m["libc"], m["arch"]
    if m := _DARWIN.fullmatch(environment):
        return "darwin", None, m["arch"]
    return None


def platform_constraints(environments: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The constraints ``environments`` (environment -> pass/fail/skipped) justify; ``{}`` for none."""
    tested = [
        (p, outcome == "pass")
        for env, outcome in sorted(environments.items())
        if outcome in ("pass", "fail") and (p := _platform(env)) is not None
    ]
    if not any(ok for _, ok in tested):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    systems = {p[0] for p, _ in tested}
    passed_os = {p[0] for p, ok in tested if ok}
    if systems - passed_os:
        out["supported_os"] = tuple(sorted(passed_os))
    kept = [(p, ok) for p, ok in tested if p[0] in passed_os]
    libcs = {p[1] for p, _ in kept if p[0] == "linux"}
    passed_libc = {p[1] for p, ok in kept if ok and p[0] == "linux"}
    if passed_libc and libcs - passed_libc:
        out["supported_libc"] = tuple(sorted(str(libc) for libc in passed_libc))
        kept = [(p, ok) for p, ok in kept if p[0] != "linux" or p[1] in passed_libc]
    unsupported = []
    for system in sorted(passed_os):
        arches = {p[2] for p, _ in kept if p[0] == system}
        passed_arch = {p[2] for p, ok in kept if ok and p[0] == system}
        unsupported += [f"{system}/{arch}" for arch in sorted(arches - passed_arch)]
    if unsupported:
        out["unsupported_platforms"] = tuple(unsupported)
    return out


def merge_constraints(
    existing: Mapping[str, object], derived: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """``derived`` combined with the recipe's own constraints: narrowed, never widened."""
    out: dict[str, tuple[str, ...]] = {}
    for key in KEYS:
        mine = derived.get(key)
        theirs = existing.get(key)
        own = tuple(str(v) for v in theirs) if isinstance(theirs, list | tuple) else None
        if mine is None and own is None:
            continue
        if mine is None or own is None:
            chosen = mine if mine is not None else own
            out[key] = tuple(sorted(chosen or ()))
        elif key == "unsupported_platforms":
            out[key] = tuple(sorted({*own, *mine}))
        else:
            out[key] = tuple(sorted(set(own) & set(mine)))
    return out


def with_constraints(text: str, derived: Mapping[str, tuple[str, ...]]) -> str:
    """The recipe TOML with ``derived`` written into ``[metadata]``; ``text`` itself when nothing changes."""
    if not derived:
        return text
    doc = tomlkit.parse(text)
    meta = doc.get("metadata")
    if not isinstance(meta, MutableMapping):
        return text  # not a recipe we can constrain; the recipe checks name the problem
    combined = merge_constraints(meta, derived)
    if all(tuple(meta.get(k, ())) == v for k, v in combined.items()):
        return text
    for key, values in combined.items():
        meta[key] = list(values)
    return tomlkit.dumps(doc)
