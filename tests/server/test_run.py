"""`python -m app` (what `make run` runs): the gateway and its emulator as separate processes."""

from __future__ import annotations

import io
import signal
import socket
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.support.served import ServedGateway


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The gateway started as a user starts it, on free ports, with no AWS in the environment."""
    with ServedGateway(None) as gateway:
        yield gateway.url


@pytest.mark.parametrize(("model", "size"), [("titan", (512, 512)), ("sdxl", (1216, 832))])
def test_text_to_image_through_the_served_gateway(
    served: str, model: str, size: tuple[int, int]
) -> None:
    body = {"model": model, "prompt": "a red kite", "width": size[0], "height": size[1]}
    with httpx.Client(base_url=served, timeout=60) as client:
        as_json = client.post("/v1/images/text-to-image", json={**body, "n": 2})
        as_png = client.post("/v1/images/text-to-image", json=body, headers={"Accept": "image/png"})
    assert as_json.status_code == 200, as_json.text
    assert len(as_json.json()["images"]) == 2
    assert as_png.status_code == 200, as_png.text
    assert as_png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(as_png.content)) as image:
        assert image.size == size


def test_sigterm_to_the_gateway_stops_its_emulator_too() -> None:
    """`kill <pid>` or `docker stop` signals the gateway alone; its emulator must not outlive it."""
    gateway = ServedGateway(None).start()
    assert gateway.process is not None
    try:
        gateway.process.send_signal(signal.SIGTERM)
        assert gateway.process.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        gateway.stop()
    port = gateway.emulator_port
    assert port is not None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the emulator still serves"
