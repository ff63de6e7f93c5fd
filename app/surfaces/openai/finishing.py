"""What is done to the images after the run, so the answer is what the caller asked for.

In order: the background removed (`background: transparent`: a second task, remove-background, on
the registry's model for it, run by the same runner with the caller's key, so it is permitted,
rate-limited and counted as any request is); a masked edit of a scaled-down input brought back to
the input's size; the size asked for (cropped around the centre to its ratio, then resized); the
output format, at the JPEG/WebP quality `output_compression` asks for. An image that needs none of
it is passed on as Bedrock sent it, not decoded.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, replace

import pybase64
from PIL import Image

from ...auth.keys import ApiKey
from ...bedrock import blobs
from ...imaging.outputs import OUTPUT_MIME, encode
from ...imaging.resizing import cover
from ...observability import facts
from ...problems import ProblemError
from ...schemas.images import B64, FinishReason, GeneratedImage
from ...schemas.requests import Task
from ...tasks.runner import TaskResult, TaskRunner
from .errors import OpenAIError, from_problem
from .vocabulary import Mapped

_FORMATS = {mime: fmt for fmt, mime in OUTPUT_MIME.items()}


@dataclass(frozen=True)
class Finished:
    """One image of the answer."""

    b64: B64
    format: str  # png, jpeg or webp
    size: tuple[int, int]
    bedrock_images: int  # images Bedrock made for it: 1, or 2 with its background removed
    drawn: tuple[int, int]  # the size the model drew it at


async def remove_backgrounds(
    runner: TaskRunner, result: TaskResult, mapped: Mapped, key: ApiKey
) -> list[tuple[GeneratedImage, int]]:
    """Every image of `result` with a transparent background when asked, and how many Bedrock
    images each took. An image whose removal fails is reported missing, not sent opaque."""
    if not mapped.transparent:
        return [(image, 1) for image in result.images]
    removed = await asyncio.gather(
        *(_remove(runner, image, key) for image in result.images), return_exceptions=True
    )
    # The removals noted their own model and task: the request's are the generation's.
    facts.note(model=result.model_id, task=mapped.task.value)
    out: list[tuple[GeneratedImage, int]] = []
    for image, outcome in zip(result.images, removed, strict=True):
        if isinstance(outcome, ProblemError):
            if len(result.produced) == 1:
                raise _removal_error(outcome) from None
            why = f"its background could not be removed: {outcome.detail}"
            out.append((replace(image, b64=None, finish_reason=FinishReason.ERROR, error=why), 0))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            out.append(outcome)
    return out


async def _remove(
    runner: TaskRunner, image: GeneratedImage, key: ApiKey
) -> tuple[GeneratedImage, int]:
    if image.finish_reason is not FinishReason.SUCCESS or image.b64 is None:
        return image, 0
    if _has_alpha(image.b64):
        return image, 1  # the model drew the transparency itself
    removal = await runner.run(Task.REMOVE_BACKGROUND, {"image": blobs.text_of(image.b64)}, key=key)
    if not removal.produced:
        failed = removal.images[0]
        why = f"its background could not be removed: {failed.error or failed.finish_reason.value}"
        return replace(image, b64=None, finish_reason=FinishReason.ERROR, error=why), 1
    done = removal.produced[0]
    return replace(image, b64=done.b64, mime_type=done.mime_type), 2


def _removal_error(problem: ProblemError) -> OpenAIError:
    """The answer when the one image's background removal failed: the removal's own error
    (status, retry headers), naming `background`."""
    error = from_problem(problem, lambda _: "background")
    return replace(
        error, message=f"The background removal failed: {error.message}", param="background"
    )


def finish(image: GeneratedImage, bedrock_images: int, mapped: Mapped) -> Finished:
    """`image` at the size, in the format and quality asked (CPU work: run in a thread)."""
    assert image.b64 is not None
    fmt = _FORMATS.get(image.mime_type or "", "png")
    target = mapped.output_format or fmt
    lossy = mapped.compression is not None and target in ("jpeg", "webp")
    data = blobs.decoded(image.b64)
    with Image.open(io.BytesIO(data)) as opened:
        drawn = opened.size
        size = mapped.size or (mapped.restore.size if mapped.restore else drawn)
        if mapped.restore is None and size == drawn and target == fmt and not lossy:
            return Finished(image.b64, fmt, drawn, bedrock_images, drawn)
        opened.load()
        picture: Image.Image = opened
        if mapped.restore is not None:
            picture = mapped.restore.apply(picture)
        picture = cover(picture, size)
        out = encode(picture, target, mapped.compression)
    return Finished(pybase64.b64encode_as_string(out), target, size, bedrock_images, drawn)


def _has_alpha(b64: B64) -> bool:
    """Whether the image has an alpha channel, from its header alone."""
    with Image.open(io.BytesIO(pybase64.b64decode(b64))) as opened:
        return "A" in opened.getbands() or opened.has_transparency_data
