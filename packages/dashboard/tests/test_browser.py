"""The pages in headless Chromium (Debian's chromium + chromedriver, never a downloaded driver).

The site is built from the tsuku-layout fixture plus hostile package names, served by
``http.server`` on a loopback port, and driven with Selenium. Screenshots of the main pages go
to ``<repo>/build/screenshots/`` for review.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from recipeline_dashboard import (
    Control,
    Dashboard,
    FailureEvent,
    Package,
    RepositoryData,
    Run,
    read_repository,
    write_site,
)
from recipeline_dashboard.model import BatchOutcome, Breaker, BudgetUse, Curated, Manifest
from recipeline_schema import format_time

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
    ),
]

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
SHARED_TSUKU = REPO_ROOT.parent / "shared" / "fixtures" / "tsuku"
NOW = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)
HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = 'it\'s "quoted"'
TRAVERSAL = "../../etc/passwd"
#: the tsuku fixture's bdw-gc failure (a banner, a progress line and its cause)
FAILURE_QUERY = {
    "failure.html": "?"
    + urlencode(
        {
            "package": "homebrew:bdw-gc",
            "batch": "homebrew-2026-02-07T03-03-36Z",
            "category": "deterministic_insufficient",
            "subcategory": "archive_extraction_failed",
        }
    )
}
PAGES = [
    "index.html",
    "queue.html",
    "failures.html",
    "package.html",
    "runs.html",
    "run.html",
    "blockers.html",
    "failure.html",
]


def _add_hostile_data(root: Path) -> None:
    """Packages whose names are markup, quotes and a path traversal, and a failure with a script."""
    queue_path = root / "data" / "queues" / "priority-queue.json"
    queue = json.loads(queue_path.read_text())
    for name in (HOSTILE, QUOTED, TRAVERSAL):
        queue["entries"].append({"name": name, "source": f"npm:{name}", "priority": 2, "status": "failed"})
    queue_path.write_text(json.dumps(queue))
    failure = {
        "schema_version": 1,
        "ecosystem": "npm",
        "environment": "linux-glibc-x86_64",
        "updated_at": "2026-05-07T14-05-30Z",
        "failures": [
            {
                "package_id": f"npm:{HOSTILE}",
                "category": "install_failed",
                "message": 'Error: <script>alert(2)</script> "quoted" failed',
                "timestamp": "2026-05-07T14:03:30Z",
            }
        ],
    }
    (root / "data" / "failures" / "npm-2026-05-07T14-05-30Z.jsonl").write_text(json.dumps(failure) + "\n")
    # a manifest for one of the runs, whose validation installed an older version than the newest
    package = {
        "name": "eslint",
        "package_id": "npm:eslint",
        "resolved_source": "npm:eslint",
        "outcome": "merged",
        "installed_versions": {"linux-debian-glibc-x86_64": "8.57.1"},
        "latest_version": "9.4.0",
    }
    manifest = {"schema_version": 1, "batch_id": "2026-03-11", "ecosystem": "npm", "packages": [package]}
    (root / "data" / "batches").mkdir(parents=True, exist_ok=True)
    (root / "data" / "batches" / "2026-03-11.json").write_text(json.dumps(manifest))


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def site(tsuku_repo_module: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built from the tsuku-layout fixture with hostile names, served on a loopback port."""
    _add_hostile_data(tsuku_repo_module)
    out = tmp_path_factory.mktemp("site")
    write_site(Dashboard(read_repository(tsuku_repo_module), NOW), out)
    server, url = _serve(out)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium through Debian's chromedriver (passed explicitly: no selenium-manager)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def load(driver: webdriver.Chrome, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
    )


def severe_logs(driver: webdriver.Chrome) -> list[str]:
    logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in logs if entry["level"] == "SEVERE"]


def no_alert(driver: webdriver.Chrome) -> bool:
    try:
        driver.switch_to.alert.dismiss()
    except NoAlertPresentException:
        return True
    return False


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height) + 40, 600), 4000))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def rows(driver: webdriver.Chrome, container: str) -> list[str]:
    return [tr.text for tr in driver.find_elements(By.CSS_SELECTOR, f"#{container} tbody tr")]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_without_console_errors(browser: webdriver.Chrome, site: str, page: str) -> None:
    severe_logs(browser)  # drop what earlier pages left
    query = {"package.html": "?id=homebrew%3Anode", "run.html": "?id=2026-03-11", **FAILURE_QUERY}.get(
        page, ""
    )
    load(browser, site + page + query)
    assert severe_logs(browser) == []
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text


