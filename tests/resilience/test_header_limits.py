"""Request heads are bounded in size and count by the server the gateway ships (issue 17, finding
6): `python -m app`, which the Docker image runs, answers 431 in each surface's shape.

A 128 MiB header is not read: the server stops at the bound, answers, and closes, while /healthz
goes on answering and the process's memory stays where it was.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import h11
import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.files import ROOT
from tests.support.served import ServedGateway, errors_logged

TITAN = "amazon.titan-image-generator-v1"
NATIVE = "/v1/images/text-to-image"
OPENAI = "/openai/v1/images/generations"
BEDROCK = f"/model/{TITAN}/invoke"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def gateway(emulator_server: EmulatorServer) -> Iterator[ServedGateway]:
    with ServedGateway(emulator_server) as served:
        yield served


def vm_hwm(gateway: ServedGateway) -> int:
    assert gateway.process is not None
    status = Path(f"/proc/{gateway.process.pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) * 1024


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP answer off `sock` (h11 as a client that has sent its request)."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    status, headers, body = 0, {}, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode(): v.decode() for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        else:
            return status, headers, body


def test_a_128_mib_header_is_cut_short_with_a_431(gateway: ServedGateway) -> None:
    before = vm_hwm(gateway)
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=60)
    sent = 0

    def send_header() -> None:
        # What an attacker sends: a header line that goes on for 128 MiB.
        nonlocal sent
        head = f"POST {NATIVE} HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\r\nX-Big: ".encode()
        chunk = b"a" * MiB
        try:
            sock.sendall(head)
            while sent < 128 * MiB:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: it read no more

    sender = threading.Thread(target=send_header, daemon=True)
    sender.start()
    status, headers, body = read_answer(sock)
    health = httpx.get(f"{gateway.url}/healthz", timeout=30)
    sender.join(timeout=60)
    sock.close()
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["type"] == "/problems/headers-too-large"
    assert problem["instance"] == NATIVE
    assert sent < 128 * MiB  # cut short
    assert health.status_code == 200
    assert vm_hwm(gateway) - before < 16 * MiB
    assert errors_logged(gateway) == []


@pytest.mark.parametrize("too_many", ["count", "size"])
def test_every_surface_answers_431_in_its_shape(gateway: ServedGateway, too_many: str) -> None:
    if too_many == "count":
        extra = {f"X-Extra-{i}": "1" for i in range(120)}
    else:
        extra = {"X-Big": "a" * 40_000}
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        native = client.post(NATIVE, json={"prompt": "a fox"}, headers=extra)
        openai = client.post(OPENAI, json={"prompt": "a fox"}, headers=extra)
        bedrock = client.post(BEDROCK, json={}, headers=extra)
        fine = client.get("/healthz", headers={f"X-Extra-{i}": "1" for i in range(90)})
    for answer in (native, openai, bedrock):
        assert answer.status_code == 431
        assert answer.headers["connection"] == "close"
    assert native.json()["type"] == "/problems/headers-too-large"
    assert openai.json()["error"]["code"] == "headers_too_large"
    assert bedrock.headers["x-amzn-errortype"] == "RequestHeaderSectionTooLarge"
    assert "32 KiB (32768 bytes) or 100 headers" in bedrock.json()["message"]
    assert fine.status_code == 200


def test_the_docker_image_serves_through_python_m_app() -> None:
    # The bounds are the server's own configuration (app/__main__.py): the image must keep it.
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    command = [line for line in lines if line.startswith("CMD ")]
    assert command == ['CMD ["python", "-m", "app"]']
