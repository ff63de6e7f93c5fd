"""The gateway in process: its settings on the tests' emulator, the app with its lifespan behind an
httpx client, and the image helpers the tests read answers with."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import numpy as np
from PIL import Image
from starlette.types import ASGIApp, Receive, Scope, Send

from app.main import create_app
from app.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.files import DATA

# The suite's requests without `model` were written for Titan G1, the default before the live
# models (sd3.5-large and the Image Services) became it: the fixtures name it as the default, so
# those tests keep testing what they were written for. The shipped defaults are tested without
# this (test_default_models.py, test_doc_examples.py, test_openapi.py's spec forms).
TITAN_DEFAULT = {"default_model": "titan"}


def settings_for(emulator: EmulatorServer, **overrides: Any) -> Settings:
    """Gateway settings pointing at this emulator, untouched by the environment."""
    port = int(emulator.url.rsplit(":", 1)[1])
    values: dict[str, Any] = {
        "backend": "emulator",
        "emulator_port": port,
        "endpoint_url": None,
        # TITAN_DEFAULT: these tests' requests without `model` mean Titan G1.
        **TITAN_DEFAULT,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[ASGIApp, dict[str, Any]]]:
    """The app with its lifespan running, as an ASGI callable that hands every request the
    lifespan state as uvicorn does, and that state (to reach the services the app built)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as started:
        state: dict[str, Any] = dict(started or {})

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            # What uvicorn does with lifespan state: a shallow copy into every request's scope.
            scope["state"] = dict(state)
            await app(scope, receive, send)

        yield serve, state


@asynccontextmanager
async def open_app(
    settings: Settings,
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """An HTTP client on the running app (running_app), and the lifespan state."""
    async with running_app(settings) as (serve, state):
        transport = httpx.ASGITransport(app=serve)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=60
        ) as client:
            yield client, state


@asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, with the lifespan running as a server would run it."""
    async with open_app(settings) as (client, _):
        yield client


def data(name: str) -> bytes:
    """A test image's bytes."""
    return (DATA / name).read_bytes()


def b64(raw: bytes) -> str:
    """Base64 text of bytes."""
    return base64.b64encode(raw).decode("ascii")


def pixels(raw: bytes | str) -> np.ndarray:
    """Decoded pixels of image bytes or base64 text."""
    if isinstance(raw, str):
        raw = base64.b64decode(raw)
    with Image.open(io.BytesIO(raw)) as image:
        return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"))


def image_size(raw: bytes | str) -> tuple[int, int]:
    """(width, height) of image bytes or base64 text."""
    if isinstance(raw, str):
        raw = base64.b64decode(raw)
    with Image.open(io.BytesIO(raw)) as image:
        return image.size