def test_failure_filters_change_the_rows_and_the_url(browser: webdriver.Chrome, site: str) -> None:
    load(browser, site + "failures.html")
    everything = rows(browser, "failure-rows")
    assert len(everything) == 5
    Select(browser.find_element(By.ID, "filter-ecosystem")).select_by_value("cargo")
    cargo = rows(browser, "failure-rows")
    assert len(cargo) == 1 and "watchexec" in cargo[0]
    assert "ecosystem=cargo" in browser.current_url
    Select(browser.find_element(By.ID, "filter-ecosystem")).select_by_value("")
    Select(browser.find_element(By.ID, "filter-category")).select_by_value("missing_dep")
    assert len(rows(browser, "failure-rows")) == 2
    # the filter state lives in the URL: reloading it gives the same rows
    load(
        browser,
        site + "failures.html?" + urlencode({"category": "missing_dep", "subcategory": "unspecified"}),
    )
    assert Select(browser.find_element(By.ID, "filter-category")).first_selected_option.text == "missing_dep"
    assert len(rows(browser, "failure-rows")) == 2
    load(browser, site + "failures.html?" + urlencode({"batch": "batch-2026-02-18T14-01-11Z"}))
    (only,) = rows(browser, "failure-rows")
    assert "cargo:watchexec" in only and "exit code 6 (deterministic)" in only
    assert "linux-alpine-musl-arm64, linux-alpine-musl-x86_64, linux-debian-glibc-x86_64" in only


def test_a_run_shows_installed_against_latest(browser: webdriver.Chrome, site: str) -> None:
    load(browser, site + "run.html?id=2026-03-11")
    skew = browser.find_element(By.CSS_SELECTOR, ".skew")
    assert skew.text == "8.57.1 (latest 9.4.0)"
    assert skew.get_attribute("title") == "the registry's newest is 9.4.0"


def test_the_package_page_answers_with_the_right_blocker(browser: webdriver.Chrome, site: str) -> None:
    load(browser, site + "package.html?" + urlencode({"id": "homebrew:ffmpeg"}))
    assert browser.find_element(By.ID, "package-blockers").text == "node"
    assert "Blocked" in browser.find_element(By.ID, "answer").text
    assert "open" in browser.find_element(By.ID, "package-breaker").text  # homebrew's breaker
    browser.find_element(By.LINK_TEXT, "node").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
    )
    assert browser.find_element(By.ID, "package-blockers").text == "ada-url"
    load(browser, site + "package.html?" + urlencode({"id": "ada-url"}))
    assert "blocks 2 package(s)" in browser.find_element(By.ID, "answer").text


def test_the_blockers_page_shows_direct_and_transitive_dependents_apart(
    browser: webdriver.Chrome, site: str
) -> None:
    load(browser, site + "blockers.html")
    row = next(
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "#blockers tbody tr")
        if r.find_elements(By.TAG_NAME, "td")[0].text == "ada-url"
    )
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:] == ["2", "1", "homebrew:node", "homebrew:ffmpeg"]  # ffmpeg only through node


@pytest.mark.parametrize("name", [HOSTILE, QUOTED, TRAVERSAL])
def test_hostile_package_names_render_as_text(browser: webdriver.Chrome, site: str, name: str) -> None:
    load(browser, site + "package.html?" + urlencode({"id": f"npm:{name}"}))
    assert browser.find_element(By.ID, "package-title").text == f"npm:{name}"
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main script") == []
    assert no_alert(browser)
    load(browser, site + "queue.html?" + urlencode({"status": "failed"}))
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#queue-rows a")]
    assert name in links
    target = browser.find_element(By.LINK_TEXT, name).get_attribute("href")
    assert target is not None and target.startswith(site + "package.html?id=")  # stays on the site
    assert no_alert(browser)


