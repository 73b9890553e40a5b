"""The workflows of .github/workflows, unmodified, under act: each scenario checks origin afterwards.

See tests/act/README.md for what the harness replaces and why. ``nox -s workflow_runs`` runs
this file; each test deploys recipeline afresh (a bare origin, the fake GitHub) and starts
workflow runs the way GitHub would.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from act.harness import HARNESS, Deploy
from act.scenario import (
    ECOSYSTEMS,
    at,
    check_converged,
    control,
    deployments,
    entry,
    read_origin,
    state_files,
)

import recipeline_schema as rs

DISPATCH = {"tier": "3", "skip_macos": "true"}


@pytest.mark.xdist_group("day")
def test_a_day_of_hourly_runs_rotates_and_converges(deploy: Deploy) -> None:
    start = at("2026-02-02T00:17:00Z")  # a Monday: the week's budget starts here
    long_failed = {"failure_count": 5}  # failed before: the next failure waits 32 hours
    queues = {
        "pypi": [
            entry("daytool", "pypi:daytool", now=start),
            entry("liar", "pypi:liar", now=start, **long_failed),  # prints another version
            entry("libonly", "pypi:libonly", now=start, priority=2, **long_failed),
            entry("hub", "pypi:hub", now=start, priority=3),  # curated: a source no builder has
        ],
        "npm": [
            entry("npmother", "npm:npmother", now=start),
            entry(
                "npmlib", "npm:npmlib", now=start, **long_failed, last_attempt_at=start - dt.timedelta(days=9)
            ),
        ],
        "cargo": [entry("ripgrep", "cargo:ripgrep", now=start)],
    }
    breaker = rs.BreakerState(
        state="open", consecutive_failures=10, opened_at=start - dt.timedelta(hours=2),
        half_open_after=start + dt.timedelta(hours=3, minutes=30), reason="10 consecutive failures",
    )  # fmt: skip
    stopped = control(
        start, disabled_ecosystems=("cargo",), disabled_reasons={"cargo": "crates index incident"},
        circuit_breaker={"npm": breaker}, macos_used=990.0,  # macOS paused: the week's minutes are used
    )  # fmt: skip
    hub = rs.Disambiguation("hub", "github:github/hub", selection_reason="curated")
    deployment = deploy(state_files(now=start, queues=queues, control=stopped, curated=[hub]))

    batches: dict[int, str] = {}
    for hour in range(24):
        run = deployment.run("batch-generate.yml", "schedule", at=start + dt.timedelta(hours=hour))
        assert run.result("preflight") == "success", run.describe()
        if "generate" in run.started:
            assert run.result("merge") == "success", run.describe()
            assert "plan-macos" not in run.started  # paused by the budget: no macOS job at all
            batches[hour] = run.summary("preflight")
        else:
            assert run.started == {"preflight"}, run.describe()
    # hour 0 (rotation homebrew, cargo, npm, pypi ...): cargo is stopped, npm's breaker open -> pypi;
    # hour 4: npm's breaker is half-open -> one probe (npmother); hour 5: closed -> npm's rest
    assert sorted(batches) == [0, 4, 5], batches

    origin = read_origin(deployment)
    status = {e.name: e.status for e in origin.entries.values()}
    assert status == {
        "daytool": "success", "liar": "failed", "libonly": "failed", "hub": "skipped",
        "npmother": "success", "npmlib": "failed", "ripgrep": "pending",
    }, status  # fmt: skip
    assert origin.recipes == {"daytool", "npmother"}
    final = rs.load(rs.BatchControl, origin.root / "batch-control.json")
    assert final.circuit_breaker["npm"].state == "closed"
    assert final.disabled_ecosystems == ("cargo",)
    assert [m.ecosystem for m in sorted(origin.manifests.values(), key=lambda m: m.batch_id)] == [
        "pypi",
        "npm",
        "npm",
    ]
    check_converged(deployment, origin)
    assert all(r.returncode == 0 for r in deployment.runs if r.workflow == "update-dashboard.yml")


@pytest.mark.xdist_group("rest")
def test_dispatched_pypi_and_npm_batches_merge_and_the_next_run_converges(deploy: Deploy) -> None:
    now = at("2026-01-29T10:17:00Z")
    state = state_files(
        now=now,
        queues={
            "pypi": [
                entry("goodtool", "pypi:goodtool", now=now),
                entry("libonly", "pypi:libonly", now=now),
                entry("ghost", "pypi:ghost", now=now, priority=2),
            ],
            "npm": [entry("npmgood", "npm:npmgood", now=now), entry("npmlib", "npm:npmlib", now=now)],
        },
    )
    deployment = deploy(state)

    # pypi with macOS on: the macOS legs cannot validate on this Linux host and fail; merge runs
    pypi = deployment.run(
        "batch-generate.yml", "workflow_dispatch", at=now,
        inputs={"ecosystem": "pypi", "batch_size": "5", "tier": "3", "skip_macos": "false"},
    )  # fmt: skip
    assert pypi.result("merge") == "success", pypi.describe()
    legs = pypi.legs("validate-linux")
    assert legs.pop("linux-debian-glibc-x86_64") == "success", pypi.describe()
    assert set(legs.values()) == {"failure"} and len(legs) == 8  # other images cannot start here
    assert "cannot start on this host" in pypi.output("validate-linux", "fedora:41")
    assert "does not match this host" in pypi.output("validate-linux", "linux-debian-glibc-arm64")
    assert "macOS validates 1 recipes" in pypi.summary("plan-macos")
    assert set(pypi.legs("validate-macos").values()) == {"failure"}  # darwin is not this host
    assert "does not match this host" in pypi.output("validate-macos")

    npm = deployment.run(
        "batch-generate.yml", "workflow_dispatch", at=now + dt.timedelta(minutes=30),
        inputs={"ecosystem": "npm", "batch_size": "5", **DISPATCH},
    )  # fmt: skip
    assert npm.result("merge") == "success", npm.describe()
    assert npm.result("plan-macos") is None and npm.result("validate-macos") is None  # skip_macos

    github = deployment.github()
    assert [pr["merged"] for pr in github["pulls"]] == [True, True]
    assert {m["via"] for m in github["merges"]} == {"auto-merge"}
    assert all("batch_id: " in (m["commit_message"] or "") for m in github["merges"])
    origin = read_origin(deployment)
    assert origin.recipes == {"goodtool", "npmgood"}
    # the npm run's preflight reconciled the pypi batch already; npm's own waits for the next run
    assert {e.name: e.status for e in origin.entries.values()} == {
        "goodtool": "success", "libonly": "failed", "ghost": "failed", "npmgood": "in_progress",
        "npmlib": "failed",
    }  # fmt: skip

    # the next hourly run (before the failed entries' hour of backoff ends) reconciles: the
    # auto-merged recipes' entries become success, and nothing else is eligible
    after = deployment.run("batch-generate.yml", "schedule", at=now + dt.timedelta(minutes=50))
    assert after.result("preflight") == "success" and after.started == {"preflight"}, after.describe()
    origin = read_origin(deployment)
    assert origin.entries["npm:npmgood"].status == "success"
    assert "chore(queue): reconcile" in origin.log
    check_converged(deployment, origin)
    assert len(deployments(deployment)) == 3

    # the weekly macOS sweep re-validates both merged recipes: its legs cannot on this Linux host
    # (the validator refuses darwin here) and the record job records nothing, pushing nothing
    head = deployment.head()
    sweep = deployment.run("macos-sweep.yml", "schedule", at=now + dt.timedelta(days=3))
    assert sweep.legs("sweep") == {"darwin-arm64": "failure", "darwin-x86_64": "failure"}, sweep.describe()
    assert "does not match this host" in sweep.output("sweep")
    assert sweep.result("record") == "success" and deployment.head() == head
    assert len(deployments(deployment)) == 4  # its completion rebuilt the dashboard all the same


@pytest.mark.xdist_group("rest")
def test_an_empty_selection_starts_nothing_and_a_bad_input_is_refused(deploy: Deploy) -> None:
    now = at("2026-01-29T03:17:00Z")
    done = entry("goodtool", "pypi:goodtool", now=now, status="failed", failure_count=3,
                 next_retry_at=now + dt.timedelta(days=2))  # fmt: skip
    deployment = deploy(state_files(now=now, queues={"pypi": [done]}))
    head = deployment.head()

    empty = deployment.run("batch-generate.yml", "schedule", at=now)
    assert empty.returncode == 0, empty.describe()
    assert empty.started == {"preflight"}, empty.describe()
    assert deployment.head() == head  # nothing was pushed
    assert deployment.branches() == {"main"}

    refused = deployment.run(
        "batch-generate.yml",
        "workflow_dispatch",
        at=now,
        inputs={"ecosystem": "pypi", "batch_size": "0", **DISPATCH},
    )
    assert refused.result("preflight") == "failure" and refused.started == {"preflight"}
    summary = refused.summary("preflight").strip().splitlines()
    assert len(summary) == 1 and "--batch-size" in summary[0] and "got 0" in summary[0], summary
    assert refused.steps("preflight").get("Reconcile") is None  # nothing ran after the check
    assert deployment.head() == head
    assert deployment.github()["pulls"] == []
    board = json.loads((deployment.pages / "site" / "dashboard.json").read_text())
    assert board["queue"]["total"] == 1


@pytest.mark.xdist_group("rest")
def test_a_closed_pr_and_a_run_killed_in_merge_are_released_by_the_next_run(deploy: Deploy) -> None:
    now = at("2026-01-29T14:17:00Z")
    queues = {
        "pypi": [
            entry("goodtool", "pypi:goodtool", now=now),
            entry("othertool", "pypi:othertool", now=now, priority=2),
        ]
    }
    # the PRs' checks never turn green: auto-merge is enabled, nothing merges on its own
    deployment = deploy(state_files(now=now, queues=queues), fake_options=["--checks", "pending"])
    one = {"ecosystem": "pypi", "batch_size": "1", **DISPATCH}

    first = deployment.run("batch-generate.yml", "workflow_dispatch", at=now, inputs=one)
    assert first.result("merge") == "success", first.describe()
    (pr,) = deployment.github()["pulls"]
    assert pr["state"] == "open" and pr["auto_merge"] is not None
    deployment.github_hook(f"pulls/{pr['number']}/close")  # a reviewer rejects it

    # the next run releases goodtool (failed, with backoff), then selects othertool; the merge
    # job dies once its PR exists, before the batch's state is pushed (the runner is gone)
    killed = deployment.run(
        "batch-generate.yml", "workflow_dispatch", at=now + dt.timedelta(minutes=5), inputs=one,
        kill_when=lambda: len(deployment.github()["pulls"]) >= 2,
    )  # fmt: skip
    assert killed.killed and killed.started >= {"preflight", "generate", "merge"}
    dead = deployment.github()["pulls"][1]["head"].removeprefix("batch/")
    origin = read_origin(deployment)
    assert origin.entries["pypi:goodtool"].status == "failed"
    assert origin.entries["pypi:othertool"].status == "in_progress"
    assert dead not in origin.manifests

    # a run with nothing to select (npm's queue is empty) still reconciles: the dead batch's PR
    # is closed, its entries are pending again, its metrics line says so
    after = deployment.run(
        "batch-generate.yml", "workflow_dispatch", at=now + dt.timedelta(minutes=20),
        inputs={"ecosystem": "npm", "batch_size": "1", **DISPATCH},
    )  # fmt: skip
    assert after.started == {"preflight"}, after.describe()
    origin = read_origin(deployment)
    assert origin.entries["pypi:othertool"].status == "pending"
    assert origin.entries["pypi:goodtool"].status == "failed"
    assert {r.cause for r in origin.releases[dead].releases} == {"batch_died"}
    closed = [r for b, rec in origin.releases.items() if b != dead for r in rec.releases]
    assert [r.cause for r in closed] == ["pr_closed"]
    assert [p["state"] for p in deployment.github()["pulls"]] == ["closed", "closed"]
    assert f"batch/{dead}" not in deployment.branches()
    check_converged(deployment, origin)
    board = json.loads((deployment.pages / "site" / "dashboard.json").read_text())
    released = {r["batch_id"]: [x["cause"] for x in r["released"]] for r in board["runs"] if r["released"]}
    assert released == {b: [x.cause for x in rec.releases] for b, rec in origin.releases.items()}


@pytest.mark.xdist_group("rest")
def test_the_weekly_seed_records_every_ecosystem_and_writers_at_the_same_moment_both_land(
    deploy: Deploy,
) -> None:
    now = at("2026-02-02T06:00:00Z")
    deployment = deploy(state_files(now=now, queues={}))
    waited = deployment.hold_pushes(2)  # the first two seeding jobs push at the same moment

    run = deployment.run("seed-queue.yml", "schedule", at=now)
    legs = run.legs("seed")
    assert sorted(legs) == sorted(ECOSYSTEMS), run.describe()
    assert legs["npm"] == "success"  # its source (the npm registry's search) answers
    assert {legs[e] for e in ECOSYSTEMS if e != "npm"} == {"failure"}  # theirs answer 404 here
    assert all(run.steps_of("seed", e).get("Record the queue") == "success" for e in ECOSYSTEMS)
    assert len(list(waited.iterdir())) >= 2
    assert '"rebased": 1' in run.output("seed")  # one of the two lost the race, rebased, landed

    origin = read_origin(deployment)
    lines = [
        json.loads(x)
        for x in (origin.root / "data" / "metrics" / "seeding-runs.jsonl").read_text().splitlines()
    ]
    assert sorted(line["ecosystem"] for line in lines) == sorted(ECOSYSTEMS)
    assert [e.name for e in origin.queues["npm"].entries] == ["seedcli", "seedother"]
    assert sum(s.startswith("chore(queue): seed ") for s in origin.log) == len(ECOSYSTEMS)
    check_converged(deployment, origin)


@pytest.mark.xdist_group("rest")
def test_a_recipe_that_needs_review_goes_to_a_review_pr_and_the_rest_still_auto_merges(
    deploy: Deploy,
) -> None:
    now = at("2026-01-29T16:17:00Z")
    queues = {
        "pypi": [entry("goodtool", "pypi:goodtool", now=now), entry("othertool", "pypi:othertool", now=now)]
    }
    # this batch is generated by tsuku's own `create` (the generator's second backend); the
    # stand-in's recipe for othertool verifies with `&&`, which the safety analysis flags
    tsuku = {"RECIPELINE_TSUKU": str(HARNESS / "bin" / "tsuku"), "RECIPELINE_ACT_TSUKU_REVIEW": "othertool"}
    deployment = deploy(state_files(now=now, queues=queues), env=tsuku)

    run = deployment.run(
        "batch-generate.yml",
        "workflow_dispatch",
        at=now,
        inputs={"ecosystem": "pypi", "batch_size": "2", **DISPATCH},
    )
    assert run.result("merge") == "success", run.describe()
    pulls = {pr["head"]: pr for pr in deployment.github()["pulls"]}
    (batch_id,) = [h.removeprefix("batch/") for h in pulls if not h.endswith("-review")]
    batch, review = pulls[f"batch/{batch_id}"], pulls[f"batch/{batch_id}-review"]
    assert batch["merged"] and batch["state"] == "closed"  # the safe recipe auto-merged
    assert review["state"] == "open" and not review["merged"] and review["auto_merge"] is None
    assert f"batch_id: {batch_id}" in review["body"] and "othertool" in review["body"]
    assert any("safety" in comment for comment in review["comments"])
    origin = read_origin(deployment)
    assert origin.recipes == {"goodtool"}
    manifest = origin.manifests[batch_id]
    assert {p.name: p.review for p in manifest.packages} == {"goodtool": False, "othertool": True}
    assert origin.entries["pypi:othertool"].status == "in_progress"  # waiting for its review
    check_converged(deployment, origin)


@pytest.mark.xdist_group("rest")
def test_a_state_push_refused_for_another_reason_than_a_race_keeps_the_batch(deploy: Deploy) -> None:
    now = at("2026-01-29T18:17:00Z")
    deployment = deploy(state_files(now=now, queues={"pypi": [entry("goodtool", "pypi:goodtool", now=now)]}))
    deployment.refuse_pushes(
        "chore(data): record batch", "GH006: Protected branch update failed for refs/heads/main."
    )

    run = deployment.run(
        "batch-generate.yml",
        "workflow_dispatch",
        at=now,
        inputs={"ecosystem": "pypi", "batch_size": "1", **DISPATCH},
    )
    assert run.result("merge") == "failure", run.describe()
    steps = run.steps("merge")
    assert steps["Merge"] == "success" and steps["Record the batch's state"] == "failure"
    assert "Finish the PR" not in steps  # no wait after a state that was not recorded
    assert steps["Keep the batch for a manual finish"] == "success"
    said = run.output("merge")
    assert "origin" in said and "main" in said and "GH006" in said, said[-2000:]
    assert "attempt 2" not in said  # refused, not a race: no retry
    (kept,) = run.artifacts.glob("batch-unfinished-*")
    batch_id = kept.name.removeprefix("batch-unfinished-")
    assert (kept / "build" / "batches" / batch_id / "manifest.json").is_file()
    assert (kept / "data" / "batches" / f"{batch_id}.json").is_file()  # the state merge wrote
    assert batch_id in (kept / "data" / "metrics" / "batch-runs.jsonl").read_text()
    origin = read_origin(deployment)  # the PR landed (with its manifest); the state did not
    assert "chore(data): record batch " + batch_id not in origin.log
    assert batch_id not in {m.batch_id for m in origin.metrics}
    assert origin.entries["pypi:goodtool"].status == "in_progress"
