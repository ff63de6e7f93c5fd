"""The gateway as a user runs it (`python -m app`, which starts its emulator as a child process),
and Debian's chromium driven headless by Selenium through Debian's chromedriver.

The browser resolves no host name but 127.0.0.1, so a page that needs a CDN fails here as it
would behind a firewall. Each test's screenshots are written under tmp/artefacts/browser/ (the
path is printed at the end of the run); `readme-playground.png` there is the README's picture
(docs/img/playground.png).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.support.browser import ARTEFACTS, Served, browser_log, chromium


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    """The gateway without API keys, as `make run` starts it."""
    server = Served()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """An empty directory for this run's screenshots."""
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are."""
    if ARTEFACTS.is_dir() and any(ARTEFACTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {ARTEFACTS}")


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """One chromium for the run; each test opens its own page."""
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: WebDriver, served: Served) -> WebDriver:
    """The browser with this test's console emptied, allowed to use the clipboard on the
    gateway's origin (headless chromium asks no one)."""
    browser.get("about:blank")
    browser_log(browser)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": served.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    return browser