def test_a_hostile_failure_message_renders_as_text(browser: webdriver.Chrome, site: str) -> None:
    load(browser, site + "index.html")
    recent = browser.find_element(By.ID, "recent-failures").text
    assert "<script>alert(2)</script>" in recent and HOSTILE in recent
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main script") == []
    assert no_alert(browser)


def test_health_first_with_breakers_and_staleness(browser: webdriver.Chrome, site: str) -> None:
    load(browser, site + "index.html")
    first = browser.find_element(By.CSS_SELECTOR, "main > *:nth-child(2)")
    assert first.get_attribute("id") == "health-banner"
    lines = first.find_elements(By.TAG_NAME, "li")
    assert [li.get_attribute("data-code") for li in lines] == ["no_run", "probe_overdue", "no_merge"]
    assert lines[0].text.startswith("Nothing has run since 2026-06-26 20:51:08 UTC")
    assert "Probes overdue: homebrew" in lines[1].text and "bad" in (first.get_attribute("class") or "")
    assert "days ago" in browser.find_element(By.ID, "hours-since-merge").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart") and browser.find_elements(
        By.CSS_SELECTOR, "svg.chart rect"
    )


def test_screenshots_of_the_main_pages(browser: webdriver.Chrome, site: str, tmp_path: Path) -> None:
    """Fixture site, and tsuku's real data when present, shot for review into build/screenshots/."""
    shots = {
        "index": "index.html",
        "failures": "failures.html",
        "package": "package.html?id=homebrew%3Affmpeg",
        "runs": "runs.html",
        "blockers": "blockers.html",
        "queue": "queue.html?status=blocked",
    }
    for name, page in shots.items():
        load(browser, site + page)
        screenshot(browser, f"fixture-{name}")
    if SHARED_TSUKU.is_dir():
        out = tmp_path / "real"
        write_site(Dashboard(read_repository(SHARED_TSUKU), NOW), out)
        server, url = _serve(out)
        try:
            for name, page in {
                **shots,
                "package": "package.html?id=homebrew%3Anode",
                "run": "run.html?id=2026-05-07",
            }.items():
                load(browser, url + page)
                screenshot(browser, f"tsuku-{name}")
        finally:
            server.shutdown()
            server.server_close()
    assert (SCREENSHOTS / "fixture-index.png").stat().st_size > 10_000
    shutil.rmtree(tmp_path, ignore_errors=True)


# --- the states of the health page, a phone's width, dark mode, the keyboard ------------------

STATE_NOW = dt.datetime(2026, 8, 15, 12, tzinfo=dt.UTC)


def _state_data(state: str) -> RepositoryData:
    """A small repository in one state: healthy, stopped or stale (the unreadable control file is
    read from disk: ``state_sites``)."""
    ago = {"healthy": 1, "stopped": 1, "stale": 30}[state]
    day = dt.timedelta(days=1)
    runs = (
        Run("2026-08-12-001", "pypi", STATE_NOW - 3 * day, 4, 1, ecosystems=("pypi",)),
        Run("2026-08-13-001", "pypi", STATE_NOW - 2 * day, 0, 0, ecosystems=("pypi",)),
        Run(
            "2026-08-13-002", "pypi", STATE_NOW - 2 * day + dt.timedelta(hours=1), 0, 0, ecosystems=("pypi",)
        ),
        Run("2026-08-15-001", "pypi", STATE_NOW - dt.timedelta(hours=ago), 3, 2, ecosystems=("pypi",)),
    )
    packages = (
        Package("black", "pypi:black", "pypi", 1, "success"),
        Package("httpie", "pypi:httpie", "pypi", 2, "failed", failure_count=2),
        Package(
            "task",
            "homebrew:go-task",
            "homebrew",
            2,
            "pending",
            next_retry_at=dt.datetime(1734, 3, 17, tzinfo=dt.UTC),
        ),
        Package("go-task", "homebrew:go-task", "homebrew", 2, "pending"),
    )
    failure = FailureEvent(
        package="pypi:httpie",
        ecosystem="pypi",
        category="validation_failed",
        subcategory="install_failed",
        message="expected executable http not found",
        timestamp="2026-08-15T10:55:00Z",
        batch_id="2026-08-15-001",
        environments=("linux-debian-glibc-x86_64",),
    )
    stop = state == "stopped"
    control = Control(
        enabled=not stop,
        reason="incident 42: registry outage" if stop else "",
        disabled_by="ops" if stop else "",
        breakers=(Breaker("pypi"), Breaker("homebrew")),
        budget=BudgetUse(
            week_start="2026-08-10", macos_used=100, macos_limit=1000, linux_used=50, linux_limit=5000
        ),
    )
    curated = (Curated("rg", "cargo:ripgrep"), Curated("bat", "cargo:bat", high_risk=True))
    return RepositoryData(
        packages=packages, failures=(failure,), runs=runs, control=control, disambiguations=curated
    )


