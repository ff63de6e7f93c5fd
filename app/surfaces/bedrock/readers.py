"""Bedrock request bodies read into the native vocabulary: one reader per model family.

A reader turns a body written in a family's own schema (reference §2-§4b) into a task and the
native fields (`prompt`, `mask`, `n`, ...), and remembers where each field came from, so the
gateway's own validation can name a bad field by the caller's JSON path
(`#/textToImageParams/text`). The reader checks only what the native vocabulary cannot: the body's
structure, its keys (Bedrock's schemas forbid unknown ones) and JSON types; every limit is left to
the validator, which knows the model.

Masks arrive in three conventions and leave in the native one, which marks the pixels to generate:
Titan's black pixels are the ones inpainting regenerates but the ones outpainting KEEPS, so an
outpainting mask reads as white-is-edit; SDXL names its convention in `mask_source`; the Image
Services' white pixels (or, without a mask, the image's transparent ones) are edited.

Keys Bedrock documents that carry nothing the native vocabulary has (SDXL `extras`, `samples`,
`step_schedule_*`, Titan's size for edits, `returnMask`) are type-checked and left out of the
fields: they still reach Bedrock when the body passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...adapters.base import ModelEntry
from ...imaging.masks import MaskConvention
from ...schemas.requests import Task

# JSON kinds a key must have; "any" is checked by the validator instead.
_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("String", lambda v: isinstance(v, str)),
    "num": ("Number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "int": ("Integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "bool": ("Boolean", lambda v: isinstance(v, bool)),
    "list": ("JSONArray", lambda v: isinstance(v, list)),
    "obj": ("JSONObject", lambda v: isinstance(v, dict)),
    "any": ("any", lambda v: True),
}
_FIELD_HEAD = re.compile(r"^([^.\[]+)(.*)$")


@dataclass
class Reading:
    """A Bedrock body in the native vocabulary, with the caller's path of every field."""

    task: Task | None
    fields: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # Where a problem about the request as a whole (the model cannot do the task) points.
    whole: str = "#"

    def fail(self, path: str, message: str) -> None:
        """Record one violation at a JSON path."""
        self.violations.append(f"{path}: {message}")

    def path_of(self, name: str) -> str:
        """The caller's JSON path for a native field name such as `images[2]` or `prompt`."""
        if name in ("model", "body"):
            return self.whole
        match = _FIELD_HEAD.match(name)
        head, rest = (match.group(1), match.group(2)) if match else (name, "")
        suffix = re.sub(r"\[(\d+)\]", r"/\1", rest).replace(".", "/")
        return self.paths.get(head, f"#/{head}") + suffix

    def take(
        self,
        source: Mapping[str, Any],
        spec: Mapping[str, tuple[str | None, str]],
        path: str,
    ) -> None:
        """Copy every key of `source` named in `spec` (key -> (native name or None, kind)).

        Unknown keys and wrong JSON types are violations; a null value reads as absent.
        """
        for key, (native, _) in spec.items():
            # Also for keys not sent: a problem may name a field that is missing.
            if native is not None:
                self.paths.setdefault(native, f"{path}/{key}")
        for key, value in source.items():
            where = f"{path}/{key}"
            if key not in spec:
                self.fail(path, f"extraneous key [{key}] is not permitted")
                continue
            native, kind = spec[key]
            if value is None:
                continue
            expected, fits = _KINDS[kind]
            if not fits(value):
                self.fail(where, f"expected type: {expected}, found: {json_type(value)}")
                continue
            if native is not None:
                self.fields[native] = value
                self.paths[native] = where

    def obj(self, body: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        """An object-valued key; a missing one reads as empty."""
        value = body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{path}/{key}", f"expected type: JSONObject, found: {json_type(value)}")
            return {}
        return value


def read(entry: ModelEntry, body: Any) -> Reading:
    """The native task and fields of `body`, written in `entry`'s family schema."""
    if not isinstance(body, dict):
        reading = Reading(task=None)
        reading.fail("#", f"expected type: JSONObject, found: {json_type(body)}")
        return reading
    reader = READERS[entry.family]
    reading = reader(entry, body)
    reading.fields["model"] = entry.id
    return reading


def json_type(value: Any) -> str:
    """The JSON type name Bedrock's messages use."""
    if value is None:
        return "Null"
    for kind in ("bool", "num", "str", "list", "obj"):
        name, fits = _KINDS[kind]
        if fits(value):
            return name
    return type(value).__name__


# Titan family (Titan v1, v2, Nova Canvas)

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


def _read_titan(entry: ModelEntry, body: dict[str, Any]) -> Reading:
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
    reading.take(reading.obj(body, params_key, "#"), spec, f"#/{params_key}")
    if "imageGenerationConfig" in allowed:
        sized_by_input = task in (Task.INPAINT, Task.OUTPAINT)
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


# SDXL 1.0

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


def _read_sdxl(entry: ModelEntry, body: dict[str, Any]) -> Reading:
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


# Stability text-to-image (SD3.5 Large, Ultra, Core)

_STABILITY_KEYS: dict[str, tuple[str | None, str]] = {
    "prompt": ("prompt", "str"),
    "negative_prompt": ("negative_prompt", "str"),
    "mode": (None, "str"),
    "aspect_ratio": ("aspect_ratio", "str"),
    "output_format": ("output_format", "str"),
    "seed": ("seed", "int"),
    "image": ("image", "str"),
    "strength": ("strength", "num"),
    "style_preset": ("style_preset", "str"),
}
_STABILITY_MODES = {"text-to-image": Task.TEXT_TO_IMAGE, "image-to-image": Task.IMAGE_TO_IMAGE}


def _read_stability(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    mode = body.get("mode", "text-to-image")
    task = _STABILITY_MODES.get(mode) if isinstance(mode, str) else None
    # With a bad mode the rest is still checked, as text-to-image, so every violation is named.
    reading = Reading(task=task or Task.TEXT_TO_IMAGE, whole="#/mode" if "mode" in body else "#")
    if task is None:
        listing = ", ".join(_STABILITY_MODES)
        reading.fail("#/mode", f"{mode!r} is not a valid enum value ({listing})")
    reading.take(body, _STABILITY_KEYS, "#")
    return reading


# Image Services, and any family whose Bedrock fields are the native ones

# Native fields that are not Bedrock keys: the model id says what they choose.
_NATIVE_ONLY = frozenset({"model", "n", "mask_convention", "control", "mode"})
_KEEPS_ALPHA_MASK = (Task.INPAINT, Task.ERASE)


def _read_native(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    if len(entry.tasks) != 1:
        reading = Reading(task=None)
        reading.fail("#", f"the gateway cannot read bodies for {entry.id}")
        return reading
    task = entry.tasks[0]
    reading = Reading(task=task)
    for key, value in body.items():
        if key in _NATIVE_ONLY:
            reading.fail("#", f"extraneous key [{key}] is not permitted")
        elif value is not None:
            reading.fields[key] = value
            reading.paths[key] = f"#/{key}"
    if task in _KEEPS_ALPHA_MASK:
        # White marks the pixels to change; without a mask, the image's transparent ones do.
        has_mask = reading.fields.get("mask") is not None
        convention = MaskConvention.WHITE_IS_EDIT if has_mask else MaskConvention.ALPHA_IS_EDIT
        reading.fields["mask_convention"] = convention.value
    return reading


# Every family the registry knows has one (checked at start: app.surfaces.bedrock.shapes).
READERS: dict[str, Callable[[ModelEntry, dict[str, Any]], Reading]] = {
    "titan": _read_titan,
    "sdxl": _read_sdxl,
    "stability": _read_stability,
    "stability-edit": _read_native,
    "stability-guided": _read_native,
}
