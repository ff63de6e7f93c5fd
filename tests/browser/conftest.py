"""The gateway as a user runs it (`python -m app`, which starts its emulator as a child process),
and Debian's chromium driven headless by Selenium through Debian's chromedriver.

The browser resolves no host name but 127.0.0.1, so a page that needs a CDN fails here as it
would behind a firewall. Each test's screenshots are written under tmp/artefacts/browser/ (the
path is printed at the end of the run); `readme-playground.png` there is the README's picture
(docs/img/playground.png).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).parents[2]
ARTEFACTS = ROOT / "tmp" / "artefacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """`python -m app` on free ports, its stderr read on a thread so it never blocks on a pipe."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))
        }
        # The pages' tests drive Titan G1 where they name no model (tests/support/gateway.py's
        # TITAN_DEFAULT).
        environment.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            EMULATOR_PORT=str(free_port()),
            GATEWAY_DEFAULT_MODEL="titan",
        )
        environment.update(env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_until_serving()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def _wait_until_serving(self) -> None:
        # uvicorn's own announcement for the gateway's port (the emulator announces its own).
        while True:
            try:
                line = self._lines.get(timeout=60)
            except queue.Empty:
                self.stop()
                pytest.fail("the gateway did not start within 60 s")
            if line is None:
                pytest.fail(f"the gateway exited ({self.process.wait()}) before serving")
            if f"Uvicorn running on {self.url}" in line:
                return

    def stop(self) -> None:
        """SIGTERM to the gateway's process group (its emulator too), then wait for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()


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


def chromium() -> WebDriver:
    """Headless chromium (Debian's) through Debian's chromedriver: naming the driver's path keeps
    Selenium Manager from running, so nothing is downloaded."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in CI, where chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
        # Offline by construction: only the gateway's address resolves, and chromium's own
        # background traffic (updates, metrics, safe browsing) is off.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


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
    browser.get_log("browser")
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": served.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    return browser


def console_errors(driver: WebDriver) -> list[str]:
    """The console's errors since the last call: CSP violations, failed loads, exceptions."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