@pytest.fixture(scope="module")
def state_sites(
    tsuku_repo_module: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """One served site per state: healthy, stopped, stale, and tsuku's layout with an unreadable
    batch-control.json (read from disk)."""
    root = tmp_path_factory.mktemp("states")
    for state in ("healthy", "stopped", "stale"):
        write_site(Dashboard(_state_data(state), STATE_NOW), root / state)
    broken = root / "unreadable-repo"
    shutil.copytree(tsuku_repo_module, broken)
    (broken / "batch-control.json").write_text('{"enabled": tr', encoding="utf-8")
    write_site(Dashboard(read_repository(broken), NOW), root / "unreadable")
    server, url = _serve(root)
    yield {s: f"{url}{s}/" for s in ("healthy", "stopped", "stale", "unreadable")}
    server.shutdown()
    server.server_close()


def narrow(driver: webdriver.Chrome, width: int | None) -> None:
    """A phone's viewport (``width`` CSS pixels), or back to the window's (None)."""
    if width is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        metrics = {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def scheme(driver: webdriver.Chrome, value: str) -> None:
    """Emulate the reader's ``prefers-color-scheme`` (``light`` or ``dark``)."""
    features = [{"name": "prefers-color-scheme", "value": value}]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})


def shoot(driver: webdriver.Chrome, name: str) -> None:
    """A screenshot of the page's top 2,400 px at the current viewport (CDP: the narrow width is
    kept)."""
    import base64

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width, height = driver.execute_script("return [window.innerWidth, document.documentElement.scrollHeight]")
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, 2400), "scale": 1}  # the top: quick
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"captureBeyondViewport": True, "format": "png", "clip": clip}
    )
    (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def overflow(driver: webdriver.Chrome) -> list[str]:
    """What sticks out of the viewport: the page scrolling sideways, or a nav link cut off."""
    out = []
    width = driver.execute_script("return window.innerWidth")
    if driver.execute_script("return document.documentElement.scrollWidth") > width:
        out.append("the page scrolls sideways")
    for a in driver.find_elements(By.CSS_SELECTOR, "header a"):
        box = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.width];", a
        )
        if box[0] < 0 or box[1] > width or box[2] == 0:
            out.append(f"nav link {a.text!r} at {box}")
    return out


STATES = {
    "healthy": ("ok", []),
    "stopped": ("bad", ["stopped"]),
    "stale": ("bad", ["no_run"]),
    "unreadable": ("bad", ["control_unreadable", "no_run"]),  # no breaker known without the file
}


