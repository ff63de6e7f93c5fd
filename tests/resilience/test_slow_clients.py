"""Slow clients delay only themselves (issue 17, finding 1), on `python -m app`.

Fifty uploads trickle their bodies a byte at a time, on every surface, half of them with no length
announced and half announcing half the body budget or ten times it (a promise never kept);
beside them sit connections that never send a byte and heads sent a byte at a time. With fewer
request slots (8) and body bytes (1 MiB) than the slow ones would take if they were counted as they
arrive or as announced, other callers are served on every surface, uploads included, while the
slow ones are still open. Then every slow one ends: 408 in its surface's shape and the connection
closed, or (a connection that never sent anything) just closed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import data
from tests.support.raw_client import RawPost
from tests.support.served import ServedGateway, errors_logged

READ_TIMEOUT_S = 15
SLOW_UPLOADS = 50
BODY_BUDGET = 1024 * 1024
ANNOUNCED = [None, BODY_BUDGET // 2, None, 10 * BODY_BUDGET]
TITAN = "amazon.titan-image-generator-v1"
NATIVE = "/v1/images/text-to-image"
OPENAI = "/openai/v1/images/generations"
BEDROCK = f"/model/{TITAN}/invoke"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def gateway(emulator: EmulatorServer) -> Iterator[ServedGateway]:
    with ServedGateway(
        emulator,
        GATEWAY_BODY_READ_TIMEOUT_S=str(READ_TIMEOUT_S),
        GATEWAY_HEADER_READ_TIMEOUT_S=str(READ_TIMEOUT_S),
        GATEWAY_MAX_REQUESTS_IN_FLIGHT="8",
        GATEWAY_MAX_BODY_BYTES_IN_FLIGHT=str(BODY_BUDGET),
    ) as served:
        yield served


def until(condition: Iterator[bool]) -> None:
    """Wait until the gateway's own counters say so (polled: it has no event to wait on)."""
    pause = threading.Event()
    for met in condition:
        if met:
            return
        pause.wait(0.05)


def in_flight(gateway: ServedGateway, count: int) -> Iterator[bool]:
    for _ in range(1200):
        # The /metrics request that reads the gauge is in flight too.
        yield gateway.metric("gateway_requests_in_flight") >= count + 1
    raise AssertionError(f"the gateway never held {count} requests")


def trickle(uploads: list[RawPost], heads: list[socket.socket], stop: threading.Event) -> None:
    """A byte every half second on each slow connection, until told to stop."""
    while not stop.wait(0.5):
        for upload in uploads:
            upload.send(b" ")
        for head in heads:
            with contextlib.suppress(OSError):
                head.sendall(b"x")


def unanswered(sock: socket.socket) -> bool:
    """Nothing has arrived on `sock`, not even its end (checked without waiting)."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(60)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_fifty_slow_uploads_delay_only_themselves(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    paths = [NATIVE, OPENAI, BEDROCK]
    # Half announce a length: half the body budget (admitted whole, until the pace they keep
    # shows they will not send it) or ten times it (charged as it arrives).
    uploads = [
        RawPost(
            gateway.url,
            paths[i % 3],
            headers={**JSON, "X-Request-ID": f"slow-{i}"},
            length=ANNOUNCED[i % 4],
        ).start()
        for i in range(SLOW_UPLOADS)
    ]
    for upload in uploads:
        upload.send(b'{"prompt": "a slow kite"')
    # Connections that send nothing, and heads that come a byte at a time.
    idle = [socket.create_connection(("127.0.0.1", gateway.port)) for _ in range(5)]
    heads = [socket.create_connection(("127.0.0.1", gateway.port)) for _ in range(5)]
    for head in heads:
        head.sendall(b"POST /openai/v1/images/generations HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    stop = threading.Event()
    trickler = threading.Thread(target=trickle, args=(uploads, heads, stop), daemon=True)
    trickler.start()
    try:
        until(in_flight(gateway, SLOW_UPLOADS))

        # Other callers, on every surface, an upload among them: served in full.
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            native = client.post(NATIVE, json={"prompt": "a red kite", "width": 512, "height": 512})
            openai = client.post(OPENAI, json={"prompt": "a red kite", "size": "512x512"})
            bedrock = client.post(
                BEDROCK,
                json={
                    "taskType": "TEXT_IMAGE",
                    "textToImageParams": {"text": "a red kite"},
                    "imageGenerationConfig": {"width": 512, "height": 512},
                },
            )
            inpaint = client.post(
                "/v1/images/inpaint",
                files={
                    "image": ("coffee.png", data("coffee.png")),
                    "mask": ("mask.png", data("coffee-mask-black-edit.png")),
                },
                data={"prompt": "latte art"},
            )
        for response in (native, openai, bedrock, inpaint):
            assert response.status_code == 200, response.text[:500]
        assert len(native.json()["images"]) == 1
        assert len(openai.json()["data"]) == 1
        assert len(bedrock.json()["images"]) == 1
        assert len(inpaint.json()["images"]) == 1
        # ...while every slow one is still open and unanswered.
        assert not any(upload.answered() for upload in uploads)
        assert all(unanswered(sock) for sock in idle + heads)
    finally:
        stop.set()
        trickler.join()

    answers = [upload.answer() for upload in uploads]
    for path, answer in zip([paths[i % 3] for i in range(SLOW_UPLOADS)], answers, strict=True):
        assert (answer.status, answer.closed) == (408, True), answer
        if path == NATIVE:
            assert answer.headers["content-type"] == "application/problem+json"
            assert b'"type":"/problems/body-timeout"' in answer.body
        elif path == OPENAI:
            assert b'"code":"body_timeout"' in answer.body
        else:
            assert answer.headers["x-amzn-errortype"] == "RequestTimeout"
        assert f"within {READ_TIMEOUT_S} s".encode() in answer.body
    for head in heads:
        raw = read_to_end(head)  # the answer, then the connection's end
        assert raw.startswith(b"HTTP/1.1 408 "), raw
        assert b'"code":"header_timeout"' in raw
    for sock in idle:
        assert read_to_end(sock) == b""  # nothing to answer: just closed
    for upload in uploads:
        upload.close()
    for sock in idle + heads:
        sock.close()

    timed_out = gateway.wait_for_records(
        lambda r: str(r.get("request_id", "")).startswith("slow-"), count=SLOW_UPLOADS
    )
    assert {r["status"] for r in timed_out} == {408}
    assert emulator.stats()["total"] == 4  # only the four callers' calls reached Bedrock
    assert errors_logged(gateway) == []
