"""The GitHub publisher against a local HTTP server speaking the REST and GraphQL shapes
PyGithub uses, and a bare "origin" repository the branch is really pushed to."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fake_github import FakeGitHub
from pytest_httpserver import HTTPServer

from recipeline_merger import GitHubError, merge, parse_trailers, preflight, reconcile, rollback
from recipeline_merger.ghpublisher import GitHubPublisher, askpass, checks_state
from recipeline_merger.gitrepo import commit_on_branch
from recipeline_merger.landing import finish
from recipeline_merger.pullrequest import token_of, token_warning
from recipeline_merger.status import read_status
from recipeline_schema import (
    BatchDir,
    BatchPlan,
    Layout,
    MetricsLine,
    Queue,
    ReleaseRecord,
    load,
    read_jsonl,
    save,
)

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

TOKEN = "ghp_testTokenNeverLogged0123456789"
REPO = "octo/recipes"
BATCH = "2026-01-29-001"


@pytest.fixture
def origin(repo: Path, tmp_path: Path, git: Git) -> Path:
    """A bare repository added to ``repo`` as its remote "origin", holding main."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return bare


@pytest.fixture
def fake(httpserver: HTTPServer, origin: Path) -> FakeGitHub:
    """A fake GitHub API on a local port, answering every request through ``FakeGitHub.handle``."""
    api = FakeGitHub(base=httpserver.url_for("/").rstrip("/"), origin=origin, repo=REPO)
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(api.handle)
    return api


def publisher(repo: Path, fake: FakeGitHub, **kw: Any) -> GitHubPublisher:
    return GitHubPublisher(
        repo,
        token=TOKEN,
        repository=REPO,
        api_url=fake.base,
        checks_timeout=5,
        checks_interval=0,
        pacing=(0, 0),
        **kw,
    )


def make_batch(repo: Path, make: Make, git: Git, write_batch: WriteBatch, *, safe: bool = True) -> BatchDir:
    """A preflighted batch of rg (passes), bat (passes; unsafe unless ``safe``) and fd (fails)."""
    layout = Layout(repo)
    save(
        make.queue([make.entry("rg", "cargo:ripgrep"), make.entry("bat"), make.entry("fd")]),
        layout.queue("cargo"),
    )
    git(repo, "add", "data")
    git(repo, "commit", "-q", "-m", "seed")
    result = preflight(repo, ecosystem="cargo", batch_size=3, now=make.now)
    plan = load(BatchPlan, layout.batch_dir(str(result.batch_id)) / "manifest.json")
    names = {p.package_id: p.name for p in plan.packages}
    report = make.report(
        make.linux,
        [
            make.result("rg", "cargo:ripgrep"),
            make.result("bat", "cargo:bat", safe=safe),
            make.result("fd", "cargo:fd", "fail", failure=make.failure("cargo:fd")),
        ],
    )
    return write_batch(
        layout,
        plan,
        make.generation([make.generated(n, pid) for pid, n in names.items()]),
        [report],
        {n: make.recipe_text(n) for n in names.values()},
    )


