"""Fuzz fixtures: the gateway under uvicorn on the session's emulator, and the ASGI client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for
from tests.support.live import GatewayServer


@pytest.fixture(scope="module")
def live_gateway(emulator_server: EmulatorServer) -> Iterator[GatewayServer]:
    """The gateway on a real port, as schemathesis reaches it: over HTTP, uvicorn in between."""
    emulator_server.reset()
    with GatewayServer(settings_for(emulator_server)) as server:
        yield server


@pytest.fixture
async def gateway(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with default settings, on a clean emulator (for the regression requests)."""
    async with open_gateway(settings_for(emulator)) as client:
        yield client
