"""Stability SDXL 1.0: text_prompts bodies, one image per call."""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, TypeVar

from ...imaging.inputs import InputImage, as_rgb_image
from ...imaging.masks import encode_mask
from ...problems import FieldProblem
from ...schemas.images import B64_TYPES, FinishReason, GeneratedImage
from ...schemas.requests import (
    ImageToImageRequest,
    InpaintRequest,
    OutpaintRequest,
    Task,
    TextToImageRequest,
    VariationsRequest,
)
from ..base import (
    Call,
    FamilyLimits,
    Lifecycle,
    ModelAdapter,
    ModelEntry,
    TaskHandler,
    b64,
    check_size_pair,
    mime_of_b64,
    seeds_for,
)
from ..masking import mask_problems, region_of

SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (1152, 896), (1216, 832), (1344, 768), (1536, 640),
    (640, 1536), (768, 1344), (832, 1216), (896, 1152),
)  # fmt: skip
PROMPT_MAX = 2000
SEED_MAX = 4_294_967_295
INPUT_PIXELS = (262_144, 1_048_576)
DEFAULT_SIZE = (1024, 1024)

_COMMON = frozenset(
    {
        "prompt",
        "negative_prompt",
        "cfg_scale",
        "seed",
        "steps",
        "sampler",
        "style_preset",
        "clip_guidance_preset",
    }
)
_FROM_IMAGE = frozenset({"image_strength", "init_image_mode"})
_FIELDS: dict[Task, frozenset[str]] = {
    Task.TEXT_TO_IMAGE: _COMMON | {"width", "height"},
    Task.INPAINT: _COMMON | {"image", "mask", "mask_convention"},
    Task.OUTPAINT: _COMMON | {"image", "mask", "mask_convention"},
    Task.VARIATIONS: _COMMON | _FROM_IMAGE | {"images"},
    Task.IMAGE_TO_IMAGE: _COMMON | _FROM_IMAGE | {"image"},
}
D = TypeVar(
    "D", TextToImageRequest, InpaintRequest, OutpaintRequest, ImageToImageRequest, VariationsRequest
)
M = TypeVar("M", InpaintRequest, OutpaintRequest)
G = TypeVar("G", ImageToImageRequest, VariationsRequest)
_FINISH = {
    "SUCCESS": FinishReason.SUCCESS,
    "CONTENT_FILTERED": FinishReason.CONTENT_FILTERED,
    "ERROR": FinishReason.ERROR,
}


class _Handler(TaskHandler[D]):
    """Every task: a prompt (required) and text_prompts bodies; n images are n calls."""

    @abstractmethod
    def task_problems(self, entry: ModelEntry, request: D) -> list[FieldProblem]:
        """What the task itself checks (sizes, input images, masks)."""

    @abstractmethod
    def task_body(self, request: D) -> dict[str, Any]:
        """The task's part of the body (size, init image, mask)."""

    def check(self, entry: ModelEntry, request: D) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if request.prompt is None:
            problems.append(FieldProblem(field="prompt", message="required by SDXL for every task"))
        texts = (("prompt", request.prompt), ("negative_prompt", request.negative_prompt))
        for name, text in texts:
            if text is not None and len(text) > PROMPT_MAX:
                problems.append(
                    FieldProblem(
                        field=name,
                        message=f"is {len(text)} characters; SDXL takes at most {PROMPT_MAX}",
                    )
                )
        return problems + self.task_problems(entry, request)

    def plan(self, entry: ModelEntry, request: D, rng: random.Random) -> list[Call]:
        prompts: list[dict[str, Any]] = [{"text": request.prompt or ""}]
        if request.negative_prompt is not None:
            # SDXL has no negative prompt field: a text prompt with a negative weight is one.
            prompts.append({"text": request.negative_prompt, "weight": -1.0})
        shared: dict[str, Any] = {"text_prompts": prompts}
        for name in ("cfg_scale", "steps", "sampler", "style_preset", "clip_guidance_preset"):
            value = getattr(request, name)
            if value is not None:
                shared[name] = value
        shared.update(self.task_body(request))
        # Seed 0 means "random" to SDXL: choose real seeds so each image reports its own.
        seeds = seeds_for(request.seed or None, request.n, low=1, high=SEED_MAX, rng=rng)
        return [Call(body={**shared, "seed": seed}, seeds=(seed,)) for seed in seeds]


class TextToImage(_Handler[TextToImageRequest]):
    """One of SDXL's sizes, 1024x1024 by default."""

    request_type = TextToImageRequest

    def task_problems(self, entry: ModelEntry, request: TextToImageRequest) -> list[FieldProblem]:
        return check_size_pair(request.width, request.height, SIZES, entry.id)

    def task_body(self, request: TextToImageRequest) -> dict[str, Any]:
        width, height = (request.width, request.height) if request.width else DEFAULT_SIZE
        return {"width": width, "height": height}


class _Masked(_Handler[M]):
    """Inpaint and outpaint: the caller's region sent as the white pixels of SDXL's mask."""

    def task_problems(self, entry: ModelEntry, request: M) -> list[FieldProblem]:
        return _input_problems("image", request.image) + mask_problems(
            request, prompt_allowed=False
        )

    def task_body(self, request: M) -> dict[str, Any]:
        region = region_of(request)
        # SDXL's MASK_IMAGE_WHITE replaces the white pixels: send the pixels to generate in white.
        return {
            "init_image": b64(as_rgb_image(request.image)),
            "mask_source": "MASK_IMAGE_WHITE",
            "mask_image": b64(encode_mask(region, edit="white")),
        }


