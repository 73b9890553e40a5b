"""push-state: commit the pipeline's shared state and push it straight to the default branch.

The state (``data/`` and ``batch-control.json``) is committed under the identity of
``gitrepo.commit_identity`` and pushed to ``<remote>/<branch>``. Then, by what the remote said:

- **pushed**: done;
- **a race** (the branch moved since this checkout: ``[rejected] (fetch first)`` /
  ``(non-fast-forward)``, or the remote could not lock the ref because another push held it):
  fetch the branch, rebase the state commit on it and push again, up to ``attempts`` times.
  Append-only files (``APPEND_ONLY``: the metrics and failure JSON Lines) merge with git's
  ``union`` driver, so two writers that each appended a line both land. A rebase that still
  conflicts (two writers changed the same queue) is aborted at once, leaving the state commit
  as it was (never a half-rebased checkout), and reported naming the files: another attempt
  would conflict the same way.
- **refused** for any other reason (a protected branch, a hook, authentication, a missing
  remote): an error at once naming the remote and the branch, without retrying.

The union rule is written to the clone's ``.git/info/attributes`` before a rebase, so it holds
in any checkout; the repository's ``.gitattributes`` carries the same lines for people.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from recipeline_schema import Layout, file_lock

from .errors import GitError, PushRefusedError, RebaseConflictError
from .gitrepo import commit_identity, git, run_git

#: What push-state commits: the pipeline's shared state.
STATE_PATHS = ("data", "batch-control.json")
#: Files the pipeline only ever appends lines to (or creates whole): merged with ``union``.
APPEND_ONLY = ("data/metrics/*.jsonl", "data/failures/*.jsonl")
UNION_ATTRIBUTES = "".join(f"{pattern} merge=union\n" for pattern in APPEND_ONLY)
DEFAULT_ATTEMPTS = 10  # eight writers at the same moment (the seed matrix) all land within it
#: The pause before attempt n+1 is ``PAUSE_SECONDS * n`` times a jitter in [0.5, 1.5).
PAUSE_SECONDS = 0.5

PushVerdict = Literal["pushed", "race", "refused"]
#: Summaries of ``git push --porcelain`` that mean "someone else pushed first".
_RACE = ("fetch first", "non-fast-forward", "stale info", "cannot lock ref", "failed to update ref")
_USERINFO = re.compile(r"://[^/@\s]+@")


@dataclass(frozen=True, slots=True)
class PushResult:
    remote: str
    branch: str
    commit: str | None  # the state commit as pushed; None when there was nothing to record
    attempts: int
    rebased: int  # how many times the state commit was rebased on the remote

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "branch": self.branch,
            "commit": self.commit,
            "pushed": self.commit is not None,
            "attempts": self.attempts,
            "rebased": self.rebased,
        }


def push_verdict(returncode: int, stdout: str, stderr: str) -> tuple[PushVerdict, str]:
    """Pure: what a ``git push --porcelain`` run means, and the remote's reason in one line."""
    if returncode == 0:
        return "pushed", ""
    refs = [line.split("\t") for line in stdout.splitlines() if line.startswith("!")]
    summaries = [parts[2] if len(parts) > 2 else "" for parts in refs]
    remote_lines = [
        line.removeprefix("remote:").strip()
        for line in stderr.splitlines()
        if line.startswith("remote:") and line.removeprefix("remote:").strip()
    ]
    other = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("remote:")]
    reason = "; ".join(dict.fromkeys([*summaries, *remote_lines, *other[-1:]])) or f"exit {returncode}"
    reason = _USERINFO.sub("://***@", " ".join(reason.split()))
    hay = " ".join([*summaries, *remote_lines, *other]).lower()
    hook = "hook declined" in hay or "protected branch" in hay
    if not hook and any(marker in hay for marker in _RACE):
        return "race", reason
    return "refused", reason


