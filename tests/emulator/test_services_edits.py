"""The Image Services' editing tools on real photos: each changes only what it is asked to."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from emulator.imaging.edit import region_from_prompt
from emulator.models.base import Invocation
from emulator.models.services import SPECS
from emulator.models.vocab import FILTER_PROMPT, STABILITY_SEED_MAX
from tests.support.files import DATA

SPEC_BY_ID = {spec.model_id: spec for spec in SPECS}


def b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode()


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(DATA / name).convert("RGB"))


def call(tool: str, body: dict[str, Any], blocked: tuple[str, ...] = ()) -> dict[str, Any]:
    spec = SPEC_BY_ID[f"stability.{tool}"]
    return spec.invoke(Invocation(spec.model_id, f"us.{spec.model_id}", body, blocked))


def output(answer: dict[str, Any]) -> Image.Image:
    (image,) = answer["images"]
    return Image.open(io.BytesIO(base64.b64decode(image)))


def pixels(answer: dict[str, Any]) -> np.ndarray:
    return np.asarray(output(answer))


def grown(region: np.ndarray, by: int) -> np.ndarray:
    """A square dilation written independently of the emulator's: any set pixel in the window."""
    windows = sliding_window_view(np.pad(region, by), (2 * by + 1, 2 * by + 1))
    return np.asarray(windows.any(axis=(-1, -2)))


COFFEE = photo("coffee.png")
ELLIPSE = np.asarray(Image.open(DATA / "coffee-mask-white-edit.png")) >= 128
WHITE_MASK = b64("coffee-mask-white-edit.png")


def test_there_are_thirteen_profile_only_tools() -> None:
    assert len(SPEC_BY_ID) == 13
    assert all(spec.profile_only and spec.family == "stability-service" for spec in SPECS)


@pytest.mark.parametrize("grow", [0, 5, 40])
def test_inpaint_fills_the_grown_mask_and_leaves_the_rest_untouched(grow: int) -> None:
    body = {"image": b64("coffee.png"), "mask": WHITE_MASK, "prompt": "a latte", "grow_mask": grow}
    answer = call("stable-image-inpaint-v1:0", body)
    out = pixels(answer)
    region = grown(ELLIPSE, grow)
    assert output(answer).mode == "RGB"
    assert out.shape == COFFEE.shape
    assert np.array_equal(out[~region], COFFEE[~region])
    inside = out[region].astype(int)
    assert np.abs(inside - COFFEE[region]).mean() > 10
    assert inside.std(axis=0).min() > 2  # a fill with texture, not a flat colour
    # The whole grown ring is repainted, not only the ellipse.
    assert (out[region & ~ELLIPSE] != COFFEE[region & ~ELLIPSE]).any() == (grow > 0)


def test_inpaint_takes_the_mask_from_alpha_without_a_mask() -> None:
    answer = call(
        "stable-image-inpaint-v1:0",
        {"image": b64("coffee-mask-alpha-edit.png"), "prompt": "a latte", "grow_mask": 0},
    )
    out = pixels(answer)
    assert out.shape == COFFEE.shape
    assert np.array_equal(out[~ELLIPSE], COFFEE[~ELLIPSE])
    assert np.abs(out[ELLIPSE].astype(int) - COFFEE[ELLIPSE]).mean() > 10


def test_inpaint_paints_the_colour_the_prompt_names() -> None:
    def inside(prompt: str) -> np.ndarray:
        body = {"image": b64("coffee.png"), "mask": WHITE_MASK, "prompt": prompt, "grow_mask": 0}
        painted = pixels(call("stable-image-inpaint-v1:0", body))[ELLIPSE].astype(float)
        return np.asarray(painted.mean(axis=0))

    red, blue = inside("a red flower"), inside("a blue flower")
    assert red[0] - red[2] > blue[0] - blue[2] + 20


