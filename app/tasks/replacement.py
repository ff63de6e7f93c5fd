"""The replacement map: requests for retired models served by live models, translated faithfully.

Off by default (`GATEWAY_REPLACEMENTS`), so nothing changes model unless an operator says so. A
mapped request is first validated for the model it names (its limits hold as they always did),
then translated in the native vocabulary for a successor, whose own validation then runs; images
are post-processed so the answer keeps the sizes the named model would have returned. Where a
request cannot be translated faithfully, the caller gets a 422 saying why and what to send instead.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, get_args

import numpy as np
import pybase64
from PIL import Image

from ..families.base import Lifecycle, ModelEntry, Retirement
from ..families.registry import ModelRegistry
from ..imaging.inputs import InputImage, encode_png, load_pixels, parse_image
from ..imaging.masks import MaskConvention, edit_region
from ..imaging.resizing import cover
from ..problems import FieldProblem, ProblemError, invalid
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import AspectRatio, Task

SETTING = "GATEWAY_REPLACEMENTS"

# The task the successor does for a caller's task, where it differs.
_TARGET: dict[Task, Task] = {Task.VARIATIONS: Task.IMAGE_TO_IMAGE}
_DROPPED = {
    "cfg_scale": "{s} sets its own prompt adherence",
    "quality": "{s} has a single quality",
    "steps": "{s} chooses its own steps",
    "sampler": "{s} chooses its own sampler",
    "clip_guidance_preset": "{s} has no CLIP guidance",
    "outpainting_mode": "{s} leaves the kept pixels untouched, as PRECISE does",
    "init_image_mode": "{s} follows the input image by strength only",
    "negative_prompt": "{s} takes no negative prompt",
    "style_preset": "{s} takes no style preset",
    "style": "{s} has no style of that look",
}


class ReplacementError(ValueError):
    """A replacement map in settings that cannot be served."""


@dataclass(frozen=True)
class Translation:
    """A request for a retired model, as its successor takes it."""

    task: Task
    raw: dict[str, Any]
    successor: ModelEntry
    resize_to: tuple[int, int] | None = None
    warnings: tuple[str, ...] = ()
    applied: dict[str, Any] = field(default_factory=dict)


class ReplacementMap:
    """Which retired models are served by which successors, task by task."""

    def __init__(self, registry: ModelRegistry, setting: Mapping[str, Mapping[str, str]]) -> None:
        self.registry = registry
        self._map: dict[str, dict[Task, ModelEntry | None]] = {}
        for name, tasks in setting.items():
            entry = self._resolve(name, f"{SETTING} names {name!r}")
            self._map[entry.id] = (
                {task: self._configured(entry, task, s) for task, s in _tasks(entry, tasks).items()}
                if tasks
                else {task: self._builtin(entry, task) for task in entry.tasks}
            )

    def successors(self, entry: ModelEntry) -> dict[Task, ModelEntry | None] | None:
        """The successor per mapped task (None: refused as untranslatable), or None if unmapped."""
        return self._map.get(entry.id)

    def replaced(self, entry: ModelEntry, task: Task) -> bool:
        """Whether requests for `entry` doing `task` go to a successor."""
        return task in self._map.get(entry.id, {})

    def translate(self, task: Task, raw: dict[str, Any], caller: ModelEntry) -> Translation:
        """`raw` (fields valid for `caller`, images decoded) as the successor takes it."""
        successor = self._map[caller.id][task]
        if successor is None:
            retirement = self.retirement(caller)
            assert retirement is not None  # only a translated family's tasks are refused
            raise _refusal(caller, "model", retirement.refused[task])
        if successor.family == caller.family:
            # The same schema: the request goes as it is.
            return Translation(
                task=task,
                raw={**raw, "model": successor.id},
                successor=successor,
                warnings=(_served(successor, caller),),
                applied={"requested_model": caller.id},
            )
        return _Translator(self, task, raw, caller, successor).run()

    def retirement(self, entry: ModelEntry) -> Retirement | None:
        """How requests for `entry`'s family are translated for other families' models."""
        return self.registry.family(entry).retirement

    def route(self, name: str) -> ModelEntry:
        """A built-in successor by name."""
        return self._resolve(name, f"the built-in successor {name!r}")

    def _resolve(self, name: str, what: str) -> ModelEntry:
        entry = self.registry.resolve(name)
        if entry is None:
            raise ReplacementError(f"{what}, which is no registered model")
        return entry

    def _builtin(self, entry: ModelEntry, task: Task) -> ModelEntry | None:
        retirement = self.retirement(entry)
        if retirement is not None and task in retirement.refused:
            return None
        name = retirement.routes.get(task) if retirement is not None else None
        if name is None and entry.successors:
            name = entry.successors[0]
        if name is None:
            raise ReplacementError(
                f"{SETTING}: {entry.id} has no built-in successor for {task}; name one, e.g. "
                f'{{"{entry.id}": {{"{task}": "<model>"}}}}'
            )
        return self._check(entry, task, self.route(name))

    def _configured(self, entry: ModelEntry, task: Task, name: str) -> ModelEntry:
        return self._check(
            entry, task, self._resolve(name, f"{SETTING}: {entry.id} {task} -> {name!r}")
        )

    def _check(self, entry: ModelEntry, task: Task, successor: ModelEntry) -> ModelEntry:
        same = successor.family == entry.family
        if not same and self.retirement(entry) is None:
            raise ReplacementError(
                f"{SETTING}: no translation from the {entry.family} schema of {entry.id} to "
                f"{successor.id} ({successor.family}); map it to a model of its own family"
            )
        target = task if same else _TARGET.get(task, task)
        if target not in successor.tasks:
            raise ReplacementError(f"{SETTING}: {successor.id} cannot do {target} for {entry.id}")
        return successor


def _tasks(entry: ModelEntry, tasks: Mapping[str, str]) -> dict[Task, str]:
    out: dict[Task, str] = {}
    for key, successor in tasks.items():
        try:
            task = Task(key)
        except ValueError:
            raise ReplacementError(
                f"{SETTING}: {key!r} is no task; tasks: {', '.join(Task)}"
            ) from None
        if task not in entry.tasks:
            raise ReplacementError(f"{SETTING}: {entry.id} does not do {task}")
        out[task] = successor
    return out


class _Translator:
    """One cross-family translation: a retired family's fields to its successor's, by what the
    retired family says of them (its `Retirement`) and what the successor takes."""

    def __init__(
        self,
        owner: ReplacementMap,
        task: Task,
        raw: dict[str, Any],
        caller: ModelEntry,
        successor: ModelEntry,
    ) -> None:
        self.owner = owner
        retirement = owner.retirement(caller)
        assert retirement is not None  # ReplacementMap._check maps no other family elsewhere
        self.retirement = retirement
        self.task = task
        self.raw = raw
        self.caller = caller
        self.successor = successor
        self.target = _TARGET.get(task, task)
        self.out: dict[str, Any] = {k: raw[k] for k in ("n", "seed") if k in raw}
        self.used = {"model", "n", "seed"}
        self.warnings: list[str] = []
        self.applied: dict[str, Any] = {"requested_model": caller.id}
        self.resize_to: tuple[int, int] | None = None

    def run(self) -> Translation:
        steps = {
            Task.TEXT_TO_IMAGE: self._text_to_image,
            Task.INPAINT: self._inpaint,
            Task.OUTPAINT: self._outpaint,
            Task.VARIATIONS: self._from_image,
            Task.IMAGE_TO_IMAGE: self._from_image,
            Task.REMOVE_BACKGROUND: self._remove_background,
        }
        steps[self.task]()
        for name in sorted(set(self.raw) - self.used):
            reason = _DROPPED.get(name, "{s} has no equivalent").format(s=self.successor.name)
            self.warnings.append(f"{name} dropped: {reason}")
        return Translation(
            task=self.target,
            raw={**self.out, "model": self.successor.id},
            successor=self.successor,
            resize_to=self.resize_to,
            warnings=(_served(self.successor, self.caller), *self.warnings),
            applied=self.applied,
        )

    def take(self, *names: str) -> None:
        """Copy the fields the successor takes under the same name."""
        for name in names:
            self.used.add(name)
            if name in self.raw:
                self.out[name] = self.raw[name]

    def get(self, name: str) -> Any:
        self.used.add(name)
        return self.raw.get(name)

    def reroute(self, name: str, target: Task) -> None:
        """A route decided by the request: a built-in successor for another task."""
        self.successor = self.owner.route(name)
        self.target = target

    def takes(self, name: str) -> bool:
        """Whether the successor (the model itself, by its limits) takes field `name`."""
        adapter = self.owner.registry.adapter(self.successor)
        return name in adapter.fields_for(self.successor, self.target)

    def style(self) -> None:
        """A style_preset kept, a style mapped to the preset of its look (the caller's family
        says which), where the successor takes presets."""
        if not self.takes("style_preset"):
            return
        self.take("style_preset")
        style = self.raw.get("style")
        preset = self.retirement.styles.get(style) if isinstance(style, str) else None
        if preset is not None:
            self.used.add("style")
            self.out["style_preset"] = preset
            self.applied["style_preset"] = preset
            self.warnings.append(f"style {style} approximated by style_preset {preset}")

    def output_size(self) -> tuple[int, int]:
        width, height = self.get("width"), self.get("height")
        return (width, height) if width and height else self.retirement.default_size

    def aspect_ratio(self, width: int, height: int) -> str:
        """The ratio nearest width:height among those the successor lists (GET /v1/models),
        or the vocabulary's; compared in log space, so 2:1 is as far from 1:1 as 1:2."""
        described = self.owner.registry.adapter(self.successor).describe(self.successor)
        ratios = described.get("aspect_ratios") or get_args(AspectRatio)
        target = math.log(width / height)

        def distance(ratio: str) -> float:
            w, h = (int(part) for part in ratio.split(":"))
            return abs(math.log(w / h) - target)

        return str(min(ratios, key=distance))

    def _text_to_image(self) -> None:
        self.resize_to = self.output_size()
        condition = self.get("condition_image")
        if condition is not None:
            mode = self.get("control_mode") or "CANNY_EDGE"
            self.reroute(self.retirement.conditioning[mode], Task.CONTROL)
            self.out["image"] = condition
            self.take("prompt", "negative_prompt", "control_strength")
        else:
            ratio = self.aspect_ratio(*self.resize_to)
            self.out["aspect_ratio"] = ratio
            self.applied["aspect_ratio"] = ratio
            self.take("prompt", "negative_prompt")
        self.style()

    def _inpaint(self) -> None:
        image: InputImage = self.get("image")
        self.resize_to = (image.width, image.height)
        prompt, mask_prompt = self.get("prompt"), self.get("mask_prompt")
        if mask_prompt is not None and self.retirement.mask_prompt_route is not None:
            route, why = self.retirement.mask_prompt_route
            if prompt is None:
                successor = self.owner.route(route).name
                raise _refusal(self.caller, "prompt", why.format(successor=successor))
            self.reroute(route, Task.SEARCH_REPLACE)
            self.out.update(image=image, prompt=prompt, search_prompt=mask_prompt)
            self.take("negative_prompt")
            self.style()
            return
        erase = self.retirement.promptless_inpaint_route
        if prompt is None and erase is not None:
            self.reroute(erase, Task.ERASE)
        else:
            self.out["prompt"] = prompt
            self.take("negative_prompt")
            self.style()
        self.out.update(image=image)
        self.take("mask", "mask_convention")
        # Stability grows the mask by 5 px by default: the pixels edited stay the ones asked.
        self.out["grow_mask"] = 0
        self.applied["grow_mask"] = 0

    def _outpaint(self) -> None:
        image: InputImage = self.get("image")
        self.resize_to = (image.width, image.height)
        if self.get("mask_prompt") is not None:
            raise _refusal(
                self.caller,
                "mask_prompt",
                f"{self.successor.name} grows the canvas by pixel margins, which a mask prompt "
                "does not give: send a mask whose kept area is one rectangle, or send the "
                "inverse of the area to keep as a mask to /v1/images/inpaint",
            )
        kept = ~_region(self.raw)
        self.used.update(("mask", "mask_convention"))
        box = _rectangle(kept)
        if box is None:
            raise _refusal(self.caller, "mask", _not_a_rectangle(kept))
        top, bottom, left, right = box
        pixels = load_pixels(image)[top:bottom, left:right]
        data = encode_png(np.ascontiguousarray(pixels))
        self.out["image"] = parse_image(data, max_bytes=len(data), max_pixels=pixels.size)
        margins = {
            "left": left,
            "right": image.width - right,
            "up": top,
            "down": image.height - bottom,
        }
        self.out.update({side: value for side, value in margins.items() if value})
        self.applied["margins"] = margins
        self.take("prompt")
        self.style()

    def _from_image(self) -> None:
        images = self.get("images")
        if images is not None and len(images) != 1:
            raise _refusal(
                self.caller,
                "images",
                f"{self.successor.name} varies one image, {len(images)} were sent: send one "
                "image per request",
            )
        image: InputImage = images[0] if images is not None else self.get("image")
        closeness, default = self.retirement.closeness
        kept = self.get(closeness)
        strength = 1 - (default if kept is None else kept)
        mode = self.retirement.closeness_mode
        if mode is not None and self.raw.get(mode[0]) == mode[1]:
            self.used.add(mode[0])  # the mode a strength expresses
        if self.retirement.from_image_keeps_input_size:
            self.resize_to = (image.width, image.height)
        else:
            self.resize_to = self.output_size()
        strength = round(strength, 6)  # 1 - 0.7 is 0.30000000000000004
        self.out.update(image=image, strength=strength)
        self.applied["strength"] = strength
        self.take("prompt", "negative_prompt")
        self.style()

    def _remove_background(self) -> None:
        image: InputImage = self.get("image")
        self.out["image"] = image
        self.resize_to = (image.width, image.height)


