"""Nova 2 Omni on the Bedrock surface: a Converse body read, an answer written as Converse's.

The last user message is the request: its text blocks the prompt, its image blocks the images
(an edit when there are any). Other Converse keys (system, inferenceConfig, ...) are type-checked
and passed through untouched; Bedrock has the last word on them.
"""

from __future__ import annotations

from typing import Any

from ...schemas.images import GeneratedImage
from ...schemas.requests import Task
from ..base import ModelEntry
from ..reading import Reading, json_type

_TOP: dict[str, tuple[str | None, str]] = {
    "messages": (None, "list"),
    "system": (None, "list"),
    "inferenceConfig": (None, "obj"),
    "additionalModelRequestFields": (None, "obj"),
    "additionalModelResponseFieldPaths": (None, "list"),
    "requestMetadata": (None, "obj"),
}


def read(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    """A Converse request: text-to-image from text alone, an edit with images."""
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    content = last.get("content") if isinstance(last, dict) else None
    blocks = content if isinstance(content, list) else []
    has_images = any(isinstance(b, dict) and "image" in b for b in blocks)
    reading = Reading(task=Task.EDIT if has_images else Task.TEXT_TO_IMAGE)
    reading.take(body, _TOP, "#")
    if not isinstance(messages, list) or not messages:
        reading.fail("#", "required key [messages] not found")
        return reading
    where = f"#/messages/{len(messages) - 1}"
    if not isinstance(last, dict) or last.get("role") != "user":
        reading.fail(f"{where}/role", "the last message must be the user's")
    texts: list[str] = []
    images: list[str] = []
    for index, block in enumerate(blocks):
        path = f"{where}/content/{index}"
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
            reading.paths.setdefault("prompt", f"{path}/text")
        elif isinstance(block, dict) and isinstance(block.get("image"), dict):
            source = block["image"].get("source")
            data = source.get("bytes") if isinstance(source, dict) else None
            if not isinstance(data, str):
                reading.fail(
                    f"{path}/image/source/bytes", f"expected type: String, found: {json_type(data)}"
                )
                continue
            reading.paths.setdefault("images", f"{where}/content")
            images.append(data)
        else:
            reading.fail(path, "a content block must hold text or image")
    reading.paths.setdefault("prompt", f"{where}/content")
    if texts:
        reading.fields["prompt"] = "\n".join(texts)
    if images:
        reading.fields["images"] = images
    return reading


def write(images: list[GeneratedImage]) -> dict[str, Any]:
    """Converse's answer: the images made as image blocks, and the tokens they took."""
    content: list[dict[str, Any]] = [
        {"image": {"format": "png", "source": {"bytes": image.b64}}}
        for image in images
        if image.b64 is not None
    ]
    spent = sum(image.usage[0] for image in images if image.usage is not None)
    made = sum(image.usage[1] for image in images if image.usage is not None)
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "end_turn" if content else "content_filtered",
        "usage": {"inputTokens": spent, "outputTokens": made, "totalTokens": spent + made},
    }
