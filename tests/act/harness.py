"""Run the repository's GitHub workflows, as they are, under act in host mode (tests/act/README.md).

A ``Deployment`` is recipeline as an operator deploys it: a bare ``origin`` holding this
checkout's files and a scenario's state, the shared fake GitHub API in front of it, and local
package registries. ``Deployment.run`` starts one workflow run the way GitHub would (an event
payload, the trigger commit = origin's default branch now) with ``act``, and then delivers the
events GitHub delivers afterwards: a completed run starts the workflows that listen for it
(``workflow_run``). Pushes made with the workflow's token start nothing, as on GitHub.

Only what needs github.com is replaced: every ``uses:`` action by its stand-in in
``tests/act/actions/`` (through ``act --local-repository``), ``docker`` by ``tests/act/bin/docker``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent
WORKFLOWS = PROJECT / ".github" / "workflows"
FAKE_GITHUB = PROJECT / "tests" / "support" / "fake_github.py"
REPOSITORY = "octo/recipes"
DEFAULT_BRANCH = "main"
#: the state an operator's deployment starts without (the scenario brings its own)
STATE_PREFIXES = ("data/queues/", "data/metrics/", "data/failures/", "data/batches/", "recipes/")
STATE_FILES = ("batch-control.json",)
#: who the harness commits as when it plays a human (the initial commit, a manual change)
OPERATOR = {
    "GIT_AUTHOR_NAME": "operator",
    "GIT_AUTHOR_EMAIL": "operator@recipeline.invalid",
    "GIT_COMMITTER_NAME": "operator",
    "GIT_COMMITTER_EMAIL": "operator@recipeline.invalid",
}
#: what each act run may take before the harness ends it (a hung job must not hang the suite)
RUN_TIMEOUT = 900.0


class HarnessError(Exception):
    """The harness cannot run a workflow (a missing stand-in, act failing to start)."""


# --- the prepared Python (once per session) ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What every job's installs come from: a wheel directory and a Python environment with
    every third-party distribution of requirements.txt (see ``standins.layered_python``)."""

    wheelhouse: Path
    base_python: Path


