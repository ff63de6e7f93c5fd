"""SIGTERM: `python -m app` stops accepting, drains what is in flight (up to the grace), exits."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from emulator.testing import EmulatorControl
from tests.support.files import ROOT
from tests.support.served import free_port

T2I = "/v1/images/text-to-image"
REQUEST = {"prompt": "a red kite", "width": 512, "height": 512}


class Served:
    """`python -m app` on free ports, its stderr read line by line as it comes."""

    def __init__(self, grace_s: int) -> None:
        self.port, emulator_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            EMULATOR_PORT=str(emulator_port),
            GATEWAY_SHUTDOWN_GRACE_S=str(grace_s),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.emulator = EmulatorControl(f"http://127.0.0.1:{emulator_port}")
        self._lines: queue.Queue[str | None] = queue.Queue()
        # A reader thread keeps the pipe drained and lets a wait for a line be bounded.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for_line(f"Uvicorn running on {self.url}")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for_line(self, text: str, timeout_s: float = 30) -> None:
        """Block until the process logs a line containing `text`."""
        while True:
            try:
                line = self._lines.get(timeout=timeout_s)
            except queue.Empty:
                pytest.fail(f"no log line with {text!r} within {timeout_s} s")
            if line is None:
                pytest.fail(f"the gateway exited ({self.process.wait()}) before logging {text!r}")
            if text in line:
                return

    def stop(self) -> None:
        """Kill whatever is left (a failed test) and close the pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The gateway with the grace the test is parametrised with."""
    server = Served(grace_s=request.param)
    try:
        yield server
    finally:
        server.stop()


def refused(port: int) -> bool:
    """Whether a new connection to the port is refused."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("served", [30], indirect=True)
def test_sigterm_drains_the_request_in_flight(served: Served) -> None:
    served.emulator.hold()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, f"{served.url}{T2I}", json=REQUEST, timeout=60)
        served.emulator.wait_for(in_flight=1)

        served.process.send_signal(signal.SIGTERM)
        served.wait_for_line("Waiting for connections to close")
        assert refused(served.port), "the gateway still accepts connections"
        assert served.process.poll() is None

        # The emulator outlives the gateway's drain: the held call can still finish.
        served.emulator.release()
        response = in_flight.result(timeout=60)
    assert response.status_code == 200, response.text
    assert len(response.json()["images"]) == 1
    assert response.headers["connection"] == "close"
    assert served.process.wait(timeout=30) == 128 + signal.SIGTERM
    assert refused(int(served.emulator.url.rsplit(":", 1)[1])), "the emulator still serves"


@pytest.mark.parametrize("served", [1], indirect=True)
def test_a_request_longer_than_the_grace_does_not_hold_the_exit(served: Served) -> None:
    served.emulator.hold()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, f"{served.url}{T2I}", json=REQUEST, timeout=60)
        served.emulator.wait_for(in_flight=1)

        served.process.send_signal(signal.SIGTERM)
        served.wait_for_line("timeout graceful shutdown exceeded")
        # Never released: the process exits all the same, once the grace is over.
        assert served.process.wait(timeout=30) == 128 + signal.SIGTERM
        response = in_flight.result(timeout=60)
    assert response.status_code == 500
    assert refused(int(served.emulator.url.rsplit(":", 1)[1])), "the emulator still serves"
