"""`python -m app` (what `make run` does): serve the gateway, with the local emulator by default.

With the emulator backend and no AWS_ENDPOINT_URL_BEDROCK_RUNTIME, the emulator starts as its own
process on 127.0.0.1:EMULATOR_PORT and the gateway calls it over HTTP like any Bedrock endpoint.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from .settings import Backend, Settings

_EMULATOR_START_TIMEOUT_S = 20.0


@contextmanager
def _emulator(settings: Settings) -> Iterator[None]:
    if settings.backend is not Backend.EMULATOR or settings.endpoint_url:
        yield
        return
    port = settings.emulator_port
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port)]
    )
    try:
        _wait_for_port(port, process)
        print(f"emulator: serving Bedrock on http://127.0.0.1:{port}", file=sys.stderr)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _EMULATOR_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited with status {process.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the emulator did not start on port {port}")


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Serve the gateway on HOST:PORT."""
    settings = Settings()
    # uvicorn shuts down on SIGTERM, then raises the signal again for the handler it found. The
    # default handler would end the process on the spot, skipping the `finally` that stops the
    # emulator (`kill`, `docker stop`): this one exits through it.
    signal.signal(signal.SIGTERM, _exit)
    with _emulator(settings):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            log_level="info",
        )


if __name__ == "__main__":
    main()
