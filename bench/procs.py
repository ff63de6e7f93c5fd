"""Starting the upstream and the gateway as separate processes, as a user runs them, and reading
the gateway's memory from /proc."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Until `port` accepts connections (or the process exits: the benchmark stops)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with status {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise SystemExit(f"nothing listens on port {port} after {timeout_s} s")


@contextmanager
def running(
    args: list[str], env: dict[str, str], log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process with its output in bench/results/<log_name>.tmp, stopped on the way out."""
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{log_name}.tmp").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def upstream(port: int, latency_ms: float) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return running(
        ["-m", "bench.upstream", "--port", str(port), "--latency-ms", str(latency_ms)],
        {},
        "upstream",
    )


def gateway_env(port: int, upstream_port: int) -> dict[str, str]:
    """`python -m app` pointed at the upstream, with every default a user gets."""
    return {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{upstream_port}",
    }


def gateway(port: int, upstream_port: int) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return running(["-m", "app"], gateway_env(port, upstream_port), "gateway")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak resident since start or the last reset), KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Start VmHWM again from the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server on `port`, in memory only, stopped on the way out (`make test` installs
    it: scripts/ensure-services)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("the jobs phase needs redis-server: run `make services`")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
