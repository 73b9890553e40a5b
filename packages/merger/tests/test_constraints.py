"""Platform constraints from per-environment results, and their place in the recipe TOML."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from recipeline_merger.constraints import merge_constraints, platform_constraints, with_constraints
from recipeline_schema import recipe_from_toml

if TYPE_CHECKING:
    from .conftest import Make

DEB = "linux-debian-glibc-x86_64"
DEB_ARM = "linux-debian-glibc-arm64"
ALP = "linux-alpine-musl-x86_64"
ALP_ARM = "linux-alpine-musl-arm64"
ARCH = "linux-arch-glibc-x86_64"
MAC = "darwin-arm64"
MAC_X = "darwin-x86_64"
ENVS = [DEB, DEB_ARM, ALP, ALP_ARM, ARCH, MAC, MAC_X]


def test_passing_everywhere_or_untested_gives_no_constraint() -> None:
    assert platform_constraints({DEB: "pass", MAC: "pass"}) == {}
    assert platform_constraints({DEB: "pass"}) == {}  # macOS untested: no evidence against it
    assert platform_constraints({DEB: "pass", MAC: "skipped"}) == {}
    assert platform_constraints({DEB: "fail", MAC: "fail"}) == {}  # nothing passed: not included anyway


def test_a_failed_os_libc_and_arch_are_narrowed_in_order() -> None:
    assert platform_constraints({DEB: "pass", MAC: "fail", MAC_X: "fail"}) == {"supported_os": ("linux",)}
    assert platform_constraints({DEB: "pass", ALP: "fail", MAC: "pass"}) == {"supported_libc": ("glibc",)}
    assert platform_constraints({DEB: "pass", DEB_ARM: "fail", MAC: "pass", MAC_X: "fail"}) == {
        "unsupported_platforms": ("darwin/x86_64", "linux/arm64")
    }
    # musl fails on both arches: only the libc is named, arm64 glibc's failure is separate
    assert platform_constraints(
        {DEB: "pass", DEB_ARM: "fail", ALP: "fail", ALP_ARM: "fail", MAC: "fail"}
    ) == {
        "supported_os": ("linux",),
        "supported_libc": ("glibc",),
        "unsupported_platforms": ("linux/arm64",),
    }


def test_distribution_specific_failures_cannot_be_expressed() -> None:
    assert platform_constraints({DEB: "pass", ARCH: "fail"}) == {}


@given(st.dictionaries(st.sampled_from(ENVS), st.sampled_from(["pass", "fail", "skipped"])))
def test_constraints_never_exclude_an_environment_that_passed(results: dict[str, str]) -> None:
    c = platform_constraints(results)
    for env, outcome in results.items():
        if outcome != "pass":
            continue
        parts = env.split("-")
        os_, arch = parts[0], parts[-1]
        assert os_ in c.get("supported_os", (os_,))
        if os_ == "linux":
            assert parts[2] in c.get("supported_libc", (parts[2],))
        assert f"{os_}/{arch}" not in c.get("unsupported_platforms", ())


def test_existing_constraints_are_narrowed_never_widened() -> None:
    existing = {"supported_os": ["linux", "darwin"], "unsupported_platforms": ["linux/arm64"]}
    derived = {"supported_os": ("linux",), "unsupported_platforms": ("darwin/x86_64",)}
    assert merge_constraints(existing, derived) == {
        "supported_os": ("linux",),
        "unsupported_platforms": ("darwin/x86_64", "linux/arm64"),
    }


def test_constraints_are_written_into_metadata(make: Make) -> None:
    text = make.recipe_text("bat")
    assert with_constraints(text, {}) is text
    out = with_constraints(text, {"supported_os": ("linux",), "supported_libc": ("glibc",)})
    recipe = recipe_from_toml(out)
    assert recipe.metadata["supported_os"] == ["linux"] and recipe.metadata["supported_libc"] == ["glibc"]
    assert recipe.steps == recipe_from_toml(text).steps
    assert with_constraints(out, {"supported_os": ("linux",)}) == out  # idempotent
