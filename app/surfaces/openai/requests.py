"""The three OpenAI image requests as native tasks: generation, edit (masked or not), variation.

An edit naming a model that edits by instruction (Nova 2 Omni) and sending no mask is the native
`edit`: the images and the prompt as they are.

An edit with a mask is an inpaint whose mask marks the edit area with transparent pixels (the
native `alpha-is-edit` convention). Without a mask, an image with transparent pixels is inpainted
there; an opaque one gets variations guided by the prompt, when the model makes variations.
Edit and variation inputs are adapted to the model first (edit_inputs.py: WebP to PNG, scaled
down within its limits). These functions decode images: call them in a thread.
"""

from __future__ import annotations

from typing import Any

from ...imaging.formats import ImageFormat
from ...imaging.inputs import ImageInputError, decode_base64_image, load_pixels, parse_image
from ...imaging.masks import MaskConvention
from ...schemas.requests import Task
from ...tasks.validation import RequestValidator
from .edit_inputs import Prepared, prepare, prepare_mask, restore_for
from .errors import bad_param
from .model_limits import ModelLimits, limits_of
from .prompts import prompt_limit, shorten
from .vocabulary import Mapped, Target, map_common, taken, target

_TRANSPARENT_BELOW = 128  # the native alpha-is-edit threshold


def map_generation(validator: RequestValidator, fields: dict[str, Any]) -> Mapped:
    """POST /images/generations as text-to-image."""
    return _mapped(validator, Task.TEXT_TO_IMAGE, fields, {"prompt": fields.get("prompt")})


def map_variation(validator: RequestValidator, fields: dict[str, Any]) -> Mapped:
    """POST /images/variations as native variations of one image."""
    if fields.get("stream") not in (None, False, "false", "False"):
        raise bad_param(
            "stream", "OpenAI's variations do not stream; use /images/edits", "unsupported_value"
        )
    images, key = _images(fields)
    if len(images) != 1:
        raise bad_param(key, f"one image is required; {len(images)} were given")
    return _mapped(validator, Task.VARIATIONS, fields, {"images": images}, {"images": key})


def map_edit(validator: RequestValidator, fields: dict[str, Any]) -> Mapped:
    """POST /images/edits as an inpaint (a mask, or the image's own transparency) or variations.

    With several images and a mask, the mask edits the first, as OpenAI applies it; the others
    cannot be used (the models take no reference images for an inpaint) and a Warning says so.
    """
    images, key = _images(fields)
    if not images:
        raise bad_param("image", "required: the image to edit")
    mask = None if fields.get("mask") is None else _reference(fields["mask"], "mask")
    prompt = fields.get("prompt")
    instructed = target(validator, Task.EDIT, fields)
    if mask is None and instructed.name is not None and _edits(instructed):
        # A model named that edits by instruction (Nova 2 Omni): the images and the prompt as
        # they are, no mask needed.
        mapped = _mapped(
            validator, Task.EDIT, fields, {"images": images, "prompt": prompt}, {"images": key}
        )
        mapped.edit = True
        return mapped
    if mask is not None or (len(images) == 1 and _transparent(validator, images[0])):
        dropped = []
        if len(images) > 1:
            dropped.append(
                f"{key}[1:] are not used: the mask edits the first image, and the model "
                "takes no other images for an edit"
            )
        chosen = target(validator, Task.INPAINT, fields)
        limits = limits_of(validator, chosen.entry)
        settings = validator.settings
        prepared = prepare(images[0], limits, settings)
        fixed: dict[str, Any] = {
            "image": prepared.value,
            "mask_convention": MaskConvention.ALPHA_IS_EDIT.value,
            "prompt": prompt,
        }
        names = {"image": key, "mask_convention": "mask"}
        if mask is not None:
            fixed["mask"] = prepare_mask(mask, prepared, settings)
            names["mask"] = "mask"
        else:
            names["mask"] = key  # the image's own alpha is the mask
        mapped = _mapped(validator, Task.INPAINT, fields, fixed, names)
        mapped.warnings += dropped + _scaled(key, prepared, chosen, restored=True)
        mapped.restore = restore_for(prepared, mask, settings)
        mapped.edit = True
        return mapped
    chosen = target(validator, Task.VARIATIONS, fields)
    if chosen.entry is not None and Task.VARIATIONS not in chosen.entry.tasks:
        raise bad_param(
            "mask",
            f"required: {chosen.entry.id} makes no variations, so an edit needs a mask "
            "(or an image with transparent pixels)",
        )
    mapped = _mapped(
        validator, Task.VARIATIONS, fields, {"images": images, "prompt": prompt}, {"images": key}
    )
    mapped.edit = True
    return mapped


def _edits(chosen: Target) -> bool:
    """Whether the chosen model edits images by an instruction alone (the native `edit`)."""
    return chosen.entry is not None and Task.EDIT in chosen.entry.tasks


