"""Titan v1, v2 and Nova Canvas on the Bedrock surface: their body read, their answer written.

Titan's black mask pixels are the ones inpainting regenerates but the ones outpainting KEEPS, so
an outpainting mask reads as white-is-edit.
"""

from __future__ import annotations

from typing import Any

from ...imaging.masks import MaskConvention
from ...schemas.images import GeneratedImage
from ...schemas.requests import Task
from ..base import ModelEntry
from ..reading import Reading

_TEXTS: dict[str, tuple[str | None, str]] = {
    "text": ("prompt", "str"),
    "negativeText": ("negative_prompt", "str"),
}
_MASKS: dict[str, tuple[str | None, str]] = {
    "image": ("image", "str"),
    "maskPrompt": ("mask_prompt", "str"),
    "maskImage": ("mask", "str"),
}
_TITAN_TASKS: dict[str, tuple[Task, str, dict[str, tuple[str | None, str]]]] = {
    "TEXT_IMAGE": (
        Task.TEXT_TO_IMAGE,
        "textToImageParams",
        {
            **_TEXTS,
            "conditionImage": ("condition_image", "str"),
            "controlMode": ("control_mode", "str"),
            "controlStrength": ("control_strength", "num"),
            "style": ("style", "str"),
        },
    ),
    "INPAINTING": (
        Task.INPAINT,
        "inPaintingParams",
        {**_TEXTS, **_MASKS, "returnMask": (None, "bool")},
    ),
    "OUTPAINTING": (
        Task.OUTPAINT,
        "outPaintingParams",
        {**_TEXTS, **_MASKS, "outPaintingMode": ("outpainting_mode", "str")},
    ),
    "IMAGE_VARIATION": (
        Task.VARIATIONS,
        "imageVariationParams",
        {
            **_TEXTS,
            "images": ("images", "list"),
            "similarityStrength": ("similarity_strength", "num"),
        },
    ),
    "COLOR_GUIDED_GENERATION": (
        Task.COLOR_GUIDED,
        "colorGuidedGenerationParams",
        {**_TEXTS, "colors": ("colors", "list"), "referenceImage": ("reference_image", "str")},
    ),
    "BACKGROUND_REMOVAL": (
        Task.REMOVE_BACKGROUND,
        "backgroundRemovalParams",
        {"image": ("image", "str")},
    ),
    "VIRTUAL_TRY_ON": (
        Task.VIRTUAL_TRY_ON,
        "virtualTryOnParams",
        {
            "sourceImage": ("image", "str"),
            "referenceImage": ("reference_image", "str"),
            "maskType": ("mask_type", "str"),
            "mergeStyle": ("merge_style", "str"),
            "returnMask": (None, "bool"),
            # Read below, each by its own spec.
            "imageBasedMask": (None, "obj"),
            "garmentBasedMask": (None, "obj"),
            "promptBasedMask": (None, "obj"),
            "maskExclusions": (None, "obj"),
        },
    ),
}
# VIRTUAL_TRY_ON's nested objects, each read into native fields.
_TRY_ON_OBJECTS: dict[str, dict[str, tuple[str | None, str]]] = {
    "imageBasedMask": {"maskImage": ("mask", "str")},
    "garmentBasedMask": {
        "garmentClass": ("garment_class", "str"),
        "maskShape": ("mask_shape", "str"),
        "garmentStyling": (None, "obj"),
    },
    "promptBasedMask": {"maskPrompt": ("mask_prompt", "str"), "maskShape": ("mask_shape", "str")},
    "maskExclusions": {
        "preserveBody": ("preserve_body", "bool"),
        "preserveHands": ("preserve_hands", "bool"),
        "preserveFace": ("preserve_face", "bool"),
    },
}
_GARMENT_STYLING: dict[str, tuple[str | None, str]] = {
    "longSleeveStyle": ("long_sleeve_style", "str"),
    "tuckingStyle": ("tucking_style", "str"),
    "outerLayerStyle": ("outer_layer_style", "str"),
}
_TITAN_CONFIG: dict[str, tuple[str | None, str]] = {
    "numberOfImages": ("n", "int"),
    "cfgScale": ("cfg_scale", "num"),
    "seed": ("seed", "int"),
    "quality": ("quality", "str"),
    "width": ("width", "int"),
    "height": ("height", "int"),
}
# Titan's edits keep the input's size: a size in their config is taken and has no effect.
_TITAN_EDIT_CONFIG = {**_TITAN_CONFIG, "width": (None, "int"), "height": (None, "int")}
_TITAN_IMAGES_PER_CALL = 5


