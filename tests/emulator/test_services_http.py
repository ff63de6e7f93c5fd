"""The Image Services over the wire: boto3 reaches them by inference profile only."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.files import DATA


def b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode()


@pytest.fixture
def client(bedrock_env: EmulatorServer) -> Any:
    return boto3.client("bedrock-runtime", config=Config(retries={"max_attempts": 0}))


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), accept="application/json"
    )
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def test_inpaint_through_the_us_profile(client: Any, bedrock_env: EmulatorServer) -> None:
    body = {
        "image": b64("coffee.png"),
        "mask": b64("coffee-mask-white-edit.png"),
        "prompt": "a latte",
        "grow_mask": 0,
        "seed": 42,
    }
    answer = invoke(client, "us.stability.stable-image-inpaint-v1:0", body)
    assert answer["seeds"] == [42]
    assert answer["finish_reasons"] == [None]
    out = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))))
    coffee = np.asarray(Image.open(DATA / "coffee.png"))
    ellipse = np.asarray(Image.open(DATA / "coffee-mask-white-edit.png")) >= 128
    assert np.array_equal(out[~ellipse], coffee[~ellipse])
    assert not np.array_equal(out[ellipse], coffee[ellipse])
    (record,) = bedrock_env.requests()
    assert record["model_id"] == "us.stability.stable-image-inpaint-v1:0"
    assert record["resolved_model_id"] == "stability.stable-image-inpaint-v1:0"
    assert record["status"] == 200


def test_fast_upscale_through_an_inference_profile_arn(client: Any) -> None:
    arn = (
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
        "us.stability.stable-fast-upscale-v1:0"
    )
    answer = invoke(client, arn, {"image": b64("chelsea.png"), "output_format": "webp"})
    image = Image.open(io.BytesIO(base64.b64decode(answer["images"][0])))
    assert (image.format, image.size) == ("WEBP", (4 * 451, 4 * 300))


def test_the_bare_model_id_is_refused(client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException) as caught:
        invoke(client, "stability.stable-fast-upscale-v1:0", {"image": b64("chelsea.png")})
    assert caught.value.response["Error"]["Message"] == (
        "Invocation of model ID stability.stable-fast-upscale-v1:0 with on-demand throughput "
        "isn't supported. Retry your request with the ID or ARN of an inference profile that "
        "contains this model."
    )


def test_a_limit_violation_reaches_boto3_naming_the_field(client: Any) -> None:
    body = {"image": b64("coffee.png"), "left": 2001}
    with pytest.raises(client.exceptions.ValidationException) as caught:
        invoke(client, "us.stability.stable-outpaint-v1:0", body)
    message = caught.value.response["Error"]["Message"]
    assert message == "1 schema violation found: #/left: 2001 is not less or equal to 2000"


def test_a_blocked_prompt_answers_a_filter_reason(client: Any) -> None:
    body = {"image": b64("coffee.png"), "prompt": "red", "select_prompt": "forbidden", "seed": 9}
    answer = invoke(client, "us.stability.stable-image-search-recolor-v1:0", body)
    assert answer == {"seeds": [9], "finish_reasons": ["Filter reason: prompt"], "images": []}
