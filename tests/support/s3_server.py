"""moto's S3 in server mode, a real HTTP endpoint on a free loopback port, standing in for S3 the
way the emulator stands in for Bedrock (moto[server] is a dev dependency)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import httpx

from tests.support.running import Running


class S3Server(Running):
    """`python -m moto.server` on 127.0.0.1 and a free port, until stop()."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[str] | None = None
        self._drain = threading.Thread()

    def start(self) -> S3Server:
        """Start the server; return once it says it serves (its werkzeug announcement)."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stderr is not None
        for line in self._process.stderr:
            if f"Running on {self.url}" in line:
                break
        else:
            raise RuntimeError(f"moto's server exited with {self._process.wait()} before serving")
        # It logs every request on stderr: keep reading, or a full pipe would stall it.
        self._drain = threading.Thread(target=self._process.stderr.read, daemon=True)
        self._drain.start()
        return self

    def reset(self) -> None:
        """Forget every bucket and object (between tests)."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the server."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            # The drain reads to the end of the pipe, which the exit closes.
            self._drain.join(timeout=10)
            assert self._process.stderr is not None
            self._process.stderr.close()
            self._process = None
