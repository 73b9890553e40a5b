"""A stateful fake of the GitHub API for tests: the REST and GraphQL shapes PyGithub uses.

One home for every test that talks to "GitHub": the merger's tests, the end-to-end tests in
``tests/`` and the workflow runs under act. It keeps pull requests (open, closed, merged),
labels, comments, commit statuses and check runs, and it really merges: a squash merge (the
``merge`` endpoint, or auto-merge once the checks are green) is a new commit on the default
branch of the bare ``origin`` repository, with the PR's commit title and message, so a test can
read the result on origin afterwards.

In-process (pytest-httpserver)::

    fake = FakeGitHub(base=httpserver.url_for("/").rstrip("/"), origin=bare_repo, repo="octo/recipes")
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(fake.handle)

Standalone (a test runs act against it)::

    python tests/support/fake_github.py --origin /path/to/bare.git --port 0 --state-file F --repo owner/name

prints its base URL on one line (give it to PyGithub as ``GITHUB_API_URL``), writes its state
(pulls, labels, comments, merges) as JSON to ``--state-file`` after every change, and serves
until killed. Test hooks over HTTP: ``POST /_fake/pulls/<n>/close`` closes a PR without
merging, ``POST /_fake/checks`` with ``{"statuses": [...], "check_runs": [...]}`` sets the
checks (and lets auto-merge merge what is now green), ``GET /_fake/state`` returns the state.

Import it as ``fake_github`` with ``<repo>/tests/support`` on ``sys.path`` (the merger's test
conftest and ``pytest.ini`` put it there). Base URLs with GitHub Enterprise's ``/api/v3``
prefix work too (GraphQL is then ``/api/graphql``, as PyGithub derives it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug import Request, Response

#: Who the fake's merge commits are by (GitHub's web-flow identity).
MERGER_NAME = "GitHub"
MERGER_EMAIL = "noreply@github.com"
_GREEN = frozenset({"success", "neutral", "skipped"})

Handler = Callable[..., tuple[int, Any]]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class FakeGitHub:
    """A stand-in for the GitHub API of one repository, backed by the bare repository ``origin``.

    ``statuses`` is a sequence of commit-status lists: each poll of a commit's combined status
    returns the next one (the last one repeats); auto-merge looks at the current one.
    """

    base: str
    origin: Path
    repo: str = "octo/recipes"
    default_branch: str = "main"
    html_base: str = "https://github.example"
    allow_auto_merge: bool | None = True
    #: answer enablePullRequestAutoMerge with this GraphQL error instead of enabling it
    graphql_error: str | None = None
    #: like GitHub: enabling auto-merge on a PR whose checks are already green is refused
    #: ("Pull request is in clean status"); off by default, so auto-merge just merges
    refuse_clean_auto_merge: bool = False
    delete_branch_on_merge: bool = False
    state_file: Path | None = None
    statuses: list[list[dict[str, Any]]] = field(
        default_factory=lambda: [[{"context": "ci", "state": "success"}]]
    )
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    comments: dict[int, list[str]] = field(default_factory=dict)
    mutations: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    deleted_branches: list[str] = field(default_factory=list)
    auth_headers: set[str] = field(default_factory=set)
    status_polls: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _api: str = field(default="", repr=False)  # the base URL of the request being answered

    @property
    def api(self) -> str:
        """The API's base URL as the request being answered used it (with ``/api/v3`` or not)."""
        return self._api or self.base

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    # --- the handler ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (a pytest-httpserver handler / the body of the WSGI app)."""
        with self._lock:
            self.auth_headers.add(request.headers.get("Authorization", ""))
            body = request.get_json(silent=True) or {}
            path = request.path
            self._api = self.base
            if path.startswith("/api/v3/") or path == "/api/v3":
                path = path[len("/api/v3") :]
                self._api = f"{self.base}/api/v3"
            elif path == "/api/graphql":
                path = "/graphql"
            for method, pattern, fn, writes in self._routes():
                match = re.fullmatch(pattern, path)
                if match and request.method == method:
                    status, payload = fn(request, body, *match.groups())
                    if writes and status < 400:
                        self.save_state()
                    if payload is None:
                        return Response(status=status)
                    return _json(status, payload)
            return _json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def _routes(self) -> list[tuple[str, str, Handler, bool]]:
        repo = f"/repos/{re.escape(self.repo)}"
        return [
            ("GET", repo, self._get_repo, False),
            ("GET", rf"{repo}/pulls", self._list_pulls, False),
            ("POST", rf"{repo}/pulls", self._create_pull, True),
            ("GET", rf"{repo}/pulls/(\d+)", self._get_pull, False),
            ("PATCH", rf"{repo}/pulls/(\d+)", self._edit_pull, True),
            ("PUT", rf"{repo}/pulls/(\d+)/merge", self._merge_pull, True),
            ("GET", rf"{repo}/issues/(\d+)/labels", self._get_labels, False),
            ("POST", rf"{repo}/issues/(\d+)/labels", self._add_labels, True),
            ("GET", rf"{repo}/issues/(\d+)/comments", self._get_comments, False),
            ("POST", rf"{repo}/issues/(\d+)/comments", self._add_comment, True),
            ("GET", rf"{repo}/commits/(\w+)", self._get_commit, False),
            ("GET", rf"{repo}/commits/(\w+)/status", self._get_status, False),
            ("GET", rf"{repo}/commits/(\w+)/check-runs", self._get_check_runs, False),
            ("GET", rf"{repo}/git/ref/heads/(.+)", self._get_ref, False),
            ("GET", rf"{repo}/git/refs/heads/(.+)", self._get_ref, False),
            ("DELETE", rf"{repo}/git/refs/heads/(.+)", self._delete_ref, True),
            ("POST", r"/graphql", self._graphql, True),
            ("POST", r"/_fake/pulls/(\d+)/close", self._hook_close, True),
            ("POST", r"/_fake/checks", self._hook_checks, True),
            ("GET", r"/_fake/state", self._hook_state, False),
        ]

    # --- test hooks -------------------------------------------------------------------------

    def close_pull(self, number: int) -> None:
        """Close PR ``number`` without merging it (what a reviewer who rejects it does)."""
        with self._lock:
            pr = self.pulls[number]
            pr.update(state="closed", merged=False, closed_at=_now(), auto_merge=None)
            self.save_state()

    def set_checks(
        self, statuses: list[dict[str, Any]] | None = None, check_runs: list[dict[str, Any]] | None = None
    ) -> None:
        """Replace the checks every commit reports; auto-merge then merges what is green."""
        with self._lock:
            if statuses is not None:
                self.statuses = [statuses]
                self.status_polls = 0
            if check_runs is not None:
                self.check_runs = check_runs
            self.run_auto_merge()
            self.save_state()

    def run_auto_merge(self) -> list[int]:
        """Squash-merge every open PR with auto-merge on whose checks are green; their numbers."""
        merged = []
        with self._lock:
            if not self.checks_green():
                return []
            for number, pr in sorted(self.pulls.items()):
                auto = pr.get("auto_merge")
                if (
                    pr.get("state", "open") == "open"
                    and auto
                    and self._squash(number, auto["commit_title"], auto["commit_message"], via="auto-merge")
                ):
                    merged.append(number)
        return merged

    def checks_green(self) -> bool:
        """Whether the current statuses and check runs are all green (and there is at least one)."""
        current = self._current_statuses()
        if not current and not self.check_runs:
            return False
        return all(s.get("state") == "success" for s in current) and all(
            r.get("status") == "completed" and r.get("conclusion") in _GREEN for r in self.check_runs
        )

    def state(self) -> dict[str, Any]:
        """Everything a test inspects, as JSON-ready data."""
        with self._lock:
            return {
                "repo": self.repo,
                "base": self.base,
                "pulls": [self._pull_state(n) for n in sorted(self.pulls)],
                "merges": list(self.merges),
                "deleted_branches": list(self.deleted_branches),
                "auto_merge_mutations": sum(
                    "enablePullRequestAutoMerge" in m.get("query", "") for m in self.mutations
                ),
                "checks": {"statuses": self._current_statuses(), "check_runs": self.check_runs},
            }

    def save_state(self) -> None:
        """Write ``state()`` to ``state_file`` atomically (when one is configured)."""
        if self.state_file is None:
            return
        text = json.dumps(self.state(), indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self.state_file.parent, prefix=f".{self.state_file.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(self.state_file)

    # --- git on origin ----------------------------------------------------------------------

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_AUTHOR_NAME": MERGER_NAME,
            "GIT_AUTHOR_EMAIL": MERGER_EMAIL,
            "GIT_COMMITTER_NAME": MERGER_NAME,
            "GIT_COMMITTER_EMAIL": MERGER_EMAIL,
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
        }
        return subprocess.run(
            ["git", "-C", str(self.origin), *args],
            capture_output=True,
            text=True,
            check=check,
            env=env,
            timeout=60,
        )

    def _ref_sha(self, branch: str) -> str | None:
        proc = self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
        return proc.stdout.strip() or None

    def _squash(self, number: int, title: str | None, message: str | None, *, via: str) -> str | None:
        """Squash-merge PR ``number`` into the default branch of origin; the new commit, or
        ``None`` on a conflict (the PR stays open)."""
        pr = self.pulls[number]
        head = self._ref_sha(pr["head"]) or pr.get("head_sha")
        for _ in range(5):  # the default branch may move under us (a state push): retry
            base = self._ref_sha(pr.get("base", self.default_branch))
            if head is None or base is None:
                return None
            tree = self._git("merge-tree", "--write-tree", base, head, check=False)
            if tree.returncode != 0:
                return None  # conflict
            headline = title or f"{pr['title']} (#{number})"
            text = headline + (f"\n\n{message}" if message else "") + "\n"
            commit = self._git("commit-tree", tree.stdout.split()[0], "-p", base, "-m", text).stdout.strip()
            ref = f"refs/heads/{pr.get('base', self.default_branch)}"
            if self._git("update-ref", ref, commit, base, check=False).returncode == 0:
                break
        else:
            return None
        pr.update(
            state="closed",
            merged=True,
            merged_at=_now(),
            closed_at=_now(),
            merge_commit_sha=commit,
            head_sha=head,
            auto_merge=None,
        )
        self.merges.append(
            {
                "number": number,
                "merge_method": "squash",
                "commit_title": title,
                "commit_message": message,
                "sha": commit,
                "via": via,
            }
        )
        if self.delete_branch_on_merge:
            self._git("update-ref", "-d", f"refs/heads/{pr['head']}", check=False)
            self.deleted_branches.append(pr["head"])
        return commit

    # --- resources --------------------------------------------------------------------------

    def _current_statuses(self) -> list[dict[str, Any]]:
        if not self.statuses:
            return []
        return self.statuses[min(self.status_polls, len(self.statuses) - 1)]

    def _pull_state(self, number: int) -> dict[str, Any]:
        pr = self.pulls[number]
        return {
            "number": number,
            "title": pr.get("title", ""),
            "body": pr.get("body", ""),
            "head": pr["head"],
            "base": pr.get("base", self.default_branch),
            "state": pr.get("state", "open"),
            "merged": bool(pr.get("merged")),
            "merged_at": pr.get("merged_at"),
            "merge_commit_sha": pr.get("merge_commit_sha"),
            "auto_merge": pr.get("auto_merge"),
            "labels": list(self.labels.get(number, [])),
            "comments": list(self.comments.get(number, [])),
        }

    def pr_json(self, number: int) -> dict[str, Any]:
        """PR ``number`` as the REST API returns it."""
        pr = self.pulls[number]
        branch = pr["head"]
        sha = self._ref_sha(branch) or pr.get("head_sha") or "0" * 40
        if pr.get("state", "open") == "open":
            pr["head_sha"] = sha
        base = pr.get("base", self.default_branch)
        auto = pr.get("auto_merge")
        return {
            "id": 1000 + number,
            "node_id": f"PR_node{number}",
            "number": number,
            "state": pr.get("state", "open"),
            "title": pr.get("title", ""),
            "body": pr.get("body", ""),
            "draft": False,
            "merged": bool(pr.get("merged")),
            "merged_at": pr.get("merged_at"),
            "closed_at": pr.get("closed_at"),
            "created_at": pr.get("created_at", _now()),
            "merge_commit_sha": pr.get("merge_commit_sha"),
            "mergeable": pr.get("state", "open") == "open",
            "mergeable_state": "clean" if self.checks_green() else "blocked",
            "auto_merge": None
            if not auto
            else {
                "enabled_by": {"login": "recipeline-bot", "id": 3},
                "merge_method": "squash",
                "commit_title": auto["commit_title"],
                "commit_message": auto["commit_message"],
            },
            "user": {"login": "recipeline-bot", "id": 3},
            "labels": [{"name": n} for n in self.labels.get(number, [])],
            "url": f"{self.api}/repos/{self.repo}/pulls/{number}",
            "issue_url": f"{self.api}/repos/{self.repo}/issues/{number}",
            "html_url": f"{self.html_base}/{self.repo}/pull/{number}",
            "head": {"ref": branch, "sha": sha, "label": f"{self.owner}:{branch}", "repo": self._repo_json()},
            "base": {
                "ref": base,
                "sha": self._ref_sha(base) or "0" * 40,
                "label": f"{self.owner}:{base}",
                "repo": self._repo_json(),
            },
        }

    def _repo_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": 1,
            "node_id": "R_repo1",
            "name": self.repo.split("/", 1)[1],
            "full_name": self.repo,
            "url": f"{self.api}/repos/{self.repo}",
            "html_url": f"{self.html_base}/{self.repo}",
            "owner": {"login": self.owner, "id": 2},
            "default_branch": self.default_branch,
            "delete_branch_on_merge": self.delete_branch_on_merge,
        }
        if self.allow_auto_merge is not None:
            data["allow_auto_merge"] = self.allow_auto_merge
        return data

    def _get_repo(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self._repo_json()

    def _list_pulls(self, request: Request, body: Any) -> tuple[int, Any]:
        state = request.args.get("state", "open")
        head = request.args.get("head")  # owner:branch; without it every PR of the state
        base = request.args.get("base")
        if state not in ("open", "closed", "all"):
            return 422, {"message": f"Validation Failed: state {state!r}"}
        found = [
            self.pr_json(n)
            for n, pr in sorted(self.pulls.items())
            if state in ("all", pr.get("state", "open"))
            and head in (None, f"{self.owner}:{pr['head']}")
            and base in (None, pr.get("base", self.default_branch))
        ]
        return 200, found

    def _create_pull(self, request: Request, body: Any) -> tuple[int, Any]:
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing:
            return 422, {"message": f"Validation Failed: missing {missing}"}
        if self._ref_sha(body["head"]) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]}
        if any(
            pr["head"] == body["head"] and pr.get("state", "open") == "open" for pr in self.pulls.values()
        ):
            return 422, {"message": f"A pull request already exists for {self.owner}:{body['head']}."}
        number = max(self.pulls, default=0) + 1
        self.pulls[number] = {
            "title": body["title"],
            "body": body.get("body") or "",
            "head": body["head"],
            "base": body["base"],
            "state": "open",
            "merged": False,
            "created_at": _now(),
        }
        return 201, self.pr_json(number)

    def _get_pull(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        if int(number) not in self.pulls:
            return 404, {"message": "Not Found"}
        return 200, self.pr_json(int(number))

    def _edit_pull(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        pr = self.pulls.get(int(number))
        if pr is None:
            return 404, {"message": "Not Found"}
        pr.update({k: body[k] for k in ("title", "body") if k in body})
        if body.get("state") == "closed" and pr.get("state", "open") == "open":
            pr.update(state="closed", closed_at=_now(), auto_merge=None)
        elif body.get("state") == "open" and not pr.get("merged"):
            pr.update(state="open", closed_at=None)
        return 200, self.pr_json(int(number))

    def _merge_pull(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        pr = self.pulls.get(int(number))
        if pr is None:
            return 404, {"message": "Not Found"}
        if pr.get("state", "open") != "open":
            return 405, {"message": "Pull Request is not mergeable"}
        if body.get("merge_method", "merge") != "squash":
            return 405, {"message": "only squash merges are allowed in this repository"}
        sha = self._squash(int(number), body.get("commit_title"), body.get("commit_message"), via="api")
        if sha is None:
            return 405, {"message": "Pull Request is not mergeable (merge conflict)"}
        self.merges[-1].update({k: v for k, v in body.items() if k not in self.merges[-1]})
        return 200, {"merged": True, "sha": sha, "message": "Pull Request successfully merged"}

    def _get_labels(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        return 200, [{"name": n, "url": f"{self.api}/labels/{n}"} for n in self.labels.get(int(number), [])]

    def _add_labels(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        names = body["labels"] if isinstance(body, dict) else body
        have = self.labels.setdefault(int(number), [])
        have.extend(n for n in names if n not in have)
        return 200, [{"name": n, "url": f"{self.api}/labels/{n}"} for n in have]

    def _comment_json(self, number: int, index: int, text: str) -> dict[str, Any]:
        cid = number * 1000 + index
        return {
            "id": cid,
            "body": text,
            "user": {"login": "recipeline-bot", "id": 3},
            "url": f"{self.api}/repos/{self.repo}/issues/comments/{cid}",
            "html_url": f"{self.html_base}/{self.repo}/pull/{number}#issuecomment-{cid}",
        }

    def _get_comments(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        texts = self.comments.get(int(number), [])
        return 200, [self._comment_json(int(number), i, t) for i, t in enumerate(texts, 1)]

    def _add_comment(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        texts = self.comments.setdefault(int(number), [])
        texts.append(body["body"])
        return 201, self._comment_json(int(number), len(texts), body["body"])

    def _get_commit(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        found = self._git("log", "-1", "--format=%B", sha, check=False)
        if found.returncode != 0:
            return 422, {"message": f"No commit found for SHA: {sha}"}
        return 200, {
            "sha": sha,
            "url": f"{self.api}/repos/{self.repo}/commits/{sha}",
            "commit": {"message": found.stdout.rstrip("\n")},
        }

    def _get_status(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        current = self._current_statuses()
        self.status_polls += 1
        states = {s["state"] for s in current}
        state = (
            "failure"
            if states & {"failure", "error"}
            else ("pending" if "pending" in states or not current else "success")
        )
        return 200, {"state": state, "sha": sha, "total_count": len(current), "statuses": current}

    def _get_check_runs(self, request: Request, body: Any, sha: str) -> tuple[int, Any]:
        return 200, {"total_count": len(self.check_runs), "check_runs": self.check_runs}

    def _ref_json(self, branch: str, sha: str) -> dict[str, Any]:
        return {
            "ref": f"refs/heads/{branch}",
            "url": f"{self.api}/repos/{self.repo}/git/refs/heads/{branch}",
            "object": {"sha": sha, "type": "commit", "url": f"{self.api}/repos/{self.repo}/commits/{sha}"},
        }

    def _get_ref(self, request: Request, body: Any, branch: str) -> tuple[int, Any]:
        sha = self._ref_sha(branch)
        if sha is None:
            return 404, {"message": "Not Found"}
        return 200, self._ref_json(branch, sha)

    def _delete_ref(self, request: Request, body: Any, branch: str) -> tuple[int, Any]:
        if self._ref_sha(branch) is None:
            return 422, {"message": "Reference does not exist"}
        self._git("update-ref", "-d", f"refs/heads/{branch}")
        self.deleted_branches.append(branch)
        return 204, None

    def _graphql(self, request: Request, body: Any) -> tuple[int, Any]:
        self.mutations.append(body)
        query = body.get("query", "")
        inputs = (body.get("variables") or {}).get("input") or {}
        if "enablePullRequestAutoMerge" not in query and "disablePullRequestAutoMerge" not in query:
            return 200, {"errors": [{"type": "INTERNAL", "message": "unexpected query"}]}
        node = str(inputs.get("pullRequestId", ""))
        number = int(node.removeprefix("PR_node")) if node.removeprefix("PR_node").isdigit() else -1
        pr = self.pulls.get(number)
        if pr is None:
            return 200, {
                "errors": [{"type": "NOT_FOUND", "message": f"Could not resolve to a node {node!r}"}]
            }
        name = "disablePullRequestAutoMerge" if "disable" in query else "enablePullRequestAutoMerge"
        error = self.graphql_error
        if name == "enablePullRequestAutoMerge" and error is None:
            if self.allow_auto_merge is False:
                error = "Pull request Auto merge is not allowed for this repository"
            elif pr.get("state", "open") != "open":
                error = "Pull request is closed"
            elif self.refuse_clean_auto_merge and self.checks_green():
                error = "Pull request is in clean status"
        if error:
            return 200, {
                "data": {name: None},
                "errors": [{"type": "UNPROCESSABLE", "path": [name], "message": error}],
            }
        if name == "disablePullRequestAutoMerge":
            pr["auto_merge"] = None
        else:
            pr["auto_merge"] = {
                "merge_method": inputs.get("mergeMethod", "MERGE").lower(),
                "commit_title": inputs.get("commitHeadline"),
                "commit_message": inputs.get("commitBody"),
            }
            self.run_auto_merge()
        return 200, {"data": {name: {"actor": {"login": "recipeline-bot"}, "clientMutationId": None}}}

    def _hook_close(self, request: Request, body: Any, number: str) -> tuple[int, Any]:
        if int(number) not in self.pulls:
            return 404, {"message": "Not Found"}
        self.close_pull(int(number))
        return 200, self._pull_state(int(number))

    def _hook_checks(self, request: Request, body: Any) -> tuple[int, Any]:
        self.set_checks(body.get("statuses"), body.get("check_runs"))
        return 200, self.state()

    def _hook_state(self, request: Request, body: Any) -> tuple[int, Any]:
        return 200, self.state()


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


#: ``--checks`` presets of the standalone mode.
CHECK_PRESETS: dict[str, list[dict[str, Any]]] = {
    "green": [{"context": "ci", "state": "success"}],
    "pending": [{"context": "ci", "state": "pending"}],
    "failure": [{"context": "ci", "state": "failure"}],
    "none": [],
}


def main(argv: list[str] | None = None) -> int:
    """Serve a FakeGitHub until killed; print its base URL on one line first."""
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--origin", type=Path, required=True, help="the bare repository PRs merge into")
    parser.add_argument("--repo", default="octo/recipes", help="owner/name (GITHUB_REPOSITORY)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--state-file", type=Path, default=None, help="JSON state, rewritten after every change"
    )
    parser.add_argument("--default-branch", default="main")
    parser.add_argument(
        "--checks", choices=sorted(CHECK_PRESETS), default="green", help="what commits report"
    )
    parser.add_argument(
        "--no-auto-merge", action="store_true", help="the repository does not allow auto-merge"
    )
    parser.add_argument(
        "--refuse-clean-auto-merge", action="store_true", help="GitHub's 'clean status' refusal"
    )
    parser.add_argument("--delete-branch-on-merge", action="store_true")
    args = parser.parse_args(argv)
    if args.repo.count("/") != 1:
        parser.error(f"--repo: expected owner/name, got {args.repo!r}")

    fake = FakeGitHub(
        base="",
        origin=args.origin.resolve(),
        repo=args.repo,
        default_branch=args.default_branch,
        allow_auto_merge=not args.no_auto_merge,
        refuse_clean_auto_merge=args.refuse_clean_auto_merge,
        delete_branch_on_merge=args.delete_branch_on_merge,
        state_file=args.state_file.resolve() if args.state_file else None,
        statuses=[CHECK_PRESETS[args.checks]],
    )

    @Request.application
    def app(request: Request) -> Response:
        return fake.handle(request)

    server = make_server(args.host, args.port, app, threaded=True)
    fake.base = f"http://{args.host}:{server.port}"
    fake.save_state()
    print(fake.base, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