@pytest.mark.parametrize("width", [None, 390])
@pytest.mark.parametrize("state", list(STATES))
def test_the_banner_of_each_state(
    browser: webdriver.Chrome, state_sites: dict[str, str], state: str, width: int | None
) -> None:
    narrow(browser, width)
    try:
        load(browser, state_sites[state] + "index.html")
        banner = browser.find_element(By.ID, "health-banner")
        level, first_codes = STATES[state]
        assert level in (banner.get_attribute("class") or "").split()
        codes = [li.get_attribute("data-code") for li in banner.find_elements(By.TAG_NAME, "li")]
        assert codes[: len(first_codes)] == first_codes
        if state == "healthy":
            assert banner.text.startswith("Healthy")
        if state == "stopped":
            assert banner.text.startswith(
                "Emergency stop: pipeline stopped: incident 42: registry outage by ops"
            )
        if state == "stale":
            assert "Nothing has run since 2026-08-14 06:00:00 UTC (30.0 h;" in banner.text
            assert "bad-text" in (browser.find_element(By.ID, "since-last-run").get_attribute("class") or "")
        if state == "unreadable":
            assert banner.text.startswith("batch-control.json cannot be read (expected valid JSON")
            # its breakers are not shown as closed: nothing is known of them
            assert {p.text for p in browser.find_elements(By.CSS_SELECTOR, "#breakers .pill")} == {"unknown"}
            assert "cannot be read" in browser.find_element(By.ID, "control-note").text
        if width:
            assert overflow(browser) == []
        shoot(browser, f"state-{state}" + (f"-{width}" if width else ""))
    finally:
        narrow(browser, None)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_at_390_px_loses_nothing(browser: webdriver.Chrome, site: str, page: str) -> None:
    query = {"package.html": "?id=homebrew%3Anode", "run.html": "?id=2026-03-11", **FAILURE_QUERY}.get(
        page, ""
    )
    narrow(browser, 390)
    try:
        load(browser, site + page + query)
        assert browser.execute_script("return window.innerWidth") == 390
        assert overflow(browser) == []
        nav = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "header nav a")]
        assert nav == ["Health", "Queue", "Failures", "Blockers", "Runs"]
        shoot(browser, f"narrow-{page.removesuffix('.html')}")
    finally:
        narrow(browser, None)


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_the_theme_follows_prefers_color_scheme(
    browser: webdriver.Chrome, state_sites: dict[str, str]
) -> None:
    try:
        seen = {}
        for value in ("light", "dark"):
            scheme(browser, value)
            load(browser, state_sites["stale"] + "index.html")
            body = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
            card = browser.find_element(By.CSS_SELECTOR, ".card")
            text = browser.execute_script("return getComputedStyle(arguments[0]).color", card)
            seen[value] = (_luminance(body), _luminance(text))
            narrow(browser, 390)
            shoot(browser, f"theme-{value}-390")
            narrow(browser, None)
        assert seen["light"][0] > 0.8 and seen["light"][1] < 0.3  # dark text on a light page
        assert seen["dark"][0] < 0.15 and seen["dark"][1] > 0.7  # light text on a dark page
    finally:
        scheme(browser, "light")
        narrow(browser, None)


def test_the_keyboard_reaches_every_control_with_a_visible_focus(
    browser: webdriver.Chrome, state_sites: dict[str, str]
) -> None:
    load(browser, state_sites["healthy"] + "runs.html")
    body = browser.find_element(By.TAG_NAME, "body")
    reached: list[str] = []
    for _ in range(12):
        body.send_keys(Keys.TAB) if not reached else browser.switch_to.active_element.send_keys(Keys.TAB)
        active = browser.switch_to.active_element
        style = browser.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", active
        )
        assert style[0] != "none" and style[1] != "0px", (
            f"no visible focus on {active.tag_name} {active.text!r}"
        )
        reached.append(active.get_attribute("id") or active.text or active.tag_name)
    assert reached[0] == "Skip to content"
    assert {"Health", "Queue", "Failures", "Blockers", "Runs"} <= set(reached)
    assert {"filter-ecosystem", "filter-outcome"} <= set(reached)
    # a fold of empty runs opens from the keyboard
    toggle = browser.find_element(By.CSS_SELECTOR, "button.fold-toggle")
    assert not [m for m in browser.find_elements(By.CSS_SELECTOR, "tr.fold-member") if m.is_displayed()]
    toggle.send_keys(Keys.ENTER)
    members = browser.find_elements(By.CSS_SELECTOR, "tr.fold-member")
    assert len(members) == 2 and all(m.is_displayed() for m in members)
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.send_keys(Keys.ENTER)
    assert not any(m.is_displayed() for m in members)


