"""Amazon Titan Image Generator G1: taskType bodies, up to five images per call."""

from __future__ import annotations

import random
from typing import Any

from ..imaging.inputs import InputImage, as_rgb_image
from ..imaging.masks import encode_mask
from ..problems import FieldProblem
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import (
    DiffusionRequest,
    ImageToImageRequest,
    InpaintRequest,
    OutpaintRequest,
    Task,
    TaskRequest,
    TextToImageRequest,
    VariationsRequest,
)
from .base import (
    Call,
    Lifecycle,
    ModelAdapter,
    ModelEntry,
    b64,
    check_size_pair,
    mime_of_b64,
    seeds_for,
)
from .masking import mask_problems, region_of

SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384),
    (768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896),
    (576, 448), (768, 1408), (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704),
    (1408, 640), (704, 320), (1152, 640), (1173, 640),
)  # fmt: skip
PROMPT_MAX = 512
CFG_RANGE = (1.1, 10.0)
SEED_MAX = 2_147_483_646
SIMILARITY_RANGE = (0.2, 1.0)
IMAGES_PER_CALL = 5
INPUT_MAX_SIDE = 1408
INPUT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_SIZE = (1024, 1024)

_COMMON = frozenset({"prompt", "negative_prompt", "cfg_scale", "seed", "quality"})
_FIELDS: dict[Task, frozenset[str]] = {
    Task.TEXT_TO_IMAGE: _COMMON | {"width", "height"},
    Task.INPAINT: _COMMON | {"image", "mask", "mask_prompt", "mask_convention"},
    Task.OUTPAINT: _COMMON
    | {"image", "mask", "mask_prompt", "mask_convention", "outpainting_mode"},
    Task.VARIATIONS: _COMMON | {"width", "height", "images", "similarity_strength"},
    Task.IMAGE_TO_IMAGE: _COMMON | {"width", "height", "image", "similarity_strength"},
}
_TASK_TYPES = {
    Task.TEXT_TO_IMAGE: ("TEXT_IMAGE", "textToImageParams"),
    Task.INPAINT: ("INPAINTING", "inPaintingParams"),
    Task.OUTPAINT: ("OUTPAINTING", "outPaintingParams"),
    Task.VARIATIONS: ("IMAGE_VARIATION", "imageVariationParams"),
    Task.IMAGE_TO_IMAGE: ("IMAGE_VARIATION", "imageVariationParams"),
}


class TitanAdapter(ModelAdapter):
    """Titan Image Generator G1 (v1): TEXT_IMAGE, INPAINTING, OUTPAINTING, IMAGE_VARIATION."""

    family = "titan"

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def check(self, entry: ModelEntry, task: Task, request: TaskRequest) -> list[FieldProblem]:
        assert isinstance(request, DiffusionRequest)  # the registry gives this family no other
        problems: list[FieldProblem] = []
        for name in ("prompt", "negative_prompt"):
            text = getattr(request, name, None)
            if text is not None and len(text) > PROMPT_MAX:
                problems.append(_too_long(name, len(text)))
        if task is Task.OUTPAINT and getattr(request, "prompt", None) is None:
            problems.append(FieldProblem(field="prompt", message="required by Titan for outpaint"))
        if request.cfg_scale is not None and not CFG_RANGE[0] <= request.cfg_scale <= CFG_RANGE[1]:
            problems.append(_out_of_range("cfg_scale", request.cfg_scale, CFG_RANGE))
        if request.seed is not None and request.seed > SEED_MAX:
            problems.append(_out_of_range("seed", request.seed, (0, SEED_MAX)))
        if isinstance(request, TextToImageRequest | VariationsRequest | ImageToImageRequest):
            problems += check_size_pair(request.width, request.height, SIZES, entry.id)
        if isinstance(request, VariationsRequest | ImageToImageRequest):
            strength = request.similarity_strength
            if strength is not None and not SIMILARITY_RANGE[0] <= strength <= SIMILARITY_RANGE[1]:
                problems.append(_out_of_range("similarity_strength", strength, SIMILARITY_RANGE))
        if isinstance(request, InpaintRequest | OutpaintRequest):
            problems += _input_problems("image", request.image)
            problems += mask_problems(request, prompt_allowed=True)
        elif isinstance(request, ImageToImageRequest):
            problems += _input_problems("image", request.image)
        elif isinstance(request, VariationsRequest):
            for i, image in enumerate(request.images):
                problems += _input_problems(f"images[{i}]", image)
        return problems

    def plan(
        self, entry: ModelEntry, task: Task, request: TaskRequest, rng: random.Random
    ) -> list[Call]:
        assert isinstance(request, DiffusionRequest)
        task_type, params_key = _TASK_TYPES[task]
        params = _task_params(task, request)
        counts = [min(IMAGES_PER_CALL, request.n - i) for i in range(0, request.n, IMAGES_PER_CALL)]
        call_seeds = seeds_for(request.seed, len(counts), low=0, high=SEED_MAX, rng=rng)
        calls = []
        for count, seed in zip(counts, call_seeds, strict=True):
            config: dict[str, Any] = {"numberOfImages": count}
            if isinstance(request, TextToImageRequest | VariationsRequest | ImageToImageRequest):
                width, height = (request.width, request.height) if request.width else DEFAULT_SIZE
                config.update(width=width, height=height)
            if request.cfg_scale is not None:
                config["cfgScale"] = request.cfg_scale
            if request.quality is not None:
                config["quality"] = request.quality
            config["seed"] = seed
            body = {"taskType": task_type, params_key: params, "imageGenerationConfig": config}
            # Every image of a Titan call shares the call's seed: that seed with the same
            # numberOfImages reproduces the batch.
            calls.append(Call(body=body, seeds=(seed,) * count))
        return calls

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        images = [i for i in payload.get("images") or [] if isinstance(i, str)]
        error = payload.get("error")
        out = [
            GeneratedImage(
                b64=data, seed=seed, finish_reason=FinishReason.SUCCESS, mime_type=mime_of_b64(data)
            )
            for data, seed in zip(images, call.seeds, strict=False)
        ]
        # Titan may answer with fewer images than asked, and an `error`: report each missing one.
        filtered = isinstance(error, str) and "filter" in error.lower()
        reason = FinishReason.CONTENT_FILTERED if filtered else FinishReason.ERROR
        message = error if isinstance(error, str) else "the model returned fewer images than asked"
        out += [
            GeneratedImage(b64=None, seed=seed, finish_reason=reason, error=message)
            for seed in call.seeds[len(images) :]
        ]
        return out

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        return {
            "sizes": [f"{w}x{h}" for w, h in SIZES],
            "prompt_max_chars": PROMPT_MAX,
            "cfg_scale": list(CFG_RANGE),
            "seed": [0, SEED_MAX],
            "similarity_strength": list(SIMILARITY_RANGE),
            "images_per_call": IMAGES_PER_CALL,
            "input_max_side": INPUT_MAX_SIDE,
            "input_max_bytes": INPUT_MAX_BYTES,
            "variation_images": [1, 5],
            "mask_prompt": True,
            "defaults": {
                "width": DEFAULT_SIZE[0],
                "height": DEFAULT_SIZE[1],
                "cfg_scale": 8.0,
                "similarity_strength": 0.7,
                "quality": "standard",
                "outpainting_mode": "DEFAULT",
            },
        }


