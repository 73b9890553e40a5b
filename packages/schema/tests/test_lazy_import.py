"""The package's top level imports lazily: every public name resolves, and a bare import is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import recipeline_schema

HEAVY = ("jsonschema", "tomlkit", "requests")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_bare_import_loads_no_submodule_and_nothing_heavy() -> None:
    loaded = _modules_after("import recipeline_schema")
    assert "recipeline_schema" in loaded
    assert not {m for m in loaded if m.startswith("recipeline_schema.")}
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_a_name_imports_only_its_own_submodule() -> None:
    loaded = _modules_after("from recipeline_schema import parse_time, EXIT_CODES")
    assert {"recipeline_schema.timefmt", "recipeline_schema.taxonomy"} <= loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "recipeline_schema.io" not in loaded and "recipeline_schema.models" not in loaded


def test_every_public_name_resolves_and_is_listed() -> None:
    names = recipeline_schema.__all__
    assert len(names) == len(set(names)) > 90
    for name in names:
        value = getattr(recipeline_schema, name)
        assert value is not None, name
    assert set(names) <= set(dir(recipeline_schema))
    namespace: dict[str, object] = {}
    exec("from recipeline_schema import *", namespace)  # noqa: S102 - the star import is what is tested
    assert set(names) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error() -> None:
    unknown = "no_such_name"
    with pytest.raises(AttributeError, match=unknown):
        getattr(recipeline_schema, unknown)
    assert isinstance(recipeline_schema.__version__, str)
