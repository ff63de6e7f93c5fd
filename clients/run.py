"""`make clients`: generate the Python and TypeScript clients and run each against a live gateway.

1. Generate clients/python/generated/gateway_client with openapi-python-client (any warning fails:
   a warning means part of the spec did not make it into the client) and type-check the Python
   driver against it (mypy --strict).
2. `npm ci` in clients/typescript (versions from its package.json and package-lock.json), generate
   the client with @hey-api/openapi-ts and compile it with the driver (tsc, strict).
3. Start the gateway as `python -m app` on --port (8010 under make, CLIENTS_PORT), with the local
   emulator on --emulator-port (8011, CLIENTS_EMULATOR_PORT): fixed, so the run can be watched
   and does not take make run's 8000 and 8001; 0 picks a free port. A port already taken stops
   the run at once, before anything is generated. Wait until GET /v1/models answers.
4. Run both drivers against it, then stop the gateway (SIGTERM: it stops the emulator it started).

Exits non-zero when any step fails; both drivers run even if the first fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.json"
PYTHON_DIR = ROOT / "clients" / "python"
TS_DIR = ROOT / "clients" / "typescript"
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def step(title: str) -> None:
    """Print a step's title so CI logs show where a failure happened."""
    print(f"\n== {title}", flush=True)


def run(command: Sequence[str | Path], cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Run a command in the foreground; raise CalledProcessError if it fails."""
    subprocess.run([str(part) for part in command], cwd=cwd, env=env, check=True)


def generate_python() -> None:
    """The Python client from the committed spec, then the driver type-checked against it."""
    step("Python client: openapi-python-client")
    target = PYTHON_DIR / "generated" / "gateway_client"
    shutil.rmtree(target.parent, ignore_errors=True)
    run(
        [
            BIN / "openapi-python-client",
            "generate",
            "--path",
            SPEC,
            "--output-path",
            target,
            "--config",
            PYTHON_DIR / "config.yaml",
            "--meta",
            "none",
            "--fail-on-warning",
        ]
    )
    step("Python driver: mypy --strict against the generated client")
    env = {**os.environ, "MYPYPATH": str(target.parent)}
    cache = ROOT / ".mypy_cache" / "clients"
    mypy: list[str | Path] = [
        BIN / "mypy",
        "--strict",
        "--follow-imports=silent",
        "--cache-dir",
        cache,
    ]
    run([*mypy, PYTHON_DIR / "driver.py"], env=env)


def generate_typescript() -> None:
    """npm ci, the TypeScript client from the committed spec, and tsc over it and the driver."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("make clients needs Node.js >= 20.19 and npm on PATH")
    step("TypeScript client: npm ci")
    run([npm, "ci", "--no-audit", "--no-fund"], cwd=TS_DIR)
    step("TypeScript client: @hey-api/openapi-ts, then tsc")
    shutil.rmtree(TS_DIR / "generated", ignore_errors=True)
    shutil.rmtree(TS_DIR / "dist", ignore_errors=True)
    run([npm, "run", "--silent", "generate"], cwd=TS_DIR)
    run([npm, "run", "--silent", "build"], cwd=TS_DIR)


def free_port(wanted: int = 0) -> int:
    """`wanted` if nothing listens on it now (for 0, a free port the OS picks); OSError if taken."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", wanted))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Gateway:
    """A running `python -m app`: its base URL and the file its logs go to."""

    url: str
    log: IO[bytes]

    def print_log(self) -> None:
        """Write the gateway's and emulator's logs so far to stderr."""
        self.log.seek(0)
        print("\n== gateway log", file=sys.stderr)
        sys.stderr.write(self.log.read().decode(errors="replace"))


@contextmanager
def live_gateway(port: int, emulator_port: int) -> Iterator[Gateway]:
    """`python -m app` with its emulator on these ports, logging to a temporary file."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "GATEWAY_ENDPOINT_URL")
    }
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "EMULATOR_PORT": str(emulator_port),
        "GATEWAY_BACKEND": "emulator",
    }
    step(f"gateway: python -m app on port {port}, emulator on {emulator_port}")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        gateway = Gateway(f"http://127.0.0.1:{port}", log)
        try:
            wait_until_serving(gateway.url, process)
            yield gateway
        except BaseException:
            gateway.print_log()
            raise
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    """Return once GET /v1/models answers 200; fail if the gateway exits or never answers."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise SystemExit(f"the gateway did not answer on {url} within {START_TIMEOUT_S:.0f} s")


def drive(url: str) -> list[str]:
    """Run both drivers against `url`; the names of those that failed."""
    failed = []
    step("Python driver")
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR / "generated")}
    command = [sys.executable, str(PYTHON_DIR / "driver.py"), url, str(SPEC)]
    if subprocess.run(command, cwd=ROOT, env=env, check=False).returncode != 0:
        failed.append("python")
    step("TypeScript driver")
    node = shutil.which("node") or "node"
    command = [node, "dist/driver.js", url, str(SPEC)]
    if subprocess.run(command, cwd=TS_DIR, check=False).returncode != 0:
        failed.append("typescript")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, start, drive, stop; 0 only if both clients passed."""
    parser = argparse.ArgumentParser(prog="clients/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="the gateway's (0: a free one)")
    parser.add_argument("--emulator-port", type=int, default=0, help="the emulator's (0: free)")
    args = parser.parse_args(argv)
    ports = {"CLIENTS_PORT": args.port, "CLIENTS_EMULATOR_PORT": args.emulator_port}
    for variable, wanted in ports.items():
        try:
            ports[variable] = free_port(wanted)
        except OSError:
            print(
                f"make clients: port {wanted} is taken ({variable}); free it or pick another: "
                f"make clients {variable}=<port>",
                file=sys.stderr,
            )
            return 1
    try:
        generate_python()
        generate_typescript()
    except subprocess.CalledProcessError as error:
        print(f"\nmake clients: {error}", file=sys.stderr)
        return 1
    with live_gateway(ports["CLIENTS_PORT"], ports["CLIENTS_EMULATOR_PORT"]) as gateway:
        failed = drive(gateway.url)
        if failed:
            gateway.print_log()
    if failed:
        print(f"\nmake clients: the {' and '.join(failed)} client run failed", file=sys.stderr)
        return 1
    print("\nmake clients: both generated clients passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
