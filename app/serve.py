"""`python -m app serve` (and bare `python -m app`, what `make run` does): serve the gateway, with
the local emulator by default.

With the emulator backend and no AWS_ENDPOINT_URL_BEDROCK_RUNTIME, the emulator starts as its own
process on 127.0.0.1:EMULATOR_PORT and the gateway calls it over HTTP like any Bedrock endpoint.

SIGTERM (or Ctrl-C) shuts down gracefully: the gateway stops accepting connections, lets the
requests in flight finish for up to GATEWAY_SHUTDOWN_GRACE_S (then cancels them), closes its
Bedrock clients, stops the emulator and exits with 128 + the signal's number (143 for SIGTERM).

Without API keys (GATEWAY_API_KEYS) anyone who reaches the gateway spends the AWS account's money,
so it refuses to listen beyond loopback unless GATEWAY_PUBLIC=true says that is meant; it also
refuses a CORS allow-list browsers would make unsafe. Either refusal, like a setting that does not
parse, prints one line saying which and exits with 78 (EX_CONFIG) before anything starts.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from pydantic import ValidationError
from pydantic_settings import SettingsError

from . import allocator
from .auth.keys import KeyConfigError, load_keys
from .families.registry import ModelRegistry, RegistryError
from .middleware.browser import BrowserPolicyError, cors_options
from .middleware.heads import bounded_head_protocol
from .observability.logs import log_config
from .settings import Backend, Settings
from .spend.budgets import BudgetConfigError
from .spend.prices import PriceConfigError
from .spend.setup import price_table

_EMULATOR_START_TIMEOUT_S = 20.0
_EMULATOR_STOP_TIMEOUT_S = 10.0


@contextmanager
def _emulator(settings: Settings) -> Iterator[None]:
    if settings.backend is not Backend.EMULATOR or settings.endpoint_url:
        yield
        return
    port = settings.emulator_port
    # Its own process group: a Ctrl-C or a signal to the whole group must not stop it while the
    # gateway still drains requests that need it; the gateway stops it once done.
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port)],
        process_group=0,
    )
    try:
        _wait_for_port(port, process)
        print(f"emulator: serving Bedrock on http://127.0.0.1:{port}", file=sys.stderr)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=_EMULATOR_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _jobs_redis(settings: Settings) -> Iterator[None]:
    """The embedded mode of jobs: with no GATEWAY_JOBS_REDIS_URL, a private redis-server (when
    one is installed) on a free loopback port, kept in memory only, and a worker in the gateway's
    own process. Jobs then last as long as this process and run in it alone, so the per-model cap
    stays in the process too (GATEWAY_JOBS_EMBEDDED): that Redis holds the queue, nothing else."""
    binary = shutil.which("redis-server")
    if settings.jobs_redis_url is not None or binary is None:
        if settings.jobs_redis_url is None:
            print(
                "jobs: no redis-server installed and no GATEWAY_JOBS_REDIS_URL: /v1/jobs is off",
                file=sys.stderr,
            )
        yield
        return
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        process_group=0,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        os.environ["GATEWAY_JOBS_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        os.environ["GATEWAY_JOBS_WORKER_IN_PROCESS"] = "true"
        os.environ["GATEWAY_JOBS_EMBEDDED"] = "true"
        print(
            f"jobs: embedded redis-server on 127.0.0.1:{port}, run in this process (not kept "
            "across restarts)",
            file=sys.stderr,
        )
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=_EMULATOR_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str = "the emulator") -> None:
    deadline = time.monotonic() + _EMULATOR_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"{name} did not start on port {port}")


def bind_refusal(settings: Settings) -> str | None:
    """Why the gateway must not listen as configured, or None when it may."""
    if settings.api_keys or settings.public or _is_loopback(settings.host):
        return None
    return (
        f"refusing to listen on {settings.host}: no API keys are configured, so anyone who can "
        "reach the gateway could use it (and the AWS account behind it). Configure keys in "
        "GATEWAY_API_KEYS (`python -m app keys create` makes one), listen on 127.0.0.1 (HOST), "
        "or set GATEWAY_PUBLIC=true if the gateway is meant to be open."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        # Another name may resolve to any address: only loopback literals are known safe.
        return False


def _refuse_unsafe_start(settings: Settings) -> None:
    refusal = bind_refusal(settings)
    if refusal is None:
        try:
            cors_options(settings)
            # Checked here too (the app checks them as it starts) so that a bad entry is one
            # line saying which, not a traceback from inside uvicorn.
            registry = ModelRegistry(overrides=settings.models, families=settings.families)
            load_keys(settings.api_keys, resolve=registry.resolve)
            price_table(settings, registry)
        except (
            BrowserPolicyError,
            KeyConfigError,
            RegistryError,
            PriceConfigError,
            BudgetConfigError,
        ) as exc:
            refusal = f"refusing to start: {exc}"
    if refusal is not None:
        print(f"gateway: {refusal}", file=sys.stderr)
        raise SystemExit(os.EX_CONFIG)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _variable(field: str) -> str:
    """The environment variable of a settings field (errors name the alias when one was used)."""
    return field.upper() if field not in Settings.model_fields else f"GATEWAY_{field.upper()}"


def setting_errors(error: ValidationError | SettingsError) -> list[str]:
    """One line per bad setting: its environment variable, the value given and what is wrong."""
    if isinstance(error, SettingsError):
        # pydantic-settings could not parse a JSON setting: it names the field, the cause says why.
        field = re.search(r'field "(\w+)"', str(error))
        name = _variable(field.group(1)) if field else "a setting"
        return [f"gateway: bad setting {name}: not valid JSON ({error.__cause__})"]
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        name = _variable(loc[0]) if loc else "a setting"
        where = "".join(f"[{part}]" for part in loc[1:])
        given = problem.get("input")
        shown = f"={given!r}" if isinstance(given, str | int | float) and not where else ""
        lines.append(f"gateway: bad setting {name}{where}{shown}: {problem['msg']}")
    return lines


def load_settings() -> Settings:
    """The settings from the environment, or exit 78 naming each one that is not valid."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        for line in setting_errors(exc):
            print(line, file=sys.stderr)
        raise SystemExit(os.EX_CONFIG) from None


def main() -> None:
    """Serve the gateway on HOST:PORT."""
    allocator.tune()
    settings = load_settings()
    _refuse_unsafe_start(settings)
    # uvicorn shuts down on SIGTERM and SIGINT, then raises the signal again for the handler it
    # found. The default handlers would end the process on the spot (SIGTERM, skipping the
    # `finally` that stops the emulator: `kill`, `docker stop`) or with a traceback (SIGINT):
    # this one exits through that `finally`.
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    with _emulator(settings), _jobs_redis(settings):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            # Every line JSON; the gateway's access line (logger app.access) replaces uvicorn's.
            log_config=log_config(settings.log_level),
            log_level=settings.log_level.lower(),
            access_log=False,
            # uvicorn takes whole seconds: a fractional grace is rounded up.
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
            # Request heads bounded in size and time (app/heads.py); idle connections closed.
            http=bounded_head_protocol(settings.max_header_bytes, settings.header_read_timeout_s),
            timeout_keep_alive=settings.keep_alive_s,
        )
