"""The GitHub workflows read as data: the job graph, who writes state, what triggers what.

actionlint runs in the ``workflows`` nox session and the workflows really run under act in the
``workflow_runs`` session (tests/act/); these tests pin the shape those runs rely on, so a change
that breaks it fails here first, with a plain message.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from flowsupport import PROJECT

WORKFLOWS = PROJECT / ".github" / "workflows"
#: jobs that commit to the default branch (and so must check out its head, not the trigger commit)
STATE_WRITERS = {
    "batch-generate.yml": {"preflight", "merge"},
    "seed-queue.yml": {"seed"},
    "macos-sweep.yml": {"record"},
}
#: runner labels GitHub offers today (macos-13, the last Intel image, is retired)
RUNNERS = {"ubuntu-latest", "ubuntu-24.04-arm", "macos-15", "macos-15-intel"}


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _needs(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


def _condition(job: dict[str, Any]) -> str:
    return " ".join(str(job.get("if", "")).split())


def _checkout(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    return dict(step.get("with") or {})


@pytest.fixture
def batch() -> dict[str, Any]:
    return _load("batch-generate.yml")


def test_triggers_and_one_batch_at_a_time(batch: dict[str, Any]) -> None:
    assert set(batch["on"]["workflow_dispatch"]["inputs"]) == {
        "ecosystem",
        "batch_size",
        "tier",
        "skip_macos",
    }
    assert batch["on"]["schedule"][0]["cron"].split()[1:] == ["*", "*", "*", "*"]  # hourly
    assert batch["concurrency"] == {"group": "batch-generate", "cancel-in-progress": False}
    assert batch["permissions"] == {"contents": "read"}


def test_jobs_form_the_progressive_pipeline(batch: dict[str, Any]) -> None:
    jobs = batch["jobs"]
    assert list(jobs) == ["preflight", "generate", "validate-linux", "plan-macos", "validate-macos", "merge"]
    assert _needs(jobs["generate"]) == {"preflight"}
    assert _needs(jobs["validate-linux"]) >= {"preflight", "generate"}
    assert "validate-linux" in _needs(jobs["plan-macos"])
    assert "plan-macos" in _needs(jobs["validate-macos"])
    assert _needs(jobs["merge"]) >= {"preflight", "generate", "validate-linux", "validate-macos"}


@pytest.mark.parametrize("job", ["generate", "validate-linux", "plan-macos", "merge"])
def test_an_empty_selection_starts_nothing_after_preflight(batch: dict[str, Any], job: str) -> None:
    assert "needs.preflight.outputs.has_packages == 'true'" in _condition(batch["jobs"][job])


def test_preflight_checks_inputs_then_reconciles_then_selects(batch: dict[str, Any]) -> None:
    runs = [str(step.get("run", "")) for step in batch["jobs"]["preflight"]["steps"]]
    order = [
        next(i for i, r in enumerate(runs) if needle in r)
        for needle in (
            "invoke preflight --check",
            "invoke reconcile",
            "invoke preflight --ecosystem",
            "invoke push-state",
        )
    ]
    assert order == sorted(order)


def test_macos_is_decided_by_linux_results_not_by_every_linux_leg(batch: dict[str, Any]) -> None:
    plan, macos = batch["jobs"]["plan-macos"], batch["jobs"]["validate-macos"]
    for job in (plan, macos):
        assert _condition(job).startswith("always() &&")  # a failed Linux leg does not skip it
        assert "needs.validate-linux.result" not in _condition(job)
    assert "!inputs.skip_macos" in _condition(plan)
    assert "needs.preflight.outputs.macos != 'paused'" in _condition(plan)
    assert "needs.plan-macos.outputs.recipes != '0'" in _condition(macos)
    assert any("invoke plan-macos" in str(s.get("run", "")) for s in plan["steps"])
    assert any("--only-passed-on linux" in str(s.get("run", "")) for s in macos["steps"])
    linux = {row["environment"] for row in batch["jobs"]["validate-linux"]["strategy"]["matrix"]["include"]}
    darwin = {row["environment"] for row in macos["strategy"]["matrix"]["include"]}
    assert len(linux) == 9 and all(env.startswith("linux-") for env in linux)
    assert darwin == {"darwin-arm64", "darwin-x86_64"}


def test_linux_legs_run_the_task_through_in_container(batch: dict[str, Any]) -> None:
    (step,) = [s for s in batch["jobs"]["validate-linux"]["steps"] if "docker run" in str(s.get("run", ""))]
    command = " ".join(str(step["run"]).split())
    assert '"$IMAGE" .ci/in-container invoke validate ' in command


@pytest.mark.parametrize(("name", "jobs"), sorted(STATE_WRITERS.items()))
def test_jobs_that_write_state_start_from_the_head_of_the_branch(name: str, jobs: set[str]) -> None:
    workflow = _load(name)
    for job_name, job in workflow["jobs"].items():
        writes = any("invoke push-state" in str(s.get("run", "")) for s in job.get("steps", []))
        assert writes == (job_name in jobs), f"{name}: {job_name}"
        if writes:  # actions/checkout checks out github.sha, the trigger commit, by default
            assert _checkout(job).get("ref") == "${{ github.ref_name }}", f"{name}: {job_name}"


def test_read_only_jobs_of_a_batch_read_the_selection_commit(batch: dict[str, Any]) -> None:
    for job in ("generate", "validate-linux", "plan-macos", "validate-macos"):
        assert _checkout(batch["jobs"][job]).get("ref") == "${{ needs.preflight.outputs.state_commit }}", job
    assert batch["jobs"]["preflight"]["outputs"]["state_commit"] == "${{ steps.record.outputs.commit }}"


def test_merge_uses_the_pr_token_bounds_its_wait_and_keeps_an_unfinished_batch(batch: dict[str, Any]) -> None:
    merge = batch["jobs"]["merge"]
    runs = [str(s.get("run", "")) for s in merge["steps"]]
    order = [
        next(i for i, r in enumerate(runs) if f"invoke {task}" in r)
        for task in ("merge", "push-state", "finish")
    ]
    assert order == sorted(order)  # the state is pushed before any wait begins
    for step in merge["steps"]:
        if str(step.get("run", "")).startswith(("invoke merge", "invoke finish")):
            assert step["env"]["RECIPELINE_PR_TOKEN"] == "${{ secrets.RECIPELINE_PR_TOKEN }}"
    assert _checkout(merge)["token"] == "${{ secrets.RECIPELINE_PR_TOKEN || secrets.GITHUB_TOKEN }}"
    assert float(merge["env"]["RECIPELINE_CHECKS_TIMEOUT"]) < merge["timeout-minutes"] * 60 / 1.5
    (keep,) = [s for s in merge["steps"] if s.get("if") == "failure()"]
    assert keep["uses"].startswith("actions/upload-artifact@")
    assert "build/batches/${{ needs.preflight.outputs.batch_id }}/" in keep["with"]["path"]


def test_the_dashboard_rebuilds_after_every_workflow_that_pushes_state() -> None:
    trigger = _load("update-dashboard.yml")["on"]["workflow_run"]
    writers = {_load(name)["name"] for name in STATE_WRITERS}
    assert set(trigger["workflows"]) == writers  # their GITHUB_TOKEN pushes start no push workflow
    assert trigger["types"] == ["completed"]


def test_seeding_jobs_run_in_parallel_and_record_even_a_failed_source() -> None:
    seed = _load("seed-queue.yml")["jobs"]["seed"]
    assert "max-parallel" not in seed["strategy"]
    (record,) = [s for s in seed["steps"] if "invoke push-state" in str(s.get("run", ""))]
    assert "!cancelled()" in record["if"] and "steps.seed.outcome != 'skipped'" in record["if"]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_runner_labels_exist_today(name: str) -> None:
    for job_name, job in _load(name)["jobs"].items():
        rows = job.get("strategy", {}).get("matrix", {})
        labels = (
            [row["runner"] for row in rows.get("include", []) if "runner" in row]
            if isinstance(rows, dict)
            else []
        )
        if "${{" not in str(job["runs-on"]):
            labels.append(job["runs-on"])
        assert labels and set(labels) <= RUNNERS, f"{name}: {job_name}: {labels}"


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_step_that_runs_something_calls_an_invoke_task(name: str) -> None:
    if name == "ci.yml":  # ci.yml runs nox, the test runner
        return
    for job_name, job in _load(name)["jobs"].items():
        for step in job.get("steps", []):
            run = step.get("run")
            if run is None or run.startswith("pip install"):
                continue
            assert "invoke " in run, f"{name}: job {job_name}: step {step.get('name')!r} runs {run!r}"


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_write_permissions_only_where_needed(name: str) -> None:
    data = _load(name)
    assert data["permissions"] == {"contents": "read"}, "top-level permissions stay read-only"
    for job_name, job in data["jobs"].items():
        for scope, level in job.get("permissions", {}).items():
            if level == "write":
                assert job_name in {"preflight", "merge", "seed", "record", "deploy"}, f"{job_name}: {scope}"


def test_the_ecosystem_choices_are_the_schema_table() -> None:
    """A workflow's ecosystem choice list and the seed job's matrix name every ecosystem of
    recipeline_schema.ECOSYSTEMS once (adding an ecosystem makes this test name the file)."""
    from recipeline_schema import ECOSYSTEMS

    batch = _load("batch-generate.yml")["on"]["workflow_dispatch"]["inputs"]["ecosystem"]["options"]
    seed = _load("seed-queue.yml")
    assert sorted(batch) == sorted(["auto", *ECOSYSTEMS]), "batch-generate.yml: inputs.ecosystem.options"
    assert sorted(seed["on"]["workflow_dispatch"]["inputs"]["ecosystem"]["options"]) == sorted(ECOSYSTEMS)
    matrix = seed["jobs"]["seed"]["strategy"]["matrix"]["ecosystem"]
    assert all(f'"{eco}"' in matrix for eco in ECOSYSTEMS), "seed-queue.yml: the seed job's matrix"
