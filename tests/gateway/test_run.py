"""`python -m app` (what `make run` runs): the gateway and its emulator as separate processes."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.gateway.served import free_port

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The gateway started as a user starts it, on free ports, with no AWS in the environment."""
    port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    env.update(HOST="127.0.0.1", PORT=str(port), EMULATOR_PORT=str(emulator_port))
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    # Synchronise on uvicorn's announcement for the gateway's port (the emulator child shares
    # stderr and announces its own), not on a delay.
    for line in process.stderr:
        if f"Uvicorn running on http://127.0.0.1:{port}" in line:
            break
    else:
        pytest.fail(f"the gateway exited with {process.wait()} before serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stderr.close()


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
    port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
    env.update(HOST="127.0.0.1", PORT=str(port), EMULATOR_PORT=str(emulator_port))
    process = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if f"Uvicorn running on http://127.0.0.1:{port}" in line:
                break
        else:
            pytest.fail(f"the gateway exited with {process.wait()} before serving")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
        process.stderr.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", emulator_port)) != 0, "the emulator still serves"
