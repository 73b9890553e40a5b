"""The GitHub workflows' job graph: empty batches start no validation job, macOS needs Linux.

actionlint itself runs in the ``workflows`` nox session; these tests read the workflows as data.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from flowsupport import PROJECT

WORKFLOWS = PROJECT / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _needs(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


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
    assert list(jobs) == ["preflight", "generate", "validate-linux", "validate-macos", "merge"]
    assert _needs(jobs["generate"]) == {"preflight"}
    assert _needs(jobs["validate-linux"]) >= {"preflight", "generate"}
    assert "validate-linux" in _needs(jobs["validate-macos"])
    assert _needs(jobs["merge"]) >= {"preflight", "generate", "validate-linux", "validate-macos"}


@pytest.mark.parametrize("job", ["generate", "validate-linux", "validate-macos", "merge"])
def test_an_empty_selection_starts_nothing_after_preflight(batch: dict[str, Any], job: str) -> None:
    condition = " ".join(str(batch["jobs"][job]["if"]).split())
    assert "needs.preflight.outputs.has_packages == 'true'" in condition


def test_macos_runs_only_on_linux_results_and_within_budget(batch: dict[str, Any]) -> None:
    job = batch["jobs"]["validate-macos"]
    condition = " ".join(str(job["if"]).split())
    assert "needs.validate-linux.result == 'success'" in condition
    assert "!inputs.skip_macos" in condition
    assert "needs.preflight.outputs.macos != 'paused'" in condition
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("--only-passed-on linux" in run for run in runs)
    linux = {row["environment"] for row in batch["jobs"]["validate-linux"]["strategy"]["matrix"]["include"]}
    macos = {row["environment"] for row in job["strategy"]["matrix"]["include"]}
    assert len(linux) == 9 and all(env.startswith("linux-") for env in linux)
    assert macos == {"darwin-arm64", "darwin-x86_64"}


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
