"""A real `redis-server` for the tests: a free loopback port, a temp dir, no persistence.

`make test` installs it first when it is missing (scripts/ensure-services); the quota tests need
it and fail (never skip) without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support.running import Running

MISSING = (
    "redis-server is not installed: the quota tests run a real Redis. `make test` installs it "
    "(scripts/ensure-services), or run that script alone; it names the command where it cannot."
)


class RedisServer(Running):
    """`redis-server` on 127.0.0.1 and a free port, until stop()."""

    def __init__(self) -> None:
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and return once it accepts connections."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(MISSING)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._dir = tempfile.TemporaryDirectory(prefix="gateway-redis-")
        log = Path(self._dir.name) / "redis.log"
        notify_path = str(Path(self._dir.name) / "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(30)
        self._process = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", self._dir.name,
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(log),
                "--supervised", "systemd",
            ],
            env={**os.environ, "NOTIFY_SOCKET": notify_path},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with notify:
            self._wait_ready(notify, log)
        return self

    def _wait_ready(self, notify: socket.socket, log: Path) -> None:
        # redis-server tells a supervisor when it serves (sd_notify's READY=1): wait for that.
        assert self._process is not None
        while True:
            try:
                message = notify.recv(4096)
            except TimeoutError:
                raise RuntimeError(f"redis-server did not start on port {self.port}") from None
            if b"READY=1" in message:
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start:\n{log.read_text()}")

    def flush(self) -> None:
        """Forget every key (between tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"FLUSHALL\r\n")
            if not conn.recv(64).startswith(b"+OK"):
                raise RuntimeError("FLUSHALL failed")

    def freeze(self) -> None:
        """Stop the process where it stands (SIGSTOP): connections open, nothing answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
