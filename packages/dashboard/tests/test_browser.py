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
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from recipeline_dashboard import build_dashboard, read_repository, write_site

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
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
SHARED_TSUKU = REPO_ROOT.parent / "shared" / "fixtures" / "tsuku"
NOW = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)
HOSTILE = "<img src=x onerror=alert(1)>"
QUOTED = 'it\'s "quoted"'
TRAVERSAL = "../../etc/passwd"
PAGES = [
    "index.html",
    "queue.html",
    "failures.html",
    "package.html",
    "runs.html",
    "run.html",
    "blockers.html",
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
    write_site(build_dashboard(read_repository(tsuku_repo_module), NOW), out)
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
    query = {"package.html": "?id=homebrew%3Anode", "run.html": "?id=2026-03-11"}.get(page, "")
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
    assert "Breakers not closed: homebrew" in first.text and "No recipe merged" in first.text
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
        write_site(build_dashboard(read_repository(SHARED_TSUKU), NOW), out)
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
