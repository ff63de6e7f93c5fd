"""`python -m app` as a separate process calling the suite's emulator (or, given none, starting its
own as `make run` does), for tests that need the server the gateway ships (its HTTP protocol and
bounds) and read its JSON log lines.

with ServedGateway(emulator, GATEWAY_BODY_READ_TIMEOUT_S="5") as gateway:
    httpx.post(f"{gateway.url}/v1/images/text-to-image", json=...)
    gateway.wait_for_line(lambda line: line.get("status") == 499)
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from emulator.testing import EmulatorServer
from tests.support.files import ROOT
from tests.support.running import Running


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServedGateway(Running):
    """The gateway process, its settings given as environment variables (GATEWAY_...). Without
    `emulator`, it starts its own on a free port, as a user's `make run` does."""

    def __init__(self, emulator: EmulatorServer | None, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))
        }
        environment.update(HOST="127.0.0.1", PORT=str(self.port))
        # The port of the emulator the gateway starts itself, if it does.
        self.emulator_port = free_port() if emulator is None else None
        if emulator is None:
            environment["EMULATOR_PORT"] = str(self.emulator_port)
        else:
            environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = emulator.url
            # On the tests' emulator, a request without `model` means Titan G1, as in
            # conftest.TITAN_DEFAULT; `make run`'s own emulator keeps the shipped defaults.
            environment["GATEWAY_DEFAULT_MODEL"] = "titan"
        environment.update(env)
        self._env = environment
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ServedGateway:
        """Start the process and return once uvicorn says it serves."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=ROOT,
            env=self._env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for_text(f"Uvicorn running on {self.url}", timeout_s=60)
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def lines(self) -> list[str]:
        """Every stderr line so far."""
        with self._changed:
            return list(self._lines)

    def records(self) -> list[dict[str, Any]]:
        """Every JSON log line so far, parsed."""
        return [orjson.loads(line) for line in self.lines() if line.startswith("{")]

    def wait_for_text(self, text: str, timeout_s: float = 30) -> str:
        """Block until a stderr line contains `text` (it is woken by each new line)."""
        line: str = self._wait(
            lambda lines: next((line for line in lines if text in line), None), timeout_s
        )
        return line

    def wait_for_records(
        self, matches: Callable[[dict[str, Any]], bool], count: int = 1, timeout_s: float = 30
    ) -> list[dict[str, Any]]:
        """Block until `count` JSON log lines match, and return them."""

        def found(lines: list[str]) -> list[dict[str, Any]] | None:
            parsed = (orjson.loads(line) for line in lines if line.startswith("{"))
            hits = [record for record in parsed if matches(record)]
            return hits if len(hits) >= count else None

        hits: list[dict[str, Any]] = self._wait(found, timeout_s)
        return hits

    def _wait(self, found: Callable[[list[str]], Any], timeout_s: float) -> Any:
        with self._changed:
            result = found(self._lines)
            while result is None:
                if self._ended:
                    raise AssertionError(f"the gateway exited:\n{''.join(self._lines[-20:])}")
                if not self._changed.wait(timeout=timeout_s):
                    raise AssertionError(
                        f"not seen in {timeout_s} s:\n{''.join(self._lines[-20:])}"
                    )
                result = found(self._lines)
            return result

    def metric(self, name: str, **labels: str) -> float:
        """A sample of /metrics (0 when the series does not exist yet)."""
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        for line in text.splitlines():
            match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
            if match is None or match.group(1) != name:
                continue
            found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match.group(3))
        return 0.0

    def stop(self) -> None:
        """SIGTERM, then wait for the process (and the reader) to end."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()
        self.process = None


def errors_logged(gateway: ServedGateway) -> list[str]:
    """The lines at error level or carrying a traceback: none is expected of a client's doing."""
    return [
        line
        for line in gateway.lines()
        if '"level":"error"' in line or '"level":"critical"' in line or "Traceback" in line
    ]
