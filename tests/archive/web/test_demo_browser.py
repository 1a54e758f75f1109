"""The issue's "done when", as a new user does it: ``logbot demo``, then ``logbot web`` on
the demo's folder, and the demo's conversation clicked through in a real browser,
searched, and a line linked to.

Both commands run as child processes exactly as the README shows them (the demo's
config has the ``web:`` section that publishes its network); the browser is the
module-scoped headless Chromium of test_browser.py."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.archive.web.test_browser import WAIT, browser, in_viewport, style, wait  # noqa: F401


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("demo")
    demo = subprocess.run(
        [sys.executable, "-m", "logbot", "demo", "--dir", str(folder), "--seconds", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    config = folder / "config.yaml"
    assert f"logbot web -c {config}" in demo.stdout  # the demo says what to run
    child = subprocess.Popen(
        [sys.executable, "-m", "logbot", "web", "-c", str(config), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        found = re.match(r"logbot web: serving (http://127\.0\.0\.1:\d+)/ \(2 channels ", line)
        assert found, f"logbot web said {line!r}"
        yield found.group(1)
    finally:
        child.terminate()
        try:
            assert child.wait(timeout=WAIT) == 0
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_the_demo_clicked_through_searched_and_linked(
    demo_site: str,
    browser: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    browser.get(demo_site + "/")
    browser.find_element(By.LINK_TEXT, "#demo").click()
    wait(browser, lambda d: urlsplit(d.current_url).path == "/demo/%23demo/")
    day_links = browser.find_elements(By.CSS_SELECTOR, "a[href*='/demo/%23demo/20']")
    assert day_links, browser.page_source
    day_links[0].click()
    wait(
        browser,
        lambda d: re.fullmatch(r"/demo/%23demo/\d{4}-\d\d-\d\d", urlsplit(d.current_url).path),
    )
    page = browser.find_element(By.TAG_NAME, "main").text
    for said in ("hi everyone, this channel is logged", "hello alice!", "alice: pong", "waves"):
        assert said in page, page
    assert "this line stays out of the log" not in page  # the [nolog] line
    assert "off to lunch" in page and "is now known as bobby" in page

    search = browser.find_element(By.CSS_SELECTOR, "form.search input[name='q']")
    search.send_keys("lunch")
    search.submit()
    wait(browser, lambda d: urlsplit(d.current_url).path == "/search")
    results = browser.find_elements(By.CSS_SELECTOR, "main a[href*='#L']")
    assert results, browser.page_source
    target = urlsplit(results[0].get_attribute("href")).fragment
    results[0].click()
    wait(browser, lambda d: urlsplit(d.current_url).fragment == target)
    line = browser.find_element(By.ID, target)
    wait(browser, lambda d: in_viewport(d, line))
    assert "off to lunch" in line.text
    first = browser.find_element(By.ID, "L1")
    assert style(browser, line, "background-color") != style(browser, first, "background-color")
    # The permalink is a plain URL: opened afresh, it lands on the same line.
    permalink = browser.current_url
    browser.get(demo_site + "/")
    browser.get(permalink)
    line = browser.find_element(By.ID, target)
    wait(browser, lambda d: in_viewport(d, line))
    assert "off to lunch" in line.text
