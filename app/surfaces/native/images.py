"""POST /v1/images/*: the task endpoints of the native API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
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
from .spec import IMAGE_RESPONSES, MULTIPART_TASKS, request_body

router = APIRouter(prefix="/v1/images", tags=["images"])


def get_runner(request: Request) -> TaskRunner:
    """The task runner the lifespan opened."""
    runner: TaskRunner = request.state.runner
    return runner


RunnerDep = Annotated[TaskRunner, Depends(get_runner)]


@dataclass(frozen=True)
class TaskRoute:
    """One task endpoint: its path under /v1/images, its body, and how it is documented."""

    task: Task
    operation_id: str
    summary: str
    description: str
    body: type[BaseModel]


ROUTES = (
    TaskRoute(
        Task.TEXT_TO_IMAGE,
        "textToImage",
        "Generate images from a prompt",
        "Titan TEXT_IMAGE or SDXL text-to-image.",
        TextToImageRequest,
    ),
    TaskRoute(
        Task.INPAINT,
        "inpaint",
        "Replace the masked pixels of an image",
        "Titan INPAINTING (mask or mask prompt) or SDXL masking.",
        InpaintRequest,
    ),
    TaskRoute(
        Task.OUTPAINT,
        "outpaint",
        "Generate the masked pixels around what is kept",
        "Titan OUTPAINTING (DEFAULT or PRECISE) or SDXL masking.",
        OutpaintRequest,
    ),
    TaskRoute(
        Task.VARIATIONS,
        "variations",
        "Make variations of one to five images",
        "Titan IMAGE_VARIATION or SDXL image-to-image.",
        VariationsRequest,
    ),
    TaskRoute(
        Task.IMAGE_TO_IMAGE,
        "imageToImage",
        "Transform an image, guided by a prompt",
        "Titan IMAGE_VARIATION with similarity, or SDXL image-to-image.",
        ImageToImageRequest,
    ),
)


def _endpoint(route: TaskRoute) -> Callable[[Request, TaskRunner], Awaitable[Response]]:
    multipart = route.task in MULTIPART_TASKS

    async def serve(request: Request, runner: RunnerDep) -> Response:
        media = negotiate(request.headers.get("accept"))
        raw = await read_fields(request, multipart=multipart)
        check_binary_count(media, raw)
        result = await runner.run(route.task, raw)
        return await render(result, media, request_id_of(request.scope))

    return serve


for _route in ROUTES:
    router.add_api_route(
        f"/{_route.task.value}",
        _endpoint(_route),
        methods=["POST"],
        operation_id=_route.operation_id,
        summary=_route.summary,
        description=_route.description,
        openapi_extra=request_body(_route.body, multipart=_route.task in MULTIPART_TASKS),
        responses=IMAGE_RESPONSES,
    )