def test_erase_fills_the_mask_from_its_surroundings() -> None:
    answer = call("stable-image-erase-object-v1:0", {"image": b64("coffee-mask-alpha-edit.png")})
    out = pixels(answer)
    region = grown(ELLIPSE, 5)  # the default grow_mask
    assert out.shape == COFFEE.shape
    assert np.array_equal(out[~region], COFFEE[~region])
    assert np.abs(out[ELLIPSE].astype(int) - COFFEE[ELLIPSE]).mean() > 10
    assert out[ELLIPSE].std(axis=0).min() > 2


@pytest.mark.parametrize(
    ("left", "right", "up", "down"), [(100, 0, 0, 0), (0, 37, 0, 250), (13, 17, 19, 23)]
)
def test_outpaint_grows_the_canvas_by_exactly_the_sides(
    left: int, right: int, up: int, down: int
) -> None:
    body = {"image": b64("coffee.png"), "left": left, "right": right, "up": up, "down": down}
    out = pixels(call("stable-outpaint-v1:0", body))
    assert out.shape == (400 + up + down, 600 + left + right, 3)
    assert np.array_equal(out[up : up + 400, left : left + 600], COFFEE)
    border = np.ones(out.shape[:2], dtype=bool)
    border[up : up + 400, left : left + 600] = False
    assert out[border].std(axis=0).min() > 2


@pytest.mark.parametrize("search", ["the cup", "the saucer"])
def test_search_replace_repaints_only_the_searched_region(search: str) -> None:
    body = {"image": b64("coffee.png"), "prompt": "a green apple", "search_prompt": search}
    out = pixels(call("stable-image-search-replace-v1:0", body))
    found = region_from_prompt(400, 600, search)
    region = grown(found, 3)  # the default grow_mask
    assert 0.05 <= found.mean() <= 0.40
    assert np.array_equal(out[~region], COFFEE[~region])
    assert np.abs(out[found].astype(int) - COFFEE[found]).mean() > 10
    assert out[found, 1].mean() > out[found, 0].mean()  # green dominates the fill


def test_search_recolor_moves_the_selected_region_toward_the_colour() -> None:
    body = {"image": b64("coffee.png"), "prompt": "bright blue", "select_prompt": "cup", "seed": 7}
    out = pixels(call("stable-image-search-recolor-v1:0", body))
    found = region_from_prompt(400, 600, "cup")
    region = grown(found, 3)
    assert np.array_equal(out[~region], COFFEE[~region])
    before, after = COFFEE[found].astype(float), out[found].astype(float)
    assert (after[:, 2] - after[:, 0]).mean() > (before[:, 2] - before[:, 0]).mean() + 20


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("webp", "WEBP")])
def test_remove_background_returns_a_transparent_background(fmt: str, pil_format: str) -> None:
    answer = call(
        "stable-image-remove-background-v1:0", {"image": b64("chelsea.png"), "output_format": fmt}
    )
    image = output(answer)
    assert image.format == pil_format
    assert image.mode == "RGBA"
    assert image.size == (451, 300)
    alpha = np.asarray(image)[..., 3]
    assert [alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]] == [0, 0, 0, 0]
    assert alpha[150, 225] == 255
    assert 0.05 < (alpha == 0).mean() < 0.95


