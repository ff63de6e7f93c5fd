"""Every limit of the thirteen Image Services (§4b): one step past it is a ValidationException
naming the field; at the limit the request passes."""

from __future__ import annotations

import base64
import io
from functools import cache
from typing import Any

import pytest
from PIL import Image

from emulator.models.base import BedrockError, Invocation
from emulator.models.services import SPECS
from tests.support.files import DATA

SPEC_BY_ID = {spec.model_id: spec for spec in SPECS}
DROP = object()  # a change that removes the key


@cache
def b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode()


@cache
def sized(width: int, height: int, name: str = "coffee.png") -> str:
    """A real photo resized to width x height, as base64 JPEG (PNG when small, to stay exact)."""
    image = Image.open(DATA / name).convert("RGB").resize((width, height))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if width * height > 1_000_000 else "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def call(tool: str, body: dict[str, Any]) -> dict[str, Any]:
    spec = SPEC_BY_ID[f"stability.{tool}"]
    return spec.invoke(Invocation(spec.model_id, f"us.{spec.model_id}", body))


TOOLS = {
    "inpaint": "stable-image-inpaint-v1:0",
    "outpaint": "stable-outpaint-v1:0",
    "search-replace": "stable-image-search-replace-v1:0",
    "search-recolor": "stable-image-search-recolor-v1:0",
    "erase": "stable-image-erase-object-v1:0",
    "remove-background": "stable-image-remove-background-v1:0",
    "sketch": "stable-image-control-sketch-v1:0",
    "structure": "stable-image-control-structure-v1:0",
    "style-guide": "stable-image-style-guide-v1:0",
    "style-transfer": "stable-style-transfer-v1:0",
    "fast-upscale": "stable-fast-upscale-v1:0",
    "conservative-upscale": "stable-conservative-upscale-v1:0",
    "creative-upscale": "stable-creative-upscale-v1:0",
}
MASK = b64("coffee-mask-white-edit.png")


def base(tool: str) -> dict[str, Any]:
    """A small valid body for each tool."""
    coffee, cat = b64("coffee.png"), b64("chelsea.png")
    bodies: dict[str, dict[str, Any]] = {
        "inpaint": {"image": coffee, "prompt": "tea", "mask": MASK},
        "outpaint": {"image": coffee, "left": 8},
        "search-replace": {"image": coffee, "prompt": "tea", "search_prompt": "cup"},
        "search-recolor": {"image": coffee, "prompt": "red", "select_prompt": "cup"},
        "erase": {"image": coffee, "mask": MASK},
        "remove-background": {"image": cat},
        "sketch": {"image": cat, "prompt": "a cat"},
        "structure": {"image": cat, "prompt": "a cat"},
        "style-guide": {"image": cat, "prompt": "a cat"},
        "style-transfer": {"init_image": cat, "style_image": b64("rocket.jpg")},
        "fast-upscale": {"image": cat},
        "conservative-upscale": {"image": cat, "prompt": "a cat"},
        "creative-upscale": {"image": cat, "prompt": "a cat"},
    }
    return bodies[tool]


SEEDED = set(TOOLS) - {"remove-background", "fast-upscale"}
NO_PROMPT = {"erase", "remove-background", "fast-upscale"}
PROMPT_OPTIONAL = {"outpaint", "style-transfer"}
PROMPT_REQUIRED = set(TOOLS) - NO_PROMPT - PROMPT_OPTIONAL
NEGATIVE = set(TOOLS) - NO_PROMPT - {"outpaint"}
STYLE_PRESET = PROMPT_REQUIRED - {"conservative-upscale"} | {"outpaint"}
IMAGE_FIELDS = {tool: ("image",) for tool in TOOLS} | {
    "style-transfer": ("init_image", "style_image")
}
LONG = "x" * 10_001

Case = tuple[str, dict[str, Any], str]


