"""SDXL 1.0 on the Bedrock surface: its body read (the mask's convention named by `mask_source`),
its `artifacts` answer written."""

from __future__ import annotations

from typing import Any

from ...imaging.masks import MaskConvention
from ...schemas.images import FinishReason, GeneratedImage
from ...schemas.requests import Task
from ..base import ModelEntry
from ..reading import Reading, json_type

_SDXL_FINISH = {
    FinishReason.SUCCESS: "SUCCESS",
    FinishReason.CONTENT_FILTERED: "CONTENT_FILTERED",
    FinishReason.ERROR: "ERROR",
}


_SDXL_KEYS: dict[str, tuple[str | None, str]] = {
    "text_prompts": (None, "list"),
    "width": ("width", "int"),
    "height": ("height", "int"),
    "cfg_scale": ("cfg_scale", "num"),
    "clip_guidance_preset": ("clip_guidance_preset", "str"),
    "sampler": ("sampler", "str"),
    "samples": (None, "int"),
    "seed": ("seed", "int"),
    "steps": ("steps", "int"),
    "style_preset": ("style_preset", "str"),
    "extras": (None, "obj"),
    "init_image": ("image", "str"),
    "init_image_mode": ("init_image_mode", "str"),
    "image_strength": ("image_strength", "num"),
    "step_schedule_start": (None, "num"),
    "step_schedule_end": (None, "num"),
    "mask_source": (None, "str"),
    "mask_image": ("mask", "str"),
}
_MASK_SOURCES = {
    "MASK_IMAGE_WHITE": MaskConvention.WHITE_IS_EDIT,
    "MASK_IMAGE_BLACK": MaskConvention.BLACK_IS_EDIT,
    "INIT_IMAGE_ALPHA": MaskConvention.ALPHA_IS_EDIT,
}
_PROMPT_KEYS: dict[str, tuple[str | None, str]] = {"text": (None, "str"), "weight": (None, "num")}


def read(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    """A text-to-image, image-to-image or masked body: which, from the keys it has."""
    masked = "mask_source" in body or "mask_image" in body
    if masked:
        task = Task.INPAINT
    else:
        task = Task.IMAGE_TO_IMAGE if "init_image" in body else Task.TEXT_TO_IMAGE
    reading = Reading(task=task)
    spec = dict(_SDXL_KEYS)
    if task is not Task.TEXT_TO_IMAGE:
        # SDXL draws edits and image-to-image at the input's size.
        spec.update(width=(None, "int"), height=(None, "int"))
    reading.take(body, spec, "#")
    _read_prompts(reading, body.get("text_prompts"))
    samples = body.get("samples")
    if isinstance(samples, int) and samples != 1:
        reading.fail("#/samples", f"{samples} is not 1: Bedrock's SDXL makes one image per call")
    if masked:
        _read_mask_source(reading, body)
    return reading


def _read_prompts(reading: Reading, prompts: Any) -> None:
    """Positive prompts become `prompt`, negative-weighted ones `negative_prompt`."""
    reading.paths["prompt"] = "#/text_prompts"
    if not isinstance(prompts, list):
        return
    kept: dict[str, list[tuple[int, str]]] = {"prompt": [], "negative_prompt": []}
    for index, item in enumerate(prompts):
        path = f"#/text_prompts/{index}"
        if not isinstance(item, dict):
            reading.fail(path, f"expected type: JSONObject, found: {json_type(item)}")
            continue
        before = len(reading.violations)
        reading.take(item, _PROMPT_KEYS, path)
        text, weight = item.get("text"), item.get("weight", 1.0)
        if not isinstance(text, str):
            if "text" not in item:
                reading.fail(path, "required key [text] not found")
            continue
        if len(reading.violations) == before:
            name = "negative_prompt" if weight is not None and weight < 0 else "prompt"
            kept[name].append((index, text))
    for name, texts in kept.items():
        if texts:
            # Several prompts of one sign are joined: the native vocabulary has one of each.
            reading.fields[name] = ", ".join(text for _, text in texts)
            single = f"#/text_prompts/{texts[0][0]}/text"
            reading.paths[name] = single if len(texts) == 1 else "#/text_prompts"


def _read_mask_source(reading: Reading, body: dict[str, Any]) -> None:
    source = body.get("mask_source")
    if source is None:
        reading.fail("#", "required key [mask_source] not found")
        return
    convention = _MASK_SOURCES.get(source) if isinstance(source, str) else None
    if convention is None:
        listing = ", ".join(_MASK_SOURCES)
        reading.fail("#/mask_source", f"{source!r} is not a valid enum value ({listing})")
        return
    if convention is MaskConvention.ALPHA_IS_EDIT and "mask_image" in body:
        reading.fail("#/mask_image", "not taken with mask_source INIT_IMAGE_ALPHA")
    reading.fields["mask_convention"] = convention.value
    reading.paths["mask_convention"] = "#/mask_source"


def write(images: list[GeneratedImage]) -> dict[str, Any]:
    """SDXL's answer: one artifact per image, with its seed and finish reason."""
    return {
        "result": "success",
        "artifacts": [
            {
                "seed": image.seed,
                # An empty string rather than null: clients decode before reading finishReason.
                "base64": image.b64 or "",
                "finishReason": _SDXL_FINISH[image.finish_reason],
            }
            for image in images
        ],
    }
