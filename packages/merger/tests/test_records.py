"""Failure records, the metrics line, the manifest, the commit message and the PR body (pure)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from recipeline_merger import (
    MergeDecision,
    build_manifest,
    commit_message,
    decide,
    failure_records,
    metrics_line,
    parse_trailers,
    pr_body,
)
from recipeline_schema import BatchPlan, GenerationReport, ValidationReport

if TYPE_CHECKING:
    from .conftest import Make

BATCH = "2026-01-29-001"

Batch = tuple[BatchPlan, GenerationReport, list[ValidationReport], MergeDecision]


@pytest.fixture
def batch(make: Make) -> Batch:
    """Four packages: merged on Linux+macOS, merged on Linux only, excluded, failed at generation."""
    f = make.failure
    plan = make.plan(
        [("rg", "cargo:ripgrep"), ("bat", "cargo:bat"), ("fd", "cargo:fd-find"), ("no", "cargo:no")]
    )
    generation = make.generation(
        [
            make.generated("rg", "cargo:ripgrep", override=True),
            make.generated("bat", "cargo:bat"),
            make.generated("fd", "cargo:fd-find"),
            make.generated(
                "no", "cargo:no", "failed", failure=f("cargo:no", "deterministic_insufficient", None, "x")
            ),
        ]
    )
    reports = [
        make.report(
            make.linux,
            [
                make.result("rg", "cargo:ripgrep"),
                make.result("bat", "cargo:bat"),
                make.result("fd", "cargo:fd-find", "fail", failure=f("cargo:fd-find")),
            ],
            duration=90.0,
        ),
        make.report(
            make.mac,
            [
                make.result("rg", "cargo:ripgrep"),
                make.result("bat", "cargo:bat", "fail", failure=f("cargo:bat")),
            ],
            duration=600.0,
        ),
    ]
    return plan, generation, reports, decide(plan, generation, reports)


def test_one_failure_record_per_environment_generation_first(batch: Batch, make: Make) -> None:
    *_, decision = batch
    records = failure_records(decision, now=make.now)
    assert [r.environment for r in records] == ["generation", make.mac, make.linux]
    assert [[f.package_id for f in r.failures] for r in records] == [
        ["cargo:no"],
        ["cargo:bat"],
        ["cargo:fd-find"],
    ]
    assert all(r.batch_id == BATCH and r.ecosystem == "cargo" and r.updated_at == make.now for r in records)


def test_no_failures_no_records(make: Make) -> None:
    plan = make.plan([("rg", "cargo:ripgrep")])
    generation = make.generation([make.generated("rg", "cargo:ripgrep")])
    decision = decide(plan, generation, [make.report(make.linux, [make.result("rg", "cargo:ripgrep")])])
    assert failure_records(decision, now=make.now) == ()


def test_metrics_line(batch: Batch, make: Make) -> None:
    plan, generation, reports, decision = batch
    later = make.now + dt.timedelta(minutes=30)
    line = metrics_line(decision, plan, generation, reports, now=later)
    assert (line.total, line.generated, line.merged, line.excluded, line.failed, line.blocked) == (
        4,
        3,
        2,
        1,
        1,
        0,
    )
    assert (line.validated_linux, line.validated_macos) == (2, 1)
    assert (line.linux_minutes, line.macos_minutes) == (1.5, 10.0)
    assert line.success_rate == 0.5 and line.used_disambiguation == 1
    assert line.duration_seconds == 1800 and line.timestamp == later


def test_manifest_lists_every_package_with_hash_and_gates(batch: Batch, make: Make) -> None:
    plan, _, _, decision = batch
    shas = {"cargo:ripgrep": "a" * 64, "cargo:bat": "b" * 64}
    manifest = build_manifest(
        plan,
        decision,
        recipe_sha256=shas,
        branch=f"batch/{BATCH}",
        failure_file="data/failures/x.jsonl",
        now=make.now,
    )
    pkgs = {p.name: p for p in manifest.packages}
    assert [p.name for p in manifest.packages] == ["rg", "bat", "fd", "no"]
    assert (pkgs["rg"].recipe_path, pkgs["rg"].sha256) == ("recipes/r/rg.toml", "a" * 64)
    assert pkgs["bat"].environments == {make.mac: "fail", make.linux: "pass"}
    assert (pkgs["fd"].outcome, pkgs["fd"].recipe_path, pkgs["fd"].sha256) == ("excluded", None, None)
    assert [g.name for g in manifest.gates] == ["safety", "validated", "no_review_exclusions", "checks"]
    assert manifest.auto_merge is False and manifest.commit is None


def test_commit_message_has_the_seed_design_shape(batch: Batch) -> None:
    *_, decision = batch
    message = commit_message(decision, failure_file="data/failures/cargo-2026-01-29T10-00-00Z.jsonl")
    assert message == (
        f"feat(recipes): add batch {BATCH} cargo recipes\n"
        "\n"
        "Batch generation of 4 Cargo packages from tier 2 queue.\n"
        "- 2 passed validation (Linux + macOS)\n"
        "- 2 failed (recorded to data/failures/cargo-2026-01-29T10-00-00Z.jsonl)\n"
        "\n"
        f"batch_id: {BATCH}\n"
        "ecosystem: cargo\n"
        "batch_size: 4\n"
        "success_rate: 0.50\n"
    )


def test_trailers_parse_back_from_the_last_paragraph(batch: Batch) -> None:
    *_, decision = batch
    message = commit_message(decision, failure_file=None)
    assert parse_trailers(message)["batch_id"] == BATCH
    assert (
        parse_trailers(message.rstrip("\n") + "\nSigned-off-by: someone <x@example.org>\n")["batch_id"]
        == BATCH
    )
    assert parse_trailers("subject\n\njust a body line\n") == {}


def test_pr_body_has_table_reasons_and_gates(batch: Batch) -> None:
    *_, decision = batch
    body = pr_body(decision, failure_file="data/failures/f.jsonl")
    lines = body.splitlines()
    assert lines[0] == f"# Batch {BATCH}: 2 of 4 Cargo recipes"
    # each package's state in the vocabulary status uses (recipeline_schema.recipe_state)
    assert (
        lines[2] == "2 on batch branch, 1 generated, 1 no recipe. Auto-merge: no (gates not passed: checks)."
    )
    assert "merged" not in "\n".join(line for line in lines if not line.startswith("success_rate"))
    assert "| name | source | state | environments | recipe | constraints |" in lines
    assert (
        "| rg | cargo:ripgrep | on batch branch | darwin-arm64 pass, linux-debian-glibc-x86\\_64 pass "
        "| `recipes/r/rg.toml` | — |" in lines
    )
    bat = next(line for line in lines if line.startswith("| bat |"))
    assert bat.endswith("| `recipes/b/bat.toml` | supported\\_os = linux |")
    states = {
        line.split(" | ")[0][2:]: line.split(" | ")[2]
        for line in lines
        if line.startswith("| ") and " | cargo:" in line
    }
    assert states == {"rg": "on batch branch", "bat": "on batch branch", "fd": "generated", "no": "no recipe"}
    assert any(
        line.startswith("- **fd** (excluded): linux-debian-glibc-x86\\_64: validation\\_failed")
        for line in lines
    )
    assert "| checks | FAIL | no PR checks locally |" in lines
    assert f"batch_id: {BATCH}" in lines
    assert "Auto-merge: no (gates not passed: checks)." in body
