"""A caller that hangs up cancels its request: its Bedrock calls end and nothing is left held."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from app.middleware.cancellation import CancelOnDisconnect
from emulator.testing import EmulatorServer
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

T2I = "/v1/images/text-to-image"
# Far longer than any test: a call that ends did so because its client hung up.
FOREVER_MS = 600_000


def send_request(url: str, path: str, payload: object) -> socket.socket:
    """Open a connection to `url` and send a whole JSON POST on it; the caller closes it."""
    parts = urlsplit(url)
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(head + body)
    return sock


@pytest.fixture
def emulator_forever(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The emulator with every call held until its client hangs up."""
    emulator.set_faults(latency_ms={"*": FOREVER_MS})
    yield emulator
    emulator.reset()


class TestEmulatorSeesTheCallerLeave:
    def test_a_latency_sleep_ends_when_the_client_hangs_up(
        self, emulator_forever: EmulatorServer
    ) -> None:
        emulator = emulator_forever
        body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a kite"}}
        with send_request(emulator.url, "/model/amazon.titan-image-generator-v1/invoke", body):
            emulator.wait_for(in_flight=1)
        stats = emulator.wait_for(in_flight=0, disconnected=1)
        assert stats == {"in_flight": 0, "max_in_flight": 1, "total": 1, "disconnected": 1}
        [record] = emulator.requests()
        assert (record["status"], record["error_code"]) == (None, "ClientDisconnected")
        assert record["body"] == body

    def test_a_held_call_ends_when_the_client_hangs_up(self, emulator: EmulatorServer) -> None:
        emulator.hold()
        body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a kite"}}
        with send_request(emulator.url, "/model/amazon.titan-image-generator-v1/invoke", body):
            emulator.wait_for(in_flight=1)
        emulator.wait_for(in_flight=0, disconnected=1)
        assert emulator.requests()[0]["error_code"] == "ClientDisconnected"

    def test_waiting_on_counters_times_out(self, emulator: EmulatorServer) -> None:
        with pytest.raises(TimeoutError, match="'in_flight': 1"):
            emulator.wait_for(timeout_s=0.1, in_flight=1)


class TestGatewayCancelsTheRequest:
    def test_every_call_of_the_fan_out_ends_and_the_gateway_serves_again(
        self, emulator_forever: EmulatorServer
    ) -> None:
        emulator = emulator_forever
        # One request at a time: the next one is served only if the cancelled one let go.
        settings = settings_for(emulator, max_requests_in_flight=1)
        with GatewayServer(settings) as gateway:
            request = {"model": "sdxl", "prompt": "boats", "n": 3}
            with send_request(gateway.url, T2I, request):
                emulator.wait_for(in_flight=3)
            stats = emulator.wait_for(in_flight=0, disconnected=3)
            assert (stats["total"], stats["max_in_flight"]) == (3, 3)
            assert [r["error_code"] for r in emulator.requests()] == ["ClientDisconnected"] * 3

            emulator.reset()
            response = httpx.post(f"{gateway.url}{T2I}", json=request, timeout=60)
            assert response.status_code == 200, response.text
            assert len(response.json()["images"]) == 3

    def test_calls_waiting_for_a_slot_are_dropped_with_it(
        self, emulator_forever: EmulatorServer
    ) -> None:
        emulator = emulator_forever
        settings = settings_for(emulator, max_concurrency_per_model=1)
        with GatewayServer(settings) as gateway:
            with send_request(gateway.url, T2I, {"model": "sdxl", "prompt": "boats", "n": 3}):
                emulator.wait_for(in_flight=1)
            emulator.wait_for(in_flight=0, disconnected=1)

            emulator.reset()
            request = {"model": "sdxl", "prompt": "kites", "n": 2}
            response = httpx.post(f"{gateway.url}{T2I}", json=request, timeout=60)
            assert response.status_code == 200, response.text
            # Only the new request's calls came: the two that were queued never reached Bedrock.
            assert emulator.stats()["total"] == 2

    def test_the_bedrock_surface_is_cancelled_too(self, emulator_forever: EmulatorServer) -> None:
        emulator = emulator_forever
        with GatewayServer(settings_for(emulator)) as gateway:
            body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a kite"}}
            path = "/model/amazon.titan-image-generator-v1/invoke"
            with send_request(gateway.url, path, body):
                emulator.wait_for(in_flight=1)
            emulator.wait_for(in_flight=0, disconnected=1)


class Client:
    """The client side of one ASGI request: what the app receives, what it sent."""

    def __init__(self, *chunks: bytes) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        for i, chunk in enumerate(chunks):
            more = i < len(chunks) - 1
            self.inbox.put_nowait({"type": "http.request", "body": chunk, "more_body": more})
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return await self.inbox.get()

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def hang_up(self) -> None:
        self.inbox.put_nowait({"type": "http.disconnect"})


SCOPE: Scope = {"type": "http", "method": "POST", "path": "/", "headers": []}


class TestMiddleware:
    async def test_the_app_reads_every_body_chunk_and_answers(self) -> None:
        client = Client(b"ab", b"cd", b"ef")

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            body = b""
            more = True
            while more:
                message = await receive()
                body += message["body"]
                more = message["more_body"]
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

        await CancelOnDisconnect(app)(SCOPE, client.receive, client.send)
        assert [m.get("body") for m in client.sent] == [None, b"abcdef"]

    async def test_hanging_up_before_the_answer_cancels_the_handler(self) -> None:
        client = Client(b"{}")
        waiting = asyncio.Event()
        outcome: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await receive()
            waiting.set()
            try:
                await asyncio.Event().wait()  # a Bedrock call that would never end
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        served = asyncio.create_task(CancelOnDisconnect(app)(SCOPE, client.receive, client.send))
        await waiting.wait()
        client.hang_up()
        await served  # returns: nobody is left to answer
        assert outcome == ["cancelled"]
        assert client.sent == []
        assert not served.cancelled()

    async def test_hanging_up_once_the_answer_started_cancels_nothing(self) -> None:
        client = Client(b"{}")
        started, go_on = asyncio.Event(), asyncio.Event()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            started.set()
            await go_on.wait()
            await send({"type": "http.response.body", "body": b"done"})

        served = asyncio.create_task(CancelOnDisconnect(app)(SCOPE, client.receive, client.send))
        await started.wait()
        client.hang_up()
        go_on.set()
        await served
        assert client.sent[-1] == {"type": "http.response.body", "body": b"done"}

    async def test_a_cancellation_from_elsewhere_propagates(self) -> None:
        client = Client(b"{}")
        waiting = asyncio.Event()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await receive()
            waiting.set()
            await asyncio.Event().wait()

        served = asyncio.create_task(CancelOnDisconnect(app)(SCOPE, client.receive, client.send))
        await waiting.wait()
        served.cancel()
        with pytest.raises(asyncio.CancelledError):
            await served
