"""The web view in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium, against the web server run as a child process.

One browser and one server for the module, to keep it fast.  The server is the real
command, ``python -m logbot web -c CONFIG --port 0``, with its SQLite index (in the
temporary folder) following the log files, so a line written to a file during a test
reaches a live page through the whole chain.  Screenshots of a day page and of search
results are written to the module's temporary ``screenshots`` folder (its path is
printed: run with ``-s`` to see it).
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.archive.web.helpers import record, write_log

WAIT = 15.0  # seconds the browser or the server may take to catch up, at most
HOSTILE_SCRIPT = "<script>window.pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=window.pwned=2>"
LONG_WORD = "W" * 5000
TODAY = datetime.datetime.now(datetime.UTC).date().isoformat()
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def day_records(day: str, count: int, **kw: Any) -> list[dict[str, Any]]:
    return [
        record(f"{day}T{i // 60 % 24:02d}:{i % 60:02d}:00", f"line {i} of {day}", **kw)
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The logs, the config, and the server on a free port: ``{"url", "root", ...}``."""
    folder = tmp_path_factory.mktemp("web")
    root = folder / "logs"
    second = day_records("2026-03-02", 200)
    second[120] = record("2026-03-02T02:00:30", f"needle {HOSTILE_SCRIPT}", nick="<b>evil</b>")
    second[121] = record("2026-03-02T02:01:30", HOSTILE_IMG, nick="\u202eevil")
    second[122] = record("2026-03-02T02:02:30", f"long {LONG_WORD} word")
    second[123] = record("2026-03-02T02:03:30", "\x02bold\x02 \x034,1red\x03 https://example.com/")
    write_log(root, day_records("2026-03-01", 5) + second)
    write_log(root, [record(f"{TODAY}T00:00:00", "first line today", type="notice")])
    write_log(root, [record("2026-03-02T12:00:00", "needle in secret", channel="#secret")])
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "logging": {"root": str(root)},
                "networks": [{"name": "demo", "servers": ["127.0.0.1"], "nick": "logbot"}],
                "index": {"path": str(folder / "index.sqlite3"), "interval": 0.2},
                "web": {"publish": {"demo": ["#demo"]}, "follow_interval": 0.5},
            }
        )
    )
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logbot",
            "--log-level",
            "warning",
            "web",
            "-c",
            str(config),
            "--port",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        found = re.match(r"logbot web: serving (http://127\.0\.0\.1:\d+/) \(1 channel ", line)
        assert found, f"the server said {line!r}"
        yield {"url": found.group(1).rstrip("/"), "root": root, "folder": folder}
    finally:
        child.terminate()
        try:
            assert child.wait(timeout=WAIT) == 0
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail(
            "the browser tests need headless Chromium: install Debian's chromium and "
            "chromium-driver (apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.add_argument("--window-size=1200,900")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots in {folder}")
    return folder


def wait(driver: webdriver.Chrome, condition: Any) -> Any:
    return WebDriverWait(driver, WAIT, poll_frequency=0.05).until(condition)


def in_viewport(driver: webdriver.Chrome, element: Any) -> bool:
    return bool(
        driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;",
            element,
        )
    )


def style(driver: webdriver.Chrome, element: Any, prop: str) -> str:
    return str(
        driver.execute_script(
            "return getComputedStyle(arguments[0]).getPropertyValue(arguments[1]);", element, prop
        )
    )


