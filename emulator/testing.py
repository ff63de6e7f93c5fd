"""Run the emulator in-process for tests, like moto's ThreadedMotoServer.

    with EmulatorServer() as emulator:
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = emulator.url
        emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])

The control helpers use only the standard library, so a test needs no HTTP client of its own;
`EmulatorControl(url)` offers them for an emulator running elsewhere (e.g. `python -m app`'s child).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import Any

import uvicorn

from .server import create_app
from .settings import EmulatorSettings


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is serving."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class EmulatorControl:
    """The control API (`/_emulator/...`) of an emulator at `url`."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. for AWS_ENDPOINT_URL_BEDROCK_RUNTIME."""
        return self._url

    def reset(self) -> None:
        """Faults, latency, records, counters, holds and retired models back to the settings."""
        self._call("POST", "/_emulator/reset", {})

    def set_faults(self, **config: Any) -> dict[str, Any]:
        """Change the fault plan: latency_ms, schedule, poison, rates, seed, slow_ms
        (docs/emulator.md)."""
        return self._call("PUT", "/_emulator/faults", config)

    def faults(self) -> dict[str, Any]:
        """The current fault plan."""
        return self._call("GET", "/_emulator/faults")

    def set_retired(self, models: list[str]) -> dict[str, Any]:
        """Answer for these model ids as for end-of-life models (replaces the current list)."""
        return self._call("PUT", "/_emulator/retired", {"models": models})

    def requests(self) -> list[dict[str, Any]]:
        """Every InvokeModel request received since the last reset, oldest first."""
        records: list[dict[str, Any]] = self._call("GET", "/_emulator/requests")["requests"]
        return records

    def stats(self) -> dict[str, Any]:
        """in_flight, max_in_flight, total and disconnected invocations since the last reset."""
        return self._call("GET", "/_emulator/stats")

    def wait_for(self, timeout_s: float = 10.0, **counters: int) -> dict[str, Any]:
        """Block until each named counter of `stats()` equals its value, and return the stats.

        The emulator answers the moment they do (no polling); TimeoutError after `timeout_s`.
        """
        query = urllib.parse.urlencode({**counters, "timeout_s": timeout_s})
        try:
            return self._call("GET", f"/_emulator/stats?{query}", timeout_s=timeout_s + 10)
        except urllib.error.HTTPError as error:
            if error.code != 408:
                raise
            stats = json.loads(error.read())
            raise TimeoutError(f"waited {timeout_s} s for {counters}; stats: {stats}") from None

    def hold(self) -> None:
        """Hold every invocation from now on (recorded, in flight) until `release()` or `reset()`;
        a held call still ends when its client hangs up."""
        self._call("POST", "/_emulator/hold", {})

    def release(self) -> None:
        """Let the held invocations, and every later one, go on."""
        self._call("POST", "/_emulator/release", {})

    def _call(
        self, method: str, path: str, payload: Any = None, timeout_s: float = 30
    ) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer


class EmulatorServer(EmulatorControl):
    """The emulator on a loopback port, served by uvicorn in a daemon thread."""

    def __init__(
        self, settings: EmulatorSettings | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__("")
        self.settings = settings or EmulatorSettings()
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. for AWS_ENDPOINT_URL_BEDROCK_RUNTIME."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Bind the port (port 0 picks a free one) and return once the server answers."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.settings),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        ready = threading.Event()
        self._server = _Server(config, ready)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="bedrock-emulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("the emulator did not start within 30 s")
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