def common_cases() -> list[Case]:
    """The §4b limits that every tool (or every tool taking the field) shares."""
    cases: list[Case] = []
    for tool in TOOLS:
        cases.append((tool, {"strength_x": 1}, "extraneous key [strength_x]"))
        cases.append((tool, {"output_format": "gif"}, "#/output_format"))
        for field in IMAGE_FIELDS[tool]:
            cases.append((tool, {field: DROP}, f"required key [{field}]"))
            cases.append(
                (tool, {field: "data:image/png;base64," + b64("chelsea.png")}, f"#/{field}")
            )
            cases.append((tool, {field: "bm90IGFuIGltYWdl"}, f"#/{field}"))
        if tool != "fast-upscale":
            for field in IMAGE_FIELDS[tool]:
                cases.append((tool, {field: sized(63, 100)}, f"#/{field}"))
                cases.append((tool, {field: sized(600, 239)}, f"#/{field}"))
                cases.append((tool, {field: sized(239, 600)}, f"#/{field}"))
        if tool in SEEDED:
            cases.append((tool, {"seed": -1}, "#/seed"))
            cases.append((tool, {"seed": 4_294_967_295}, "#/seed"))
            cases.append((tool, {"seed": 1.5}, "#/seed"))
        else:
            cases.append((tool, {"seed": 1}, "extraneous key [seed]"))
        if tool in PROMPT_REQUIRED:
            cases.append((tool, {"prompt": DROP}, "required key [prompt]"))
            cases.append((tool, {"prompt": ""}, "#/prompt"))
        if tool in PROMPT_REQUIRED | PROMPT_OPTIONAL:
            cases.append((tool, {"prompt": LONG}, "#/prompt"))
            cases.append((tool, {"prompt": 5}, "#/prompt"))
        else:
            cases.append((tool, {"prompt": "a cat"}, "extraneous key [prompt]"))
        if tool in NEGATIVE:
            cases.append((tool, {"negative_prompt": LONG}, "#/negative_prompt"))
        else:
            cases.append((tool, {"negative_prompt": "x"}, "extraneous key [negative_prompt]"))
        if tool in STYLE_PRESET:
            cases.append((tool, {"style_preset": "watercolour"}, "#/style_preset"))
        else:
            cases.append((tool, {"style_preset": "anime"}, "extraneous key [style_preset]"))
    return cases


SPECIFIC: list[Case] = [
    ("inpaint", {"grow_mask": -1}, "#/grow_mask"),
    ("inpaint", {"grow_mask": 101}, "#/grow_mask"),
    ("inpaint", {"mask": DROP}, "[mask]"),
    ("inpaint", {"mask": sized(601, 400, "coffee-mask-white-edit.png")}, "#/mask"),
    ("inpaint", {"mask": "data:image/png;base64," + MASK}, "#/mask"),
    ("inpaint", {"image": sized(3073, 3072)}, "#/image"),
    ("erase", {"grow_mask": 21}, "#/grow_mask"),
    ("erase", {"mask": DROP}, "[mask]"),
    ("erase", {"mask": sized(600, 399, "coffee-mask-white-edit.png")}, "#/mask"),
    ("search-replace", {"grow_mask": 21}, "#/grow_mask"),
    ("search-replace", {"search_prompt": DROP}, "required key [search_prompt]"),
    ("search-replace", {"search_prompt": ""}, "#/search_prompt"),
    ("search-replace", {"search_prompt": LONG}, "#/search_prompt"),
    ("search-recolor", {"grow_mask": -1}, "#/grow_mask"),
    ("search-recolor", {"select_prompt": DROP}, "required key [select_prompt]"),
    ("search-recolor", {"select_prompt": LONG}, "#/select_prompt"),
    ("outpaint", {"left": DROP}, "[left, right, up, down]"),
    ("outpaint", {"left": 0, "down": 0}, "[left, right, up, down]"),
    ("outpaint", {"left": 2001}, "#/left"),
    ("outpaint", {"right": -1}, "#/right"),
    ("outpaint", {"up": 2001}, "#/up"),
    ("outpaint", {"down": 2001}, "#/down"),
    ("outpaint", {"creativity": 1.01}, "#/creativity"),
    ("outpaint", {"creativity": -0.01}, "#/creativity"),
    ("remove-background", {"output_format": "jpeg"}, "#/output_format"),
    ("remove-background", {"image": sized(2049, 2048)}, "#/image"),
    ("sketch", {"control_strength": 1.01}, "#/control_strength"),
    ("structure", {"control_strength": -0.01}, "#/control_strength"),
    ("style-guide", {"fidelity": 1.01}, "#/fidelity"),
    ("style-guide", {"aspect_ratio": "4:3"}, "#/aspect_ratio"),
    ("style-transfer", {"style_strength": 1.01}, "#/style_strength"),
    ("style-transfer", {"composition_fidelity": -0.01}, "#/composition_fidelity"),
    ("style-transfer", {"change_strength": 0.09}, "#/change_strength"),
    ("style-transfer", {"change_strength": 1.01}, "#/change_strength"),
    ("fast-upscale", {"image": sized(31, 64)}, "#/image"),
    ("fast-upscale", {"image": sized(1537, 682)}, "#/image"),
    ("fast-upscale", {"image": sized(1025, 1024)}, "#/image"),
    ("fast-upscale", {"image": sized(600, 239)}, "#/image"),
    ("conservative-upscale", {"image": sized(3073, 3072)}, "#/image"),
    ("conservative-upscale", {"creativity": 0.19}, "#/creativity"),
    ("conservative-upscale", {"creativity": 0.51}, "#/creativity"),
    ("creative-upscale", {"image": sized(1025, 1024)}, "#/image"),
    ("creative-upscale", {"creativity": 0.09}, "#/creativity"),
    ("creative-upscale", {"creativity": 0.51}, "#/creativity"),
]


