"""Amazon Nova 2 Omni (`amazon.nova-2-omni-v1:0`), served through the Converse operation.

Written from AWS's Converse API reference: a request holds `messages` (roles alternating, starting
and ending with the user), optional `system` text blocks and `inferenceConfig`; content blocks are
`text` or `image` (`format` png, jpeg, gif or webp; `source.bytes` base64 on the wire). The answer
is `output.message` (the assistant's content: a short `text` block and the `image`), `stopReason`,
`usage` (input, output and total tokens) and `metrics`.

Procedural, measurable output: text alone draws an image from the prompt at the size the model
picks for an aspect ratio named in the text ("16:9", "1280x720"); with an image, the instruction
edits it: a region placed by the instruction is repainted from it, so an edit changes the image
detectably and identically for the same request. What AWS has not documented (output sizes, image
limits per call, token counts) is this emulator's choice, kept in the constants below.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import itertools
import math
import re
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..imaging.codec import encode_b64
from ..imaging.edit import fill_region, region_from_prompt
from ..imaging.synth import text_to_image
from .base import Invocation, ModelSpec, is_blocked, validation_error
from .checks import Checker

MODEL_ID = "amazon.nova-2-omni-v1:0"
FORMATS = ("png", "jpeg", "gif", "webp")
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
# The Converse reference's image limits: at most 3.75 MB and 8,000 px a side per image, 20 images.
MAX_IMAGE_BYTES = 3_750_000
MAX_IMAGE_SIDE = 8000
MAX_IMAGES = 20
# The sizes the model draws (its choice, whatever was asked): the nearest aspect ratio wins.
SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024),
    (1152, 896),
    (896, 1152),
    (1216, 832),
    (832, 1216),
    (1344, 768),
    (768, 1344),
    (1536, 640),
    (640, 1536),
)
# Tokens: about four characters of text per token, a flat count per input image, and an image
# answer's tokens from its pixels (about 1,300 for 1024x1024).
CHARS_PER_TOKEN = 4
TOKENS_PER_INPUT_IMAGE = 1_000
PIXELS_PER_OUTPUT_TOKEN = 784
_RATIO = re.compile(r"(\d{1,5})\s*(?::|x|×|by)\s*(\d{1,5})", re.IGNORECASE)
_CONFIG_KEYS = {"maxTokens", "temperature", "topP", "stopSequences"}
_TOP_KEYS = {
    "messages",
    "system",
    "inferenceConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
}


def invoke(invocation: Invocation) -> dict[str, Any]:
    """InvokeModel: this emulator serves the model through Converse only."""
    raise validation_error(
        f"{MODEL_ID} is served through the Converse operation (POST /model/{{modelId}}/converse)."
    )


def converse(invocation: Invocation) -> dict[str, Any]:
    """One Converse call: validate, then draw or edit, and answer with usage."""
    body = invocation.body
    checker = Checker()
    checker.unknown(body, _TOP_KEYS, "#")
    messages = checker.array(body, "messages", "#", min_items=1, required=True)
    system = checker.array(body, "system", "#")
    config = checker.obj(body, "inferenceConfig", "#", required=False)
    checker.unknown(config, _CONFIG_KEYS, "#/inferenceConfig")
    max_tokens = checker.integer(config, "maxTokens", "#/inferenceConfig", lo=1, hi=10_000)
    checker.number(config, "temperature", "#/inferenceConfig", lo=0.0, hi=1.0)
    checker.number(config, "topP", "#/inferenceConfig", lo=0.0, hi=1.0)
    checker.array(config, "stopSequences", "#/inferenceConfig", max_items=4)
    texts: list[str] = []
    for index, block in enumerate(system):
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
        else:
            checker.fail(f"#/system/{index}", 'a system block must be {"text": string}')
    turns = [_message(checker, message, index) for index, message in enumerate(messages)]
    checker.done()
    _conversation_rules(turns)
    prompt_parts, images = turns[-1][1], turns[-1][2]
    prompt = " ".join([*texts, *prompt_parts]).strip()
    if not prompt:
        raise validation_error("The last user message must contain a text block with the request.")
    all_images = sum(len(turn[2]) for turn in turns)
    if all_images > MAX_IMAGES:
        raise validation_error(f"Too many images: {all_images}; a request can carry {MAX_IMAGES}.")
    input_tokens = math.ceil(len(prompt) / CHARS_PER_TOKEN) + TOKENS_PER_INPUT_IMAGE * all_images
    if is_blocked(invocation.blocked_words, prompt):
        return _answer(
            [{"text": "I can't help with that request."}], "content_filtered", input_tokens, 12
        )
    if images:
        source = images[0]
        width, height = source.shape[1], source.shape[0]
        region = region_from_prompt(height, width, prompt)
        drawn = fill_region(source[..., :3], region, prompt, _seed(prompt))
        words = "Here is the edited image."
    else:
        width, height = _size_for(prompt)
        drawn = text_to_image(prompt, None, width, height, _seed(prompt), salt=MODEL_ID)
        words = "Here is the image."
    output_tokens = math.ceil(width * height / PIXELS_PER_OUTPUT_TOKEN)
    if max_tokens is not None and max_tokens < output_tokens:
        # The image did not fit the budget: text only, as a model cut short answers.
        return _answer([{"text": words[:8]}], "max_tokens", input_tokens, max_tokens)
    image = {"image": {"format": "png", "source": {"bytes": encode_b64(drawn, "png")}}}
    return _answer([{"text": words}, image], "end_turn", input_tokens, output_tokens)


def _message(checker: Checker, message: Any, index: int) -> tuple[str, list[str], list[np.ndarray]]:
    """(role, texts, images) of one message; violations recorded on `checker`."""
    path = f"#/messages/{index}"
    if not isinstance(message, dict):
        checker.fail(path, "expected type: JSONObject")
        return "", [], []
    checker.unknown(message, {"role", "content"}, path)
    role = checker.enum(message, "role", path, ("user", "assistant"), required=True) or ""
    content = checker.array(message, "content", path, min_items=1, required=True)
    texts: list[str] = []
    images: list[np.ndarray] = []
    for number, block in enumerate(content):
        where = f"{path}/content/{number}"
        if not isinstance(block, dict) or len(block) != 1:
            checker.fail(where, "a content block holds exactly one of text or image")
            continue
        kind, value = next(iter(block.items()))
        if kind == "text" and isinstance(value, str):
            texts.append(value)
        elif kind == "image" and isinstance(value, dict):
            decoded = _image(checker, value, f"{where}/image")
            if decoded is not None:
                images.append(decoded)
        elif kind in ("text", "image"):
            checker.fail(f"{where}/{kind}", "wrong type for this content block")
        else:
            checker.fail(where, f"{MODEL_ID} doesn't support the {kind} content block")
    return role, texts, images


def _image(checker: Checker, block: dict[str, Any], path: str) -> np.ndarray | None:
    """An image block's pixels (RGB or RGBA), or None with the violation recorded."""
    checker.unknown(block, {"format", "source"}, path)
    fmt = checker.enum(block, "format", path, FORMATS, required=True)
    source = checker.obj(block, "source", path, required=True)
    checker.unknown(source, {"bytes"}, f"{path}/source")
    data = checker.string(source, "bytes", f"{path}/source", required=True, min_len=1)
    if fmt is None or data is None:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        checker.fail(f"{path}/source/bytes", "not valid base64")
        return None
    if len(raw) > MAX_IMAGE_BYTES:
        checker.fail(path, f"the image is {len(raw)} bytes; at most {MAX_IMAGE_BYTES} are taken")
        return None
    try:
        image = Image.open(io.BytesIO(raw))
        actual = _PIL_FORMATS.get(str(image.format))
        if max(image.width, image.height) > MAX_IMAGE_SIDE:
            checker.fail(
                path,
                f"the image is {image.width}x{image.height}; at most "
                f"{MAX_IMAGE_SIDE} px a side are taken",
            )
            return None
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        checker.fail(path, "the image bytes could not be decoded")
        return None
    if actual != fmt:
        checker.fail(f"{path}/format", f"the bytes are {actual or 'not an image'}, not {fmt}")
        return None
    mode = "RGBA" if "A" in image.mode or "transparency" in image.info else "RGB"
    return np.asarray(image.convert(mode), dtype=np.uint8).copy()


