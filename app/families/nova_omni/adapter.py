"""Amazon Nova 2 Omni: text-to-image and instruction edits through the Converse operation.

The model picks its output size; callers ask for one in the prompt. The gateway does the same
(a width and height, or an aspect ratio, is one sentence after the caller's prompt) and then
keeps its promise: the answer is centre-cropped to the ratio asked and, for a width and height,
resized to them, and `applied` says so. Converse has no seed and draws one image per call: n
images are n calls. What AWS has not documented (images per call, prompt length, the largest size
asked) is each entry's `limits`, with guesses as defaults (docs/models.md says which).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import pybase64
from PIL import Image
from pydantic import Field

from ...imaging.resizing import cover
from ...problems import FieldProblem
from ...schemas.images import FinishReason, GeneratedImage
from ...schemas.requests import EditRequest, Task, TextToImageRequest
from ..base import Call, FamilyLimits, ModelAdapter, ModelEntry, Notes, TaskHandler, b64

R = TypeVar("R", TextToImageRequest, EditRequest)

MODEL_ID = "amazon.nova-2-omni-v1:0"
_FIELDS: dict[Task, frozenset[str]] = {
    Task.TEXT_TO_IMAGE: frozenset({"prompt", "width", "height", "aspect_ratio"}),
    Task.EDIT: frozenset({"images", "prompt", "width", "height", "aspect_ratio"}),
}


class NovaOmniLimits(FamilyLimits):
    """What an entry's `limits` may set; the defaults marked as guesses are not AWS's word."""

    # Converse's documented image limits (per image).
    input_max_bytes: int = Field(default=3_750_000, ge=1)
    input_max_side: int = Field(default=8000, ge=1)
    # Guesses: AWS documents none of these for this model.
    max_images: int = Field(default=20, ge=1)
    prompt_max: int = Field(default=10_000, ge=1)
    min_side: int = Field(default=256, ge=1)
    max_side: int = Field(default=4096, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)


def limits_of(entry: ModelEntry) -> NovaOmniLimits:
    """`entry`'s limits over the family's defaults."""
    return NovaOmniLimits.model_validate(entry.limits)


class _Handler(TaskHandler[R]):
    """Both tasks: one user message, the prompt last; the answer fitted to what was asked."""

    def check(self, entry: ModelEntry, request: R) -> list[FieldProblem]:
        limits, name = limits_of(entry), entry.name
        problems: list[FieldProblem] = []
        if len(request.prompt) > limits.prompt_max:
            problems.append(
                FieldProblem(
                    field="prompt",
                    message=f"is {len(request.prompt)} characters; {name} takes "
                    f"{limits.prompt_max} (a configurable limit)",
                )
            )
        problems += _size_problems(request, limits, name)
        return problems + self.image_problems(request, limits, name)

    def image_problems(self, request: R, limits: NovaOmniLimits, name: str) -> list[FieldProblem]:
        """The input images' problems (none without images)."""
        return []

    def image_blocks(self, request: R) -> list[dict[str, Any]]:
        """The Converse image blocks before the prompt (none without images)."""
        return []

    def plan(self, entry: ModelEntry, request: R, rng: random.Random) -> list[Call]:
        content = self.image_blocks(request)
        content.append({"text": request.prompt + _size_sentence(request)})
        body: dict[str, Any] = {"messages": [{"role": "user", "content": content}]}
        max_tokens = limits_of(entry).max_tokens
        if max_tokens is not None:
            body["inferenceConfig"] = {"maxTokens": max_tokens}
        target = _target(request)
        extra = {
            "fit": list(target[0]) if target else None,
            "exact": target[1] if target else False,
        }
        # Converse takes no seed: n images are n identical calls.
        return [
            Call(body=body, seeds=(index,), extra=extra, operation="Converse")
            for index in range(request.n)
        ]

    def notes(self, entry: ModelEntry, request: R) -> Notes:
        target = _target(request)
        if target is None:
            return Notes()
        (width, height), exact = target
        if exact:
            return Notes(applied={"fit": f"centre-cropped and resized to {width}x{height}"})
        return Notes(applied={"fit": f"centre-cropped to {request.aspect_ratio}"})


class TextToImage(_Handler[TextToImageRequest]):
    """An image from the prompt alone."""

    request_type = TextToImageRequest


class Edit(_Handler[EditRequest]):
    """The images, then the instruction."""

    request_type = EditRequest

    def image_problems(
        self, request: EditRequest, limits: NovaOmniLimits, name: str
    ) -> list[FieldProblem]:
        problems = []
        if len(request.images) > limits.max_images:
            problems.append(
                FieldProblem(
                    field="images",
                    message=f"has {len(request.images)} images; {name} takes "
                    f"{limits.max_images} a call",
                )
            )
        for index, image in enumerate(request.images):
            if len(image.data) > limits.input_max_bytes:
                problems.append(
                    FieldProblem(
                        field=f"images[{index}]",
                        message=f"is {len(image.data)} bytes; {name} takes "
                        f"{limits.input_max_bytes} an image",
                    )
                )
            if max(image.width, image.height) > limits.input_max_side:
                problems.append(
                    FieldProblem(
                        field=f"images[{index}]",
                        message=f"is {image.width}x{image.height}; {name} takes "
                        f"{limits.input_max_side} px a side",
                    )
                )
        return problems

    def image_blocks(self, request: EditRequest) -> list[dict[str, Any]]:
        return [
            {"image": {"format": image.format.value, "source": {"bytes": b64(image.data)}}}
            for image in request.images
        ]


