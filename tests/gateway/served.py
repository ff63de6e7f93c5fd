"""`python -m app` as a user starts it, in its own process, calling a Bedrock endpoint the test
gives (the tests' emulator, whose records the test then reads)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served_app(endpoint: str) -> Iterator[str]:
    """The gateway on a free port, calling `endpoint` for Bedrock; its base URL. No AWS_ or
    GATEWAY_ variable of the test's environment reaches it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    env.update(HOST="127.0.0.1", PORT=str(port), AWS_ENDPOINT_URL_BEDROCK_RUNTIME=endpoint)
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    # Synchronise on uvicorn's announcement, not on a delay.
    for line in process.stderr:
        if f"Uvicorn running on http://127.0.0.1:{port}" in line:
            break
    else:
        raise RuntimeError(f"the gateway exited with {process.wait()} before serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stderr.close()