def test_runs_fold_empty_ones_filter_and_failures_link_to_their_run(
    browser: webdriver.Chrome, state_sites: dict[str, str]
) -> None:
    url = state_sites["healthy"]
    load(browser, url + "runs.html")
    assert browser.find_element(By.ID, "runs-count").text.startswith(
        "2 run(s) with packages and 2 empty run(s)"
    )
    (fold,) = browser.find_elements(By.CSS_SELECTOR, "tr.fold")
    assert fold.text.startswith("2 empty run(s) (no package)")
    Select(browser.find_element(By.ID, "filter-outcome")).select_by_value("with failures")
    assert [r.text.split()[0] for r in browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")] == [
        "2026-08-15-001"
    ]
    assert "outcome=with+failures" in browser.current_url
    # the runs' failure count opens the failures of that run
    browser.find_element(By.CSS_SELECTOR, "#runs a[href^='failures.html']").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
    )
    assert "run=2026-08-15-001" in browser.current_url
    assert [r.split()[3] for r in rows(browser, "failure-rows")] == ["pypi:httpie"]
    # empty runs unfolded from the URL
    load(browser, url + "runs.html?empty=shown")
    members = browser.find_elements(By.CSS_SELECTOR, "tr.fold-member")
    assert len(members) == 2 and all(m.is_displayed() for m in members)
    # a failure links to its run, and the run lists it
    load(browser, url + "failures.html")
    browser.find_element(By.CSS_SELECTOR, "#failure-rows a[href^='run.html']").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
    )
    assert browser.find_element(By.ID, "run-title").text == "Run 2026-08-15-001"
    assert "pypi:httpie" in browser.find_element(By.ID, "run-failures").text


def test_charts_say_their_values_and_skip_days_without_packages(
    browser: webdriver.Chrome, state_sites: dict[str, str]
) -> None:
    load(browser, state_sites["healthy"] + "index.html")
    summary = browser.find_element(By.CSS_SELECTOR, "#merged-chart .chart-summary").text
    assert summary.startswith("3 merged over 3 day(s) with runs; most on 2026-08-15 (2)")
    # 2026-08-13's two runs had no package: no dot, no 0% (3 days, 2 rated)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rate-chart circle")) == 2
    assert "pypi 67% on 2026-08-15" in browser.find_element(By.CSS_SELECTOR, "#rate-chart .legend").text
    browser.find_element(By.CSS_SELECTOR, "#rate-chart summary").click()
    days = [
        tr.text.split()[0] for tr in browser.find_elements(By.CSS_SELECTOR, "#rate-chart details tbody tr")
    ]
    assert days == ["2026-08-15", "2026-08-12"]


def test_progress_overrides_aliases_and_an_overflowed_retry(
    browser: webdriver.Chrome, state_sites: dict[str, str]
) -> None:
    load(browser, state_sites["healthy"] + "queue.html")
    progress = browser.find_element(By.ID, "progress").text
    assert "pypi 50% in of 2" in progress and "1 in · 1 failed" in progress
    overrides = browser.find_element(By.ID, "overrides").text
    assert "rg cargo:ripgrep curated" in overrides and "high risk" in overrides
    rows = {
        tr.text.split()[0]: tr.text for tr in browser.find_elements(By.CSS_SELECTOR, "#queue-rows tbody tr")
    }
    assert "alias of go-task" in rows["task"] and "alias of task" in rows["go-task"]
    assert "invalid (1734-03-17, overflowed backoff)" in rows["task"]
    load(browser, state_sites["healthy"] + "package.html?" + urlencode({"id": "homebrew:go-task"}))
    entries = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "h2.entry-title")]
    assert entries == ["Queue entry “go-task” alias of task", "Queue entry “task” alias of go-task"]
    assert "overflowed backoff, not a date" in browser.find_element(By.ID, "main").text


def test_over_tsukus_snapshot_the_banner_says_nothing_has_run(
    browser: webdriver.Chrome, tsuku_snapshot: Path, tmp_path: Path
) -> None:
    out = tmp_path / "snapshot"
    write_site(Dashboard(read_repository(tsuku_snapshot), dt.datetime(2026, 12, 1, tzinfo=dt.UTC)), out)
    server, url = _serve(out)
    try:
        load(browser, url + "index.html")
        first = browser.find_element(By.CSS_SELECTOR, "#health-banner li")
        assert first.text.startswith("Nothing has run since 2026-06-26 20:51:08 UTC (157 days;")
        narrow(browser, 390)
        load(browser, url + "index.html")
        assert overflow(browser) == []
        shoot(browser, "snapshot-index-390")
        scheme(browser, "dark")
        load(browser, url + "runs.html")
        assert browser.find_element(By.ID, "runs-count").text.startswith(
            "79 run(s) with packages and 1631 empty run(s)"
        )
        shoot(browser, "snapshot-runs-390-dark")
    finally:
        scheme(browser, "light")
        narrow(browser, None)
        server.shutdown()
        server.server_close()