def _conversation_rules(turns: list[tuple[str, list[str], list[np.ndarray]]]) -> None:
    if turns[0][0] != "user":
        raise validation_error("A conversation must start with a user message.")
    if turns[-1][0] != "user":
        raise validation_error("A conversation must end with a user message.")
    for before, after in itertools.pairwise(turns):
        if before[0] == after[0]:
            raise validation_error("User and assistant messages must alternate.")


def _size_for(prompt: str) -> tuple[int, int]:
    """The size the model draws: the one nearest the aspect ratio the prompt names, else 1:1."""
    match = _RATIO.search(prompt)
    if match is None or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return SIZES[0]
    wanted = math.log(int(match.group(1)) / int(match.group(2)))
    return min(SIZES, key=lambda size: abs(math.log(size[0] / size[1]) - wanted))


def _seed(prompt: str) -> int:
    # Converse has no seed: the same request draws the same image.
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")


def _answer(
    content: list[dict[str, Any]], stop: str, input_tokens: int, output_tokens: int
) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 0},
    }


SPECS: list[ModelSpec] = [
    ModelSpec(
        model_id=MODEL_ID,
        family="nova-omni",
        invoke=invoke,
        converse=converse,
        profile_only=True,
        tasks=("text-to-image", "edit"),
    )
]
