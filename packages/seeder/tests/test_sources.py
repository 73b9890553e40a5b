"""Collecting candidates from several sources: a failing source does not stop the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from recipeline_seeder import (
    Candidate,
    MergeReport,
    Rejected,
    Skipped,
    Source,
    SourceError,
    exit_code,
    harvest,
    seeding_run,
)


@dataclass(frozen=True)
class FixedSource:
    name: str
    candidates: tuple[Candidate, ...] = ()
    error: Exception | None = None

    def fetch(self) -> Sequence[Candidate]:
        if self.error is not None:
            raise self.error
        return self.candidates


def test_failures_are_recorded_and_the_rest_still_counts() -> None:
    sources: list[Source] = [
        FixedSource("api-down", error=SourceError("crates.io answered 503 three times")),
        FixedSource("list", (Candidate("tox", "pypi:tox"),)),
        FixedSource("socket", error=ConnectionResetError(104, "Connection reset by peer")),
        FixedSource("list2", (Candidate("nox", "pypi:nox"),)),
    ]
    got = harvest(sources)
    assert [c.name for c in got.candidates] == ["tox", "nox"]
    assert got.attempted == ("api-down", "list", "socket", "list2")
    assert [(f.source, f.message) for f in got.failures] == [
        ("api-down", "crates.io answered 503 three times"),
        ("socket", "[Errno 104] Connection reset by peer"),
    ]
    assert not got.all_failed


def test_exit_codes() -> None:
    ok = harvest([FixedSource("a", (Candidate("tox", "pypi:tox"),))])
    partial = harvest([FixedSource("a", (Candidate("tox", "pypi:tox"),)), FixedSource("b", error=OSError())])
    dead = harvest([FixedSource("b", error=SourceError("down"))])
    added = MergeReport(added=(), skipped=(Skipped(Candidate("tox", "pypi:tox"), "already queued"),))
    nothing = MergeReport()
    assert exit_code(ok, added) == 0
    assert exit_code(partial, added) == 2
    assert exit_code(dead, nothing) == 1
    assert exit_code(ok, nothing) == 1  # a source answered, but nothing in it was valid


def test_seeding_run_counts_and_caps_errors() -> None:
    now = dt.datetime(2026, 2, 1, 12, 0, 0, 500, tzinfo=dt.UTC)
    got = harvest([FixedSource("bad", error=SourceError("boom")), FixedSource("ok")])
    report = MergeReport(rejected=tuple(Rejected(Candidate(f"x{i}", "pypi:x"), "why") for i in range(80)))
    run = seeding_run("pypi", got, report, now=now)
    assert run.timestamp == dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
    assert (run.sources_processed, run.sources_failed, run.new_packages, run.skipped) == (2, 1, 0, 80)
    assert run.exit_code == 1
    assert len(run.errors) == 50
    assert run.errors[0] == "source bad failed: boom"
    assert run.errors[1] == "rejected 'x0': why"
    assert run.errors[-1] == "... and 32 more"
