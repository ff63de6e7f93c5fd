"""max_requests_in_flight: one request over the cap is refused at once, before its body is read."""

from __future__ import annotations

import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import boto3
import h11
import httpx
import pytest
from botocore.config import Config

from emulator.testing import EmulatorServer
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

T2I = "/v1/images/text-to-image"
REQUEST = {"prompt": "a red kite", "width": 512, "height": 512}


def post_without_body(url: str, path: str) -> tuple[h11.Response, bytes]:
    """Send a POST's headers promising a megabyte of body, send none of it, and read the answer."""
    parts = urlsplit(url)
    conn = h11.Connection(h11.CLIENT)
    headers = [
        ("Host", parts.netloc),
        ("Content-Type", "application/json"),
        ("Content-Length", str(1024 * 1024)),
        ("X-Request-ID", "busy-1"),
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(conn.send(h11.Request(method="POST", target=path, headers=headers)))
        response: h11.Response | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
    assert response is not None
    return response, body


def test_the_request_over_the_cap_is_refused_before_its_body(emulator: EmulatorServer) -> None:
    emulator.hold()
    with (
        GatewayServer(settings_for(emulator, max_requests_in_flight=2)) as gateway,
        ThreadPoolExecutor(2) as pool,
    ):
        held = [pool.submit(httpx.post, f"{gateway.url}{T2I}", json=REQUEST, timeout=60)]
        held.append(pool.submit(httpx.post, f"{gateway.url}{T2I}", json=REQUEST, timeout=60))
        emulator.wait_for(in_flight=2)

        response, body = post_without_body(gateway.url, T2I)
        headers = {name.decode(): value.decode() for name, value in response.headers}
        assert response.status_code == 503
        assert headers["content-type"] == "application/problem+json"
        assert headers["retry-after"] == "1"
        assert headers["x-request-id"] == "busy-1"
        assert json.loads(body) == {
            "type": "/problems/gateway-busy",
            "title": "The gateway is busy",
            "status": 503,
            "detail": "the gateway is already handling its limit of 2 requests; "
            "retry after a moment",
            "instance": T2I,
            "request_id": "busy-1",
        }
        # Listing models reads no body and calls no model: a busy gateway still answers it.
        assert httpx.get(f"{gateway.url}/v1/models", timeout=30).status_code == 200

        emulator.release()
        for future in held:
            answer = future.result()
            assert answer.status_code == 200, answer.text
        # Both slots are free again.
        answer = httpx.post(f"{gateway.url}{T2I}", json=REQUEST, timeout=60)
        assert answer.status_code == 200, answer.text
    assert emulator.stats()["total"] == 3


def test_each_surface_refuses_in_its_own_shape(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        monkeypatch.setenv(name, value)
    emulator.hold()
    with (
        GatewayServer(settings_for(emulator, max_requests_in_flight=1)) as gateway,
        ThreadPoolExecutor(1) as pool,
    ):
        held = pool.submit(httpx.post, f"{gateway.url}{T2I}", json=REQUEST, timeout=60)
        emulator.wait_for(in_flight=1)
        # boto3 writes its whole body before it reads: the refusal, made without reading it,
        # still reaches it, as the Bedrock error it retries.
        runtime = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=gateway.url,
            config=Config(retries={"total_max_attempts": 1}),
        )
        try:
            with pytest.raises(runtime.exceptions.ServiceUnavailableException) as info:
                runtime.invoke_model(
                    modelId="amazon.titan-image-generator-v1", body=b"x" * (4 * 1024 * 1024)
                )
        finally:
            runtime.close()
        answer = info.value.response
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert answer["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
        assert "limit of 1 request;" in answer["Error"]["Message"]

        refused = httpx.post(
            f"{gateway.url}/openai/v1/images/generations", json={"prompt": "a kite"}, timeout=30
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["type"] == "server_error"

        emulator.release()
        assert held.result().status_code == 200