@pytest.mark.parametrize(("fmt", "pil_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_output_format_is_honoured(fmt: str, pil_format: str) -> None:
    body = {"image": b64("coffee.png"), "mask": WHITE_MASK, "prompt": "tea", "output_format": fmt}
    image = output(call("stable-image-inpaint-v1:0", body))
    assert (image.format, image.size, image.mode) == (pil_format, (600, 400), "RGB")


SEEDED_EDITS = [
    ("stable-image-inpaint-v1:0", {"image": b64("coffee.png"), "mask": WHITE_MASK, "prompt": "x"}),
    ("stable-outpaint-v1:0", {"image": b64("coffee.png"), "left": 64}),
    (
        "stable-image-search-replace-v1:0",
        {"image": b64("coffee.png"), "prompt": "a", "search_prompt": "b"},
    ),
    (
        "stable-image-search-recolor-v1:0",
        {"image": b64("coffee.png"), "prompt": "a", "select_prompt": "b"},
    ),
    ("stable-image-erase-object-v1:0", {"image": b64("coffee.png"), "mask": WHITE_MASK}),
]


@pytest.mark.parametrize(("tool", "body"), SEEDED_EDITS)
def test_edits_are_deterministic_and_follow_the_seed(tool: str, body: dict[str, Any]) -> None:
    first = call(tool, {**body, "seed": 11})
    assert first == call(tool, {**body, "seed": 11})
    assert first["seeds"] == [11]
    assert first["finish_reasons"] == [None]
    assert first["images"] != call(tool, {**body, "seed": 12})["images"]


def test_seed_zero_is_replaced_by_one_derived_from_the_body() -> None:
    body = {"image": b64("coffee.png"), "left": 64, "seed": 0}
    first, again = call("stable-outpaint-v1:0", body), call("stable-outpaint-v1:0", body)
    (seed,) = first["seeds"]
    assert 1 <= seed <= STABILITY_SEED_MAX
    assert first == again
    assert call("stable-outpaint-v1:0", {**body, "left": 65})["seeds"] != [seed]
    same = call("stable-outpaint-v1:0", {**body, "seed": seed})
    assert same["seeds"] == [seed]


@pytest.mark.parametrize(
    ("tool", "body"),
    [
        ("stable-image-inpaint-v1:0", {"prompt": "a Forbidden fruit", "mask": WHITE_MASK}),
        (
            "stable-image-inpaint-v1:0",
            {"prompt": "x", "negative_prompt": "forbidden", "mask": WHITE_MASK},
        ),
        ("stable-image-search-replace-v1:0", {"prompt": "x", "search_prompt": "forbidden cup"}),
        ("stable-image-search-recolor-v1:0", {"prompt": "red", "select_prompt": "forbidden"}),
        ("stable-outpaint-v1:0", {"prompt": "forbidden", "up": 8}),
    ],
)
def test_a_blocked_word_answers_a_prompt_filter_reason(tool: str, body: dict[str, Any]) -> None:
    answer = call(tool, {"image": b64("coffee.png"), "seed": 5, **body}, blocked=("forbidden",))
    assert answer == {"seeds": [5], "finish_reasons": [FILTER_PROMPT], "images": []}


def test_a_word_merely_containing_a_blocked_word_passes() -> None:
    body = {"image": b64("coffee.png"), "prompt": "unforbiddenness", "up": 8}
    answer = call("stable-outpaint-v1:0", body, blocked=("forbidden",))
    assert answer["finish_reasons"] == [None]
    assert len(answer["images"]) == 1


@pytest.mark.parametrize("preset", ["pixel-art", "neon-punk"])
def test_style_preset_restyles_only_what_inpaint_changes(preset: str) -> None:
    body = {"image": b64("coffee.png"), "mask": WHITE_MASK, "prompt": "a latte", "grow_mask": 0}
    plain = pixels(call("stable-image-inpaint-v1:0", body))
    styled = pixels(call("stable-image-inpaint-v1:0", {**body, "style_preset": preset}))
    assert np.array_equal(styled[~ELLIPSE], COFFEE[~ELLIPSE])
    assert np.abs(styled[ELLIPSE].astype(int) - plain[ELLIPSE]).mean() > 3


def test_style_preset_restyles_only_the_outpainted_border() -> None:
    body = {"image": b64("coffee.png"), "left": 50, "down": 30}
    plain = pixels(call("stable-outpaint-v1:0", body))
    styled = pixels(call("stable-outpaint-v1:0", {**body, "style_preset": "comic-book"}))
    assert np.array_equal(styled[:400, 50:], COFFEE)
    assert np.abs(styled.astype(int) - plain).mean() > 1


def test_style_preset_restyles_only_the_recoloured_region() -> None:
    body = {"image": b64("coffee.png"), "prompt": "red", "select_prompt": "cup", "grow_mask": 0}
    styled = call("stable-image-search-recolor-v1:0", {**body, "style_preset": "line-art"})
    found = region_from_prompt(400, 600, "cup")
    out = pixels(styled)
    assert np.array_equal(out[~found], COFFEE[~found])
    assert not np.array_equal(out, pixels(call("stable-image-search-recolor-v1:0", body)))
