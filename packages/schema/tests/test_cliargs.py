"""The argument formats every command shares (recipeline_schema.cliargs)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest

from recipeline_schema import cliargs
from recipeline_schema.exitcodes import EXIT_USAGE


@pytest.mark.parametrize(
    ("check", "text", "value"),
    [
        (cliargs.ecosystem, "crates.io", "cargo"),
        (cliargs.ecosystem_or_auto, "auto", "auto"),
        (cliargs.batch_size, "100", 100),
        (cliargs.tier, "2", 2),
        (cliargs.count, "0", 0),
        (cliargs.positive, " 7 ", 7),
        (cliargs.seconds, "1.5", 1.5),
        (cliargs.amount, "0.5", 0.5),
        (cliargs.duration, "12w", dt.timedelta(weeks=12)),
        (cliargs.batch_id, "2026-01-29-001", "2026-01-29-001"),
        (cliargs.time, "2026-01-29T10:00:00Z", dt.datetime(2026, 1, 29, 10, tzinfo=dt.UTC)),
    ],
)
def test_a_value_in_its_format_is_parsed(check: object, text: str, value: object) -> None:
    assert check(text) == value  # type: ignore[operator]


@pytest.mark.parametrize(
    ("check", "text", "message"),
    [
        (cliargs.ecosystem, "auto", "unknown ecosystem 'auto'; expected one of homebrew, cask"),
        (cliargs.ecosystem_or_auto, "pip3", "unknown ecosystem 'pip3'; expected auto or one of"),
        (cliargs.batch_size, "abc", "expected a whole number, got 'abc'"),
        (cliargs.batch_size, "0", "expected at least 1, got 0"),
        (cliargs.batch_size, "101", "expected at most 100, got 101"),
        (cliargs.tier, "4", "expected a tier of 1, 2 or 3, got 4"),
        (cliargs.tier, "one", "expected a tier of 1, 2 or 3, got 'one'"),
        (cliargs.count, "-1", "expected at least 0, got -1"),
        (cliargs.seconds, "nan", "expected seconds >= 0, got 'nan'"),
        (cliargs.amount, "-2", "expected a number >= 0, got '-2'"),
        (cliargs.duration, "3 months", "expected a duration like 90d, 12w or 36h"),
        (cliargs.batch_id, "../../x", "expected a batch id YYYY-MM-DD-NNN, got '../../x'"),
        (cliargs.batch_id, "2026-01-29-001\n", "expected a batch id YYYY-MM-DD-NNN"),
        (
            cliargs.time,
            "yesterday",
            "expected an RFC 3339 UTC time like 2026-01-29T10:00:00Z, got 'yesterday'",
        ),
    ],
)
def test_a_value_out_of_its_format_is_one_line_naming_what_was_expected(
    check: object, text: str, message: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        check(text)  # type: ignore[operator]
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_batch_directory_must_exist(tmp_path: Path) -> None:
    assert cliargs.batch_dir(str(tmp_path)) == tmp_path
    with pytest.raises(argparse.ArgumentTypeError, match="expected a batch directory written by preflight"):
        cliargs.batch_dir(str(tmp_path / "nope"))


def test_repository_problems_name_the_command_to_run(tmp_path: Path) -> None:
    assert cliargs.repository_problem(tmp_path / "nope") == f"{tmp_path / 'nope'}: no such directory"
    no_data = cliargs.repository_problem(tmp_path)
    assert no_data is not None and no_data.endswith(f"invoke seed --ecosystem ECOSYSTEM --repo {tmp_path}")
    assert cliargs.repository_problem(tmp_path, need_data=False) is None
    (tmp_path / "data" / "queues").mkdir(parents=True)
    assert cliargs.repository_problem(tmp_path) is None
    (tmp_path / "data" / "queues" / "priority-queue.json").write_text("{}")
    tsuku = cliargs.repository_problem(tmp_path, need_data=False)
    assert tsuku is not None and f"{tmp_path} is a tsuku repository" in tsuku
    assert tsuku.endswith(f"invoke import-tsuku --from {tmp_path} --repo DIR")
    with pytest.raises(argparse.ArgumentTypeError, match="tsuku repository"):
        cliargs.repository(str(tmp_path))


def test_the_parser_refuses_in_one_line_with_the_usage_code(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cliargs.OneLineParser(prog="tool")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--tier", type=cliargs.tier, required=True)
    for argv in (["run", "--tier", "9"], ["run"], ["walk"]):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == EXIT_USAGE
        err = capsys.readouterr().err
        assert err.startswith("tool") and err.count("\n") == 1 and "usage:" not in err
    assert "exit codes: 0 ok; 1 error" in parser.format_help()
