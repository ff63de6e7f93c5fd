"""What a task produces: images with their seeds and finish reasons, and the JSON answer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class FinishReason(StrEnum):
    """Why an image ended; anything but `success` comes without image data."""

    SUCCESS = "success"
    CONTENT_FILTERED = "content_filtered"
    ERROR = "error"


# Base64 text: a str, or a view of the bytes of Bedrock's answer that holds it (bedrock/blobs.py),
# which reaches the caller uncopied.
B64 = str | memoryview
B64_TYPES = (str, memoryview)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image of an answer, still base64 as Bedrock sent it (re-encoding it would cost time)."""

    b64: B64 | None
    seed: int | None
    finish_reason: FinishReason
    mime_type: str | None = None
    error: str | None = None
    # (input, output) tokens of the call that made it, for models priced per token.
    usage: tuple[int, int] | None = None


class ImageOut(BaseModel):
    """One image in a JSON answer."""

    b64_json: str | None = Field(description="The image, base64; null when it was not produced.")
    seed: int | None = Field(description="The seed that reproduces this image.", examples=[42])
    finish_reason: FinishReason = Field(examples=["success"])
    mime_type: str | None = Field(default=None, examples=["image/png"])
    error: str | None = Field(default=None, description="Why the image was not produced.")


class Usage(BaseModel):
    """What the answer cost at the gateway's prices (docs/spend.md)."""

    images: int = Field(description="Images charged: those produced.", examples=[1])
    cost_usd: float | None = Field(
        description="USD; null when the model's price is unknown. Also the `Cost-USD` header.",
        examples=[0.08],
    )
    input_tokens: int | None = Field(
        default=None, description="Models priced per token: the calls' input tokens."
    )
    output_tokens: int | None = Field(
        default=None, description="Models priced per token: the calls' output tokens."
    )


class ImagesResponse(BaseModel):
    """The JSON answer of every image task."""

    id: str = Field(description="The request id.", examples=["6f1c2a9e0b7d4c1e8f3a2b5c4d6e7f80"])
    model: str = Field(
        description="The Bedrock model that made the images.",
        examples=["amazon.titan-image-generator-v1"],
    )
    created: int = Field(description="Unix time of the answer.", examples=[1763779200])
    images: list[ImageOut]
    applied: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Choices the gateway made for the caller, e.g. the aspect_ratio a width and height "
            "were mapped to."
        ),
        examples=[{"aspect_ratio": "3:2"}],
    )
    warnings: list[str] = Field(
        default_factory=list, description="What the caller should know; also `Warning` headers."
    )
    usage: Usage
