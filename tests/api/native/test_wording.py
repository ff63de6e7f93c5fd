"""Error messages people can act on: "did you mean" for misspelt fields and models, byte sizes in
binary units beside the exact number."""

from __future__ import annotations

import httpx
import pytest

from app.wording import byte_size, did_you_mean
from tests.support.gateway import data


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KiB (1024 bytes)"),
        (100_000, "97.7 KiB (100000 bytes)"),
        (1_048_576, "1 MiB (1048576 bytes)"),
        (27_262_976, "26 MiB (27262976 bytes)"),
        (20_000_000, "19.1 MiB (20000000 bytes)"),
        (3 * 1024**3, "3 GiB (3221225472 bytes)"),
        (5 * 1024**4, "5120 GiB (5497558138880 bytes)"),
    ],
)
def test_byte_size(count: int, shown: str) -> None:
    assert byte_size(count) == shown


def test_did_you_mean_only_for_a_close_name() -> None:
    assert did_you_mean("PROMT", ["prompt", "seed"]) == "did you mean 'prompt'?"
    assert did_you_mean("colour", ["prompt", "seed"]) == ""


async def test_a_misspelt_field_gets_a_suggestion(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post(
        "/v1/images/text-to-image", json={"propmt": "a red fox", "negative_promt": "blur"}
    )
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert errors["propmt"] == "Extra inputs are not permitted; did you mean 'prompt'?"
    assert errors["negative_promt"] == (
        "Extra inputs are not permitted; did you mean 'negative_prompt'?"
    )
    far = await gateway.post("/v1/images/text-to-image", json={"prompt": "a", "zzz": 1})
    assert far.json()["errors"] == [{"field": "zzz", "message": "Extra inputs are not permitted"}]


async def test_a_misspelt_multipart_field_gets_a_suggestion(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post(
        "/v1/images/inpaint",
        files={"image": ("coffee.png", data("coffee.png"), "image/png")},
        data={"prompt": "a cup of tea", "mask_promt": "the cup"},
    )
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert errors["mask_promt"] == "Extra inputs are not permitted; did you mean 'mask_prompt'?"


async def test_a_misspelt_model_gets_a_suggestion_among_the_tasks_models(
    gateway: httpx.AsyncClient,
) -> None:
    answer = await gateway.post(
        "/v1/images/text-to-image", json={"model": "sd3.5-lrge", "prompt": "a red fox"}
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "model"
    assert error["message"].startswith(
        "unknown model 'sd3.5-lrge'; did you mean 'sd3.5-large'? models for text-to-image: "
    )
    far = await gateway.post("/v1/images/text-to-image", json={"model": "gpt", "prompt": "a"})
    assert far.json()["errors"][0]["message"].startswith(
        "unknown model 'gpt'; models for text-to-image: "
    )


async def test_an_upload_over_the_image_limit_says_its_size_in_mib(
    gateway: httpx.AsyncClient,
) -> None:
    answer = await gateway.post(
        "/v1/images/inpaint",
        files={"image": ("big.png", data("coffee.png") + b"\0" * 21_000_000, "image/png")},
        data={"prompt": "a cup of tea", "mask_prompt": "the cup"},
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "image"
    size = len(data("coffee.png")) + 21_000_000
    assert error["message"] == (
        f"is {size / 1024**2:.1f} MiB ({size} bytes); at most 20 MiB (20971520 bytes) are accepted"
    )
