"""The GitHub publisher: push ``batch/<id>`` and open its PR through PyGithub.

1. ``git push --force <remote> refs/heads/<branch>`` with the token handed to git through
   ``GIT_ASKPASS`` (a script that prints an environment variable): the token is never on a
   command line, in a file or in git's output.
2. The PR: an open PR of the branch is reused (a re-run after a crash), else ``create_pull``;
   labels through ``add_to_labels``.
3. Gates: when a gate other than ``checks`` failed (always for a review PR), the PR stays open
   and a comment names each failed gate and its recipes. Otherwise auto-merge is enabled
   (``enablePullRequestAutoMerge``, squash, with the batch commit's headline and body, so the
   ``batch_id`` trailer survives the squash, §12.7); GitHub merges once the required checks are
   green. Publishing never waits.
4. ``land`` (the ``finish`` command, after the state is recorded; and reconcile, without
   waiting) covers a repository that does not allow auto-merge (``allow_auto_merge`` false, or
   the mutation answered that auto-merge is not allowed / the PR is already mergeable): poll
   the head commit's combined status and check runs until every check completed, at most
   ``timeout`` seconds, then ``merge(merge_method="squash", commit_title, commit_message)``
   with the head commit's message when all are green, or a comment naming the ``checks`` gate
   and the failed (or not yet green) checks, the PR left open for the next run.

Configuration comes from the environment: ``RECIPELINE_PR_TOKEN`` or ``GITHUB_TOKEN``,
``GITHUB_REPOSITORY`` (``owner/name``), ``GITHUB_API_URL`` (default: GitHub's public API),
``RECIPELINE_GIT_REMOTE`` (default ``origin``), ``RECIPELINE_CHECKS_TIMEOUT`` /
``RECIPELINE_CHECKS_INTERVAL`` (seconds, default 600 / 30). Every error is a ``GitHubError``
whose message has the token scrubbed.
"""

from __future__ import annotations

import dataclasses
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from github import Auth, Github, GithubException, UnknownObjectException
from github.PullRequest import PullRequest
from github.Repository import Repository

from recipeline_schema import Gate, PullRequestRef
from recipeline_schema.endpoints import scrub_secret

from .errors import GitError, GitHubError
from .gitrepo import BATCH_BRANCH_PREFIX, REVIEW_SUFFIX, git, local_branch_exists
from .pullrequest import (
    DEFAULT_CHECKS_TIMEOUT,
    TOKEN_VARIABLE,
    Landing,
    PullRequestRequest,
    PullRequestState,
    checks_timeout,
    token_of,
)

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_CHECKS_INTERVAL = 30.0
_ASKPASS_VARIABLE = "RECIPELINE_GIT_TOKEN"  # a variable name, not a secret
#: Answers of the auto-merge mutation that mean "merge it yourself".
_NO_AUTO_MERGE = ("auto merge is not allowed", "auto-merge is not allowed", "clean status")
_GREEN = frozenset({"success", "neutral", "skipped"})

