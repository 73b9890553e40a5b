"""Pure texts of a batch: the commit message (ARCHITECTURE §3.8), the PR title and body."""

from __future__ import annotations

from collections import Counter

from recipeline_schema import NO_RECIPE_WORDS, STATE_WORDS, Gate, RecipeState, base_state, state_order
from recipeline_schema.ecosystems import ECOSYSTEM_TABLE

from .decision import CHECKS_DEFERRED, MergeDecision, PackageDecision
from .gitrepo import batch_branch
from .records import is_macos

DISPLAY_NAMES = {row.id: row.display_name for row in ECOSYSTEM_TABLE}


def success_rate(decision: MergeDecision) -> float:
    total = len(decision.packages)
    return decision.count("merged") / total if total else 0.0


def trailers(decision: MergeDecision) -> str:
    """The trailer block: the last paragraph of the commit and of the squash-merge message."""
    return (
        f"batch_id: {decision.batch_id}\n"
        f"ecosystem: {decision.ecosystem}\n"
        f"batch_size: {len(decision.packages)}\n"
        f"success_rate: {success_rate(decision):.2f}\n"
    )


def parse_trailers(message: str) -> dict[str, str]:
    """The ``key: value`` lines of a message's last paragraph (where ``trailers`` puts them).

    git's own trailer parser only accepts keys of letters, digits and ``-``, so it does not see
    ``batch_id``; rollback and audits read the block with this function instead.
    """
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    out: dict[str, str] = {}
    for line in paragraphs[-1].splitlines() if paragraphs else ():
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            return {}  # not a trailer block
        out[key] = value.strip()
    return out


def commit_message(decision: MergeDecision, *, failure_file: str | None, review: bool = False) -> str:
    """The message of the batch commit (or, with ``review``, of the review PR's commit); also the
    squash-merge message, so the trailer survives (§12.7)."""
    if review:
        return _review_commit_message(decision)
    merged = decision.batch_recipes
    failed = decision.count("failed") + decision.count("excluded")
    lines = [
        f"feat(recipes): add batch {decision.batch_id} {decision.ecosystem} recipes",
        "",
        f"Batch generation of {len(decision.packages)} {DISPLAY_NAMES[decision.ecosystem]} packages "
        f"from tier {decision.tier} queue.",
        f"- {len(merged)} passed validation{_platforms(merged)}",
    ]
    if decision.review_recipes:
        lines.append(f"- {len(decision.review_recipes)} need review (in {review_branch(decision)})")
    if failed:
        lines.append(f"- {failed} failed" + (f" (recorded to {failure_file})" if failure_file else ""))
    if decision.count("blocked"):
        lines.append(f"- {decision.count('blocked')} blocked by missing dependencies")
    if decision.count("skipped"):
        lines.append(f"- {decision.count('skipped')} skipped")
    return "\n".join(lines) + "\n\n" + trailers(decision)


def _review_commit_message(decision: MergeDecision) -> str:
    review = decision.review_recipes
    lines = [
        f"feat(recipes): add batch {decision.batch_id} {decision.ecosystem} recipes needing review",
        "",
        f"{len(review)} of {len(decision.packages)} {DISPLAY_NAMES[decision.ecosystem]} packages of batch "
        f"{decision.batch_id} need a human before they merge:",
        *[f"- {p.name}: {p.reason}" for p in review],
    ]
    return "\n".join(lines) + "\n\n" + trailers(decision)


def review_branch(decision: MergeDecision) -> str:
    return batch_branch(decision.batch_id, review=True)


def _platforms(packages: tuple[PackageDecision, ...]) -> str:
    passed = [env for p in packages for env in p.passed]
    names = [
        name
        for name, hit in (
            ("Linux", any(not is_macos(e) for e in passed)),
            ("macOS", any(map(is_macos, passed))),
        )
        if hit
    ]
    return f" ({' + '.join(names)})" if names else ""


def pr_title(decision: MergeDecision, *, review: bool = False) -> str:
    """The batch PR's title, or the review PR's; both name the batch id and the ecosystem."""
    if review:
        return (
            f"feat(recipes): review batch {decision.batch_id} {decision.ecosystem} recipes "
            f"({len(decision.review_recipes)} need review)"
        )
    return (
        f"feat(recipes): add batch {decision.batch_id} {decision.ecosystem} recipes "
        f"({len(decision.batch_recipes)}/{len(decision.packages)} recipes)"
    )


