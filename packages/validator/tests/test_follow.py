"""Validation that follows a running generator: recipe n validates while n+1 is generated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

import pytest
from validator_helpers import recipe_toml

from recipeline_schema import BatchDir, GeneratedPackage, GenerationReport, ValidationReport, load, save
from recipeline_validator import BatchInputError, Isolation, NativeOptions, RunSettings, validate_batch

NOW = dt.datetime(2026, 1, 29, 10, 0, tzinfo=dt.UTC)
BROKEN = '[metadata]\nname = "broken"\n\n[verify]\ncommand = "x"\n'  # no steps: schema_invalid
CARGO = recipe_toml("ripgrep", "ripgrep", ["rg"], "rg --version", pattern="ripgrep {version}").replace(
    'action = "pipx_install"\npackage', 'action = "cargo_install"\ncrate'
)


def _generated(batch: BatchDir, name: str, text: str) -> GeneratedPackage:
    batch.recipe(name).write_text(text, encoding="utf-8")
    return GeneratedPackage(name, f"pypi:{name}", f"pypi:{name}", "generated", recipe=f"recipes/{name}.toml")


def _report(*packages: GeneratedPackage, complete: bool) -> GenerationReport:
    return GenerationReport(1, "2026-01-29-001", NOW, 1.0, packages, complete=complete)


@pytest.fixture
def batch(tmp_path: Path) -> BatchDir:
    """An empty batch directory with its recipes/ folder."""
    batch = BatchDir(tmp_path / "batch")
    batch.recipes.mkdir(parents=True)
    return batch


def _settings(now: object = lambda: NOW, **kw: object) -> RunSettings:
    # no toolchain on the search path: the cargo recipe is skipped ("cargo not found on PATH")
    native = NativeOptions(
        isolation=Isolation((), "none: test"), tool_path="/nonexistent-recipeline-toolchains"
    )
    return dataclasses.replace(RunSettings(native=native, workers=2, now=now), **kw)  # type: ignore[arg-type]


def test_follow_validates_the_first_recipe_before_generation_completes(batch: BatchDir) -> None:
    first = _generated(batch, "broken", BROKEN)
    save(_report(first, complete=False), batch.generation)
    validated_while: list[bool] = []
    started = threading.Event()

    def now() -> dt.datetime:
        # a worker asks the time when it records a failure: note what the generator had done then
        if threading.current_thread().name.startswith("validate"):
            validated_while.append(load(GenerationReport, batch.generation).complete)
            started.set()
        return NOW

    outcome: list[object] = []
    follower = threading.Thread(
        target=lambda: outcome.append(validate_batch(batch.path, "linux-debian-glibc-x86_64",
                                                     _settings(now, follow=True, follow_poll=0.02)))
    )  # fmt: skip
    follower.start()
    assert started.wait(30), "the follower never validated the first recipe"
    second = _generated(batch, "ripgrep", CARGO)
    save(_report(first, second, complete=True), batch.generation)
    follower.join(60)

    assert validated_while[0] is False  # recipe 1 was validated while generation was still running
    (report,) = outcome
    assert isinstance(report, ValidationReport)
    assert load(ValidationReport, batch.results("linux-debian-glibc-x86_64")) == report
    results = {r.name: r for r in report.results}
    assert list(results) == ["broken", "ripgrep"]
    assert results["broken"].outcome == "fail" and results["ripgrep"].outcome == "skipped"


def test_without_follow_an_incomplete_generation_is_refused(batch: BatchDir) -> None:
    save(_report(_generated(batch, "broken", BROKEN), complete=False), batch.generation)
    with pytest.raises(BatchInputError, match="generation is not complete"):
        validate_batch(batch.path, "linux-debian-glibc-x86_64", _settings())
    assert not batch.results("linux-debian-glibc-x86_64").exists()


def test_follow_gives_up_when_the_generator_stops(batch: BatchDir) -> None:
    save(_report(_generated(batch, "broken", BROKEN), complete=False), batch.generation)
    settings = _settings(follow=True, follow_poll=0.01, follow_idle=0.2)
    with pytest.raises(BatchInputError, match=r"no progress for 0.2 s"):
        validate_batch(batch.path, "linux-debian-glibc-x86_64", settings)


def test_only_validates_the_sample_and_skips_the_rest_with_the_reason(batch: BatchDir) -> None:
    packages = (_generated(batch, "broken", BROKEN), _generated(batch, "ripgrep", CARGO))
    save(_report(*packages, complete=True), batch.generation)
    settings = _settings(only=frozenset({"pypi:broken"}), only_reason="not in this week's macOS sample")
    results = {r.name: r for r in validate_batch(batch.path, "linux-debian-glibc-x86_64", settings).results}
    assert results["broken"].outcome == "fail"  # validated
    assert (results["ripgrep"].outcome, results["ripgrep"].reason) == (
        "skipped",
        "not in this week's macOS sample",
    )
