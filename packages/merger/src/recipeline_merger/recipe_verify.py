"""The verify the validation found, written into the committed recipe (ARCHITECTURE §6.3, §7), pure.

The validator's version probes report, per environment, the ``[verify]`` the installed tool
really answers (``RecipeResult.verify``). A merged recipe carries the one of its passing
environments, first in environment order (the same tool and version give the same verify, so
they agree unless the environments installed different versions). Only the ``[verify]`` table
is rewritten, with tomlkit: every other byte of the generator's recipe stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

import tomlkit

from recipeline_schema.models import DiscoveredVerify, RecipeResult

#: Keys of an old ``[verify]`` that describe how it matched; the discovered verify replaces them.
_REPLACED = ("command", "pattern", "patterns", "mode", "reason", "exit_code", "version_format")


def chosen_verify(passing: Iterable[tuple[str, RecipeResult]]) -> DiscoveredVerify | None:
    """The discovered verify of the first passing environment (by id) that reported one."""
    for _environment, result in sorted(passing, key=lambda pair: pair[0]):
        if result.outcome == "pass" and result.verify is not None:
            return result.verify
    return None


def verify_table(verify: DiscoveredVerify) -> tomlkit.items.Table:
    """``verify`` in tsuku's format: ``command``, ``pattern``, and ``exit_code`` / ``mode`` /
    ``reason`` only where they differ from tsuku's defaults (mode ``output`` needs its reason)."""
    table = tomlkit.table()
    table.add("command", verify.command)
    table.add("pattern", verify.pattern)
    if verify.exit_code != 0:
        table.add("exit_code", verify.exit_code)
    if verify.mode != "version":
        table.add("mode", verify.mode)
        table.add("reason", verify.reason)
    return table


def with_verify(text: str, verify: DiscoveredVerify | None) -> str:
    """The recipe TOML with its ``[verify]`` table replaced by ``verify``; ``text`` itself when
    there is none or nothing changes. Other keys of the old table (``additional``) are kept."""
    if verify is None:
        return text
    doc = tomlkit.parse(text)
    new = verify_table(verify)
    old = doc.get("verify")
    if isinstance(old, MutableMapping):
        if all(old.get(key) == new.get(key) for key in _REPLACED):
            return text
        if all(key in _REPLACED for key in old):
            doc["verify"] = new
        else:  # keep the table's other keys (``additional``); the new ones follow them
            for key in _REPLACED:
                if key in old:
                    del old[key]
            for key, value in new.items():
                old[key] = value
        return tomlkit.dumps(doc)
    doc.add("verify", new)
    return tomlkit.dumps(doc)
