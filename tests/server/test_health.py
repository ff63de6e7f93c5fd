"""/healthz and /readyz: alive while serving; ready when credentials resolve and Bedrock answers
a connection, the outcome reused for readiness_cache_s."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from app.observability.readiness import ReadinessCheck
from emulator.testing import EmulatorServer
from tests.support.clock import FakeClock
from tests.support.gateway import open_gateway, settings_for


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_healthz_and_readyz_with_the_emulator_up(emulator: EmulatorServer) -> None:
    async with open_gateway(settings_for(emulator)) as http:
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "endpoint": emulator.url, "open_circuits": []}


async def test_readyz_is_a_503_problem_naming_an_unreachable_endpoint(
    emulator: EmulatorServer,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    settings = settings_for(emulator, endpoints={"us-east-1": url}, readiness_cache_s=7)
    async with open_gateway(settings) as http:
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"] == "7"
    problem = ready.json()
    assert problem["type"] == "/problems/not-ready"
    assert problem["detail"].startswith(f"Bedrock is not reachable at {url}: ")
    assert problem["endpoint"] == url
    # Not ready is not dead: the liveness probe still passes.
    assert health.status_code == 200


async def test_readiness_is_cached_for_the_configured_time(emulator: EmulatorServer) -> None:
    listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    clock = FakeClock()
    settings = settings_for(
        emulator, endpoints={"us-east-1": f"http://127.0.0.1:{port}"}, readiness_cache_s=10
    )
    check = ReadinessCheck(settings, clock=clock)
    assert (await check.check()).ready
    listener.close()
    await listener.wait_closed()
    clock.advance(9.9)
    assert (await check.check()).ready  # the cached outcome
    clock.advance(0.1)
    outcome = await check.check()
    assert not outcome.ready
    assert outcome.reason is not None
    assert f"127.0.0.1:{port}" in outcome.reason


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """botocore's chain with nothing to find: no variables, no files, no instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


async def test_the_aws_backend_is_not_ready_without_credentials(
    emulator: EmulatorServer, no_credentials: pytest.MonkeyPatch
) -> None:
    settings = settings_for(emulator, backend="aws", endpoints={"us-east-1": emulator.url})
    async with open_gateway(settings) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["detail"] == "no AWS credentials found (botocore's chain)"


async def test_the_aws_backend_is_ready_with_credentials_and_a_reachable_endpoint(
    emulator: EmulatorServer, no_credentials: pytest.MonkeyPatch
) -> None:
    no_credentials.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    no_credentials.setenv("AWS_SECRET_ACCESS_KEY", "example")
    settings = settings_for(emulator, backend="aws", endpoints={"us-east-1": emulator.url})
    async with open_gateway(settings) as http:
        ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()["endpoint"]) == (200, emulator.url)


async def test_the_probes_need_no_key_and_stay_out_of_the_api_spec(
    emulator: EmulatorServer,
) -> None:
    keys = [{"name": "alice", "hash": "sha256:" + "0" * 64}]
    async with open_gateway(settings_for(emulator, api_keys=keys)) as http:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await http.get(path)).status_code == 200
        spec = (await http.get("/openapi.json")).json()
    assert not {"/healthz", "/readyz", "/metrics"} & set(spec["paths"])