# --- failure pages, the package history, page weight ------------------------------------

HISTORY_NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
PR = "https://github.com/example/recipes/pull/77"
DETAIL = "Collecting flaky\nrecipe validation failed\nhomepage must be https\n  at recipes/f/flaky.toml:3"


def _history_data() -> RepositoryData:
    """pypi:flaky failed in 45 batches (one a day); the newest batch has a manifest with a PR."""
    failures = tuple(
        FailureEvent(
            package="pypi:flaky",
            ecosystem="pypi",
            category="validation_failed",
            subcategory="install_failed",
            message=f"failure number {n}",
            timestamp=format_time(T0 + dt.timedelta(hours=n)),
            batch_id=f"2026-02-01-{n:03d}",
            environments=("linux-debian-glibc-x86_64",),
            file=f"data/failures/pypi-{n:03d}.jsonl",
            detail=f"{DETAIL}\nattempt {n}",
        )
        for n in range(1, 46)
    )
    runs = tuple(
        Run(batch_id=f"2026-02-01-{n:03d}", ecosystem="pypi", ecosystems=("pypi",),
            timestamp=T0 + dt.timedelta(hours=n, minutes=5), total=1, merged=0)
        for n in range(1, 46)
    )  # fmt: skip
    manifest = Manifest(
        batch_id="2026-02-01-045",
        ecosystem="pypi",
        merged_at=None,
        packages=(BatchOutcome("flaky", "pypi:flaky", "failed", recipe_path="recipes/f/flaky.toml"),),
        pull_request=PR,
    )
    package = Package(name="flaky", source="pypi:flaky", ecosystem="pypi", priority=2, status="failed",
                      failure_count=45)  # fmt: skip
    return RepositoryData(packages=(package,), failures=failures, runs=runs, manifests=(manifest,))


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("history")
    write_site(Dashboard(_history_data(), HISTORY_NOW), out)
    server, url = _serve(out)
    yield url
    server.shutdown()
    server.server_close()


def _key(n: int) -> dict[str, str]:
    return {"package": "pypi:flaky", "batch": f"2026-02-01-{n:03d}", "category": "validation_failed",
            "subcategory": "install_failed"}  # fmt: skip


def _fetched(driver: webdriver.Chrome) -> list[str]:
    names = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    return sorted(urlparse(n).path.lstrip("/") for n in names if n.endswith(".json") or ".json?" in n)


@pytest.mark.parametrize("width", [None, 390])
def test_a_failure_page_shows_the_whole_cause_and_links_package_run_pr_recipe(
    browser: webdriver.Chrome, history_site: str, width: int | None
) -> None:
    narrow(browser, width)
    try:
        load(browser, history_site + "failure.html?" + urlencode(_key(45)))
        find = browser.find_element
        assert find("id", "failure-detail").text == f"{DETAIL}\nattempt 45"  # every line, in order
        assert str(find("css selector", "#failure-package a").get_attribute("href")).endswith(
            "package.html?id=pypi%3Aflaky"
        )
        assert find("css selector", "#failure-run a").text == "2026-02-01-045"
        assert find("css selector", "#failure-pr a").get_attribute("href") == PR
        assert find("id", "failure-recipe").text == "recipes/f/flaky.toml"
        assert _fetched(browser) == ["data/failure.json", f"data/packages/{_bucket('pypi:flaky')}.json"]
        assert overflow(browser) == []
        assert severe_logs(browser) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / f"failure{'-390' if width else ''}.png"))
        # an older one has no manifest: no PR, no recipe, said so
        load(browser, history_site + "failure.html?" + urlencode(_key(3)))
        assert find("id", "failure-pr").text.startswith("none recorded")
        assert find("id", "failure-detail").text.endswith("attempt 3")
        # a key that names no failure
        load(browser, history_site + "failure.html?" + urlencode({**_key(3), "batch": "nope"}))
        assert "No such failure" in find("id", "answer").text
    finally:
        narrow(browser, None)


