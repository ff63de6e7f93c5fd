"""Fixtures shared by the whole suite: one emulator for the run, reset before each test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for
from tests.support.redis_server import RedisServer
from tests.support.served import ServedGateway


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator on a free loopback port, for the whole run."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The emulator with no faults, latency, records or retired overrides."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def bedrock_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """An environment in which boto3/aioboto3 clients reach the emulator with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Nothing from the developer's own AWS set-up may leak into a test.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return emulator


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for the whole run (quotas across replicas)."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The Redis server, emptied."""
    redis_server.flush()
    return redis_server


@pytest.fixture(scope="module")
def served(emulator_server: EmulatorServer) -> Iterator[str]:
    """`python -m app` on the tests' emulator (tests/support/served.py), for a module's tests."""
    with ServedGateway(emulator_server) as gateway:
        yield gateway.url


@pytest.fixture
async def gateway(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with default settings, on a clean emulator."""
    async with open_gateway(settings_for(emulator)) as client:
        yield client
