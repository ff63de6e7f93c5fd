"""Realistic values for generated requests: real models, small real images, Accept headers.

The spec says `model` is a string and an image is bytes or base64 text, so schemathesis sends a
random name (an unknown model: 422) and a 1x1 PNG or noise (refused before any Bedrock call).
Swapping in a model that serves the task and a small real photo (with a mask of its size) lets
positive requests reach the emulator, through every adapter, and come back with images; the
Accept header (which the spec cannot declare as a parameter) asks for JSON or image bytes.
384x256 is inside the limits of every edit model the photos can meet and far below the body cap.
"""

from __future__ import annotations

import base64
import io
from typing import Any, cast

from hypothesis import strategies as st
from PIL import Image
from schemathesis import Case

from app.families.registry import ModelRegistry
from app.schemas.requests import IMAGE_FIELDS, REQUEST_MODELS, Task
from tests.support.files import DATA

SIZE = (384, 256)
TASK_PREFIX = "/v1/images/"


def _encoded(name: str, fmt: str, resample: Image.Resampling) -> bytes:
    with Image.open(DATA / name) as image:
        small = image.convert("RGB").resize(SIZE, resample)
    out = io.BytesIO()
    small.save(out, format=fmt)
    return out.getvalue()


PHOTOS = (
    _encoded("coffee.png", "PNG", Image.Resampling.LANCZOS),
    _encoded("coffee.png", "JPEG", Image.Resampling.LANCZOS),
)
# Black marks the pixels to edit: the masks' default convention.
MASK = _encoded("coffee-mask-black-edit.png", "PNG", Image.Resampling.NEAREST)

# No Accept header, JSON, every image type, wildcards, and one nothing can satisfy (406).
ACCEPTS = st.sampled_from(
    [
        None,
        "application/json",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/*",
        "*/*",
        "text/html",
    ]
)
_MODEL_NAMES = {
    task: [
        entry.aliases[0] if entry.aliases else entry.id for entry in ModelRegistry().for_task(task)
    ]
    for task in Task
}


def realistic(case: Case[Any], data: st.DataObject) -> dict[str, str]:
    """Make a positive task request realistic in place (or not: drawn, so the generator's own
    values are sent too); the headers to send it with."""
    path = case.operation.path
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    task_body = isinstance(case.body, dict) and path.startswith(TASK_PREFIX)
    if positive and task_body and data.draw(st.booleans()):
        _use_real_values(Task(path.removeprefix(TASK_PREFIX)), case, data)
    accept = data.draw(ACCEPTS)
    return {} if accept is None else {"Accept": accept}


def _use_real_values(task: Task, case: Case[Any], data: st.DataObject) -> None:
    # A copy: Hypothesis may hand the same generated body to a replay, which must draw the same.
    body: dict[str, Any] = dict(cast(dict[str, Any], case.body))
    # Random values for every optional field rarely suit one model (Titan takes no
    # style_preset, SDXL no aspect_ratio): each is kept only when drawn, so most bodies are small.
    fields = REQUEST_MODELS[task].model_fields
    for name in sorted(body.keys() - IMAGE_FIELDS - {"model"}):
        if name in fields and not fields[name].is_required() and not data.draw(st.booleans()):
            del body[name]
    as_text = case.media_type == "application/json"
    for name in sorted(IMAGE_FIELDS & body.keys()):
        if name == "images" and isinstance(body[name], list):
            body[name] = [_image(data, as_text, mask=False) for _ in body[name]]
        elif body[name] is not None:
            body[name] = _image(data, as_text, mask=name == "mask")
    if "model" in body:
        body["model"] = data.draw(st.sampled_from(_MODEL_NAMES[task]))
    case.body = body


def _image(data: st.DataObject, as_text: bool, *, mask: bool) -> str | bytes:
    raw = MASK if mask else data.draw(st.sampled_from(PHOTOS))
    return base64.b64encode(raw).decode("ascii") if as_text else raw