ChecksVerdict = Literal["green", "failed", "pending"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ChecksState:
    verdict: ChecksVerdict
    total: int
    failed: tuple[str, ...] = ()


def checks_state(
    statuses: Sequence[tuple[str, str]], runs: Sequence[tuple[str, str, str | None]]
) -> ChecksState:
    """Pure: the verdict of commit statuses ``(context, state)`` and check runs
    ``(name, status, conclusion)``. No checks at all is ``pending`` (they may not have started)."""
    total = len(statuses) + len(runs)
    failed = [c for c, state in statuses if state in ("failure", "error")]
    failed += [n for n, status, conclusion in runs if status == "completed" and conclusion not in _GREEN]
    if failed:
        return ChecksState("failed", total, tuple(sorted(failed)))
    done = all(state == "success" for _, state in statuses) and all(
        status == "completed" for _, status, _ in runs
    )
    return ChecksState("green" if total and done else "pending", total)


def gate_comment(gates: tuple[Gate, ...]) -> str:
    """The comment left on a PR that will not auto-merge: each failed gate and its detail."""
    failed = [g for g in gates if not g.passed]
    lines = ["Auto-merge withheld: a human must review this batch.", ""]
    lines += [f"- gate `{g.name}` failed: {g.detail}" for g in failed]
    return "\n".join(lines) + "\n"


@contextmanager
def askpass(token: str) -> Iterator[dict[str, str]]:
    """Environment for git that answers credential prompts with the token from a variable.

    The script holds no secret; it prints ``$RECIPELINE_GIT_TOKEN`` when git asks for a
    password and ``x-access-token`` when it asks for a user name."""
    with tempfile.TemporaryDirectory(prefix="recipeline-askpass-") as tmp:
        script = Path(tmp) / "askpass.sh"
        script.write_text(
            "#!/bin/sh\n"
            'case "$1" in\n'
            "  *sername*) echo x-access-token ;;\n"
            f"  *) printf '%s\\n' \"${_ASKPASS_VARIABLE}\" ;;\n"
            "esac\n",
            encoding="utf-8",
        )
        script.chmod(stat.S_IRWXU)
        yield {"GIT_ASKPASS": str(script), _ASKPASS_VARIABLE: token, "GIT_TERMINAL_PROMPT": "0"}


class GitHubPublisher:
    """Push the branch and open (or find) its PR; enable squash auto-merge or fall back."""

    remote = True

    def __init__(
        self,
        root: Path,
        *,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        git_remote: str = "origin",
        checks_timeout: float = DEFAULT_CHECKS_TIMEOUT,
        checks_interval: float = DEFAULT_CHECKS_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        pacing: tuple[float, float] = (0.25, 1.0),
    ) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise GitHubError(f"GITHUB_REPOSITORY is {repository!r}: expected owner/name")
        self.root = root
        self._token = token
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self.git_remote = git_remote
        self.checks_timeout = checks_timeout
        self.checks_interval = checks_interval
        self._sleep = sleep
        self._clock = clock
        #: seconds between requests and between writes (PyGithub's defaults, GitHub's guidance)
        self.pacing = pacing
        self.note = ""

    @classmethod
    def from_environment(cls, root: Path, env: Mapping[str, str]) -> GitHubPublisher:
        repository = env.get("GITHUB_REPOSITORY", "")
        if not repository:
            raise GitHubError(f"{TOKEN_VARIABLE} is set but GITHUB_REPOSITORY (owner/name) is not")
        return cls(
            root,
            token=token_of(env) or "",
            repository=repository,
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            git_remote=env.get("RECIPELINE_GIT_REMOTE") or "origin",
            checks_timeout=checks_timeout(env),
            checks_interval=_seconds(env, "RECIPELINE_CHECKS_INTERVAL", DEFAULT_CHECKS_INTERVAL),
        )

    # --- the seam ---------------------------------------------------------------------------

    def publish(self, request: PullRequestRequest) -> PullRequestRef | None:
        self.push(request.branch)
        try:
            return self._publish(request)
        except GithubException as exc:
            raise GitHubError(self._scrub(f"GitHub refused {request.branch}: {_describe(exc)}")) from None
        except OSError as exc:  # connection refused, DNS, TLS: requests' errors are OSErrors
            raise GitHubError(self._scrub(f"GitHub API at {self.api_url} unreachable: {exc}")) from None

    def open_batches(self, ecosystem: str) -> tuple[str, ...]:
        """Open PRs from ``batch/`` branches whose title names ``ecosystem`` (one batch PR at a time)."""
        marker = f" {ecosystem} recipes "
        try:
            repo = self._client().get_repo(self.repository)
            pulls = [  # a review PR waits for a human and holds back no batch
                f"#{pr.number} {pr.head.ref}"
                for pr in repo.get_pulls(state="open")
                if pr.head.ref.startswith(BATCH_BRANCH_PREFIX)
                and not pr.head.ref.endswith(REVIEW_SUFFIX)
                and marker in f"{pr.title} "
            ]
        except GithubException as exc:
            raise GitHubError(self._scrub(f"GitHub refused the list of open PRs: {_describe(exc)}")) from None
        except OSError as exc:
            raise GitHubError(self._scrub(f"GitHub API at {self.api_url} unreachable: {exc}")) from None
        return tuple(sorted(pulls))

    def _client(self) -> Github:
        return Github(
            base_url=self.api_url,
            auth=Auth.Token(self._token),
            timeout=30,  # PyGithub's default retry (rate limits, 5xx) is kept
            seconds_between_requests=self.pacing[0],
            seconds_between_writes=self.pacing[1],
        )

    def push(self, branch: str) -> None:
        """``git push --force <remote> refs/heads/<branch>``; the token reaches git only by askpass."""
        ref = f"refs/heads/{branch}"
        with askpass(self._token) as env:
            try:
                git(self.root, "push", "--force", "--quiet", self.git_remote, f"{ref}:{ref}", extra_env=env)
            except GitError as exc:
                raise GitHubError(self._scrub(str(exc))) from None

    def _publish(self, request: PullRequestRequest) -> PullRequestRef:
        repo = self._client().get_repo(self.repository)
        pr = self._find_or_create(repo, request)
        if request.labels:
            pr.add_to_labels(*request.labels)
        ref = PullRequestRef(number=pr.number, url=pr.html_url)
        if request.kind == "rollback":
            self.note = f"opened {ref.url}"
            return ref
        if not request.auto_merge:
            pr.create_issue_comment(gate_comment(request.gates))
            what = "review PR" if request.kind == "review" else "auto-merge withheld"
            self.note = f"opened {ref.url}; {what} (a gate failed, see the PR comment)"
            return ref
        headline, _, body = request.squash_message.partition("\n")
        body = body.lstrip("\n")
        if self._enable_automerge(repo, pr, headline, body):
            self.note = f"opened {ref.url} with squash auto-merge (GitHub merges once the checks are green)"
            return ref
        self.note = (
            f"opened {ref.url}; this repository does not allow auto-merge: `finish` (or the next "
            "reconcile) merges it once its checks are green"
        )
        return ref

    # --- after the state is recorded: landing, closing ---------------------------------------

    def pull_request_state(self, branch: str) -> PullRequestState | None:
        def ask() -> PullRequestState | None:
            pr = self._newest_pull(self._client().get_repo(self.repository), branch)
            return None if pr is None else _state(pr)

        return self._api(f"the PRs of {branch}", ask)

    def land(self, branch: str, *, timeout: float) -> tuple[Landing, str]:
        def attempt() -> tuple[Landing, str]:
            repo = self._client().get_repo(self.repository)
            pr = self._newest_pull(repo, branch)
            if pr is None:
                return "none", f"no PR of {branch}"
            state = _state(pr)
            if state.state != "open":
                return "closed", f"{state.url} is {state.state}"
            if state.auto_merge:
                return "auto-merge", f"{state.url}: GitHub's auto-merge merges it once the checks are green"
            checks = self._wait_for_checks(repo, pr.head.sha, timeout)
            if checks.verdict == "green":
                message = repo.get_commit(pr.head.sha).commit.message
                headline, _, body = message.partition("\n")
                pr.merge(merge_method="squash", commit_title=headline, commit_message=body.lstrip("\n"))
                return "merged", f"{state.url} merged (squash) after green checks"
            detail = (
                f"checks failed: {', '.join(checks.failed)}"
                if checks.verdict == "failed"
                else f"checks not green within {timeout:g} s ({checks.total} reported); "
                "the next run's reconcile merges it once they are"
            )
            if timeout > 0 or checks.verdict == "failed":
                self._comment_once(pr, gate_comment((Gate("checks", False, detail),)))
            verdict: Landing = "failed" if checks.verdict == "failed" else "pending"
            return verdict, f"{state.url} not merged: {detail}"

        return self._api(f"the PR of {branch}", attempt)

    def close(self, branch: str, comment: str) -> PullRequestState | None:
        def close() -> PullRequestState | None:
            repo = self._client().get_repo(self.repository)
            pr = self._newest_pull(repo, branch)
            if pr is None or pr.state != "open":
                return None
            pr.create_issue_comment(comment)
            pr.edit(state="closed")
            return dataclasses.replace(_state(pr), state="closed")

        return self._api(f"closing the PR of {branch}", close)

    def delete_branch(self, branch: str) -> bool:
        def delete() -> bool:
            repo = self._client().get_repo(self.repository)
            try:
                ref = repo.get_git_ref(f"heads/{branch}")
            except UnknownObjectException:
                return False
            ref.delete()
            return True

        deleted = self._api(f"deleting {branch}", delete)
        if local_branch_exists(self.root, branch):
            git(self.root, "update-ref", "-d", f"refs/heads/{branch}")
            deleted = True
        return deleted

    def _newest_pull(self, repo: Repository, branch: str) -> PullRequest | None:
        owner = self.repository.split("/")[0]
        pulls = sorted(repo.get_pulls(state="all", head=f"{owner}:{branch}"), key=lambda p: p.number)
        return pulls[-1] if pulls else None

    def _comment_once(self, pr: PullRequest, text: str) -> None:
        """Comment unless the PR's last comment says the same (a reconcile every hour)."""
        comments = list(pr.get_issue_comments())
        if not comments or comments[-1].body != text:
            pr.create_issue_comment(text)

    def _api(self, what: str, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except GithubException as exc:
            raise GitHubError(self._scrub(f"GitHub refused {what}: {_describe(exc)}")) from None
        except OSError as exc:
            raise GitHubError(self._scrub(f"GitHub API at {self.api_url} unreachable: {exc}")) from None

    def _find_or_create(self, repo: Repository, request: PullRequestRequest) -> PullRequest:
        owner = self.repository.split("/")[0]
        for pr in repo.get_pulls(state="open", head=f"{owner}:{request.branch}"):
            pr.edit(title=request.title, body=request.body)
            return pr
        return repo.create_pull(
            base=request.base, head=request.branch, title=request.title, body=request.body
        )

    def _enable_automerge(self, repo: Repository, pr: PullRequest, headline: str, body: str) -> bool:
        """True when auto-merge is on; False when the repository wants the fallback."""
        if repo.allow_auto_merge is False:
            return False
        try:
            pr.enable_automerge(merge_method="SQUASH", commit_headline=headline, commit_body=body)
        except GithubException as exc:
            if any(marker in _describe(exc).lower() for marker in _NO_AUTO_MERGE):
                return False
            raise
        return True

    def _wait_for_checks(self, repo: Repository, sha: str, timeout: float) -> ChecksState:
        deadline = self._clock() + timeout
        while True:
            commit = repo.get_commit(sha)
            combined = commit.get_combined_status()
            statuses = [(s.context, s.state) for s in combined.statuses]
            runs = [(r.name, r.status, r.conclusion) for r in commit.get_check_runs()]
            state = checks_state(statuses, runs)
            if state.verdict != "pending" or self._clock() >= deadline:
                return state
            self._sleep(self.checks_interval)

    def _scrub(self, text: str) -> str:
        return scrub_secret(text, self._token)


def _state(pr: PullRequest) -> PullRequestState:
    """A PR's state from the fields GitHub's PR lists carry (``merged_at``, ``auto_merge``)."""
    state: Literal["open", "closed", "merged"] = (
        "merged" if pr.merged_at is not None else ("open" if pr.state == "open" else "closed")
    )
    return PullRequestState(
        number=pr.number, url=pr.html_url, branch=pr.head.ref, state=state, auto_merge=bool(pr.auto_merge)
    )


def _describe(exc: GithubException) -> str:
    """Status and GitHub's own messages (REST ``message``/``errors``, GraphQL ``errors``)."""
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or ():
        if isinstance(error, dict):
            parts.append(str(error.get("message") or error.get("code") or ""))
        else:
            parts.append(str(error))
    text = "; ".join(p for p in parts if p) or "no message"
    return f"HTTP {exc.status}: {text}"


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise GitHubError(f"{name} is {raw!r}: expected seconds") from None
    if not value >= 0:
        raise GitHubError(f"{name} is {raw!r}: expected seconds >= 0")
    return value
