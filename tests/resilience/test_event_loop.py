"""The event loop stays free: CPU work on large images runs in worker threads.

Each test holds four large multipart inpaints (1408x768 photos and masks) inside one stage of the
gateway's CPU work, with a gate wrapped around that stage's function: parsing the multipart body,
converting the mask, transcoding the answer. Every caller waits at the gate until the test opens
it, so whether a stage runs on the loop is decided by events, not by timing: a stage in a worker
thread lets all four in at once and the gateway goes on answering small requests; a stage on the
loop would hold the loop at the first caller, and neither the other three nor any small request
could get anywhere. The small requests must complete while the large ones are held, and before
any of them: the completion order is asserted, never a duration.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.files import DATA
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

LARGE = (1408, 768)  # Titan's widest input
HELD = 4
# Bounds a wait that a broken gateway would make endless; no assertion is made on time.
_STUCK_S = 60


class Gate:
    """Wraps a function so every call waits for `open()`, counting the callers let in."""

    def __init__(self) -> None:
        self.inside = 0
        self._changed = threading.Condition()
        self._opened = threading.Event()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any, **kwargs: Any) -> Any:
            with self._changed:
                self.inside += 1
                self._changed.notify_all()
            self._opened.wait(_STUCK_S)
            return function(*args, **kwargs)

        return gated

    def wait_inside(self, count: int, timeout_s: float) -> bool:
        """Whether `count` callers are held at the gate (waits until they are, or `timeout_s`)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.inside >= count, timeout_s)

    def open(self) -> None:
        self._opened.set()


@cache
def large_inpaint() -> dict[str, tuple[str, bytes, str]]:
    """coffee.png and its black-is-edit mask, resized up to 1408x768 (the mask stays binary)."""
    parts = {}
    for field, name, resample in (
        ("image", "coffee.png", Image.Resampling.LANCZOS),
        ("mask", "coffee-mask-black-edit.png", Image.Resampling.NEAREST),
    ):
        with Image.open(DATA / name) as image:
            out = io.BytesIO()
            image.resize(LARGE, resample).save(out, format="PNG")
        parts[field] = (f"{field}.png", out.getvalue(), "image/png")
    return parts


@pytest.fixture
def server(emulator: EmulatorServer) -> Iterator[GatewayServer]:
    with GatewayServer(settings_for(emulator)) as gateway:
        yield gateway


# (module attribute, function name, Accept of the large requests)
STAGES = {
    "multipart-parse": ("app.http.body", "parse_form", "application/json"),
    "mask-conversion": ("app.imaging.masks", "keep_planes", "application/json"),
    "answer-transcoding": ("app.surfaces.native.answers", "transcode", "image/jpeg"),
}


@pytest.mark.parametrize("stage", list(STAGES))
async def test_small_requests_answer_while_large_images_are_processed(
    server: GatewayServer, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    module, name, accept = STAGES[stage]
    gate = Gate()
    monkeypatch.setattr(f"{module}.{name}", gate.wrap(_original(module, name)))
    order: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=_STUCK_S) as client:
        large = [
            asyncio.create_task(
                client.post(
                    "/v1/images/inpaint",
                    files=large_inpaint(),
                    data={"prompt": "a cup of tea"},
                    headers={"accept": accept},
                )
            )
            for _ in range(HELD)
        ]
        for task in large:
            task.add_done_callback(lambda _: order.append("large"))
        try:
            all_held = await asyncio.to_thread(gate.wait_inside, HELD, _STUCK_S)
            assert all_held, f"{stage} holds the event loop: only {gate.inside} of {HELD} got in"
            models = await client.get("/v1/models")
            order.append("models")
            small = await client.post(
                "/v1/images/text-to-image", json={"prompt": "a fox", "width": 512, "height": 512}
            )
            order.append("text-to-image")
        finally:
            gate.open()
        answers = await asyncio.gather(*large)
    assert models.status_code == 200
    assert small.status_code == 200, small.text
    assert [a.status_code for a in answers] == [200] * HELD, answers[0].text
    assert {a.headers["content-type"] for a in answers} == {accept}
    assert order == ["models", "text-to-image"] + ["large"] * HELD


async def test_the_gate_catches_work_done_on_the_loop(
    server: GatewayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: a gate on a function the endpoint calls on the loop lets one caller in, and
    nothing else moves until it opens."""
    gate = Gate()
    monkeypatch.setattr(
        "app.surfaces.native.images.negotiate",
        gate.wrap(_original("app.surfaces.native.images", "negotiate")),
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=_STUCK_S) as client:
        large = [
            asyncio.create_task(
                client.post("/v1/images/inpaint", files=large_inpaint(), data={"prompt": "tea"})
            )
            for _ in range(2)
        ]
        try:
            assert await asyncio.to_thread(gate.wait_inside, 1, _STUCK_S)
            models = asyncio.create_task(client.get("/v1/models"))
            # The second caller never reaches the gate while the first holds the loop.
            assert not await asyncio.to_thread(gate.wait_inside, 2, 2)
            assert not models.done()
        finally:
            gate.open()
        answers = await asyncio.gather(*large, models)
    assert [a.status_code for a in answers] == [200, 200, 200]


def _original(module: str, name: str) -> Callable[..., Any]:
    import importlib

    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function
