"""The few git operations the merger needs, through the git CLI.

The batch commit is built with plumbing on a temporary index (``GIT_INDEX_FILE``), so the
current branch's working tree and index are never touched: the recipes of a batch exist only
in its commit on ``batch/<id>`` until that branch is merged.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath

from .errors import GitError

BATCH_BRANCH_PREFIX = "batch/"
#: The review PR's branch is the batch branch with this suffix: ``batch/<id>-review``.
REVIEW_SUFFIX = "-review"
ROLLBACK_BRANCH_PREFIX = "rollback/"
#: Variables that would point git at another repository or index than the one we name.
_REPO_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")


def _environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_VARIABLES}
    env["LC_ALL"] = "C"  # git's messages in one language, for the one-line errors
    env.update(extra or {})
    return env


def run_git(
    repo: Path, *args: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C repo args...`` and return the finished process, whatever its exit code
    (for callers that read git's answer, like a rejected push); ``GitError`` when git cannot run."""
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            env=_environment(extra_env),
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (not found on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} in {repo} did not finish within 120 s") from None


def git(
    repo: Path, *args: str, stdin: bytes | None = None, extra_env: Mapping[str, str] | None = None
) -> str:
    """Run ``git -C repo args...`` and return its stdout; a failure raises ``GitError``."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            env=_environment(extra_env),
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (not found on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} in {repo} did not finish within 120 s") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} in {repo} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return proc.stdout.decode("utf-8", "replace")


#: Who commits when nothing names anyone (a fresh machine, a hosted runner): the identity
#: GitHub shows as "github-actions[bot]" (ARCHITECTURE §9: every commit has an identity).
DEFAULT_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
#: The variables that name the pipeline's committer; they win over everything else.
NAME_VARIABLE = "RECIPELINE_GIT_NAME"
EMAIL_VARIABLE = "RECIPELINE_GIT_EMAIL"
_ROLES = (("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"), ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"))


def choose_identity(environ: Mapping[str, str], configured: tuple[str | None, str | None]) -> dict[str, str]:
    """Pure: the author/committer variables to give git for a commit.

    Per field: ``RECIPELINE_GIT_NAME``/``RECIPELINE_GIT_EMAIL`` when set; else git's own
    ``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` variables when set (nothing is added, git reads
    them); else the repository's configured ``user.name``/``user.email`` (``configured``);
    else ``DEFAULT_IDENTITY``.
    """
    chosen = (environ.get(NAME_VARIABLE), environ.get(EMAIL_VARIABLE))
    out: dict[str, str] = {}
    for role in _ROLES:
        for i, variable in enumerate(role):
            if chosen[i]:
                out[variable] = str(chosen[i])
            elif not environ.get(variable):
                out[variable] = configured[i] or DEFAULT_IDENTITY[i]
    return out


def commit_identity(repo: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables every commit the merger makes in ``repo`` runs with (``choose_identity``
    over the environment and the repository's configuration)."""
    env = os.environ if environ is None else environ
    return choose_identity(env, (_config(repo, "user.name"), _config(repo, "user.email")))


def _config(repo: Path, key: str) -> str | None:
    try:
        return git(repo, "config", "--get", key).strip() or None
    except GitError:  # exit 1: not set
        return None


def is_repository(repo: Path) -> bool:
    try:
        git(repo, "rev-parse", "--git-dir")
    except GitError:
        return False
    return True


def default_branch(repo: Path, remote: str = "origin") -> str:
    """The branch recipes land on: the remote's HEAD branch when the clone knows it, else the
    checked-out branch, else ``main``."""
    for args in (
        ("symbolic-ref", "-q", "--short", f"refs/remotes/{remote}/HEAD"),
        ("symbolic-ref", "-q", "--short", "HEAD"),
    ):
        proc = run_git(repo, *args)
        name = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode == 0 and name:
            return name.removeprefix(f"{remote}/")
    return "main"


def resolve_commit(repo: Path, rev: str) -> str:
    """The commit id of ``rev``; ``GitError`` naming the revision when it does not exist."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except GitError:
        raise GitError(f"{repo}: {rev!r} is not a commit (does the branch exist?)") from None


def paths_in_tree(repo: Path, rev: str, under: str) -> frozenset[str]:
    """Every file path of ``rev``'s tree below the folder ``under``."""
    out = git(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", under.rstrip("/") + "/")
    return frozenset(path for path in out.split("\0") if path)


def batch_branch(batch_id: str, *, review: bool = False) -> str:
    """``batch/<id>``, or the review PR's ``batch/<id>-review``."""
    return f"{BATCH_BRANCH_PREFIX}{batch_id}{REVIEW_SUFFIX if review else ''}"


def batch_id_of(branch: str) -> str | None:
    """The batch id of a ``batch/<id>`` or ``batch/<id>-review`` branch name, else ``None``."""
    if not branch.startswith(BATCH_BRANCH_PREFIX):
        return None
    return branch[len(BATCH_BRANCH_PREFIX) :].removesuffix(REVIEW_SUFFIX) or None


def batch_branches(repo: Path) -> frozenset[str]:
    """Batch ids that have a ``batch/<id>`` (or ``-review``) branch (empty outside a git repository)."""
    if not is_repository(repo):
        return frozenset()
    out = git(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{BATCH_BRANCH_PREFIX}")
    return frozenset(filter(None, (batch_id_of(line.strip()) for line in out.splitlines())))


def has_remote(repo: Path, remote: str) -> bool:
    return run_git(repo, "remote", "get-url", remote).returncode == 0


def remote_branches(repo: Path, remote: str, prefix: str = BATCH_BRANCH_PREFIX) -> frozenset[str] | None:
    """Branches below ``prefix`` on ``remote`` right now (``git ls-remote``); ``None`` when the
    repository has no such remote or it cannot be reached (nothing is known then)."""
    if not has_remote(repo, remote):
        return None
    proc = run_git(repo, "ls-remote", "--heads", remote, f"refs/heads/{prefix}*")
    if proc.returncode != 0:
        return None
    refs = (line.split("\t", 1)[-1] for line in proc.stdout.decode("utf-8", "replace").splitlines())
    return frozenset(ref.removeprefix("refs/heads/") for ref in refs if ref.startswith("refs/heads/"))


def local_branch_exists(repo: Path, branch: str) -> bool:
    return run_git(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0


def delete_branch_everywhere(repo: Path, branch: str, *, remote: str = "origin") -> bool:
    """Delete ``branch`` here and on ``remote`` (when it is there); whether one existed."""
    existed = False
    if local_branch_exists(repo, branch):
        git(repo, "update-ref", "-d", f"refs/heads/{branch}")
        existed = True
    on_remote = remote_branches(repo, remote, prefix=branch) or frozenset()
    if branch in on_remote:
        git(repo, "push", "--quiet", remote, "--delete", f"refs/heads/{branch}")
        existed = True
    return existed


def fetch_branch(repo: Path, remote: str, branch: str) -> str | None:
    """Fetch ``remote``'s ``branch`` into ``refs/remotes/<remote>/<branch>``; that ref, or ``None``
    when there is no such remote or the fetch failed (reconcile then knows only the local branch)."""
    if not has_remote(repo, remote):
        return None
    ref = f"refs/remotes/{remote}/{branch}"
    proc = run_git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{ref}")
    return ref if proc.returncode == 0 else None


def read_blob(repo: Path, rev: str, path: str) -> bytes:
    """The bytes of ``path`` in ``rev`` (tests and audits; the merge never reads back)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"{rev}:{path}"],
        capture_output=True,
        env=_environment(),
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise GitError(f"{repo}: {path} is not in {rev}")
    return proc.stdout


def commit_on_branch(
    repo: Path,
    *,
    base: str,
    branch: str,
    files: Mapping[str, bytes],
    message: str,
    remove: Collection[str] = (),
) -> str:
    """Commit ``files`` (repository path -> bytes) and the removal of ``remove`` on top of
    ``base`` as branch ``branch``.

    Returns the new commit id. The branch is (re)pointed at the commit; a batch branch that
    exists already is from an interrupted merge of the same batch, so it is replaced.
    """
    for path in (*files, *remove):
        _check_path(path)
    try:
        current = git(repo, "symbolic-ref", "-q", "HEAD").strip()
    except GitError:
        current = ""  # a detached HEAD has no branch to protect
    if current == f"refs/heads/{branch}":
        raise GitError(f"{repo}: {branch} is checked out; switch to the default branch before merging")
    with tempfile.TemporaryDirectory(prefix="recipeline-index-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", base, extra_env=index)
        entries = []
        for path, data in sorted(files.items()):
            oid = git(repo, "hash-object", "-w", "--stdin", stdin=data).strip()
            entries.append(f"100644 {oid}\t{path}\n")
        entries += [f"0 {'0' * 40}\t{path}\n" for path in sorted(remove)]  # mode 0 removes the path
        git(repo, "update-index", "--index-info", stdin="".join(entries).encode(), extra_env=index)
        tree = git(repo, "write-tree", extra_env=index).strip()
    commit = git(
        repo,
        "commit-tree",
        tree,
        "-p",
        base,
        "-F",
        "-",
        stdin=message.encode("utf-8"),
        extra_env=commit_identity(repo),
    ).strip()
    git(repo, "update-ref", "-m", f"recipeline: {branch}", f"refs/heads/{branch}", commit)
    return commit


def _check_path(path: str) -> None:
    """Only plain relative paths below recipes/ or data/ may enter a batch commit (§11)."""
    parts = PurePosixPath(path).parts
    if (
        not parts
        or path.startswith("/")
        or parts[0] not in ("recipes", "data")
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(ch) < 0x20 for ch in path)
    ):
        raise GitError(f"refusing to commit {path!r}: only paths below recipes/ or data/ may be committed")