def read(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    """A body of any Titan task type; its `taskType` says which."""
    task_type = body.get("taskType")
    if task_type not in _TITAN_TASKS:
        reading = Reading(task=None)
        listing = ", ".join(_TITAN_TASKS)
        if task_type is None:
            reading.fail("#", "required key [taskType] not found")
        else:
            reading.fail("#/taskType", f"{task_type!r} is not a valid enum value ({listing})")
        return reading
    task, params_key, spec = _TITAN_TASKS[task_type]
    reading = Reading(task=task, whole="#/taskType")
    allowed = {"taskType", params_key}
    if task is not Task.REMOVE_BACKGROUND:
        allowed.add("imageGenerationConfig")
    for key in body:
        if key not in allowed:
            reading.fail("#", f"extraneous key [{key}] is not permitted")
    if params_key not in body:
        reading.fail("#", f"required key [{params_key}] not found")
    params = reading.obj(body, params_key, "#")
    reading.take(params, spec, f"#/{params_key}")
    if task is Task.VIRTUAL_TRY_ON:
        _read_try_on(reading, params, f"#/{params_key}")
    if "imageGenerationConfig" in allowed:
        sized_by_input = task in (Task.INPAINT, Task.OUTPAINT, Task.VIRTUAL_TRY_ON)
        config = reading.obj(body, "imageGenerationConfig", "#")
        config_spec = _TITAN_EDIT_CONFIG if sized_by_input else _TITAN_CONFIG
        reading.take(config, config_spec, "#/imageGenerationConfig")
    count = reading.fields.get("n")
    if isinstance(count, int) and count > _TITAN_IMAGES_PER_CALL:
        reading.fail(
            reading.paths["n"], f"{count} is not less or equal to {_TITAN_IMAGES_PER_CALL}"
        )
    if "mask" in reading.fields:
        # Titan's black pixels: regenerated by inpainting, kept by outpainting.
        edit = (
            MaskConvention.BLACK_IS_EDIT if task is Task.INPAINT else MaskConvention.WHITE_IS_EDIT
        )
        reading.fields["mask_convention"] = edit.value
    return reading


def _read_try_on(reading: Reading, params: dict[str, Any], path: str) -> None:
    """The mask objects of a try-on; a mask image in Titan's convention (black is the area)."""
    objects = {key: reading.obj(params, key, path) for key in _TRY_ON_OBJECTS}
    for key, spec in _TRY_ON_OBJECTS.items():
        reading.take(objects[key], spec, f"{path}/{key}")
    where = f"{path}/garmentBasedMask"
    styling = reading.obj(objects["garmentBasedMask"], "garmentStyling", where)
    reading.take(styling, _GARMENT_STYLING, f"{where}/garmentStyling")
    if "mask" in reading.fields:
        reading.fields["mask_convention"] = MaskConvention.BLACK_IS_EDIT.value


def write(images: list[GeneratedImage]) -> dict[str, Any]:
    """Titan's answer: the images made and, for any missing, why."""
    produced = [i.b64 for i in images if i.b64 is not None]
    errors = list(dict.fromkeys(i.error or i.finish_reason.value for i in images if i.b64 is None))
    # Titan answers with the images it made and says why the others are missing.
    return {"images": produced, "error": "; ".join(errors) if errors else None}
