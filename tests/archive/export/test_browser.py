"""The exported pages in a real browser, opened from disk (``file://``), the way one
checks an export before uploading it: headless Chromium (the module-scoped driver of
the web view's browser tests), clicked from the front page to a day and a permalink,
with the stylesheet applied under the pages' own Content-Security-Policy, and not one
error in the browser's console (a blocked script, a missing file) on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.archive.export.site import DAYS, HOSTILE, export, make_site
from tests.archive.web.test_browser import browser, in_viewport, style, wait  # noqa: F401


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("export")
    done = export(make_site(folder), folder / "out")
    assert done.returncode == 0, done.stderr
    yield folder / "out"


def errors(driver: Any) -> list[str]:
    """The console's errors since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_clicked_through_from_disk(out: Path, browser: Any) -> None:  # noqa: F811
    errors(browser)  # what earlier tests left
    browser.get((out / "index.html").as_uri())
    assert browser.current_url.startswith("file://")
    assert "#other" not in browser.page_source
    header = browser.find_element(By.CSS_SELECTOR, "header.top")
    assert style(browser, header, "display") == "flex"  # the stylesheet is in force
    browser.find_element(By.LINK_TEXT, "#demo").click()
    wait(browser, lambda d: d.current_url.endswith("/demo/%23demo/index.html"))
    browser.find_element(By.CSS_SELECTOR, f'table.cal a[href="{DAYS[0]}.html"]').click()
    wait(browser, lambda d: d.current_url.endswith(f"/demo/%23demo/{DAYS[0]}.html"))
    lines = browser.find_elements(By.CSS_SELECTOR, "#log .l")
    assert len(lines) == 5
    hostile = browser.find_element(By.CSS_SELECTOR, "#L3 .tx")
    assert hostile.text == f"needle {HOSTILE}"  # shown as text
    assert browser.find_elements(By.CSS_SELECTOR, "#log script") == []
    # the permalink of a line: the URL names it, and it is highlighted
    browser.find_element(By.CSS_SELECTOR, '#L4 a.t[href="#L4"]').click()
    wait(browser, lambda d: d.current_url.endswith(f"{DAYS[0]}.html#L4"))
    line, other = browser.find_element(By.ID, "L4"), browser.find_element(By.ID, "L1")
    wait(browser, lambda d: in_viewport(d, line))
    assert style(browser, line, "background-color") != style(browser, other, "background-color")
    permalink = browser.current_url
    # the next day, and back through the crumbs to the front page
    browser.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
    wait(browser, lambda d: d.current_url.endswith(f"/{DAYS[1]}.html"))
    assert "second day" in browser.find_element(By.ID, "log").text
    browser.find_element(By.CSS_SELECTOR, "nav.crumbs a").click()
    wait(browser, lambda d: d.current_url == (out / "index.html").as_uri())
    # a permalink opened afresh lands on its line
    browser.get(permalink)
    line = browser.find_element(By.ID, "L4")
    wait(browser, lambda d: in_viewport(d, line))
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert errors(browser) == []