def _bucket(key: str) -> int:
    from recipeline_dashboard.site import package_bucket

    return package_bucket(key)


def test_the_package_page_pages_through_the_whole_history(
    browser: webdriver.Chrome, history_site: str
) -> None:
    find, finds = browser.find_element, browser.find_elements
    load(browser, history_site + "package.html?id=pypi%3Aflaky")
    assert find("id", "history-count").text == "failures 1–20 of 45 (page 1 of 3)"
    shown = [tr.text for tr in finds("css selector", "#package-history tbody tr")]
    assert len(shown) == 20 and "failure number 45" in shown[0] and "failure number 26" in shown[-1]
    assert find("id", "history-prev").get_attribute("disabled") is not None
    find("id", "history-next").click()
    assert find("id", "history-count").text == "failures 21–40 of 45 (page 2 of 3)"
    assert parse_qs(urlparse(browser.current_url).query)["fpage"] == ["2"]
    load(browser, history_site + "package.html?id=pypi%3Aflaky&fpage=3")
    shown = [tr.text for tr in finds("css selector", "#package-history tbody tr")]
    assert len(shown) == 5 and "failure number 1 " in shown[-1]
    assert find("id", "history-next").get_attribute("disabled") is not None
    # each row opens its failure page
    finds("css selector", "#package-history tbody tr a[href^='failure.html']")[-1].click()
    load(browser, browser.current_url)
    assert find("id", "failure-detail").text.endswith("attempt 1")


def test_each_page_fetches_its_own_data_never_the_whole_document(
    browser: webdriver.Chrome, history_site: str
) -> None:
    for page in ("index", "queue", "failures", "runs", "run", "blockers"):
        load(browser, f"{history_site}{page}.html")
        assert _fetched(browser) == [f"data/{page}.json"]


SNAPSHOT_ARCHIVE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "tsuku-snapshot.tar.gz"
)


@pytest.mark.skipif(
    not SNAPSHOT_ARCHIVE.is_file(), reason=f"tsuku's snapshot not present at {SNAPSHOT_ARCHIVE}"
)
def test_first_render_of_each_page_at_10x_the_snapshot_is_reported(
    browser: webdriver.Chrome, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported, not asserted: ``data-render-ms`` (navigation start to the page drawn), the median
    of 3 loads of each page, and the bytes each fetched."""
    from recipeline_dashboard import read_repository
    from recipeline_dashboard.bench import unpack_snapshot

    repo = tmp_path / "repo"
    unpack_snapshot(SNAPSHOT_ARCHIVE, repo, scale=10)
    out = tmp_path / "site"
    write_site(Dashboard(read_repository(repo), dt.datetime(2026, 12, 1, tzinfo=dt.UTC)), out)
    failure = json.loads((out / "data" / "failures.json").read_text())["failure_details"][0]
    runs = json.loads((out / "data" / "runs.json").read_text())["runs"]
    queries = {
        "package.html": "?" + urlencode({"id": failure["package"]}),
        "failure.html": "?" + urlencode({"package": failure["package"], "batch": failure["batch_id"],
                                         "category": failure["category"],
                                         "subcategory": failure["subcategory"] or ""}),
        "run.html": "?" + urlencode({"id": runs[0]["key"]}),
    }  # fmt: skip
    server, url = _serve(out)
    report = []
    try:
        for page in ("index", "queue", "failures", "package", "failure", "runs", "run", "blockers"):
            times = []
            for _ in range(3):
                browser.get("about:blank")
                load(browser, url + page + ".html" + queries.get(page + ".html", ""))
                times.append(
                    int(str(browser.find_element("tag name", "body").get_attribute("data-render-ms")))
                )
            size = browser.execute_script(
                "return performance.getEntriesByType('resource').filter((e) => e.name.includes('.json'))"
                ".reduce((n, e) => n + e.decodedBodySize, 0)"
            )
            report.append(f"{page}: {sorted(times)[1]} ms, {size / 1e6:.2f} MB of data")
            time.sleep(0)
    finally:
        server.shutdown()
        server.server_close()
    with capsys.disabled():
        print("\nfirst render at 10x tsuku's snapshot (median of 3): " + "; ".join(report))
