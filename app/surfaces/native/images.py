"""POST /v1/images/*: the task endpoints of the native API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from ...auth.keys import current_key
from ...http.body import read_fields
from ...http.json_bounds import JsonBounds
from ...http.services import BoundsDep, RunnerDep
from ...http.spec import IMAGE_RESPONSES, MULTIPART_TASKS, request_body
from ...problems import request_id_of
from ...schemas.requests import REQUEST_MODELS, Task
from ...tasks.runner import TaskRunner
from .answers import check_binary_count, negotiate, render

router = APIRouter(prefix="/v1/images", tags=["images"])


@dataclass(frozen=True)
class TaskRoute:
    """One task endpoint: its path under /v1/images, its body, and how it is documented."""

    task: Task
    operation_id: str
    summary: str
    description: str

    @property
    def body(self) -> type[BaseModel]:
        """The task's request model."""
        return REQUEST_MODELS[self.task]


ROUTES = (
    TaskRoute(
        Task.TEXT_TO_IMAGE,
        "textToImage",
        "Generate images from a prompt",
        "Titan TEXT_IMAGE (v2 and Nova Canvas: with a condition image), SDXL text-to-image, or "
        "Stability SD3.5 Large, Stable Image Ultra and Core.",
    ),
    TaskRoute(
        Task.INPAINT,
        "inpaint",
        "Replace the masked pixels of an image",
        "Titan INPAINTING (mask or mask prompt), SDXL masking, or Stability inpaint.",
    ),
    TaskRoute(
        Task.OUTPAINT,
        "outpaint",
        "Generate the pixels around what is kept",
        "Titan OUTPAINTING (DEFAULT or PRECISE) or SDXL masking, by a mask; or Stability "
        "outpaint, by left/right/up/down pixels added to the canvas.",
    ),
    TaskRoute(
        Task.VARIATIONS,
        "variations",
        "Make variations of one to five images",
        "Titan IMAGE_VARIATION, or image-to-image on SDXL, SD3.5 Large or Ultra.",
    ),
    TaskRoute(
        Task.IMAGE_TO_IMAGE,
        "imageToImage",
        "Transform an image, guided by a prompt",
        "Titan IMAGE_VARIATION with similarity, or image-to-image on SDXL, SD3.5 Large or Ultra.",
    ),
    TaskRoute(
        Task.ERASE,
        "erase",
        "Erase what a mask marks",
        "Stability erase object: the mask (or the image's transparency) is filled from its "
        "surroundings.",
    ),
    TaskRoute(
        Task.SEARCH_REPLACE,
        "searchReplace",
        "Replace what a prompt names",
        "Stability search and replace: `search_prompt` finds it, `prompt` says what to draw.",
    ),
    TaskRoute(
        Task.SEARCH_RECOLOR,
        "searchRecolor",
        "Recolour what a prompt names",
        "Stability search and recolor: `select_prompt` finds it, `prompt` gives the colour.",
    ),
    TaskRoute(
        Task.REMOVE_BACKGROUND,
        "removeBackground",
        "Make the background transparent",
        "Stability remove background, or Titan v2 / Nova Canvas BACKGROUND_REMOVAL.",
    ),
    TaskRoute(
        Task.UPSCALE,
        "upscale",
        "Upscale an image",
        "Stability fast (4x), conservative or creative upscale, picked by `mode`.",
    ),
    TaskRoute(
        Task.STYLE_TRANSFER,
        "styleTransfer",
        "Redraw an image in the style of another",
        "Stability style transfer.",
    ),
    TaskRoute(
        Task.STYLE_GUIDE,
        "styleGuide",
        "Generate an image in the style of a reference",
        "Stability style guide.",
    ),
    TaskRoute(
        Task.CONTROL,
        "control",
        "Generate an image that follows a sketch or a structure",
        "Stability control: sketch or structure, picked by `control`.",
    ),
    TaskRoute(
        Task.COLOR_GUIDED,
        "colorGuided",
        "Generate images in a palette of colours",
        "Titan v2 and Nova Canvas COLOR_GUIDED_GENERATION.",
    ),
    TaskRoute(
        Task.EDIT,
        "edit",
        "Edit images by an instruction, without a mask",
        "Nova 2 Omni through Converse: the images and the instruction; the answer is "
        "centre-cropped and resized to the width and height (or aspect ratio) asked.",
    ),
    TaskRoute(
        Task.VIRTUAL_TRY_ON,
        "virtualTryOn",
        "Dress a person in a garment",
        "Nova Canvas VIRTUAL_TRY_ON: the garment of `reference_image` on the person of `image`, "
        "where a mask, a garment class or a mask prompt says; the answer has the person image's "
        "size.",
    ),
)


def _endpoint(
    route: TaskRoute,
) -> Callable[[Request, TaskRunner, JsonBounds], Awaitable[Response]]:
    multipart = route.task in MULTIPART_TASKS

    async def serve(request: Request, runner: RunnerDep, bounds: BoundsDep) -> Response:
        media = negotiate(request.headers.get("accept"))
        raw = await read_fields(request, bounds, multipart=multipart)
        check_binary_count(media, raw)
        result = await runner.run(route.task, raw, key=current_key(request.scope))
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
        openapi_extra=request_body(
            _route.task, _route.body, multipart=_route.task in MULTIPART_TASKS
        ),
        responses=IMAGE_RESPONSES,
    )
