"""A Bedrock Runtime stand-in that costs next to nothing: InvokeModel answered after a fixed
latency with images made once and kept.

The emulator validates every body and draws every image, which is right for tests and wrong for a
benchmark: its CPU would be charged to both sides of the comparison and drown the gateway's. This
server parses only what it must (the request line, Content-Length, and a few numbers found by a
byte search in the body: `numberOfImages`, `width`, `height`, an input image's PNG header), and
writes an answer built once per (family, size, count).

`python -m bench.upstream --port 8101 --latency-ms 50`; `PUT /_bench/latency/<ms>` changes the
latency while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import re
import struct
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import orjson

PHOTO = Path(__file__).resolve().parent.parent / "tests" / "data" / "coffee-1216x832.png"
DEFAULT_SIZE = (1024, 1024)
_NUMBER = re.compile(rb"\s*:\s*(\d+)")


@cache
def png_of(width: int, height: int) -> bytes:
    """A photograph at `width`×`height` as PNG, with grain added so that it compresses like a
    generated image (about 1.9 MB at 1024²) rather than a smooth upscale."""
    import numpy as np
    from PIL import Image

    with Image.open(PHOTO) as photo:
        scaled = photo.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(scaled, dtype=np.int16)
    grain = np.random.default_rng(width * 7919 + height).integers(-6, 7, pixels.shape)
    noisy = np.clip(pixels + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy).save(out, format="PNG", compress_level=1)
    return out.getvalue()


@cache
def answer_of(family: str, width: int, height: int, count: int) -> bytes:
    """The whole HTTP answer for one InvokeModel call, made once."""
    b64 = base64.b64encode(png_of(width, height)).decode("ascii")
    body: dict[str, object]
    if family == "titan":
        body = {"images": [b64] * count, "error": None}
    elif family == "sdxl":
        body = {
            "result": "success",
            "artifacts": [{"seed": 42, "base64": b64, "finishReason": "SUCCESS"}],
        }
    else:  # Stability's current models and Image Services
        body = {"seeds": [42], "finish_reasons": [None], "images": [b64]}
    payload = orjson.dumps(body)
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n"
        "\r\n"
    )
    return head.encode("ascii") + payload


def family_of(model_id: str) -> str:
    if "titan-image" in model_id or "nova-canvas" in model_id:
        return "titan"
    if "stable-diffusion-xl" in model_id:
        return "sdxl"
    return "stability"


def _number(body: bytes, key: bytes) -> int | None:
    at = body.find(b'"' + key + b'"')
    if at < 0:
        return None
    match = _NUMBER.match(body, at + len(key) + 2)
    return int(match.group(1)) if match else None


def _input_size(body: bytes) -> tuple[int, int] | None:
    """The size of the first base64 PNG in the body, from its header (the edit answers' size)."""
    at = body.find(b'"iVBORw0KGgo')
    if at < 0:
        return None
    head = base64.b64decode(body[at + 1 : at + 33])
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def pick_answer(model_id: str, body: bytes) -> bytes:
    """The cached answer for a request: its family, the size it asks for (or its input's), and
    Titan's image count."""
    family = family_of(model_id)
    width, height = _number(body, b"width"), _number(body, b"height")
    size = (width, height) if width and height else _input_size(body) or DEFAULT_SIZE
    count = (_number(body, b"numberOfImages") or 1) if family == "titan" else 1
    return answer_of(family, *size, count)


class Upstream:
    """The server's one setting, shared by its connections."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_s = latency_ms / 1000


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, one request at a time, Content-Length bodies only (what
    botocore and aiohttp send)."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.answering = False
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _next(self) -> None:
        if self.answering or self.transport is None:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                self.continued = True
                self.transport.write(_CONTINUE)
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.continued = False
        if method == "PUT" and target.startswith("/_bench/latency/"):
            self.upstream.latency_s = float(target.rsplit("/", 1)[1]) / 1000
            self._send(_OK)
            return
        if method != "POST" or not target.startswith("/model/"):
            self._send(_NOT_FOUND)
            return
        model_id = unquote(target.removeprefix("/model/").rsplit("/", 1)[0])
        answer = pick_answer(model_id, body)
        self.answering = True
        asyncio.get_running_loop().call_later(self.upstream.latency_s, self._send, answer)

    def _send(self, answer: bytes) -> None:
        self.answering = False
        if self.transport is not None:
            self.transport.write(answer)
            self._next()


async def serve(host: str, port: int, latency_ms: float) -> None:
    upstream = Upstream(latency_ms)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(upstream), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(serve(args.host, args.port, args.latency_ms))


if __name__ == "__main__":
    main()
