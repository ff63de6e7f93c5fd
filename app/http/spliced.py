"""A JSON answer written in the pieces `blobs.dumps` makes, never joined into one buffer."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..bedrock.blobs import Piece
from .media import JSON


class SplicedResponse(Response):
    """Sends the JSON around each image, then the image's base64 as the view of Bedrock's answer
    it arrived in, one body message each: the server writes a megabyte-long view as it is, where
    joining the pieces would copy it once more (starlette's own `Response.render` types a body
    as `bytes | memoryview`, and uvicorn writes either)."""

    media_type = JSON

    def __init__(
        self,
        pieces: list[Piece],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = JSON,
    ) -> None:
        self.pieces = pieces
        length = sum(len(piece) for piece in pieces)
        super().__init__(
            b"",
            status_code,
            {**(headers or {}), "Content-Length": str(length)},
            media_type=media_type,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        last = len(self.pieces) - 1
        for n, piece in enumerate(self.pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": n < last})