def _served(successor: ModelEntry, caller: ModelEntry) -> str:
    state = "retired " if caller.status is Lifecycle.RETIRED else ""
    return f"served by {successor.id} instead of {state}{caller.id}"


def _refusal(caller: ModelEntry, name: str, message: str) -> ProblemError:
    return invalid(
        [FieldProblem(field=name, message=message)],
        detail=f"{caller.id} is served by another model (GATEWAY_REPLACEMENTS) and this request "
        "cannot be translated faithfully for it",
    )


def _region(raw: Mapping[str, Any]) -> np.ndarray:
    """The pixels to generate, from the mask or (alpha-is-edit) the image's transparency."""
    convention = MaskConvention(raw.get("mask_convention", MaskConvention.BLACK_IS_EDIT))
    mask: InputImage | None = raw.get("mask")
    return edit_region(mask if mask is not None else raw["image"], convention)


def _rectangle(kept: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of `kept` when it is one axis-aligned rectangle smaller than
    the image; None otherwise."""
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if not kept[top:bottom, left:right].all() or kept.all():
        return None
    return top, bottom, left, right


def _not_a_rectangle(kept: np.ndarray) -> str:
    instead = (
        "to generate these pixels inside the image, send the same mask to /v1/images/inpaint "
        "(the mask marks the pixels to generate)"
    )
    if not kept.any():
        return f"keeps no pixel, so there is nothing to extend: {instead}"
    if kept.all():
        return "keeps every pixel, so there is nothing to generate"
    return (
        "keeps an area that is not one rectangle; Stability outpaint only extends an image "
        f"outwards from a rectangle: {instead}"
    )


def fit(image: GeneratedImage, size: tuple[int, int]) -> GeneratedImage:
    """`image` at `size`: cropped to its aspect ratio around the centre, then resized.

    CPU work: run in a thread. The format (and the alpha channel) stay as the model sent them.
    """
    if image.finish_reason is not FinishReason.SUCCESS or image.b64 is None:
        return image
    with Image.open(io.BytesIO(pybase64.b64decode(image.b64))) as decoded:
        if decoded.size == size:
            return image
        fmt = decoded.format or "PNG"
        resized = cover(decoded, size)
    out = io.BytesIO()
    resized.save(out, format=fmt)
    return replace(image, b64=pybase64.b64encode_as_string(out.getvalue()))