def test_front_page_channel_day_and_neighbours(site: dict[str, Any], browser: Any) -> None:
    browser.get(site["url"] + "/")
    assert "#secret" not in browser.page_source
    browser.find_element(By.LINK_TEXT, "#demo").click()
    wait(browser, lambda d: d.current_url.endswith("/demo/%23demo/"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("#demo")
    browser.find_element(By.CSS_SELECTOR, 'a[href="/demo/%23demo/2026-03-01"]').click()
    wait(browser, lambda d: d.current_url.endswith("/demo/%23demo/2026-03-01"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log .l")) == 5
    browser.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
    wait(browser, lambda d: d.current_url.endswith("/2026-03-02"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#log .l")) == 200
    browser.find_element(By.CSS_SELECTOR, 'a[rel="prev"]').click()
    wait(browser, lambda d: d.current_url.endswith("/2026-03-01"))


def test_a_permalink_scrolls_to_and_highlights_its_line(site: dict[str, Any], browser: Any) -> None:
    browser.get(site["url"] + "/demo/%23demo/2026-03-02#L150")
    line = browser.find_element(By.ID, "L150")
    wait(browser, lambda d: in_viewport(d, line))
    other = browser.find_element(By.ID, "L1")
    assert not in_viewport(browser, other)  # it did scroll
    assert style(browser, line, "background-color") != style(browser, other, "background-color")
    assert style(browser, line, "border-left-color") != style(browser, other, "border-left-color")
    # a click on another line's time moves the highlight there
    browser.find_element(By.CSS_SELECTOR, '#L151 a.t[href="#L151"]').click()
    wait(browser, lambda d: d.current_url.endswith("#L151"))
    plain = style(browser, other, "background-color")
    assert style(browser, browser.find_element(By.ID, "L151"), "background-color") != plain
    assert style(browser, line, "background-color") == plain  # L150 lost the highlight


def test_hostile_lines_are_text_and_run_nothing(
    site: dict[str, Any], browser: Any, shots: Path
) -> None:
    browser.get(site["url"] + "/demo/%23demo/2026-03-02#L121")
    wait(browser, lambda d: d.find_element(By.ID, "L121").is_displayed())
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#L121 .tx, #L122 .tx")]
    assert texts == [f"needle {HOSTILE_SCRIPT}", HOSTILE_IMG]
    assert browser.find_elements(By.CSS_SELECTOR, "#log img, #log script") == []
    assert browser.find_element(By.CSS_SELECTOR, "#L121 .nk").text == "<<b>evil</b>>"
    # a plain line is in the page's font; only the mIRC spans change it
    body_font = style(browser, browser.find_element(By.TAG_NAME, "body"), "font-family")
    assert style(browser, browser.find_element(By.CSS_SELECTOR, "#L120 .tx"), "font-family") == (
        body_font
    )
    formatted = browser.find_element(By.CSS_SELECTOR, "#L124 .tx")
    assert formatted.find_element(By.CSS_SELECTOR, "span.b").text == "bold"
    red = formatted.find_element(By.CSS_SELECTOR, "span.f4.k1")
    assert red.text == "red"
    assert style(browser, red, "color") == "rgb(255, 0, 0)"
    assert style(browser, red, "background-color") == "rgb(0, 0, 0)"
    assert (
        int(style(browser, formatted.find_element(By.CSS_SELECTOR, "span.b"), "font-weight")) >= 700
    )
    link = formatted.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == "https://example.com/"
    assert link.get_attribute("rel") == "nofollow noopener noreferrer"
    browser.save_screenshot(str(shots / "day-page.png"))
    assert (shots / "day-page.png").stat().st_size > 1000


def test_a_phone_never_scrolls_sideways(site: dict[str, Any], browser: Any) -> None:
    browser.set_window_size(400, 850)
    try:
        for path in ("/", "/demo/%23demo/", "/demo/%23demo/2026-03-02#L123", "/search?q=line"):
            browser.get(site["url"] + path)
            wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
            widths = browser.execute_script(
                "return [document.documentElement.scrollWidth, "
                "document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], (path, widths)
    finally:
        browser.set_window_size(1200, 900)


def test_a_search_result_leads_to_its_line(site: dict[str, Any], browser: Any, shots: Path) -> None:
    browser.get(site["url"] + "/")
    box = browser.find_element(By.CSS_SELECTOR, "header form input[name=q]")
    box.send_keys("line")
    box.submit()
    wait(browser, lambda d: "/search?q=line" in d.current_url)
    results = browser.find_elements(By.CSS_SELECTOR, "ol.hits li")
    assert len(results) == 100  # max_results, newest first
    browser.save_screenshot(str(shots / "search-results.png"))
    assert (shots / "search-results.png").stat().st_size > 1000
    browser.get(site["url"] + "/search?q=needle")
    links = browser.find_elements(By.CSS_SELECTOR, "ol.hits .where a")
    assert [a.get_attribute("href") for a in links] == [
        site["url"] + "/demo/%23demo/2026-03-02#L121"  # not the unpublished #secret's
    ]
    links[0].click()
    wait(browser, lambda d: d.current_url.endswith("/2026-03-02#L121"))
    line = browser.find_element(By.ID, "L121")
    wait(browser, lambda d: in_viewport(d, line))
    assert "needle" in line.text
    assert style(browser, line, "background-color") != style(
        browser, browser.find_element(By.ID, "L1"), "background-color"
    )


def test_todays_page_follows_new_lines(site: dict[str, Any], browser: Any) -> None:
    browser.get(site["url"] + f"/demo/%23demo/{TODAY}")
    log = browser.find_element(By.ID, "log")
    assert log.get_attribute("data-follow") == f"/demo/%23demo/{TODAY}/after/"
    assert len(log.find_elements(By.CSS_SELECTOR, ".l")) == 1
    # with the script, the no-script "follow" link is hidden
    assert not browser.find_element(By.CSS_SELECTOR, "#live a.nojs").is_displayed()
    fresh = f"written after the page loaded {HOSTILE_SCRIPT}"
    write_log(site["root"], [record(f"{TODAY}T00:00:01", fresh, nick="late")])
    wait(browser, lambda d: len(d.find_elements(By.ID, "L2")) == 1)
    assert browser.find_element(By.CSS_SELECTOR, "#L2 .tx").text == fresh
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    write_log(site["root"], [record(f"{TODAY}T00:00:02", "and another", type="action")])
    wait(browser, lambda d: len(d.find_elements(By.ID, "L3")) == 1)
    assert [e.get_attribute("id") for e in log.find_elements(By.CSS_SELECTOR, ".l")] == [
        "L1",
        "L2",
        "L3",
    ]
