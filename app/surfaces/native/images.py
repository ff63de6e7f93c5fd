"""POST /v1/images/*: the task endpoints of the native API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ...problems import request_id_of
from ...schemas.requests import (
    ImageToImageRequest,
    InpaintRequest,
    OutpaintRequest,
    Task,
    TextToImageRequest,
    VariationsRequest,
)
from ...tasks.runner import TaskRunner
from .answers import check_binary_count, negotiate, render
from .body import read_fields
from .spec import IMAGE_RESPONSES, request_body

router = APIRouter(prefix="/v1/images", tags=["images"])


def get_runner(request: Request) -> TaskRunner:
    """The task runner the lifespan opened."""
    runner: TaskRunner = request.state.runner
    return runner


RunnerDep = Annotated[TaskRunner, Depends(get_runner)]


async def _serve(task: Task, request: Request, runner: TaskRunner, *, multipart: bool) -> Response:
    media = negotiate(request.headers.get("accept"))
    raw = await read_fields(request, multipart=multipart)
    check_binary_count(media, raw)
    result = await runner.run(task, raw)
    return await render(result, media, request_id_of(request.scope))


@router.post(
    "/text-to-image",
    operation_id="textToImage",
    summary="Generate images from a prompt",
    openapi_extra=request_body(TextToImageRequest, multipart=False),
    responses=IMAGE_RESPONSES,
)
async def text_to_image(request: Request, runner: RunnerDep) -> Response:
    """Titan TEXT_IMAGE or SDXL text-to-image."""
    return await _serve(Task.TEXT_TO_IMAGE, request, runner, multipart=False)


@router.post(
    "/inpaint",
    operation_id="inpaint",
    summary="Replace the masked pixels of an image",
    openapi_extra=request_body(InpaintRequest, multipart=True),
    responses=IMAGE_RESPONSES,
)
async def inpaint(request: Request, runner: RunnerDep) -> Response:
    """Titan INPAINTING (mask or mask prompt) or SDXL masking."""
    return await _serve(Task.INPAINT, request, runner, multipart=True)


@router.post(
    "/outpaint",
    operation_id="outpaint",
    summary="Generate the masked pixels around what is kept",
    openapi_extra=request_body(OutpaintRequest, multipart=True),
    responses=IMAGE_RESPONSES,
)
async def outpaint(request: Request, runner: RunnerDep) -> Response:
    """Titan OUTPAINTING (DEFAULT or PRECISE) or SDXL masking."""
    return await _serve(Task.OUTPAINT, request, runner, multipart=True)


@router.post(
    "/variations",
    operation_id="variations",
    summary="Make variations of one to five images",
    openapi_extra=request_body(VariationsRequest, multipart=True),
    responses=IMAGE_RESPONSES,
)
async def variations(request: Request, runner: RunnerDep) -> Response:
    """Titan IMAGE_VARIATION or SDXL image-to-image."""
    return await _serve(Task.VARIATIONS, request, runner, multipart=True)


@router.post(
    "/image-to-image",
    operation_id="imageToImage",
    summary="Transform an image, guided by a prompt",
    openapi_extra=request_body(ImageToImageRequest, multipart=True),
    responses=IMAGE_RESPONSES,
)
async def image_to_image(request: Request, runner: RunnerDep) -> Response:
    """Titan IMAGE_VARIATION with similarity, or SDXL image-to-image."""
    return await _serve(Task.IMAGE_TO_IMAGE, request, runner, multipart=True)
