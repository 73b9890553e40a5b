"""Exceptions of recipeline-merger.

MergerError                  base of every error this package raises
├── StoppedError             batch-control.json stops the pipeline or this ecosystem (exit 3)
├── BatchDirError            a batch directory is missing a file or its files disagree (exit 1)
├── QueueMismatchError       the queue lacks a package the batch planned (exit 1)
├── AlreadyMergedError       the batch's manifest exists: it was merged before (exit 5)
├── RolledBackError          the batch's rollback record exists: it was rolled back before (exit 5)
├── GitHubError              the GitHub API refused or failed (exit 1; the token never appears)
└── GitError                 a git command failed (exit 1)
    ├── PushRefusedError     the remote refused a push for a reason other than a race (exit 1)
    └── RebaseConflictError  the state commit conflicts with the remote; the rebase was aborted (exit 1)

Errors of recipeline-schema (``DataFileError``, ``InvalidValueError``, ``LockTimeoutError``)
pass through unchanged; the CLI maps them too (exit 1, 1 and 4).
"""

from __future__ import annotations


class MergerError(Exception):
    """Base of every error raised by recipeline-merger."""


class StoppedError(MergerError):
    """The emergency stop (global or for one ecosystem) refuses the batch."""


class BatchDirError(MergerError):
    """A batch directory cannot be merged: a file is missing or the stages disagree."""


class QueueMismatchError(MergerError):
    """The queue does not hold an entry the batch planned (entries are never deleted)."""


class AlreadyMergedError(MergerError):
    """The batch was merged before; merging twice would record its failures twice."""


class GitError(MergerError):
    """A git command failed; the message carries the command and git's own error line."""


class RolledBackError(MergerError):
    """The batch was rolled back before (its rollback record exists)."""


class GitHubError(MergerError):
    """The GitHub API refused a request or could not be reached; the message never holds the token."""


class PushRefusedError(GitError):
    """The remote refused a push (protected branch, hook, authentication): retrying cannot help."""


class RebaseConflictError(GitError):
    """Rebasing the state commit on the remote conflicts; the rebase was aborted, the commit kept."""