def push_state(
    root: Path,
    *,
    message: str,
    remote: str = "origin",
    branch: str | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    paths: Sequence[str] = STATE_PATHS,
    lock_timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.5),  # noqa: S311 - not security
    environ: Mapping[str, str] | None = None,
) -> PushResult:
    """Commit ``paths`` in ``root`` with ``message`` and push them (see the module doc)."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts!r}")
    layout = Layout(Path(root))
    root = layout.root
    branch = branch or _current_branch(root)
    identity = commit_identity(root, environ)
    with file_lock(layout.lock, timeout=lock_timeout, what="the state (push-state)"):
        present = [p for p in paths if (root / p).exists()]
        if present:
            git(root, "add", "-A", "--", *present)
        staged = (
            bool(present) and run_git(root, "diff", "--cached", "--quiet", "--", *present).returncode != 0
        )
        if staged:
            git(root, "commit", "-q", "--no-verify", "-m", message, "--", *present, extra_env=identity)
        ahead = _ahead_of_remote(root, remote, branch)
        if not staged and not ahead:
            return PushResult(remote, branch, None, 0, 0)
        for attempt in range(1, attempts + 1):
            proc = run_git(root, "push", "--porcelain", remote, f"HEAD:refs/heads/{branch}")
            verdict, reason = push_verdict(proc.returncode, _text(proc.stdout), _text(proc.stderr))
            if verdict == "pushed":
                return PushResult(remote, branch, _head(root), attempt, rebased=attempt - 1)
            if verdict == "refused":
                raise PushRefusedError(
                    f"{remote} refused the push of the state to branch {branch!r}: {reason} "
                    "(not a race with another writer, so it is not retried)"
                )
            if attempt == attempts:
                break
            _rebase_on_remote(root, remote, branch, identity)
            # a pause that grows and is jittered, so writers that raced once do not race again
            # in lockstep (eight seed jobs finishing together all land within the attempts)
            sleep(PAUSE_SECONDS * attempt * jitter())
    raise GitError(
        f"could not push the state to {remote}/{branch}: every one of {attempts} attempts lost a race "
        "with another writer"
    )


def ensure_union_attributes(root: Path) -> Path:
    """Add ``UNION_ATTRIBUTES`` to the clone's ``info/attributes`` (idempotent); its path."""
    path = Path(git(root, "rev-parse", "--git-path", "info/attributes").strip())
    if not path.is_absolute():
        path = root / path
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    missing = [line for line in UNION_ATTRIBUTES.splitlines() if line not in text.splitlines()]
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = text if not text or text.endswith("\n") else text + "\n"
        path.write_text(prefix + "".join(f"{line}\n" for line in missing), encoding="utf-8")
    return path


def _rebase_on_remote(root: Path, remote: str, branch: str, identity: Mapping[str, str]) -> None:
    """Rebase HEAD on the remote's branch; a conflict is aborted and raised, never left behind."""
    git(root, "fetch", "--quiet", remote, f"refs/heads/{branch}")
    ensure_union_attributes(root)
    before = _head(root)
    proc = run_git(root, "rebase", "--autostash", "--quiet", "FETCH_HEAD", extra_env=identity)
    if proc.returncode == 0:
        return
    conflicted = run_git(root, "diff", "--name-only", "--diff-filter=U").stdout
    files = sorted(_text(conflicted).split()) or ["(git named none)"]
    run_git(root, "rebase", "--abort")
    raise RebaseConflictError(
        f"{root}: the state commit {before[:12]} conflicts with {remote}/{branch} in {', '.join(files)}; "
        f"the rebase was aborted and the commit kept as it was (merge {remote}/{branch} by hand)"
    )


def _ahead_of_remote(root: Path, remote: str, branch: str) -> bool:
    """Whether HEAD has commits the remote-tracking branch lacks (an earlier push that failed);
    without a remote-tracking branch there is nothing known to be unpushed."""
    proc = run_git(root, "rev-list", "--count", f"refs/remotes/{remote}/{branch}..HEAD")
    return proc.returncode == 0 and _text(proc.stdout).strip() != "0"


def _current_branch(root: Path) -> str:
    proc = run_git(root, "symbolic-ref", "-q", "--short", "HEAD")
    name = _text(proc.stdout).strip()
    if proc.returncode != 0 or not name:
        raise GitError(f"{root}: HEAD is detached; name the branch the state goes to (--branch)")
    return name


def _head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
