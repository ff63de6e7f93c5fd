"""The gateway as a user runs it (`python -m app`, which starts its emulator as a child process),
and Debian's chromium driven headless by Selenium through Debian's chromedriver."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.support.files import ROOT
from tests.support.served import free_port

ARTEFACTS = ROOT / "tmp" / "artefacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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


def console_errors(driver: WebDriver) -> list[str]:
    """The console's errors since the last call: CSP violations, failed loads, exceptions."""
    return [entry["message"] for entry in browser_log(driver) if entry["level"] == "SEVERE"]


def browser_log(driver: WebDriver) -> list[dict[str, Any]]:
    """The console's entries since the last call (Selenium leaves `get_log` untyped)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return entries
