"""Progress lines: live on a terminal, plain in CI."""

from __future__ import annotations

import io

import pytest

from recipeline_schema import Progress
from recipeline_schema.progress import eta_text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_outside_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress("generate", 2, stream=out, environ={})
    progress.item("pypi:httpie", "generated", "recipes/httpie.toml")
    progress.item("pypi:requests", "failed", "no console scripts")
    assert out.getvalue().splitlines() == [
        "generate 1/2 generated pypi:httpie: recipes/httpie.toml",
        "generate 2/2 failed    pypi:requests: no console scripts",
    ]


@pytest.mark.parametrize("environ", [{"CI": "true"}, {"TERM": "dumb"}])
def test_ci_and_dumb_terminals_get_plain_lines(environ: dict[str, str]) -> None:
    out = Terminal()
    Progress("validate", 1, stream=out, environ=environ).item("httpie", "pass")
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_one_rewritten_line_with_counts_and_eta() -> None:
    out, clock = Terminal(), Clock()
    progress = Progress("validate", 4, stream=out, environ={"TERM": "xterm"}, clock=clock)
    clock.now = 30.0
    progress.item("httpie", "pass")
    clock.now = 60.0
    progress.item("black", "fail")
    text = out.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    last = text.split("\r")[-1].rstrip()
    assert last == "[validate] 2/4 (1 fail 1 pass) black: fail eta 1m00s"
    progress.item("x", "pass")
    progress.item("y", "pass")
    assert out.getvalue().endswith("\n")


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "text"),
    [(0, 5, 0.0, ""), (1, 5, 10.0, "eta 40s"), (5, 5, 9.0, ""), (1, 3, 45.0, "eta 1m30s")],
)
def test_eta(done: int, total: int, elapsed: float, text: str) -> None:
    assert eta_text(done, total, elapsed) == text