def _mapped(
    validator: RequestValidator,
    task: Task,
    fields: dict[str, Any],
    fixed: dict[str, Any],
    names: dict[str, str] | None = None,
) -> Mapped:
    """`fixed` (images, prompt) plus every other parameter mapped for the chosen model."""
    chosen = target(validator, task, fields)
    own = taken(validator, chosen, task)
    limits = limits_of(validator, chosen.entry)
    label = chosen.entry.id if chosen.entry is not None else "the model"
    mapped = Mapped(task=task, raw={}, params={"prompt": "prompt", **(names or {})})
    if task in (Task.VARIATIONS, Task.EDIT) and isinstance(fixed.get("images"), list):
        prepared = [prepare(image, limits, validator.settings) for image in fixed["images"]]
        fixed["images"] = [p.value for p in prepared]
        for index, image in enumerate(prepared):
            mapped.warnings += _scaled(f"{mapped.params['images']}[{index}]", image, chosen)
    for name, value in fixed.items():
        if value is None:
            continue
        if name == "prompt" and own is not None and name not in own:
            mapped.warnings.append(f"prompt is ignored: {label} takes no prompt for {task}")
            continue
        if name == "prompt" and isinstance(value, str):
            value = _fitted_prompt(validator, task, value, limits, label, mapped)
        mapped.raw[name] = value
    map_common(fields, mapped, chosen, own, label, limits)
    if mapped.transparent and validator.default_entry(Task.REMOVE_BACKGROUND) is None:
        raise bad_param(
            "background",
            "a transparent background needs a background-removal model, and the registry has none",
            "unsupported_value",
        )
    return mapped


def _fitted_prompt(
    validator: RequestValidator,
    task: Task,
    prompt: str,
    limits: ModelLimits,
    label: str,
    mapped: Mapped,
) -> str:
    """The prompt shortened to the model's limit, when the settings say so (see prompts.py)."""
    limit = prompt_limit(task, limits.prompt_max)
    if limit is None or len(prompt) <= limit or validator.settings.openai_long_prompts != "shorten":
        return prompt
    short = shorten(prompt, limit)
    mapped.warnings.append(
        f"prompt is shortened from {len(prompt)} to {len(short)} characters: {label} takes at "
        f"most {limit}"
    )
    return short


def _scaled(param: str, image: Prepared, chosen: Target, *, restored: bool = False) -> list[str]:
    """The Warning for an input scaled down to the model's limits."""
    if image.scaled_from is None or image.scaled_to is None:
        return []
    width, height = image.scaled_from
    model = chosen.entry.id if chosen.entry is not None else "the model"
    back = f"; the answer is scaled back to {width}x{height}" if restored else ""
    return [
        f"{param} is {width}x{height}: scaled to {image.scaled_to[0]}x{image.scaled_to[1]}, "
        f"the most {model} takes{back}"
    ]


def _images(fields: dict[str, Any]) -> tuple[list[str | bytes], str]:
    """The images to work on, from `image` or `images` (file parts, data URLs, or OpenAI's JSON
    references), and the parameter name the caller used."""
    key = "images" if fields.get("images") is not None else "image"
    value = fields.get(key)
    if value is None:
        return [], key
    values = value if isinstance(value, list) else [value]
    return [_reference(item, f"{key}[{i}]") for i, item in enumerate(values)], key


def _reference(value: Any, param: str) -> str | bytes:
    """An image as the native schema reads it: bytes (a file part) or base64 / data-URL text."""
    if isinstance(value, bytes | str):
        return value
    if isinstance(value, dict):
        if value.get("file_id") is not None:
            raise bad_param(
                param,
                "file ids are not supported: this gateway keeps no files; send the image as a "
                "file part or as {'image_url': 'data:image/png;base64,...'}",
                "unsupported_value",
            )
        url = value.get("image_url")
        if isinstance(url, dict):  # {"image_url": {"url": ...}}, the chat API's shape
            url = url.get("url")
        if isinstance(url, str):
            if url.lower().startswith(("http://", "https://")):
                raise bad_param(
                    param,
                    "image URLs are not fetched by this gateway; send a data URL "
                    "(data:image/png;base64,...)",
                    "unsupported_value",
                )
            return url
    raise bad_param(
        param, "must be a file part, a data URL, or an object {'image_url': 'data:...'}"
    )


def _transparent(validator: RequestValidator, value: str | bytes) -> bool:
    """Whether the image has pixels transparent enough to be an edit area. An image that cannot
    be read is not: validation then names what is wrong with it."""
    settings = validator.settings
    try:
        data = decode_base64_image(value) if isinstance(value, str) else value
        image = parse_image(
            data,
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
            accept=frozenset(ImageFormat),  # WebP too: it is converted to PNG before the edit
        )
        if not image.has_alpha:
            return False
        pixels = load_pixels(image)
    except ImageInputError:
        return False
    return pixels.shape[2] == 4 and bool((pixels[:, :, 3] < _TRANSPARENT_BELOW).any())