def assert_no_token_anywhere(repo: Path, *texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
    for path in repo.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_auto_merge_is_enabled_with_the_trailer(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    bdir = make_batch(repo, make, git, write_batch)
    pub = publisher(repo, fake)
    result = merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=pub)

    # the branch really reached origin, one commit on main
    pushed = git(origin, "rev-parse", f"refs/heads/batch/{BATCH}").strip()
    assert pushed == result.commit
    assert result.pull_request is not None and result.pull_request.number == 1
    pr = fake.pulls[1]
    assert pr["head"] == f"batch/{BATCH}" and pr["base"] == "main"
    assert BATCH in pr["title"] and "(2/3 recipes)" in pr["title"]
    assert "| rg | cargo:ripgrep | on batch branch |" in pr["body"]
    assert "| checks | deferred |" in pr["body"] and "| safety | pass |" in pr["body"]
    assert fake.labels[1] == ["recipes", "batch"]
    assert fake.comments == {}

    (mutation,) = fake.mutations
    assert "enablePullRequestAutoMerge" in mutation["query"]
    inputs = mutation["variables"]["input"]
    assert inputs["mergeMethod"] == "SQUASH" and inputs["pullRequestId"] == "PR_node1"
    assert inputs["commitHeadline"] == f"feat(recipes): add batch {BATCH} cargo recipes"
    assert parse_trailers(inputs["commitBody"])["batch_id"] == BATCH
    assert fake.auth_headers == {f"token {TOKEN}"}
    assert result.decision.auto_merge and "squash auto-merge" in result.notes[0]
    assert_no_token_anywhere(repo, *result.notes)

    # the checks were green: GitHub's auto-merge squashed the PR into origin's main
    (merged,) = fake.merges
    assert merged["via"] == "auto-merge" and fake.pulls[1]["merged"] is True
    message = git(origin, "log", "-1", "--format=%B", "main")
    assert parse_trailers(message)["batch_id"] == BATCH
    assert git(origin, "show", "main:recipes/r/rg.toml").startswith("[metadata]")


def test_auto_merge_waits_for_green_checks_then_lands_on_origin(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    fake.statuses = [[{"context": "ci", "state": "pending"}]]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert fake.pulls[1]["auto_merge"] is not None and fake.merges == []
    before = git(origin, "rev-parse", "main").strip()

    fake.set_checks([{"context": "ci", "state": "success"}])
    assert fake.pulls[1]["state"] == "closed" and fake.pulls[1]["merged"] is True
    assert git(origin, "rev-parse", "main^").strip() == before  # one squash commit on main
    assert "recipes/r/rg.toml" in git(origin, "ls-tree", "-r", "--name-only", "main")


def test_without_auto_merge_merge_waits_for_nothing_and_finish_merges_once_green(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    fake.graphql_error = "Pull request Auto merge is not allowed for this repository"
    fake.statuses = [[{"context": "ci", "state": "pending"}], [{"context": "ci", "state": "success"}]]
    fake.check_runs = [{"id": 1, "name": "lint", "status": "completed", "conclusion": "success"}]
    sleeps: list[float] = []
    bdir = make_batch(repo, make, git, write_batch)
    result = merge(
        repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake, sleep=sleeps.append)
    )
    # merge waited for nothing: every piece of state is written, the PR is open
    assert fake.status_polls == 0 and fake.merges == [] and sleeps == []
    assert Layout(repo).manifest(BATCH).exists() and BATCH in Layout(repo).metrics.read_text()
    assert "`finish`" in result.notes[0]

    done = finish(repo, batch_id=BATCH, timeout=5, publisher=publisher(repo, fake, sleep=sleeps.append))
    assert done.landing == "merged" and fake.status_polls == 2 and len(sleeps) == 1
    (merged,) = fake.merges
    assert merged["merge_method"] == "squash" and merged["via"] == "api"
    assert merged["commit_title"] == f"feat(recipes): add batch {BATCH} cargo recipes"
    assert parse_trailers(merged["commit_message"]) == {
        "batch_id": BATCH,
        "ecosystem": "cargo",
        "batch_size": "3",
        "success_rate": "0.67",
    }
    assert parse_trailers(git(origin, "log", "-1", "--format=%B", "main"))["batch_id"] == BATCH


def test_failed_checks_leave_the_pr_open_with_one_comment(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.allow_auto_merge = False
    fake.check_runs = [{"id": 1, "name": "tests", "status": "completed", "conclusion": "failure"}]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert fake.mutations == [] and fake.merges == []
    for _ in range(2):  # finish, then the next run's reconcile: one comment, not two
        done = finish(repo, batch_id=BATCH, timeout=5, publisher=publisher(repo, fake))
        assert done.landing == "failed" and "not merged" in done.note
    (comment,) = fake.comments[1]
    assert "gate `checks` failed: checks failed: tests" in comment
    assert fake.pulls[1]["state"] == "open"


def test_a_wait_that_ends_leaves_the_pr_open_and_a_later_landing_merges_it(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.allow_auto_merge = False
    fake.statuses = [[{"context": "ci", "state": "pending"}]]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    ticks = iter(range(0, 10_000, 100))  # every poll takes 100 "seconds"
    waiting = publisher(repo, fake, clock=lambda: float(next(ticks)))
    done = finish(repo, batch_id=BATCH, timeout=250, publisher=waiting)
    assert done.landing == "pending" and fake.merges == [] and fake.pulls[1]["state"] == "open"
    (comment,) = fake.comments[1]
    assert "checks not green within 250 s" in comment and "next run's reconcile" in comment

    fake.set_checks([{"context": "ci", "state": "success"}])
    again = finish(repo, batch_id=BATCH, timeout=0, publisher=publisher(repo, fake))
    assert again.landing == "merged" and fake.pulls[1]["merged"] is True


def test_finish_leaves_a_pr_with_auto_merge_to_github(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.statuses = [[{"context": "ci", "state": "pending"}]]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    done = finish(repo, batch_id=BATCH, timeout=600, publisher=publisher(repo, fake))
    assert done.landing == "auto-merge" and fake.status_polls == 0  # no wait at all


def test_a_recipe_needing_review_goes_to_a_review_pr_and_the_rest_auto_merges(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    bdir = make_batch(repo, make, git, write_batch, safe=False)
    result = merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert result.decision.auto_merge  # bat needs review; rg still auto-merges
    batch_pr, review_pr = fake.pulls[1], fake.pulls[2]
    assert batch_pr["head"] == f"batch/{BATCH}" and batch_pr["merged"] is True
    assert review_pr["head"] == f"batch/{BATCH}-review" and review_pr["state"] == "open"
    assert BATCH in review_pr["title"] and "(1 need review)" in review_pr["title"]
    assert fake.labels[2] == ["recipes", "batch", "needs-review"]
    (comment,) = fake.comments[2]  # the review PR: a comment naming the gate and the recipe
    assert "gate `safety` failed" in comment and "bat" in comment and "run_command" in comment
    assert "| safety | FAIL |" in review_pr["body"] and "| bat |" in review_pr["body"]
    assert 1 not in fake.comments
    (mutation,) = fake.mutations  # auto-merge is asked for the batch PR only
    assert mutation["variables"]["input"]["pullRequestId"] == "PR_node1"
    # origin's main has rg, not bat; the review branch carries bat with the same trailer
    on_main = git(origin, "ls-tree", "-r", "--name-only", "main")
    assert "recipes/r/rg.toml" in on_main and "recipes/b/bat.toml" not in on_main
    review_files = git(origin, "ls-tree", "-r", "--name-only", f"batch/{BATCH}-review")
    assert "recipes/b/bat.toml" in review_files and "recipes/r/rg.toml" not in review_files
    message = git(origin, "log", "-1", "--format=%B", f"batch/{BATCH}-review")
    assert parse_trailers(message)["batch_id"] == BATCH
    out = result.to_json()
    assert out["review_pull_request"] == f"https://github.example/{REPO}/pull/2" and out["review"] == 1


def test_preflight_does_not_wait_for_a_review_pr(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    bdir = make_batch(repo, make, git, write_batch, safe=False)
    merge(repo, bdir.path, now=make.now, publisher=publisher(repo, fake))
    assert fake.pulls[2]["state"] == "open"  # the review PR waits for a human
    assert publisher(repo, fake).open_batches("cargo") == ()


def test_an_open_pr_of_the_branch_is_reused(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    bdir = make_batch(repo, make, git, write_batch)
    git(repo, "branch", f"batch/{BATCH}", "HEAD")
    git(repo, "push", "-q", "origin", f"batch/{BATCH}")
    fake.pulls[1] = {"title": "old", "body": "old", "head": f"batch/{BATCH}", "base": "main"}
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert list(fake.pulls) == [1] and BATCH in fake.pulls[1]["title"]


@pytest.mark.parametrize(
    "echoed",
    [
        lambda t: t,
        lambda t: "Basic " + base64.b64encode(f"x-access-token:{t}".encode()).decode(),
        lambda t: "Basic " + base64.b64encode(f"u:{t}".encode()).decode(),
        lambda t: urllib.parse.quote(t, safe=""),
    ],
    ids=["literal", "basic-x-access-token", "basic-short-user", "url-encoded"],
)
def test_api_errors_become_one_line_without_the_token(
    repo: Path,
    make: Make,
    git: Git,
    write_batch: WriteBatch,
    httpserver: HTTPServer,
    origin: Path,
    echoed: Callable[[str], str],
) -> None:
    token = TOKEN + "+/="  # a secret that percent-encoding changes
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_json(
        {"message": f"Bad credentials {echoed(token)}"}, status=401
    )
    bdir = make_batch(repo, make, git, write_batch)
    pub = GitHubPublisher(
        repo, token=token, repository=REPO, api_url=httpserver.url_for("/").rstrip("/"), pacing=(0, 0)
    )
    with pytest.raises(GitHubError) as info:
        merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=pub)
    assert "HTTP 401" in str(info.value) and str(info.value).endswith("***")
    assert TOKEN not in str(info.value) and echoed(token) not in str(info.value)


def test_askpass_answers_from_the_environment_only(tmp_path: Path) -> None:
    with askpass(TOKEN) as env:
        script = Path(env["GIT_ASKPASS"])
        assert TOKEN not in script.read_text()
        run = {**os.environ, **env}
        password = subprocess.run(
            [str(script), "Password for 'https://x@github.com': "],
            env=run,
            capture_output=True,
            text=True,
            check=True,
        )
        user = subprocess.run(
            [str(script), "Username for 'https://github.com': "],
            env=run,
            capture_output=True,
            text=True,
            check=True,
        )
    assert password.stdout == TOKEN + "\n" and user.stdout == "x-access-token\n"
    assert not script.exists()


def test_checks_state_verdicts() -> None:
    assert checks_state([], []).verdict == "pending"
    assert checks_state([("ci", "success")], [("lint", "completed", "skipped")]).verdict == "green"
    assert checks_state([("ci", "pending")], []).verdict == "pending"
    assert checks_state([("ci", "success")], [("lint", "in_progress", None)]).verdict == "pending"
    failed = checks_state([("ci", "error")], [("lint", "completed", "timed_out")])
    assert failed.verdict == "failed" and failed.failed == ("ci", "lint")


def test_the_cli_publishes_from_the_environment_and_never_shows_the_token(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    import sys

    bdir = make_batch(repo, make, git, write_batch)
    summary = repo.parent / "step-summary.md"
    env = {
        **os.environ,
        "GITHUB_TOKEN": "ghs_theWorkflowsOwnToken000000000000",
        "RECIPELINE_PR_TOKEN": TOKEN,  # the PR token wins over the workflow's
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.base,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "recipeline_merger",
            "merge",
            "--repo",
            str(repo),
            "--batch-dir",
            str(bdir.path),
            "--now",
            "2026-01-29T11:00:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pull_request"] == f"https://github.example/{REPO}/pull/1" and out["auto_merge"] is True
    assert fake.auth_headers == {f"token {TOKEN}"}
    assert git(origin, "rev-parse", f"refs/heads/batch/{BATCH}").strip() == out["commit"]
    assert_no_token_anywhere(repo, proc.stdout, proc.stderr)
    assert not summary.exists()  # no warning: the PR token is set


def test_the_workflow_token_alone_earns_a_warning_in_the_step_summary() -> None:
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "x"}
    warning = token_warning(ci)
    assert warning is not None and "RECIPELINE_PR_TOKEN" in warning and "start no workflows" in warning
    assert token_warning({**ci, "RECIPELINE_PR_TOKEN": "y"}) is None
    assert token_warning({"GITHUB_TOKEN": "x"}) is None  # a local run: nothing to warn about
    assert token_of({**ci, "RECIPELINE_PR_TOKEN": "y"}) == "y" and token_of(ci) == "x"
    assert token_of({}) is None


def test_rollback_opens_a_pr_from_the_rollback_branch(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub, origin: Path
) -> None:
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now.replace(hour=11))  # locally (no publisher given, no token)
    git(repo, "add", "-A", "data", "batch-control.json")
    git(repo, "commit", "-q", "-m", "state")
    git(repo, "merge", "--squash", "-q", f"batch/{BATCH}")
    git(repo, "commit", "-q", "-m", "squashed")
    result = rollback(
        repo,
        batch_id=BATCH,
        reason="broken verify",
        now=make.now.replace(hour=12),
        publisher=publisher(repo, fake),
    )
    assert result.pull_request == f"https://github.example/{REPO}/pull/1"
    pr = fake.pulls[1]
    assert pr["head"] == f"rollback/{BATCH}" and "roll back batch" in pr["title"]
    assert "broken verify" in pr["body"] and fake.labels[1] == ["recipes", "rollback"]
    assert fake.mutations == [] and fake.merges == []  # a human merges a rollback
    assert git(origin, "rev-parse", f"refs/heads/rollback/{BATCH}").strip() == result.commit


def test_preflight_waits_while_a_batch_pr_of_the_ecosystem_is_open(
    repo: Path, fake: FakeGitHub, make: Make, git: Git, write_batch: WriteBatch
) -> None:
    """One open batch PR per ecosystem: the next hourly run selects nothing until it is merged."""
    fake.statuses = [[{"context": "ci", "state": "pending"}]]  # auto-merge waits for the checks
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now, publisher=publisher(repo, fake))
    gh = publisher(repo, fake)
    (number,) = fake.pulls
    assert gh.open_batches("cargo") == (f"#{number} {fake.pulls[number]['head']}",)
    assert gh.open_batches("npm") == ()

    waiting = preflight(repo, ecosystem="cargo", batch_size=5, now=make.now, open_batches=gh.open_batches)
    assert waiting.batch_id is None and "batch PR still open: #1 batch/" in waiting.reason
    fake.set_checks([{"context": "ci", "state": "success"}])  # auto-merge merges it
    assert fake.pulls[number]["merged"] is True
    assert gh.open_batches("cargo") == ()


def test_a_batch_pr_closed_without_merging_is_released_by_the_next_reconcile(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.statuses = [[{"context": "ci", "state": "pending"}]]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now, publisher=publisher(repo, fake))
    fake.close_pull(1)  # a reviewer closes it; its branch stays on origin
    result = reconcile(repo, now=make.now.replace(hour=12), publisher=publisher(repo, fake))
    assert result.counts.pr_closed == 2
    layout = Layout(repo)
    by_name = {e.name: e for e in load(Queue, layout.queue("cargo")).entries}
    assert by_name["rg"].status == by_name["bat"].status == "failed"
    assert "PR #1 was closed without merging" in by_name["rg"].reason
    (release,) = load(ReleaseRecord, layout.release_record(BATCH)).releases
    assert release.pull_request is not None and release.pull_request.number == 1
    assert release.packages == ("cargo:bat", "cargo:ripgrep")


def test_a_dead_batch_s_open_pr_is_closed_and_its_branch_deleted(
    repo: Path, make: Make, git: Git, fake: FakeGitHub, origin: Path
) -> None:
    """The run died in the middle of merge: its PR is open and its branch pushed, but nothing
    of its state reached the default branch (no manifest), and the runner is gone (no batch dir)."""
    dead = "2026-01-28-007"
    layout = Layout(repo)
    save(
        make.queue(
            [
                make.entry("rg", "cargo:ripgrep", status="in_progress", batch_id=dead),
                make.entry("bat", status="in_progress", batch_id=dead),
            ]
        ),
        layout.queue("cargo"),
    )
    commit = commit_on_branch(
        repo, base="HEAD", branch=f"batch/{dead}", files={"recipes/r/rg.toml": b"x"}, message="feat\n"
    )
    git(repo, "push", "-q", "origin", f"batch/{dead}")
    fake.pulls[1] = {
        "title": f"feat(recipes): add batch {dead} cargo recipes",
        "body": "",
        "head": f"batch/{dead}",
    }
    assert git(origin, "rev-parse", f"batch/{dead}").strip() == commit

    result = reconcile(repo, now=make.now, publisher=publisher(repo, fake))
    assert (result.released_batches, result.closed_prs, result.deleted_branches) == (1, 1, 1)
    assert fake.pulls[1]["state"] == "closed" and not fake.pulls[1].get("merged")
    (comment,) = fake.comments[1]
    assert f"batch {dead} ended before it was merged" in comment
    assert fake.deleted_branches == [f"batch/{dead}"]
    assert git(origin, "branch", "--list", "batch/*").strip() == ""
    assert {e.status for e in load(Queue, layout.queue("cargo")).entries} == {"pending"}
    (line,) = read_jsonl(MetricsLine, layout.metrics)
    assert (line.batch_id, line.total, line.released) == (dead, 2, 2)

    again = reconcile(repo, now=make.now, publisher=publisher(repo, fake))
    assert (again.closed_prs, again.metrics_lines, again.released_batches) == (0, 0, 0)
    assert len(fake.comments[1]) == 1 and len(read_jsonl(MetricsLine, layout.metrics)) == 1


def test_reconcile_merges_a_green_batch_pr_without_auto_merge_and_then_marks_it_success(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.allow_auto_merge = False
    fake.statuses = [[{"context": "ci", "state": "pending"}]]
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now, publisher=publisher(repo, fake))
    first = reconcile(repo, now=make.now, publisher=publisher(repo, fake))
    assert first.merged_prs == 0 and fake.comments == {}  # pending: no wait, no comment, left open

    fake.set_checks([{"context": "ci", "state": "success"}])  # the checks finished since
    second = reconcile(repo, now=make.now, publisher=publisher(repo, fake))
    assert second.merged_prs == 1 and fake.pulls[1]["merged"] is True
    third = reconcile(repo, now=make.now, publisher=publisher(repo, fake))  # the next run
    assert third.remote and third.counts.success == 2
    statuses = {e.name: e.status for e in load(Queue, Layout(repo).queue("cargo")).entries}
    assert statuses == {"rg": "success", "bat": "success", "fd": "failed"}


def test_status_says_what_github_says_of_the_batch_pr(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    """With a token, ``status`` asks GitHub: PR open, then merged (on the default branch before
    the clone fetched it; the last-landing line waits for the fetch), or closed unmerged."""
    bdir = make_batch(repo, make, git, write_batch)
    pub = publisher(repo, fake)
    fake.set_checks(statuses=[{"context": "ci", "state": "pending"}])  # auto-merge waits for them
    merge(repo, bdir.path, now=make.now, publisher=pub)

    def row() -> str:
        lines = read_status(repo, make.now, publisher=pub)
        return next(line for line in lines if line.startswith("cargo ")).split(f"{BATCH} ", 1)[1]

    assert row() == "2/3 in PR #1 open; 1/3 generated"
    fake.set_checks(statuses=[{"context": "ci", "state": "success"}])  # green: GitHub merges it
    assert row() == "2/3 on the default branch; 1/3 generated"
    assert read_status(repo, make.now, publisher=pub)[-1] == "no recipe on the default branch yet"
    git(repo, "fetch", "-q", "origin", "main")
    last = read_status(repo, make.now + dt.timedelta(days=400), publisher=pub)[-1]
    assert last.startswith("last recipes on the default branch ") and last.endswith(
        f"(batch {BATCH}, 2 recipes)"
    )


def test_status_says_a_closed_batch_pr_left_its_recipes_validated(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    bdir = make_batch(repo, make, git, write_batch)
    pub = publisher(repo, fake)
    fake.set_checks(statuses=[{"context": "ci", "state": "pending"}])
    merge(repo, bdir.path, now=make.now, publisher=pub)
    fake.close_pull(1)
    lines = read_status(repo, make.now, publisher=pub)
    row = next(line for line in lines if line.startswith("cargo "))
    assert row.endswith(f"{BATCH} 2/3 validated, PR #1 closed without merging; 1/3 generated")
