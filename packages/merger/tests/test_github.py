"""The GitHub publisher against a local HTTP server speaking the REST and GraphQL shapes
PyGithub uses, and a bare "origin" repository the branch is really pushed to."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from recipeline_merger import GitHubError, merge, parse_trailers, preflight, rollback
from recipeline_merger.ghpublisher import GitHubPublisher, askpass, checks_state
from recipeline_schema import BatchDir, BatchPlan, Layout, load, save

if TYPE_CHECKING:
    from .conftest import Git, Make, WriteBatch

TOKEN = "ghp_testTokenNeverLogged0123456789"
REPO = "octo/recipes"
BATCH = "2026-01-29-001"


@dataclass
class FakeGitHub:
    """A stateful stand-in for api.github.com: pulls, labels, comments, statuses, merges."""

    base: str
    origin: Path
    allow_auto_merge: bool | None = True
    graphql_error: str | None = None
    statuses: list[list[dict[str, Any]]] = field(
        default_factory=lambda: [[{"context": "ci", "state": "success"}]]
    )
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    comments: dict[int, list[str]] = field(default_factory=dict)
    mutations: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: set[str] = field(default_factory=set)
    status_polls: int = 0

    def handle(self, request: Request) -> Response:
        self.auth_headers.add(request.headers.get("Authorization", ""))
        body = request.get_json(silent=True) or {}
        path = request.path
        repo = f"/repos/{REPO}"
        routes: list[tuple[str, str, Any]] = [
            ("GET", rf"{repo}", self.get_repo),
            ("GET", rf"{repo}/pulls", self.list_pulls),
            ("POST", rf"{repo}/pulls", self.create_pull),
            ("PATCH", rf"{repo}/pulls/(\d+)", self.edit_pull),
            ("PUT", rf"{repo}/pulls/(\d+)/merge", self.merge_pull),
            ("POST", rf"{repo}/issues/(\d+)/labels", self.add_labels),
            ("POST", rf"{repo}/issues/(\d+)/comments", self.add_comment),
            ("GET", rf"{repo}/commits/(\w+)", self.get_commit),
            ("GET", rf"{repo}/commits/(\w+)/status", self.get_status),
            ("GET", rf"{repo}/commits/(\w+)/check-runs", self.get_check_runs),
            ("POST", r"/graphql", self.graphql),
        ]
        for method, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                status, payload = fn(request, body, *match.groups())
                return Response(json.dumps(payload), status=status, content_type="application/json")
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    # --- resources ------------------------------------------------------------------------

    def pr_json(self, number: int) -> dict[str, Any]:
        pr = self.pulls[number]
        branch = pr["head"]
        sha = subprocess.run(
            ["git", "-C", str(self.origin), "rev-parse", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return {
            "id": 1000 + number,
            "node_id": f"PR_node{number}",
            "number": number,
            "state": "open",
            "title": pr["title"],
            "body": pr["body"],
            "url": f"{self.base}/repos/{REPO}/pulls/{number}",
            "issue_url": f"{self.base}/repos/{REPO}/issues/{number}",
            "html_url": f"https://github.example/{REPO}/pull/{number}",
            "head": {"ref": branch, "sha": sha, "label": f"octo:{branch}"},
            "base": {"ref": pr["base"], "sha": "0" * 40, "label": f"octo:{pr['base']}"},
        }

    def get_repo(self, request: Request, body: Any) -> tuple[int, Any]:
        data: dict[str, Any] = {
            "id": 1,
            "name": "recipes",
            "full_name": REPO,
            "url": f"{self.base}/repos/{REPO}",
            "owner": {"login": "octo", "id": 2},
            "default_branch": "main",
        }
        if self.allow_auto_merge is not None:
            data["allow_auto_merge"] = self.allow_auto_merge
        return 200, data

    def list_pulls(self, request: Request, body: Any) -> tuple[int, Any]:
        head = request.args.get("head")  # without it GitHub lists every open PR
        found = [self.pr_json(n) for n, pr in self.pulls.items() if head in (None, f"octo:{pr['head']}")]
        return 200, found

    def create_pull(self, request: Request, body: Any) -> tuple[int, Any]:
        number = len(self.pulls) + 1
        self.pulls[number] = {k: body[k] for k in ("title", "body", "head", "base")}
        return 201, self.pr_json(number)

    def edit_pull(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        self.pulls[int(number)].update({k: body[k] for k in ("title", "body") if k in body})
        return 200, self.pr_json(int(number))

    def merge_pull(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        self.merges.append({"number": int(number), **body})
        return 200, {"merged": True, "sha": "f" * 40, "message": "Pull Request successfully merged"}

    def add_labels(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        names = body["labels"] if isinstance(body, dict) else body
        self.labels.setdefault(int(number), []).extend(names)
        return 200, [{"name": n, "url": f"{self.base}/labels/{n}"} for n in self.labels[int(number)]]

    def add_comment(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        self.comments.setdefault(int(number), []).append(body["body"])
        return 201, {"id": 7, "body": body["body"], "url": f"{self.base}/repos/{REPO}/issues/comments/7"}

    def get_commit(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        return 200, {"sha": sha, "url": f"{self.base}/repos/{REPO}/commits/{sha}"}

    def get_status(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        current = self.statuses[min(self.status_polls, len(self.statuses) - 1)]
        self.status_polls += 1
        states = {s["state"] for s in current}
        state = (
            "failure"
            if "failure" in states
            else ("pending" if "pending" in states or not current else "success")
        )
        return 200, {"state": state, "sha": sha, "total_count": len(current), "statuses": current}

    def get_check_runs(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        return 200, {"total_count": len(self.check_runs), "check_runs": self.check_runs}

    def graphql(self, request: Request, body: Any) -> tuple[int, Any]:
        self.mutations.append(body)
        if "enablePullRequestAutoMerge" not in body.get("query", ""):
            return 200, {"errors": [{"type": "INTERNAL", "message": "unexpected query"}]}
        if self.graphql_error:
            return 200, {
                "data": {"enablePullRequestAutoMerge": None},
                "errors": [
                    {
                        "type": "UNPROCESSABLE",
                        "path": ["enablePullRequestAutoMerge"],
                        "message": self.graphql_error,
                    }
                ],
            }
        return 200, {
            "data": {"enablePullRequestAutoMerge": {"actor": {"login": "bot"}, "clientMutationId": None}}
        }


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
    api = FakeGitHub(base=httpserver.url_for("/").rstrip("/"), origin=origin)
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
    assert BATCH in pr["title"] and "(2/3 merged)" in pr["title"]
    assert "| rg | cargo:ripgrep | merged |" in pr["body"]
    assert "| checks | deferred |" in pr["body"] and "| safety | pass |" in pr["body"]
    assert fake.labels[1] == ["recipes", "batch"]
    assert fake.comments == {} and fake.merges == []

    (mutation,) = fake.mutations
    assert "enablePullRequestAutoMerge" in mutation["query"]
    inputs = mutation["variables"]["input"]
    assert inputs["mergeMethod"] == "SQUASH" and inputs["pullRequestId"] == "PR_node1"
    assert inputs["commitHeadline"] == f"feat(recipes): add batch {BATCH} cargo recipes"
    assert parse_trailers(inputs["commitBody"])["batch_id"] == BATCH
    assert fake.auth_headers == {f"token {TOKEN}"}
    assert result.decision.auto_merge and "squash auto-merge" in result.notes[0]
    assert_no_token_anywhere(repo, *result.notes)


def test_without_auto_merge_it_waits_for_green_checks_then_squash_merges(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.graphql_error = "Pull request Auto merge is not allowed for this repository"
    fake.statuses = [[{"context": "ci", "state": "pending"}], [{"context": "ci", "state": "success"}]]
    fake.check_runs = [{"id": 1, "name": "lint", "status": "completed", "conclusion": "success"}]
    sleeps: list[float] = []
    bdir = make_batch(repo, make, git, write_batch)
    result = merge(
        repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake, sleep=sleeps.append)
    )
    assert fake.status_polls == 2 and len(sleeps) == 1
    (merged,) = fake.merges
    assert merged["merge_method"] == "squash"
    assert merged["commit_title"] == f"feat(recipes): add batch {BATCH} cargo recipes"
    assert parse_trailers(merged["commit_message"]) == {
        "batch_id": BATCH,
        "ecosystem": "cargo",
        "batch_size": "3",
        "success_rate": "0.67",
    }
    assert "merged (squash) after green checks" in result.notes[0]


def test_a_repository_without_auto_merge_skips_the_mutation_and_failed_checks_leave_a_comment(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    fake.allow_auto_merge = False
    fake.check_runs = [{"id": 1, "name": "tests", "status": "completed", "conclusion": "failure"}]
    bdir = make_batch(repo, make, git, write_batch)
    result = merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert fake.mutations == [] and fake.merges == []
    (comment,) = fake.comments[1]
    assert "gate `checks` failed: checks failed: tests" in comment
    assert "not merged" in result.notes[0]


def test_a_failed_gate_leaves_the_pr_open_with_a_comment_naming_gate_and_recipe(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    bdir = make_batch(repo, make, git, write_batch, safe=False)
    result = merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert not result.decision.auto_merge
    assert fake.mutations == [] and fake.merges == []
    (comment,) = fake.comments[1]
    assert "gate `safety` failed" in comment and "bat" in comment and "run_command" in comment
    assert "| safety | FAIL |" in fake.pulls[1]["body"]


def test_an_open_pr_of_the_branch_is_reused(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, fake: FakeGitHub
) -> None:
    bdir = make_batch(repo, make, git, write_batch)
    git(repo, "branch", f"batch/{BATCH}", "HEAD")
    git(repo, "push", "-q", "origin", f"batch/{BATCH}")
    fake.pulls[1] = {"title": "old", "body": "old", "head": f"batch/{BATCH}", "base": "main"}
    merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=publisher(repo, fake))
    assert list(fake.pulls) == [1] and BATCH in fake.pulls[1]["title"]


def test_api_errors_become_one_line_without_the_token(
    repo: Path, make: Make, git: Git, write_batch: WriteBatch, httpserver: HTTPServer, origin: Path
) -> None:
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_json(
        {"message": f"Bad credentials {TOKEN}"}, status=401
    )
    bdir = make_batch(repo, make, git, write_batch)
    pub = GitHubPublisher(
        repo, token=TOKEN, repository=REPO, api_url=httpserver.url_for("/").rstrip("/"), pacing=(0, 0)
    )
    with pytest.raises(GitHubError) as info:
        merge(repo, bdir.path, now=make.now.replace(hour=11), publisher=pub)
    assert "HTTP 401" in str(info.value) and "Bad credentials ***" in str(info.value)
    assert TOKEN not in str(info.value)


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
    env = {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.base,
        "RECIPELINE_CHECKS_TIMEOUT": "0",
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
    bdir = make_batch(repo, make, git, write_batch)
    merge(repo, bdir.path, now=make.now, publisher=publisher(repo, fake))
    gh = publisher(repo, fake)
    (number,) = fake.pulls
    assert gh.open_batches("cargo") == (f"#{number} {fake.pulls[number]['head']}",)
    assert gh.open_batches("npm") == ()

    waiting = preflight(repo, ecosystem="cargo", batch_size=5, now=make.now, open_batches=gh.open_batches)
    assert waiting.batch_id is None and "batch PR still open: #1 batch/" in waiting.reason
    fake.pulls.clear()  # merged
    assert gh.open_batches("cargo") == ()
