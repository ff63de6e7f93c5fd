"""The Image Services' guided tools and upscalers on real photos: sizes and strength knobs."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import numpy as np
import pytest
from PIL import Image

from emulator.models.base import Invocation
from emulator.models.services import SPECS
from tests.support.files import DATA

SPEC_BY_ID = {spec.model_id: spec for spec in SPECS}


def b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode()


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(DATA / name).convert("RGB"))


def call(tool: str, body: dict[str, Any]) -> dict[str, Any]:
    spec = SPEC_BY_ID[f"stability.{tool}"]
    return spec.invoke(Invocation(spec.model_id, f"us.{spec.model_id}", body))


def pixels(answer: dict[str, Any]) -> np.ndarray:
    (image,) = answer["images"]
    decoded = Image.open(io.BytesIO(base64.b64decode(image)))
    assert decoded.mode == "RGB"
    return np.asarray(decoded)


def edge_map(image: np.ndarray) -> np.ndarray:
    """Gradient magnitude of the luminance, computed here independently of the emulator."""
    grey = image.astype(float) @ [0.299, 0.587, 0.114]
    return np.hypot(np.diff(grey, axis=0)[:, :-1], np.diff(grey, axis=1)[:-1, :])


def edge_agreement(out: np.ndarray, guide: np.ndarray) -> float:
    return float(np.corrcoef(edge_map(out).ravel(), edge_map(guide).ravel())[0, 1])


def colour_distance(image: np.ndarray, style: np.ndarray) -> float:
    """How far an image's mean colour is from the style's."""
    return float(np.linalg.norm(image.reshape(-1, 3).mean(0) - style.reshape(-1, 3).mean(0)))


CAT = photo("chelsea.png")
COFFEE = photo("coffee.png")
ROCKET = photo("rocket.jpg")


@pytest.mark.parametrize(
    "tool", ["stable-image-control-sketch-v1:0", "stable-image-control-structure-v1:0"]
)
def test_control_keeps_the_size_and_follows_the_edges_more_as_strength_rises(tool: str) -> None:
    def agreement(strength: float) -> float:
        body = {"image": b64("chelsea.png"), "prompt": "a purple cat", "control_strength": strength}
        out = pixels(call(tool, body))
        assert out.shape == CAT.shape
        return edge_agreement(out, CAT)

    none, weak, full = agreement(0.0), agreement(0.3), agreement(1.0)
    assert none < weak < full
    assert full > none + 0.3


@pytest.mark.parametrize(
    ("aspect", "size"), [(None, (1024, 1024)), ("16:9", (1344, 768)), ("9:21", (640, 1536))]
)
def test_style_guide_draws_at_the_aspect_ratio_size(
    aspect: str | None, size: tuple[int, int]
) -> None:
    body: dict[str, Any] = {"image": b64("rocket.jpg"), "prompt": "a lighthouse"}
    if aspect:
        body["aspect_ratio"] = aspect
    out = pixels(call("stable-image-style-guide-v1:0", body))
    assert (out.shape[1], out.shape[0]) == size


def test_style_guide_takes_the_style_colours_more_as_fidelity_rises() -> None:
    def distance(fidelity: float) -> float:
        body = {"image": b64("rocket.jpg"), "prompt": "a green meadow", "fidelity": fidelity}
        return colour_distance(pixels(call("stable-image-style-guide-v1:0", body)), ROCKET)

    loose, middle, close = distance(0.0), distance(0.5), distance(1.0)
    assert loose > middle > close
    assert close < loose / 3


def test_style_transfer_keeps_the_init_size_and_moves_toward_the_style() -> None:
    def transferred(strength: float) -> np.ndarray:
        body = {
            "init_image": b64("coffee.png"),
            "style_image": b64("rocket.jpg"),
            "style_strength": strength,
        }
        out = pixels(call("stable-style-transfer-v1:0", body))
        assert out.shape == COFFEE.shape
        return out

    assert np.array_equal(transferred(0.0), COFFEE)
    distances = [colour_distance(transferred(s), ROCKET) for s in (0.0, 0.3, 0.6, 1.0)]
    assert distances == sorted(distances, reverse=True)
    assert distances[-1] < distances[0] / 2


@pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg", "astronaut.png"])
def test_fast_upscale_is_exactly_four_times(name: str) -> None:
    source = photo(name)
    out = pixels(call("stable-fast-upscale-v1:0", {"image": b64(name)}))
    assert out.shape == (4 * source.shape[0], 4 * source.shape[1], 3)
    back = np.asarray(Image.fromarray(out).resize(source.shape[1::-1], Image.Resampling.BOX))
    assert np.abs(back.astype(int) - source).mean() < 6


@pytest.mark.parametrize(
    "tool", ["stable-conservative-upscale-v1:0", "stable-creative-upscale-v1:0"]
)
def test_detailed_upscales_reach_about_four_megapixels_keeping_the_aspect(tool: str) -> None:
    out = pixels(call(tool, {"image": b64("chelsea.png"), "prompt": "a cat"}))
    factor = math.sqrt(4_194_304 / (451 * 300))
    assert out.shape == (round(300 * factor), round(451 * factor), 3)
    back = np.asarray(Image.fromarray(out).resize((451, 300), Image.Resampling.BOX))
    assert np.abs(back.astype(int) - CAT).mean() < 40


def test_conservative_upscale_never_shrinks_a_large_input() -> None:
    large = Image.open(DATA / "coffee.png").resize((2700, 1800), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    large.save(buffer, "JPEG", quality=85)
    body = {"image": base64.b64encode(buffer.getvalue()).decode(), "prompt": "coffee"}
    out = pixels(call("stable-conservative-upscale-v1:0", body))
    assert out.shape == (1800, 2700, 3)


def test_creative_upscale_invents_more_as_creativity_rises() -> None:
    def departure(creativity: float) -> float:
        body = {"image": b64("chelsea.png"), "prompt": "a cat", "creativity": creativity}
        out = pixels(call("stable-creative-upscale-v1:0", body))
        back = np.asarray(Image.fromarray(out).resize((451, 300), Image.Resampling.BOX))
        return float(np.abs(back.astype(int) - CAT).mean())

    assert departure(0.1) < departure(0.3) < departure(0.5)


SEEDED = [
    ("stable-image-control-sketch-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
    ("stable-image-control-structure-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
    (
        "stable-image-style-guide-v1:0",
        {"image": b64("rocket.jpg"), "prompt": "a", "aspect_ratio": "21:9"},
    ),
    (
        "stable-style-transfer-v1:0",
        {
            "init_image": b64("chelsea.png"),
            "style_image": b64("rocket.jpg"),
            "composition_fidelity": 0.2,
        },
    ),
    ("stable-conservative-upscale-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
    ("stable-creative-upscale-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
]


@pytest.mark.parametrize(("tool", "body"), SEEDED)
def test_guided_tools_are_deterministic_and_follow_the_seed(
    tool: str, body: dict[str, Any]
) -> None:
    first = call(tool, {**body, "seed": 3})
    assert first == call(tool, {**body, "seed": 3})
    assert first["seeds"] == [3]
    assert first["images"] != call(tool, {**body, "seed": 4})["images"]


@pytest.mark.parametrize(
    "tool", ["stable-fast-upscale-v1:0", "stable-image-remove-background-v1:0"]
)
def test_unseeded_tools_report_a_seed_derived_from_the_body(tool: str) -> None:
    first = call(tool, {"image": b64("chelsea.png")})
    assert first == call(tool, {"image": b64("chelsea.png")})
    assert first["seeds"] != call(tool, {"image": b64("astronaut.png")})["seeds"]


@pytest.mark.parametrize(
    ("tool", "body"),
    [
        ("stable-image-control-sketch-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
        ("stable-image-style-guide-v1:0", {"image": b64("rocket.jpg"), "prompt": "a"}),
        ("stable-creative-upscale-v1:0", {"image": b64("chelsea.png"), "prompt": "a"}),
    ],
)
def test_style_preset_changes_the_picture(tool: str, body: dict[str, Any]) -> None:
    plain = pixels(call(tool, body))
    styled = pixels(call(tool, {**body, "style_preset": "pixel-art"}))
    assert styled.shape == plain.shape
    assert np.abs(styled.astype(int) - plain).mean() > 1
