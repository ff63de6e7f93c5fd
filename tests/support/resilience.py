"""Harness for the resilience tests: the gateway over HTTP, with its Bedrock client in reach.

The tests read the client's counters and circuits, and move its breakers' clock, so they see what
the gateway decided without timing anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from app.bedrock.client import BedrockClient
from app.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.gateway import open_app

T2I = "/v1/images/text-to-image"
TITAN = "amazon.titan-image-generator-v1"
REQUEST = {"prompt": "a red barn", "width": 512, "height": 512, "seed": 7}


@dataclass
class Gateway:
    """An HTTP client on the app, and the Bedrock client the app calls through."""

    http: httpx.AsyncClient
    bedrock: BedrockClient

    def count(self, kind: str, *rest: str) -> int:
        """The counter (kind, target, *rest)."""
        return self.bedrock.counters[(kind, TITAN, *rest)]

    def counted(self, kind: str) -> dict[tuple[str, ...], int]:
        """Every non-zero counter of `kind`, keyed without the kind."""
        return {key[1:]: n for key, n in self.bedrock.counters.items() if key[0] == kind and n}


@asynccontextmanager
async def open_resilient(settings: Settings) -> AsyncIterator[Gateway]:
    """The app with its lifespan running, as `open_gateway` opens it, plus its Bedrock client."""
    async with open_app(settings) as (http, state):
        yield Gateway(http, state["runner"].bedrock)


async def until(emulator: EmulatorServer, **counters: int) -> None:
    """Wait until the emulator's counters (e.g. in_flight=2) have these values: it answers the
    moment they do, and the event loop stays free for the gateway meanwhile."""
    await asyncio.to_thread(emulator.wait_for, **counters)


def calls(emulator: EmulatorServer) -> int:
    """InvokeModel calls the emulator received."""
    return len(emulator.requests())


def assert_images(response: httpx.Response, count: int = 1) -> None:
    """A 200 with `count` produced images."""
    assert response.status_code == 200, response.text
    images = response.json()["images"]
    assert [image["finish_reason"] for image in images] == ["success"] * count
    assert all(image["b64_json"] for image in images)
