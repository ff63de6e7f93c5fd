"""`python -m app` without API keys listens beyond loopback only when told it is public."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from app.serve import bind_refusal
from app.settings import Settings
from tests.support.files import ROOT
from tests.support.served import free_port

EX_CONFIG = 78


def environment(**values: str) -> dict[str, str]:
    """The environment a user starts with: no AWS, no gateway settings, but these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    env.update(values)
    return env


@contextmanager
def serving(env: dict[str, str], port: int) -> Iterator[str]:
    """The gateway started with `env`, once uvicorn announces `port`; stopped afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if f"Uvicorn running on http://0.0.0.0:{port}" in line:
                break
        else:
            pytest.fail(f"the gateway exited with {process.wait()} before serving")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stderr.close()


def refused(env: dict[str, str]) -> str:
    """The gateway's stderr, after checking that it refused to start with EX_CONFIG."""
    done = subprocess.run(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EX_CONFIG, done.stderr
    # Refused before anything started: no emulator, no server.
    assert "emulator: serving" not in done.stderr
    assert "Uvicorn running" not in done.stderr
    return done.stderr


def test_without_keys_every_interface_is_refused() -> None:
    env = environment(HOST="0.0.0.0", PORT=str(free_port()), EMULATOR_PORT=str(free_port()))
    stderr = refused(env)
    assert stderr.startswith("gateway: refusing to listen on 0.0.0.0: no API keys are configured")
    assert "GATEWAY_API_KEYS" in stderr
    assert "GATEWAY_PUBLIC=true" in stderr


def test_without_keys_a_public_gateway_listens_everywhere() -> None:
    port = free_port()
    env = environment(
        HOST="0.0.0.0", PORT=str(port), EMULATOR_PORT=str(free_port()), GATEWAY_PUBLIC="true"
    )
    with serving(env, port) as url:
        response = httpx.get(f"{url}/v1/models", timeout=30)
    assert response.status_code == 200


def test_with_keys_the_gateway_listens_everywhere_and_asks_for_them() -> None:
    port = free_port()
    key_hash = "sha256:" + hashlib.sha256(b"big_binding-test").hexdigest()
    env = environment(
        HOST="0.0.0.0",
        PORT=str(port),
        EMULATOR_PORT=str(free_port()),
        GATEWAY_API_KEYS=f'[{{"name": "ci", "hash": "{key_hash}"}}]',
    )
    with serving(env, port) as url:
        response = httpx.post(f"{url}/v1/images/text-to-image", json={"prompt": "a"}, timeout=30)
    assert response.status_code == 401


def test_a_wildcard_origin_with_credentials_is_refused_at_start() -> None:
    env = environment(
        PORT=str(free_port()),
        EMULATOR_PORT=str(free_port()),
        GATEWAY_CORS_ORIGINS='["*"]',
        GATEWAY_CORS_ALLOW_CREDENTIALS="true",
    )
    assert refused(env).startswith('gateway: refusing to start: GATEWAY_CORS_ORIGINS has "*"')


def test_a_bad_key_entry_is_refused_at_start_in_one_line() -> None:
    env = environment(
        PORT=str(free_port()),
        EMULATOR_PORT=str(free_port()),
        GATEWAY_API_KEYS='[{"name": "ci", "hash": "md5:abc"}]',
    )
    stderr = refused(env)
    assert stderr.startswith("gateway: refusing to start: GATEWAY_API_KEYS[0]")
    assert "Traceback" not in stderr


def closed(host: str) -> Settings:
    """Settings with no keys and not public, whatever the environment says."""
    return Settings(_env_file=None, host=host, public=False, api_keys=[])


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_keys(host: str) -> None:
    assert bind_refusal(closed(host)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "gateway.internal"])
def test_any_other_host_needs_keys_or_public(host: str) -> None:
    refusal = bind_refusal(closed(host))
    assert refusal is not None
    assert refusal.startswith(f"refusing to listen on {host}:")
    assert bind_refusal(Settings(_env_file=None, host=host, public=True)) is None
    keys = [{"name": "ci", "hash": "sha256:" + "0" * 64}]
    assert bind_refusal(Settings(_env_file=None, host=host, api_keys=keys)) is None