def changed(tool: str, change: dict[str, Any]) -> dict[str, Any]:
    body = base(tool)
    for key, value in change.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def case_id(case: Case) -> str:
    tool, change, _ = case
    shown = {key: shorten(value) for key, value in change.items()}
    return f"{tool}-{shown}"


def shorten(value: Any) -> Any:
    if value is DROP:
        return "DROP"
    return value if not isinstance(value, str) or len(value) < 20 else "…"


@pytest.mark.parametrize("case", common_cases() + SPECIFIC, ids=case_id)
def test_one_step_past_a_limit_names_the_field(case: Case) -> None:
    tool, change, expected = case
    with pytest.raises(BedrockError) as caught:
        call(TOOLS[tool], changed(tool, change))
    error = caught.value
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message.startswith("1 schema violation found: #")
    assert expected in error.message


AT_THE_LIMIT: list[tuple[str, dict[str, Any]]] = [
    ("inpaint", {"grow_mask": 100, "seed": 4_294_967_294, "prompt": "x" * 10_000}),
    ("inpaint", {"image": sized(64, 160), "mask": sized(64, 160, "coffee-mask-white-edit.png")}),
    ("erase", {"grow_mask": 20}),
    ("outpaint", {"left": 0, "right": 2000, "creativity": 1}),
    ("search-replace", {"grow_mask": 20, "negative_prompt": "x" * 10_000}),
    ("remove-background", {"image": sized(2048, 2048), "output_format": "webp"}),
    ("sketch", {"control_strength": 0, "style_preset": "pixel-art"}),
    ("style-transfer", {"change_strength": 0.1, "composition_fidelity": 0, "style_strength": 0}),
    ("fast-upscale", {"image": sized(32, 32)}),
    ("fast-upscale", {"image": sized(1536, 682)}),
    ("conservative-upscale", {"image": sized(64, 64), "creativity": 0.5}),
    ("creative-upscale", {"image": sized(1024, 1024), "creativity": 0.1}),
]


@pytest.mark.parametrize(("tool", "change"), AT_THE_LIMIT, ids=lambda v: str(v)[:40])
def test_at_the_limit_the_request_passes(tool: str, change: dict[str, Any]) -> None:
    answer = call(TOOLS[tool], changed(tool, change))
    assert answer["finish_reasons"] == [None]
    assert len(answer["images"]) == 1


def test_every_violation_is_listed_at_once() -> None:
    body = {**base("inpaint"), "grow_mask": 101, "seed": -1, "output_format": "gif", "extra": 1}
    body["mask"] = sized(601, 400, "coffee-mask-white-edit.png")
    with pytest.raises(BedrockError) as caught:
        call(TOOLS["inpaint"], body)
    message = caught.value.message
    assert message.startswith("5 schema violations found: ")
    for field in ("[extra]", "#/grow_mask", "#/seed", "#/output_format", "#/mask"):
        assert field in message