def _task_params(task: Task, request: TaskRequest) -> dict[str, Any]:
    assert isinstance(request, DiffusionRequest)
    params: dict[str, Any] = {}
    prompt = getattr(request, "prompt", None)
    if prompt is not None:
        params["text"] = prompt
    if request.negative_prompt is not None:
        params["negativeText"] = request.negative_prompt
    if isinstance(request, InpaintRequest | OutpaintRequest):
        params["image"] = b64(as_rgb_image(request.image))
        if request.mask_prompt is not None:
            params["maskPrompt"] = request.mask_prompt
        else:
            region = region_of(request)
            # Titan's mask is black inside: inpainting regenerates the inside, outpainting keeps
            # it. The caller's mask marks what to generate, so outpainting sends the complement.
            inside = region if task is Task.INPAINT else ~region
            params["maskImage"] = b64(encode_mask(inside, edit="black"))
        if isinstance(request, OutpaintRequest) and request.outpainting_mode is not None:
            params["outPaintingMode"] = request.outpainting_mode
    elif isinstance(request, VariationsRequest):
        params["images"] = [b64(as_rgb_image(image)) for image in request.images]
    elif isinstance(request, ImageToImageRequest):
        params["images"] = [b64(as_rgb_image(request.image))]
    if (
        isinstance(request, VariationsRequest | ImageToImageRequest)
        and request.similarity_strength is not None
    ):
        params["similarityStrength"] = request.similarity_strength
    return params


def _input_problems(name: str, image: InputImage) -> list[FieldProblem]:
    problems = []
    if max(image.width, image.height) > INPUT_MAX_SIDE:
        problems.append(
            FieldProblem(
                field=name,
                message=(
                    f"is {image.width}x{image.height}; "
                    f"Titan takes at most {INPUT_MAX_SIDE} px on the longer side"
                ),
            )
        )
    if len(image.data) > INPUT_MAX_BYTES:
        problems.append(
            FieldProblem(
                field=name,
                message=f"is {len(image.data)} bytes; Titan takes at most {INPUT_MAX_BYTES}",
            )
        )
    return problems


def _too_long(name: str, length: int) -> FieldProblem:
    return FieldProblem(
        field=name, message=f"is {length} characters; Titan takes at most {PROMPT_MAX}"
    )


def _out_of_range(name: str, value: float, bounds: tuple[float, float]) -> FieldProblem:
    return FieldProblem(
        field=name, message=f"{value} is outside Titan's range {bounds[0]}-{bounds[1]}"
    )


ADAPTER = TitanAdapter()
_FIRST_TASKS = (
    Task.TEXT_TO_IMAGE, Task.INPAINT, Task.OUTPAINT, Task.VARIATIONS, Task.IMAGE_TO_IMAGE,
)  # fmt: skip
MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id="amazon.titan-image-generator-v1",
        family="titan",
        aliases=("titan", "titan-v1"),
        tasks=_FIRST_TASKS,
        status=Lifecycle.RETIRED,
        successors=("sd3.5-large", "ultra"),
        description="Amazon Titan Image Generator G1",
    ),
)
