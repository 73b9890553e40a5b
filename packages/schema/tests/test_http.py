"""The shared HTTP client against a local server (needs the ``http`` extra and pytest-httpserver)."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("requests", reason="recipeline_schema.http needs the 'http' extra")
pytest.importorskip("requests", reason="recipeline_schema.http needs the 'http' extra")
pytest.importorskip("pytest_httpserver", reason="these tests serve HTTP with pytest-httpserver")

from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from recipeline_schema import Failure
from recipeline_schema.http import (
    DEFAULT_RATE_LIMITS,
    ApiError,
    HttpClient,
    HttpSettings,
    RateLimit,
    Response,
    redact_url,
)
from recipeline_schema.testing import FakeTime, fake_time_client


@pytest.fixture
def fake() -> FakeTime:
    """Injected clock and sleep: no test waits for real."""
    return FakeTime()


@pytest.fixture
def client(fake: FakeTime) -> Iterator[HttpClient]:
    """A client with default limits and retry policy, short timeouts and fake time."""
    with fake_time_client(fake) as http:
        yield http


def error_of(call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    return info.value


# --- status codes, retries ------------------------------------------------------------------


def test_user_agent_names_recipeline(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x", headers={"User-Agent": client.user_agent}).respond_with_data("ok")
    assert client.get("pypi", httpserver.url_for("/x")).body == b"ok"
    assert client.user_agent.startswith("recipeline/")


@pytest.mark.parametrize("status", [404, 410])
def test_missing_is_not_found_without_retry(
    client: HttpClient, httpserver: Any, fake: FakeTime, status: int
) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=status)
    exc = error_of(client.get, "cargo", httpserver.url_for("/x"))
    assert (exc.subcategory, exc.status, fake.sleeps) == ("not_found", status, [])
    assert len(httpserver.log) == 1


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(
    client: HttpClient, httpserver: Any, fake: FakeTime
) -> None:
    for status in (500, 502, 504):
        httpserver.expect_ordered_request("/x").respond_with_data("down", status=status)
    httpserver.expect_ordered_request("/x").respond_with_data("up")
    assert client.get("npm", httpserver.url_for("/x")).body == b"up"
    assert [s for s in fake.sleeps if s >= 1.0] == [1.0, 2.0, 4.0]


def test_persistent_5xx_ends_as_upstream_unavailable(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x").respond_with_data("down", status=500)
    exc = error_of(client.get, "npm", httpserver.url_for("/x"))
    assert exc.subcategory == "upstream_unavailable"
    assert len(httpserver.log) == client.settings.max_attempts


def test_backoff_is_capped_and_never_overflows() -> None:
    client = HttpClient(HttpSettings(backoff_base=1.0, backoff_max=30.0))
    assert [client._backoff(n) for n in (1, 2, 5, 6, 100, 10_000)] == [1.0, 2.0, 16.0, 30.0, 30.0, 30.0]


def test_429_honours_retry_after_seconds(client: HttpClient, httpserver: Any, fake: FakeTime) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "slow", status=429, headers={"Retry-After": "12"}
    )
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    assert client.get("rubygems", httpserver.url_for("/x")).body == b"ok"
    assert 12.0 in fake.sleeps


def test_429_honours_retry_after_as_an_http_date(client: HttpClient, httpserver: Any, fake: FakeTime) -> None:
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    httpserver.expect_ordered_request("/x").respond_with_data(
        "slow", status=429, headers={"Retry-After": when}
    )
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    client.get("pypi", httpserver.url_for("/x"))
    assert any(27.0 <= s <= 31.0 for s in fake.sleeps), fake.sleeps


def test_retry_after_date_is_measured_against_the_server_date() -> None:
    client = HttpClient(now=lambda: dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    headers = {"retry-after": "Thu, 29 Jan 2026 10:00:30 GMT", "date": "Thu, 29 Jan 2026 10:00:00 GMT"}
    assert client._retry_after(Response("u", 429, headers, b"")) == 30.0
    no_date = {"retry-after": "Thu, 29 Jan 2026 10:00:30 GMT"}
    later = HttpClient(now=lambda: dt.datetime(2026, 1, 29, 10, 0, 20, tzinfo=dt.UTC))
    assert later._retry_after(Response("u", 429, no_date, b"")) == 10.0
    assert later._retry_after(Response("u", 429, {"retry-after": "soon"}, b"")) is None


def test_retry_after_over_the_bound_fails_at_once(
    client: HttpClient, httpserver: Any, fake: FakeTime
) -> None:
    httpserver.expect_request("/x").respond_with_data("later", status=429, headers={"Retry-After": "3600"})
    exc = error_of(client.get, "pypi", httpserver.url_for("/x"))
    assert exc.subcategory == "rate_limited"
    assert "over the 120 s bound" in str(exc)
    assert len(httpserver.log) == 1 and all(s < 3600 for s in fake.sleeps)


def test_403_with_exhausted_rate_limit_header_is_rate_limited(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x").respond_with_data(
        "no", status=403, headers={"X-RateLimit-Remaining": "0"}
    )
    assert error_of(client.get, "homebrew", httpserver.url_for("/x")).subcategory == "rate_limited"


def test_other_4xx_is_a_bad_response(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=401)
    exc = error_of(client.get, "cpan", httpserver.url_for("/x"))
    assert (exc.subcategory, exc.status) == ("bad_response", 401)


def test_connection_refused_is_upstream_unavailable_after_retries(client: HttpClient, fake: FakeTime) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    exc = error_of(client.get, "go", f"http://127.0.0.1:{port}/x")
    assert exc.subcategory == "upstream_unavailable"
    assert len([s for s in fake.sleeps if s >= 1.0]) == client.settings.max_attempts - 1


def test_slow_server_is_a_timeout(fake: FakeTime, httpserver: Any) -> None:
    def slow(_request: Request) -> WerkzeugResponse:
        time.sleep(0.5)
        return WerkzeugResponse("late")

    httpserver.expect_request("/x").respond_with_handler(slow)
    settings = HttpSettings(read_timeout=0.1, max_attempts=1)
    with HttpClient(settings, sleep=fake.sleep, clock=fake.clock) as http:
        exc = error_of(http.get, "pypi", httpserver.url_for("/x"))
    assert exc.subcategory == "timeout"


# --- bodies ---------------------------------------------------------------------------------


def test_declared_body_over_the_cap_is_refused(fake: FakeTime, httpserver: Any) -> None:
    httpserver.expect_request("/x").respond_with_data(b"x" * 5000)
    with HttpClient(HttpSettings(max_bytes=1000), sleep=fake.sleep, clock=fake.clock) as http:
        exc = error_of(http.get, "pypi", httpserver.url_for("/x"))
    assert exc.subcategory == "bad_response" and "5000 bytes is over the 1000 byte cap" in str(exc)


def test_streamed_body_over_the_cap_is_aborted(fake: FakeTime, httpserver: Any) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"y" * 1000

    httpserver.expect_request("/x").respond_with_handler(
        lambda _r: WerkzeugResponse(chunks())
    )  # no Content-Length
    with HttpClient(HttpSettings(max_bytes=10_000), sleep=fake.sleep, clock=fake.clock) as http:
        exc = error_of(http.get, "pypi", httpserver.url_for("/x"))
    assert exc.subcategory == "bad_response" and "aborted" in str(exc)


def test_truncated_transfer_is_retried_then_upstream_unavailable(client: HttpClient, httpserver: Any) -> None:
    def short(_request: Request) -> WerkzeugResponse:
        resp = WerkzeugResponse(b"only ten b")
        resp.headers["Content-Length"] = "1000"  # the connection closes after ten bytes
        return resp

    httpserver.expect_request("/x").respond_with_handler(short)
    exc = error_of(client.get, "pypi", httpserver.url_for("/x"))
    assert exc.subcategory == "upstream_unavailable" and "truncated" in str(exc)
    assert len(httpserver.log) == client.settings.max_attempts


def test_per_call_cap_overrides_the_setting(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x").respond_with_data(b"z" * 100)
    assert error_of(client.get, "pypi", httpserver.url_for("/x"), max_bytes=10).subcategory == "bad_response"


def test_json_checks_content_type_and_syntax(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/ok").respond_with_data(
        '{"a": 1}', content_type="application/json; charset=utf-8"
    )
    httpserver.expect_request("/html").respond_with_data("<html>", content_type="text/html")
    httpserver.expect_request("/cut").respond_with_data('{"a": [1, 2', content_type="application/json")
    httpserver.expect_request("/vnd").respond_with_data("{}", content_type="application/vnd.x+json")
    assert client.get_json("cargo", httpserver.url_for("/ok")) == {"a": 1}
    html = error_of(client.get_json, "cargo", httpserver.url_for("/html"))
    assert html.subcategory == "bad_response" and "'text/html'" in str(html)
    cut = error_of(client.get_json, "cargo", httpserver.url_for("/cut"))
    assert cut.subcategory == "bad_response" and "invalid JSON" in str(cut)
    vnd = client.get_json("cargo", httpserver.url_for("/vnd"), content_types=("application/vnd.x+json",))
    assert vnd == {}


def test_accept_header_is_sent(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/x", headers={"Accept": "application/vnd.x+json"}).respond_with_data("{}")
    assert client.get("pypi", httpserver.url_for("/x"), accept="application/vnd.x+json").status == 200


# --- redirects, rate limits -------------------------------------------------------------------


def test_redirects_are_followed_and_each_hop_is_limited(
    client: HttpClient, httpserver: Any, fake: FakeTime
) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("moved")
    resp = client.get("pypi", httpserver.url_for("/old"))
    assert (resp.body, resp.url) == (b"moved", httpserver.url_for("/new"))
    assert fake.sleeps == [pytest.approx(1.0)]  # two requests to one host at 1 request/s


def test_an_authorization_header_never_follows_a_redirect_to_another_origin(
    client: HttpClient, httpserver: Any
) -> None:
    """A registry redirecting a blob to its storage host: the token stays with the registry."""
    storage = HTTPServer(host="127.0.0.1", port=0)
    storage.start()
    try:
        seen: list[str | None] = []

        def stored(request: Request) -> WerkzeugResponse:
            seen.append(request.headers.get("Authorization"))
            return WerkzeugResponse("blob")

        storage.expect_request("/blob").respond_with_handler(stored)
        httpserver.expect_request("/same").respond_with_handler(
            lambda request: WerkzeugResponse(request.headers.get("Authorization", "none"))
        )
        httpserver.expect_request("/v2/blob").respond_with_data(
            "", status=307, headers={"Location": storage.url_for("/blob")}
        )
        httpserver.expect_request("/v2/moved").respond_with_data(
            "", status=302, headers={"Location": "/same"}
        )
        token = {"Authorization": "Bearer registry-token"}
        assert client.get("homebrew", httpserver.url_for("/v2/blob"), headers=token).body == b"blob"
        assert seen == [None]
        # a redirect on the same origin keeps it
        assert (
            client.get("homebrew", httpserver.url_for("/v2/moved"), headers=token).body
            == b"Bearer registry-token"
        )
    finally:
        storage.clear()
        storage.stop()


def test_redirect_loop_is_a_bad_response(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    assert "redirects" in str(error_of(client.get, "pypi", httpserver.url_for("/loop")))


def test_default_rate_limits_follow_the_architecture() -> None:
    assert {eco: str(limit) for eco, limit in DEFAULT_RATE_LIMITS.items()} == {
        "homebrew": "1/1s",
        "cask": "1/1s",
        "cargo": "1/1s",
        "npm": "1/1s",
        "pypi": "1/1s",
        "go": "1/1s",
        "cpan": "1/1s",
        "rubygems": "10/60s",
    }


def test_rubygems_allows_ten_requests_a_minute(client: HttpClient, httpserver: Any, fake: FakeTime) -> None:
    httpserver.expect_request("/g").respond_with_data("{}", content_type="application/json")
    for _ in range(11):
        client.get_json("rubygems", httpserver.url_for("/g"))
    assert fake.sleeps == [pytest.approx(60.0)]


def test_limits_are_per_host(client: HttpClient, httpserver: Any, fake: FakeTime) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    client.get("pypi", httpserver.url_for("/a"))
    client.get("pypi", httpserver.url_for("/a").replace("localhost", "127.0.0.1"))
    assert fake.sleeps == []


def test_limits_are_configurable(fake: FakeTime, httpserver: Any) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    settings = HttpSettings().with_rate_limits({"pypi": RateLimit.parse("3/10")})
    with HttpClient(settings, sleep=fake.sleep, clock=fake.clock) as http:
        for _ in range(4):
            http.get("pypi", httpserver.url_for("/a"))
    assert fake.sleeps == [pytest.approx(10.0)]


@pytest.mark.parametrize(
    ("text", "calls", "period"),
    [
        ("1/s", 1, 1.0),
        ("10/min", 10, 60.0),
        ("10/60", 10, 60.0),
        (" 5 / 0.5 ", 5, 0.5),
        ("100/h", 100, 3600.0),
    ],
)
def test_rate_limit_parse(text: str, calls: int, period: float) -> None:
    assert RateLimit.parse(text) == RateLimit(calls, period)


@pytest.mark.parametrize("text", ["", "fast", "0/1", "1/0", "-1/s", "1/week"])
def test_rate_limit_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit.parse(text)


def test_settings_from_env() -> None:
    settings = HttpSettings.from_env({"RECIPELINE_RATE_LIMIT_CARGO": "5/1", "OTHER": "x"})
    assert settings.rate_limits["cargo"] == RateLimit(5, 1.0)
    assert settings.rate_limits["pypi"] == RateLimit(1, 1.0)
    with pytest.raises(ValueError, match="RECIPELINE_RATE_LIMIT_NPM"):
        HttpSettings.from_env({"RECIPELINE_RATE_LIMIT_NPM": "many"})


# --- ranges -----------------------------------------------------------------------------------

DATA = bytes(range(256)) * 40  # 10240 bytes


def ranged(request: Request) -> WerkzeugResponse:
    header = request.headers.get("Range", "")
    first, _, last = header.removeprefix("bytes=").partition("-")
    if not first:
        start, end = len(DATA) - int(last), len(DATA) - 1
    else:
        start, end = int(first), min(int(last), len(DATA) - 1)
    return WerkzeugResponse(
        DATA[start : end + 1], 206, headers={"Content-Range": f"bytes {start}-{end}/{len(DATA)}"}
    )


def test_get_range_and_tail_with_a_range_server(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/f").respond_with_handler(ranged)
    url = httpserver.url_for("/f")
    assert client.get_range("pypi", url, 100, 50) == DATA[100:150]
    assert client.get_range("pypi", url, 10_200, 100) == DATA[10_200:]
    tail = client.get_tail("pypi", url, 1000)
    assert (tail.data, tail.offset, tail.size, tail.ranged) == (
        DATA[-1000:],
        len(DATA) - 1000,
        len(DATA),
        True,
    )
    assert all(req.headers["Accept-Encoding"] == "identity" for req, _ in httpserver.log)


def test_a_server_ignoring_range_is_detected(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/f").respond_with_data(DATA)
    url = httpserver.url_for("/f")
    assert client.get_range("pypi", url, 100, 50) == DATA[100:150]
    tail = client.get_tail("pypi", url, 1000)
    assert (tail.data, tail.offset, tail.size, tail.ranged) == (DATA, 0, len(DATA), False)


def broken_ranges(content_range: str | None) -> Any:
    """A server whose 206 answers carry ``content_range`` (or none) and whose plain GET works."""

    def handler(request: Request) -> WerkzeugResponse:
        if "Range" not in request.headers:
            return WerkzeugResponse(DATA, 200)
        headers = {"Content-Range": content_range} if content_range else {}
        return WerkzeugResponse(DATA[100:150], 206, headers=headers)

    return handler


@pytest.mark.parametrize(
    "content_range",
    [
        None,
        "bytes 0-9/10240",
        "bytes 0-49/10240",
        "items 100-149/10240",
        "bytes 100-200/10240",
        "bytes 100-149/10240 junk",
    ],
)
def test_an_unusable_206_falls_back_to_one_plain_get(
    client: HttpClient, httpserver: Any, content_range: str | None
) -> None:
    httpserver.expect_request("/f").respond_with_handler(broken_ranges(content_range))
    assert client.get_range("pypi", httpserver.url_for("/f"), 100, 50) == DATA[100:150]
    tail = client.get_tail("pypi", httpserver.url_for("/f"), 50)
    assert (tail.data, tail.offset, tail.size, tail.ranged) == (DATA, 0, len(DATA), False)
    ranges = [req.headers.get("Range") for req, _ in httpserver.log]
    assert ranges == ["bytes=100-149", None, "bytes=-50", None]


def test_the_fallback_get_keeps_the_size_cap(fake: FakeTime, httpserver: Any) -> None:
    httpserver.expect_request("/f").respond_with_handler(broken_ranges("bytes 1-2/3"))
    with HttpClient(sleep=fake.sleep, clock=fake.clock) as http:
        exc = error_of(http.get_range, "pypi", httpserver.url_for("/f"), 100, 50, max_bytes=1000)
    assert exc.subcategory == "bad_response" and "1000 byte cap" in str(exc)


def test_a_206_without_a_total_falls_back_for_a_tail(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/f").respond_with_handler(broken_ranges("bytes 100-149/*"))
    tail = client.get_tail("pypi", httpserver.url_for("/f"), 50)
    assert (tail.size, tail.ranged) == (len(DATA), False)


def test_a_fallback_answered_206_again_is_a_bad_response(client: HttpClient, httpserver: Any) -> None:
    httpserver.expect_request("/f").respond_with_data(DATA[100:150], status=206)
    exc = error_of(client.get_range, "pypi", httpserver.url_for("/f"), 100, 50)
    assert exc.subcategory == "bad_response" and "206" in str(exc)


# --- errors as failure records ------------------------------------------------------------------


def test_api_error_becomes_a_failure_record_and_hides_credentials(
    client: HttpClient, httpserver: Any
) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=404)
    url = httpserver.url_for("/x").replace("http://", "http://user:s3cret@")
    exc = error_of(client.get, "pypi", url)
    failure = Failure.create(
        "pypi:x", "api_error", exc.subcategory, str(exc), timestamp=dt.datetime.now(dt.UTC)
    )
    assert (failure.subcategory, failure.transient) == ("not_found", False)
    assert "s3cret" not in str(exc) and "***@" in str(exc)


def test_redact_url() -> None:
    assert redact_url("https://tok:pw@mirror.example/simple/") == "https://***@mirror.example/simple/"
    assert redact_url("https://mirror.example/simple/") == "https://mirror.example/simple/"


def test_non_http_urls_are_refused(client: HttpClient) -> None:
    assert error_of(client.get, "pypi", "file:///etc/passwd").subcategory == "bad_response"
