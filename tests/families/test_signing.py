"""Bodies are signed with the SHA-256 taken where they are built (or, on the Bedrock surface,
read), off the event loop.

SigV4 signs a hash of the body. For an image body that hash is milliseconds of work, so the
gateway takes it in the worker thread that serialises the body and sends it as
X-Amz-Content-SHA256, which botocore then signs instead of hashing the body again. The header
must be the hash of the very bytes Bedrock receives, and be among the signed headers.
"""

from __future__ import annotations

import base64
import hashlib

import httpx
import orjson

from emulator.testing import EmulatorServer
from tests.support.gateway import data

SD35 = "stability.sd3-5-large-v1:0"


def received(emulator: EmulatorServer) -> tuple[str, bytes]:
    """The signed X-Amz-Content-SHA256 of the one call Bedrock received, and its body as the
    gateway wrote it (orjson, which both the gateway and this re-serialisation use, writes a dict
    one way)."""
    (call,) = emulator.requests()
    headers = {name.lower(): value for name, value in call["headers"].items()}
    credential = headers["authorization"].split(" ", 1)[1]
    fields = dict(part.strip().split("=", 1) for part in credential.split(","))
    assert "x-amz-content-sha256" in fields["SignedHeaders"].split(";")
    body = orjson.dumps(call["body"])
    assert len(body) == call["body_bytes"]
    return headers["x-amz-content-sha256"], body


async def test_an_image_body_is_signed_with_the_digest_taken_off_the_loop(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    image = base64.b64encode(data("coffee-1216x832.png")).decode()
    response = await gateway.post(
        "/v1/images/image-to-image",
        json={"model": "sdxl", "image": image, "prompt": "latte art", "seed": 7},
    )
    assert response.status_code == 200, response.text
    digest, body = received(emulator)
    assert digest == hashlib.sha256(body).hexdigest()


async def test_a_text_body_carries_its_digest_too(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(
        "/v1/images/text-to-image", json={"prompt": "a kite", "width": 512, "height": 512}
    )
    assert response.status_code == 200, response.text
    digest, body = received(emulator)
    assert digest == hashlib.sha256(body).hexdigest()


async def test_a_body_passed_through_is_signed_with_its_own_digest(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    # The Bedrock surface sends the caller's bytes as they came: the digest is of those bytes.
    image = base64.b64encode(data("coffee-1216x832.png")).decode()
    raw = orjson.dumps(
        {
            "prompt": "latte art",
            "mode": "image-to-image",
            "image": image,
            "strength": 0.5,
            "seed": 7,
        }
    )
    response = await gateway.post(
        f"/model/{SD35}/invoke",
        content=raw,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    digest, body = received(emulator)
    assert body == raw
    assert digest == hashlib.sha256(raw).hexdigest()