def pr_body(decision: MergeDecision, *, failure_file: str | None, review: bool = False) -> str:
    """Markdown: counts, the per-recipe table, the reasons of what was left out, the gate verdicts.

    The batch PR's body covers every package of the batch; the review PR's (``review``) only
    the packages that need review, with the review PR's gates."""
    total = len(decision.packages)
    packages = decision.review_recipes if review else decision.packages
    gates = decision.review_gates if review else decision.gates
    counts = state_counts(decision.packages)
    if review:
        failing = [g.name for g in gates if not g.passed]
        out = [
            f"# Batch {decision.batch_id}: {len(packages)} {DISPLAY_NAMES[decision.ecosystem]} "
            "recipes that need review",
            "",
            f"Never auto-merged: a human reviews these (gates not passed: {', '.join(failing)}). "
            f"The rest of the batch is in `{batch_branch(decision.batch_id)}`.",
        ]
    else:
        failing = [g.name for g in gates if not g.passed]
        verdict = "yes" if decision.auto_merge else f"no (gates not passed: {', '.join(failing)})"
        out = [
            f"# Batch {decision.batch_id}: {len(decision.batch_recipes)} of {total} "
            f"{DISPLAY_NAMES[decision.ecosystem]} recipes",
            "",
            f"{counts}. Auto-merge: {verdict}.",
        ]
    out += [
        "",
        f"States as the merge stage left them: {STATE_WORDS['on_batch_branch']} becomes "
        f"{STATE_WORDS['pr_open']} with this PR, {STATE_WORDS['on_default_branch']} once it merges.",
        "",
        "| name | source | state | environments | recipe | constraints |",
        "|---|---|---|---|---|---|",
    ]
    for p in packages:
        source = (
            p.package_id
            if p.resolved_source in ("", p.package_id)
            else f"{p.package_id} → {p.resolved_source}"
        )
        envs = ", ".join(f"{env} {outcome}" for env, outcome in p.environments.items()) or "—"
        in_this_pr = p.review if review else (p.outcome == "merged" and not p.review)
        recipe = f"`{p.recipe_path}`" if in_this_pr else ("review PR" if p.review else "—")
        limits = "; ".join(f"{k} = {', '.join(v)}" for k, v in p.constraints.items()) or "—"
        cells = (_cell(p.name), _cell(source), state_words(p), _cell(envs), recipe, _cell(limits))
        out.append("| " + " | ".join(cells) + " |")
    if review:
        out += ["", "## Why they need review", ""]
        out += [f"- **{_cell(p.name)}** ({p.outcome}): {_cell(_review_reason(p))}" for p in packages]
    else:
        left_out = [p for p in decision.packages if p.outcome != "merged" or p.review]
        if left_out:
            out += ["", "## Not in this PR", ""]
            out += [
                f"- **{_cell(p.name)}** ({p.outcome}{', review PR' if p.review else ''}): {_cell(p.reason)}"
                for p in left_out
            ]
    if failure_file:
        out += ["", f"Failures are recorded in `{failure_file}`."]
    out += ["", "## Gates", "", "| gate | verdict | detail |", "|---|---|---|"]
    out += [f"| {g.name} | {gate_verdict(g)} | {_cell(g.detail)} |" for g in gates]
    out += ["", "```", trailers(decision).rstrip("\n"), "```", ""]
    return "\n".join(out)


def recipe_state(p: PackageDecision) -> RecipeState | None:
    """Where the merge stage leaves ``p``'s recipe (``recipeline_schema.recipe_state``): on its
    batch branch when it is committed (the batch PR's or the review PR's), else generated,
    validated or no recipe at all."""
    committed = p.review or p.outcome == "merged"
    return base_state(p.outcome, committed=committed, environments=p.environments)


def state_words(p: PackageDecision) -> str:
    state = recipe_state(p)
    return STATE_WORDS[state] if state is not None else NO_RECIPE_WORDS


def state_counts(packages: tuple[PackageDecision, ...]) -> str:
    """``2 on batch branch, 1 generated, 1 no recipe``: the packages by state, furthest first."""
    counts = Counter(recipe_state(p) for p in packages)
    ordered = sorted(counts.items(), key=lambda kv: -state_order(kv[0]))
    return ", ".join(f"{n} {STATE_WORDS[s] if s is not None else NO_RECIPE_WORDS}" for s, n in ordered)


def _review_reason(p: PackageDecision) -> str:
    if p.safety_findings:
        return "the safety analysis refused auto-merge: " + "; ".join(p.safety_findings)
    return p.reason


def gate_verdict(gate: Gate) -> str:
    """``pass``, ``FAIL`` or ``deferred`` (the checks GitHub enforces when it merges)."""
    if gate.detail == CHECKS_DEFERRED:
        return "deferred"
    return "pass" if gate.passed else "FAIL"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell: one line, pipes and markup escaped."""
    flat = " ".join(str(text).split())
    for char in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        flat = flat.replace(char, "\\" + char)
    return flat