def _requirements_key() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in [PROJECT / "requirements.txt", *sorted(PROJECT.glob("packages/*/pyproject.toml"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepare(cache: Path) -> Prepared:
    """Build (or reuse) the wheelhouse and the base environment for this requirements set.

    ``pip wheel -r requirements.txt`` with the test session's own pip configuration is the only
    step that may reach a package index; every job afterwards installs from these two.
    """
    root = cache.resolve() / _requirements_key()
    prepared = Prepared(root / "wheelhouse", root / "base")
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers: one builds, the others wait
        if not (root / "ready").exists():
            _build(root, prepared)
    return prepared


def _build(root: Path, prepared: Prepared) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    _check(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--wheel-dir",
            str(prepared.wheelhouse),
            "-r",
            "requirements.txt",
            "hatchling",
            "editables",
        ],
        cwd=PROJECT,
    )
    base_interpreter = getattr(sys, "_base_executable", sys.executable)
    _check([base_interpreter, "-m", "venv", str(prepared.base_python)])
    third_party = sorted(
        str(p)
        for p in prepared.wheelhouse.glob("*.whl")
        if not p.name.startswith(("recipeline_", "invoke-"))  # these the jobs install themselves
    )
    _check(
        [
            str(prepared.base_python / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            *third_party,
        ],
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    (root / "ready").write_text("ok\n")


def _check(args: list[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise HarnessError(f"{' '.join(args[:4])} ... failed: {(proc.stderr or proc.stdout)[-2000:]}")
    return proc.stdout


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """``git -C repo args`` as the operator; its stdout."""
    full = {**os.environ, **OPERATOR, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    return _check(["git", "-C", str(repo), *args], env=full)


# --- reading the workflows -------------------------------------------------------------------------


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _runner_labels(workflows: Iterable[dict[str, Any]]) -> set[str]:
    """Every runner label a job may ask for, matrix rows included."""
    labels: set[str] = set()
    for workflow in workflows:
        for job in workflow["jobs"].values():
            runs_on = job.get("runs-on", [])
            values = [runs_on] if isinstance(runs_on, str) else list(runs_on)
            for value in values:
                if "${{" in value:
                    matrix = job.get("strategy", {}).get("matrix", {})
                    key = value.split("matrix.", 1)[1].split()[0].rstrip("}") if "matrix." in value else ""
                    rows = matrix.get("include", []) if isinstance(matrix, dict) else []
                    labels |= {str(row[key]) for row in rows if key in row}
                    labels |= (
                        {str(v) for v in matrix.get(key, [])} if isinstance(matrix.get(key), list) else set()
                    )
                else:
                    labels.add(value)
    return labels


def _actions(workflows: Iterable[dict[str, Any]]) -> set[str]:
    """Every ``uses:`` of a step (``owner/name@ref``)."""
    return {
        str(step["uses"])
        for workflow in workflows
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    }


def stand_ins(workflows: Iterable[dict[str, Any]]) -> dict[str, Path]:
    """``owner/name@ref`` -> its local stand-in; a ``uses:`` without one is a harness error."""
    found: dict[str, Path] = {}
    for uses in sorted(_actions(workflows)):
        name = uses.split("@", 1)[0]
        folder = HARNESS / "actions" / name
        if uses.startswith(("./", "docker://")) or not (folder / "action.yml").is_file():
            raise HarnessError(
                f"{uses}: no local stand-in in {folder.relative_to(PROJECT)} (tests/act/README.md)"
            )
        found[uses] = folder
    return found


def listens_for(workflow: dict[str, Any], event: str) -> dict[str, Any] | None:
    """The trigger settings of ``event`` in a workflow's ``on:`` (None when it does not listen)."""
    on = workflow["on"]
    if isinstance(on, str):
        return {} if on == event else None
    if isinstance(on, list):
        return {} if event in on else None
    if event not in on:
        return None
    return on[event] or {}


# --- one workflow run ------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """What act reported of one workflow run."""

    workflow: str
    event: str
    returncode: int
    seconds: float
    head_before: str
    head_after: str
    records: list[dict[str, Any]]
    artifacts: Path = Path()
    killed: bool = False
    cause: str = ""

    def result(self, job_id: str) -> str | None:
        """The job's result (all its matrix rows together); None when it never started."""
        results = [str(r["jobResult"]) for r in self.records if r.get("jobID") == job_id and "jobResult" in r]
        return results[-1] if results else None

    def legs(self, job_id: str) -> dict[str, str]:
        """Matrix row (its ``environment``, else its ``ecosystem``, else its JSON) -> result of
        that row: ``failure`` when one of its steps failed (act reports the whole job's result
        on every row)."""
        out: dict[str, str] = {}
        for r in self.records:
            if r.get("jobID") != job_id or "stepResult" not in r:
                continue
            matrix = r.get("matrix") or {}
            key = str(
                matrix.get("environment") or matrix.get("ecosystem") or json.dumps(matrix, sort_keys=True)
            )
            if r["stepResult"] == "failure":
                out[key] = "failure"
            else:
                out.setdefault(key, "success")
        return out

    def steps_of(self, job_id: str, leg: str) -> dict[str, str]:
        """Step name -> result in one matrix row of a job (``leg``: a value of the row)."""
        return {
            str(r["step"]): str(r["stepResult"])
            for r in self.records
            if r.get("jobID") == job_id
            and "stepResult" in r
            and r.get("stage") == "Main"
            and leg in (r.get("matrix") or {}).values()
        }

    @property
    def started(self) -> set[str]:
        return {str(r["jobID"]) for r in self.records if r.get("jobID")}

    def summary(self, job_id: str) -> str:
        """What the job's steps appended to the step summary."""
        return "".join(
            str(r.get("content", ""))
            for r in self.records
            if r.get("jobID") == job_id and r.get("command") == "summary"
        )

    def output(self, job_id: str | None = None, leg: str | None = None) -> str:
        """The raw output of a job's steps (of all jobs with None; of one matrix row with ``leg``)."""
        return "".join(
            str(r.get("msg", ""))
            for r in self.records
            if r.get("raw_output")
            and (job_id is None or r.get("jobID") == job_id)
            and (leg is None or leg in (r.get("matrix") or {}).values())
        )

    def steps(self, job_id: str) -> dict[str, str]:
        """Step name -> result for the main stage of a job's steps (last run wins)."""
        return {
            str(r["step"]): str(r["stepResult"])
            for r in self.records
            if r.get("jobID") == job_id and "stepResult" in r and r.get("stage") == "Main"
        }

    @property
    def pushed(self) -> bool:
        return self.head_before != self.head_after

    def describe(self) -> str:
        """A few lines for assertion messages: the jobs' results and the last output lines."""
        results = {}
        for r in self.records:
            if "jobResult" in r:
                results[str(r.get("job"))] = r["jobResult"]
        tail = self.output()[-6000:]
        return f"{self.workflow} ({self.event}) exit {self.returncode}: {results}\n{tail}"


class Deployment:
    """recipeline deployed: origin, the fake GitHub, the registries, and its workflow runs."""

    def __init__(
        self,
        root: Path,
        prepared: Prepared,
        *,
        state: Mapping[str, str],
        env: Mapping[str, str],
        fake_options: Iterable[str] = (),
        pr_token: str | None = None,
    ) -> None:
        self.root = root
        self.prepared = prepared
        self.env = dict(env)
        self.pr_token = pr_token
        self.runs: list[Run] = []
        self.git_root = root / "git"
        self.origin = self.git_root / f"{REPOSITORY}.git"
        self.pages = root / "pages"
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self._create_origin(state)
        self.workflows = {p.name: load_workflow(p) for p in sorted(WORKFLOWS.glob("*.yml"))}
        self._stand_ins = stand_ins(self.workflows.values())
        self._labels = _runner_labels(self.workflows.values())
        self.github_state_file = root / "github-state.json"
        self._fake_log = (root / "fake-github.log").open("w")
        self._fake = subprocess.Popen(
            [
                sys.executable,
                str(FAKE_GITHUB),
                "--origin",
                str(self.origin),
                "--port",
                "0",
                "--state-file",
                str(self.github_state_file),
                "--repo",
                REPOSITORY,
                *fake_options,
            ],
            stdout=subprocess.PIPE,
            stderr=self._fake_log,
            text=True,
        )
        assert self._fake.stdout is not None
        self.api_url = self._fake.stdout.readline().strip()
        if not self.api_url.startswith("http"):
            self.close()
            raise HarnessError(f"the fake GitHub did not start: {(root / 'fake-github.log').read_text()}")

    def close(self) -> None:
        if self._fake.poll() is None:
            self._fake.terminate()
            self._fake.wait(timeout=10)
        if self._fake.stdout is not None:
            self._fake.stdout.close()
        self._fake_log.close()

    # --- origin -----------------------------------------------------------------------------

    def _create_origin(self, state: Mapping[str, str]) -> None:
        """origin's default branch: this checkout's files (minus its state) plus ``state``."""
        work = self.root / "initial"
        listed = _check(["git", "-C", str(PROJECT), "ls-files", "-z", "-co", "--exclude-standard"])
        for name in sorted(set(listed.split("\0"))):
            source = PROJECT / name
            if not name or not source.is_file() or name.startswith(STATE_PREFIXES) or name in STATE_FILES:
                continue
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
        for name, text in state.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        self.origin.parent.mkdir(parents=True)
        _check(["git", "init", "-q", "--bare", "-b", DEFAULT_BRANCH, str(self.origin)])
        git(work.parent, "init", "-q", "-b", DEFAULT_BRANCH, str(work))
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", "deploy recipeline")
        git(work, "push", "-q", str(self.origin), f"HEAD:{DEFAULT_BRANCH}")
        shutil.rmtree(work)

    def hold_pushes(self, count: int) -> Path:
        """Make the next ``count`` pushes to the default branch meet: origin's pre-receive hook
        holds each until ``count`` are waiting (at most 60 s), then lets them race for the ref
        (one wins, the others are refused as git refuses a push that lost the ref lock). One
        round; the returned folder lists the pushes that waited."""
        barrier = self.origin / "harness-barrier"
        (barrier / "waiting").mkdir(parents=True)
        (barrier / "armed").write_text(f"{count}\n")
        hook = self.origin / "hooks" / "pre-receive"
        hook.write_text(
            "#!/bin/sh\n"
            "# the workflow harness: hold pushes to main until N are here, so they race\n"
            f'dir="{barrier}"\n'
            '[ -f "$dir/armed" ] || exit 0\n'
            "main=\n"
            'while read -r old new ref; do [ "$ref" = refs/heads/main ] && main=1; done\n'
            '[ -n "$main" ] || exit 0\n'
            'n=$(cat "$dir/armed")\n'
            'touch "$dir/waiting/$$"\n'
            "i=0\n"
            'while [ "$(ls "$dir/waiting" | wc -l)" -lt "$n" ] && [ "$i" -lt 600 ]; do\n'
            "  sleep 0.1; i=$((i+1))\n"
            "done\n"
            'sleep 0.2; rm -f "$dir/armed"\n'
            "exit 0\n"
        )
        hook.chmod(0o755)
        return barrier / "waiting"

    def refuse_pushes(self, subject: str, reason: str) -> None:
        """origin's pre-receive hook refuses a push to the default branch of a commit whose
        subject starts with ``subject`` (what a protected branch or a server hook does)."""
        hook = self.origin / "hooks" / "pre-receive"
        hook.write_text(
            "#!/bin/sh\n"
            "# the workflow harness: refuse some pushes to main, as a protected branch would\n"
            "while read -r old new ref; do\n"
            '  [ "$ref" = refs/heads/main ] || continue\n'
            f'  if git log -1 --format=%s "$new" | grep -q "^{subject}"; then\n'
            f'    echo "{reason}" >&2; exit 1\n'
            "  fi\n"
            "done\n"
            "exit 0\n"
        )
        hook.chmod(0o755)

    def head(self, branch: str = DEFAULT_BRANCH) -> str:
        return git(self.origin, "rev-parse", f"refs/heads/{branch}").strip()

    def branches(self) -> set[str]:
        out = git(self.origin, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        return set(out.split())

    def clone(self, name: str = "check") -> Path:
        """A fresh clone of origin's default branch (to read the state as a test)."""
        target = self.root / "clones" / f"{name}-{time.monotonic_ns()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        git(self.root, "clone", "-q", "-b", DEFAULT_BRANCH, str(self.origin), str(target))
        return target

    def push_as_operator(self, message: str, files: Mapping[str, str]) -> None:
        """A human's commit on the default branch (an operator's change, not a workflow's)."""
        work = self.clone("operator")
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", message)
        git(work, "push", "-q", "origin", DEFAULT_BRANCH)

    # --- the fake GitHub --------------------------------------------------------------------

    def github(self) -> dict[str, Any]:
        """The fake GitHub's state: pulls (with labels, comments), merges."""
        data: dict[str, Any] = json.loads(self.github_state_file.read_text(encoding="utf-8"))
        return data

    def github_hook(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        import urllib.request

        request = urllib.request.Request(
            f"{self.api_url}/_fake/{path}",
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    # --- runs -------------------------------------------------------------------------------

    def run(
        self,
        workflow: str,
        event: str,
        *,
        at: dt.datetime,
        inputs: Mapping[str, str] | None = None,
        kill_when: Callable[[], bool] | None = None,
        deliver: bool = True,
    ) -> Run:
        """Run ``workflow`` for ``event`` at time ``at``, then what GitHub starts after it."""
        payload: dict[str, Any] = {}
        if event == "schedule":
            crons: list[dict[str, str]] = self.workflows[workflow]["on"]["schedule"]
            payload = {"schedule": crons[0]["cron"]}
        elif event == "workflow_dispatch":
            payload = {"inputs": dict(inputs or {}), "ref": f"refs/heads/{DEFAULT_BRANCH}"}
        run = self._act(workflow, event, payload, at=at, inputs=inputs or {}, kill_when=kill_when)
        self.runs.append(run)
        self._time(run)
        if deliver and not run.killed:
            self._deliver(run, at=at)
        return run

    def _deliver(self, run: Run, *, at: dt.datetime) -> None:
        """``workflow_run``: every workflow that listens for the completion of ``run``'s workflow."""
        name = self.workflows[run.workflow]["name"]
        conclusion = "success" if run.returncode == 0 else "failure"
        for file, workflow in self.workflows.items():
            trigger = listens_for(workflow, "workflow_run")
            if trigger is None or name not in trigger.get("workflows", []):
                continue
            if "completed" not in trigger.get("types", ["completed", "requested", "in_progress"]):
                continue
            branches = trigger.get("branches")
            if branches and DEFAULT_BRANCH not in branches:
                continue
            payload = {
                "action": "completed",
                "workflow_run": {
                    "name": name,
                    "conclusion": conclusion,
                    "event": run.event,
                    "head_branch": DEFAULT_BRANCH,
                    "head_sha": run.head_before,
                    "id": len(self.runs),
                },
                "workflow": {"name": name, "path": f".github/workflows/{run.workflow}"},
            }
            follow = self._act(file, "workflow_run", payload, at=at, inputs={}, kill_when=None)
            follow.cause = f"{run.workflow} ({run.event})"
            self.runs.append(follow)
            self._time(follow)

    def _act(
        self,
        workflow: str,
        event: str,
        payload: Mapping[str, Any],
        *,
        at: dt.datetime,
        inputs: Mapping[str, str],
        kill_when: Callable[[], bool] | None,
    ) -> Run:
        number = len(self.runs) + 1
        run_dir = self.root / "runs" / f"{number:03d}-{workflow.removesuffix('.yml')}-{event}"
        trigger = run_dir / "trigger"
        run_dir.mkdir(parents=True)
        head = self.head()
        # the trigger commit: what GitHub names github.sha for this event (origin's head now)
        git(run_dir, "clone", "-q", "-b", DEFAULT_BRANCH, str(self.origin), str(trigger))
        git(trigger, "remote", "add", "github", f"https://github.com/{REPOSITORY}.git")
        # every payload of these events carries the repository (the workflows read its default_branch)
        repository = {
            "full_name": REPOSITORY,
            "name": REPOSITORY.split("/")[1],
            "default_branch": DEFAULT_BRANCH,
        }
        (run_dir / "event.json").write_text(json.dumps({"repository": repository, **payload}))
        stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        variables = {
            "RECIPELINE_ACT_GIT": str(self.git_root),
            "RECIPELINE_ACT_ARTIFACTS": str(run_dir / "artifacts"),
            "RECIPELINE_ACT_PAGES": str(self.pages),
            "RECIPELINE_ACT_BASE_PYTHON": str(self.prepared.base_python),
            "RECIPELINE_ACT_HARNESS": str(HARNESS),
            "GITHUB_API_URL": self.api_url,
            "GITHUB_GRAPHQL_URL": f"{self.api_url}/graphql",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_FIND_LINKS": str(self.prepared.wheelhouse),
            "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of --no-build-isolation
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
            "RECIPELINE_NOW": stamp,
            **self.env,
        }
        command = [
            str(Path(sys.executable).parent / "act"),
            event,
            "-W",
            str(trigger / ".github" / "workflows" / workflow),
            "-C",
            str(trigger),
            "-e",
            str(run_dir / "event.json"),
            "--json",
            "--no-cache-server",
            "--remote-name",
            "github",
            "--defaultbranch",
            DEFAULT_BRANCH,
            "--action-cache-path",
            str(run_dir / "act"),
            "--concurrent-jobs",
            str(os.cpu_count() or 2),
            "-s",
            "GITHUB_TOKEN=ghs_harness_workflow_token",
        ]
        if self.pr_token:
            command += ["-s", f"RECIPELINE_PR_TOKEN={self.pr_token}"]
        for label in sorted(self._labels):
            command += ["-P", f"{label}=-self-hosted"]
        for uses, folder in sorted(self._stand_ins.items()):
            command += ["--local-repository", f"{uses}={folder}"]
        for key, value in sorted(variables.items()):
            command += ["--env", f"{key}={value}"]
        for key, value in sorted(inputs.items()):
            command += ["--input", f"{key}={value}"]
        environment = {
            "PATH": f"{HARNESS / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.home),  # a runner's: no git identity, no pip or npm configuration
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "TMPDIR": str(self._tmp()),
        }
        log = run_dir / "act.jsonl"
        started = time.monotonic()
        killed = False
        with log.open("w") as out, (run_dir / "act.stderr").open("w") as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err, env=environment, start_new_session=True)
            while proc.poll() is None:
                overdue = time.monotonic() - started > RUN_TIMEOUT
                if overdue or (kill_when is not None and kill_when()):
                    os.killpg(proc.pid, signal.SIGKILL)  # the runner is gone, with every process of it
                    proc.wait()
                    killed = True
                    if overdue:
                        raise HarnessError(f"{workflow} ({event}) did not finish within {RUN_TIMEOUT:g} s")
                    break
                time.sleep(0.1)
        records = []
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        if not records and not killed:
            raise HarnessError(f"act did not run {workflow}: {(run_dir / 'act.stderr').read_text()[-3000:]}")
        return Run(
            workflow=workflow,
            event=event,
            returncode=proc.returncode,
            seconds=time.monotonic() - started,
            head_before=head,
            head_after=self.head(),
            records=records,
            artifacts=run_dir / "artifacts",
            killed=killed,
        )

    def _time(self, run: Run) -> None:
        """One line per run in ``RECIPELINE_ACT_TIMINGS`` (the session's figures), when set."""
        path = os.environ.get("RECIPELINE_ACT_TIMINGS")
        if path:
            with Path(path).open("a", encoding="utf-8") as fh:
                fh.write(
                    json.dumps(
                        {
                            "deployment": self.root.name,
                            "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
                            "workflow": run.workflow,
                            "event": run.event,
                            "seconds": round(run.seconds, 1),
                            "jobs": len(run.started),
                        }
                    )
                    + "\n"
                )

    def _tmp(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(exist_ok=True)
        return path


#: the ``deploy`` fixture: ``deploy(state, fake_options=(), pr_token=None, env={})`` -> a Deployment
Deploy = Callable[..., Deployment]