class Inpaint(_Masked[InpaintRequest]):
    """The masked pixels regenerated."""

    request_type = InpaintRequest


class Outpaint(_Masked[OutpaintRequest]):
    """The pixels around what the mask keeps regenerated."""

    request_type = OutpaintRequest


class _FromImage(_Handler[G]):
    """Image-to-image and variations: one init image."""

    @abstractmethod
    def init_image(self, request: G) -> InputImage:
        """The image the output starts from."""

    def task_body(self, request: G) -> dict[str, Any]:
        body: dict[str, Any] = {"init_image": b64(as_rgb_image(self.init_image(request)))}
        if request.init_image_mode is not None:
            body["init_image_mode"] = request.init_image_mode
        if request.image_strength is not None:
            body["image_strength"] = request.image_strength
        return body


class ImageToImage(_FromImage[ImageToImageRequest]):
    """The image transformed as the prompt says."""

    request_type = ImageToImageRequest

    def init_image(self, request: ImageToImageRequest) -> InputImage:
        return request.image

    def task_problems(self, entry: ModelEntry, request: ImageToImageRequest) -> list[FieldProblem]:
        return _input_problems("image", request.image)


class Variations(_FromImage[VariationsRequest]):
    """Variations of exactly one image."""

    request_type = VariationsRequest

    def init_image(self, request: VariationsRequest) -> InputImage:
        return request.images[0]

    def task_problems(self, entry: ModelEntry, request: VariationsRequest) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if len(request.images) != 1:
            problems.append(
                FieldProblem(
                    field="images",
                    message=(
                        "SDXL makes variations of exactly one image, "
                        f"{len(request.images)} were sent"
                    ),
                )
            )
        return problems + _input_problems("images[0]", request.images[0])


class SdxlAdapter(ModelAdapter):
    """SDXL 1.0: text-to-image, image-to-image and masking; n images are n calls."""

    family = "sdxl"
    # SDXL 1.0 is the only model: its limits are fixed, none may be overridden.
    limits_model = FamilyLimits
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.TEXT_TO_IMAGE: TextToImage(),
        Task.INPAINT: Inpaint(),
        Task.OUTPAINT: Outpaint(),
        Task.VARIATIONS: Variations(),
        Task.IMAGE_TO_IMAGE: ImageToImage(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        artifacts = [a for a in payload.get("artifacts") or [] if isinstance(a, dict)]
        if not artifacts:
            return [
                GeneratedImage(
                    b64=None,
                    seed=call.seeds[0],
                    finish_reason=FinishReason.ERROR,
                    error="no artifact",
                )
            ]
        artifact = artifacts[0]
        reason = _FINISH.get(str(artifact.get("finishReason")), FinishReason.ERROR)
        seed = artifact.get("seed")
        seed = seed if isinstance(seed, int) else call.seeds[0]
        data = artifact.get("base64")
        if reason is not FinishReason.SUCCESS or not isinstance(data, B64_TYPES):
            # A filtered artifact carries a blurred placeholder: do not hand it out as a result.
            error = (
                "blocked by content filters"
                if reason is FinishReason.CONTENT_FILTERED
                else "the model failed"
            )
            return [GeneratedImage(b64=None, seed=seed, finish_reason=reason, error=error)]
        return [
            GeneratedImage(b64=data, seed=seed, finish_reason=reason, mime_type=mime_of_b64(data))
        ]

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        return {
            "sizes": [f"{w}x{h}" for w, h in SIZES],
            "prompt_max_chars": PROMPT_MAX,
            "cfg_scale": [0, 35],
            "steps": [10, 50],
            "seed": [0, SEED_MAX],
            "images_per_call": 1,
            "input_pixels": list(INPUT_PIXELS),
            "variation_images": [1, 1],
            "mask_prompt": False,
            "defaults": {
                "width": DEFAULT_SIZE[0],
                "height": DEFAULT_SIZE[1],
                "cfg_scale": 7,
                "steps": 30,
                "init_image_mode": "IMAGE_STRENGTH",
                "image_strength": 0.35,
            },
        }


def _input_problems(name: str, image: InputImage) -> list[FieldProblem]:
    low, high = INPUT_PIXELS
    if low <= image.pixels <= high:
        return []
    return [
        FieldProblem(
            field=name,
            message=(
                f"is {image.width}x{image.height} ({image.pixels} pixels); "
                f"SDXL takes {low} to {high} pixels"
            ),
        )
    ]


ADAPTER = SdxlAdapter()
_FIRST_TASKS = (
    Task.TEXT_TO_IMAGE, Task.INPAINT, Task.OUTPAINT, Task.VARIATIONS, Task.IMAGE_TO_IMAGE,
)  # fmt: skip
MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id="stability.stable-diffusion-xl-v1",
        family="sdxl",
        aliases=("sdxl",),
        tasks=_FIRST_TASKS,
        status=Lifecycle.RETIRED,
        end_of_life=date(2025, 5, 20),
        successors=("sd3.5-large",),
        description="Stability SDXL 1.0",
    ),
    # SDXL 0.8: public code still names it. Bedrock answers end of life; its schema is SDXL
    # 1.0's, so the replacement map serves it as it serves SDXL 1.0. Its successor is the live
    # model SDXL 1.0 moved to (SDXL 1.0 itself is retired).
    ModelEntry(
        id="stability.stable-diffusion-xl-v0",
        family="sdxl",
        aliases=("sdxl-v0",),
        tasks=_FIRST_TASKS,
        status=Lifecycle.RETIRED,
        successors=("sd3.5-large",),
        description="Stability SDXL 0.8 (retired)",
    ),
)
