"""Nova 2 Omni through boto3's `converse`: images drawn from text at the size the model picks for
the aspect ratio asked, instruction edits that change the image, usage, and Converse's errors."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.emulator_calls import mean_abs_diff

MODEL = "us.amazon.nova-2-omni-v1:0"
COFFEE = "tests/data/coffee.png"
DOCUMENT = {"format": "txt", "name": "a", "source": {"bytes": b"x"}}


def user(*content: dict[str, Any]) -> list[dict[str, Any]]:
    """One user message holding `content`."""
    return [{"role": "user", "content": list(content)}]


def photo() -> bytes:
    with open(COFFEE, "rb") as file:
        return file.read()


def answer_image(response: dict[str, Any]) -> np.ndarray:
    """The pixels of the answer's one image block."""
    [block] = [b for b in response["output"]["message"]["content"] if "image" in b]
    assert block["image"]["format"] == "png"
    return np.asarray(Image.open(io.BytesIO(block["image"]["source"]["bytes"])).convert("RGB"))


def test_text_draws_at_the_size_nearest_the_ratio_asked(runtime: Any) -> None:
    asked = "a lighthouse at dusk. Aspect ratio 16:9."
    response = runtime.converse(modelId=MODEL, messages=user({"text": asked}))
    assert answer_image(response).shape == (768, 1344, 3)
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] == 10  # 39 characters, about four a token
    assert usage["outputTokens"] == 1317  # 1344 x 768 pixels, 784 a token
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    square = runtime.converse(modelId=f"global.{MODEL[3:]}", messages=user({"text": "a fox"}))
    assert answer_image(square).shape == (1024, 1024, 3)
    # Asked 4:3, drawn at the nearest size the model has: not what was asked.
    other = runtime.converse(modelId=MODEL, messages=user({"text": "a fox, 1600x1200"}))
    assert answer_image(other).shape == (896, 1152, 3)


def test_the_same_request_draws_the_same_image(runtime: Any) -> None:
    first = answer_image(runtime.converse(modelId=MODEL, messages=user({"text": "a red barn"})))
    again = answer_image(runtime.converse(modelId=MODEL, messages=user({"text": "a red barn"})))
    other = answer_image(runtime.converse(modelId=MODEL, messages=user({"text": "a blue sea"})))
    assert np.array_equal(first, again)
    assert mean_abs_diff(first, other) > 10


def test_an_instruction_edits_the_image_it_is_given(runtime: Any) -> None:
    source = np.asarray(Image.open(COFFEE).convert("RGB"))
    image = {"image": {"format": "png", "source": {"bytes": photo()}}}
    response = runtime.converse(
        modelId=MODEL, messages=user(image, {"text": "remove the cup from the table"})
    )
    edited = answer_image(response)
    assert edited.shape == source.shape
    changed = np.any(edited != source, axis=2)
    # A region is repainted, the rest kept byte for byte.
    assert 0.03 < changed.mean() < 0.6
    assert response["usage"]["inputTokens"] == 1000 + 8


def test_a_small_token_budget_cuts_the_image(runtime: Any) -> None:
    response = runtime.converse(
        modelId=MODEL, messages=user({"text": "a fox"}), inferenceConfig={"maxTokens": 100}
    )
    assert response["stopReason"] == "max_tokens"
    assert all("image" not in block for block in response["output"]["message"]["content"])
    assert response["usage"]["outputTokens"] == 100


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
            "A conversation must start with a user message.",
        ),
        (
            {"messages": user({"text": "a fox"}), "inferenceConfig": {"temperature": 2.0}},
            "#/inferenceConfig/temperature: 2.0 is not less or equal to 1.0",
        ),
        (
            {"messages": user({"image": {"format": "jpeg", "source": {"bytes": b"nope"}}})},
            "#/messages/0/content/0/image: the image bytes could not be decoded",
        ),
        (
            {"messages": user({"document": DOCUMENT})},
            "#/messages/0/content/0: amazon.nova-2-omni-v1:0 doesn't support the document "
            "content block",
        ),
    ],
)
def test_bad_requests_are_validation_errors(
    runtime: Any, call: dict[str, Any], message: str
) -> None:
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(modelId=MODEL, **call)
    assert message in info.value.response["Error"]["Message"]


def test_a_wrong_format_and_too_many_images_are_refused(runtime: Any) -> None:
    wrong = {"image": {"format": "jpeg", "source": {"bytes": photo()}}}
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(modelId=MODEL, messages=user(wrong, {"text": "x"}))
    assert "#/messages/0/content/0/image/format: the bytes are png, not jpeg" in str(info.value)
    many = [{"image": {"format": "png", "source": {"bytes": photo()}}}] * 21
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(modelId=MODEL, messages=user(*many, {"text": "x"}))
    assert "Too many images: 21" in str(info.value)


def test_invoke_and_other_models_on_converse_are_refused(
    runtime: Any, emulator: EmulatorServer
) -> None:
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.invoke_model(modelId=MODEL, body=b"{}")
    assert "Converse" in str(info.value)
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(modelId="amazon.titan-image-generator-v1", messages=user({"text": "x"}))
    assert "doesn't support the model" in str(info.value)
    with pytest.raises(runtime.exceptions.ValidationException):
        runtime.converse(modelId=MODEL[3:], messages=user({"text": "x"}))  # no profile
    emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])
    with pytest.raises(runtime.exceptions.ThrottlingException):
        runtime.converse(modelId=MODEL, messages=user({"text": "x"}))