class NovaOmniAdapter(ModelAdapter):
    """Nova 2 Omni's Converse bodies: the images and the instruction in one user message."""

    family = "nova-omni"
    limits_model = NovaOmniLimits
    operation = "Converse"
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.TEXT_TO_IMAGE: TextToImage(),
        Task.EDIT: Edit(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        usage = payload.get("usage") or {}
        tokens = (int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)))
        content = ((payload.get("output") or {}).get("message") or {}).get("content") or []
        images = [
            block["image"] for block in content if isinstance(block, dict) and "image" in block
        ]
        stop = str(payload.get("stopReason", ""))
        if not images:
            texts = " ".join(b["text"] for b in content if isinstance(b, dict) and "text" in b)
            finish = FinishReason.CONTENT_FILTERED if "filter" in stop else FinishReason.ERROR
            reason = f"no image in the answer (stopReason {stop}): {texts}".strip()
            return [
                GeneratedImage(
                    b64=None, seed=None, finish_reason=finish, error=reason, usage=tokens
                )
            ]
        data = pybase64.b64decode(images[0]["source"]["bytes"])
        fitted = _fit(data, call.extra.get("fit"), bool(call.extra.get("exact")))
        return [
            GeneratedImage(
                b64=pybase64.b64encode_as_string(fitted),
                seed=None,
                finish_reason=FinishReason.SUCCESS,
                mime_type="image/png",
                usage=tokens,
            )
        ]

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        limits = limits_of(entry)
        return {
            "operation": "converse",
            "images_per_call": 1,
            "seed": None,
            "max_images": limits.max_images,
            "prompt_max_chars": limits.prompt_max,
            "sides": [limits.min_side, limits.max_side],
            "input_image": {
                "max_bytes": limits.input_max_bytes,
                "max_side": limits.input_max_side,
            },
            "guesses": ["max_images", "prompt_max_chars", "sides"],
        }


def _size_problems(
    request: TextToImageRequest | EditRequest, limits: NovaOmniLimits, name: str
) -> list[FieldProblem]:
    width, height = request.width, request.height
    if (width is None) != (height is None):
        missing = "width" if width is None else "height"
        return [FieldProblem(field=missing, message="width and height must be given together")]
    if width is not None and request.aspect_ratio is not None:
        return [FieldProblem(field="aspect_ratio", message="give aspect_ratio or width and height")]
    problems = []
    for field, value in (("width", width), ("height", height)):
        if value is not None and not limits.min_side <= value <= limits.max_side:
            problems.append(
                FieldProblem(
                    field=field,
                    message=f"is {value}; {name} is asked for {limits.min_side}-"
                    f"{limits.max_side} px a side (a configurable limit)",
                )
            )
    return problems


def _target(request: TextToImageRequest | EditRequest) -> tuple[tuple[int, int], bool] | None:
    """(the size or ratio the answer is fitted to, whether the size is exact), or None."""
    if request.width is not None and request.height is not None:
        return (request.width, request.height), True
    if request.aspect_ratio is not None:
        a, b = (int(part) for part in request.aspect_ratio.split(":"))
        return (a, b), False
    return None


def _size_sentence(request: TextToImageRequest | EditRequest) -> str:
    """What a Converse caller writes to ask for a size: a sentence after the prompt."""
    if request.width is not None and request.height is not None:
        divisor = math.gcd(request.width, request.height)
        ratio = f"{request.width // divisor}:{request.height // divisor}"
        return f"\n\nOutput size {request.width}x{request.height} pixels, aspect ratio {ratio}."
    if request.aspect_ratio is not None:
        return f"\n\nAspect ratio {request.aspect_ratio}."
    return ""


def _fit(data: bytes, fit: list[int] | None, exact: bool) -> bytes:
    """The answer centre-cropped to the ratio asked and, when exact, resized to it, as PNG."""
    with Image.open(io.BytesIO(data)) as decoded:
        image = decoded.convert("RGBA" if "A" in decoded.mode else "RGB")
    if fit is not None:
        width, height = fit
        if not exact:
            # The largest size of the ratio asked within the model's answer.
            scale = min(image.width / width, image.height / height)
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
        if (width, height) != image.size:
            image = cover(image, (width, height))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


ADAPTER = NovaOmniAdapter()
MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id=MODEL_ID,
        family="nova-omni",
        aliases=("nova-2-omni", "nova-omni"),
        tasks=(Task.TEXT_TO_IMAGE, Task.EDIT),
        invoke_id=f"us.{MODEL_ID}",
        region="us-east-1",
        description="Amazon Nova 2 Omni (Preview), through Converse: images from text, and "
        "instruction edits of one image or several",
    ),
)
