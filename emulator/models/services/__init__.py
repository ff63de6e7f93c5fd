"""The thirteen Stability Image Services (reference §4b), served only through inference profiles.

Bedrock answers a bare `stability.*` id of these with "on-demand throughput isn't supported";
callers use `us.stability.…` (the registry resolves the profile id to the ids below).
"""

from __future__ import annotations

from ..base import Handler, ModelSpec
from .edits import erase, inpaint, outpaint, remove_background_tool, search_recolor, search_replace
from .guided import control_sketch, control_structure, style_guide, style_transfer
from .upscales import conservative_upscale, creative_upscale, fast_upscale

_TOOLS: dict[str, Handler] = {
    "stability.stable-image-inpaint-v1:0": inpaint,
    "stability.stable-outpaint-v1:0": outpaint,
    "stability.stable-image-search-replace-v1:0": search_replace,
    "stability.stable-image-search-recolor-v1:0": search_recolor,
    "stability.stable-image-erase-object-v1:0": erase,
    "stability.stable-image-remove-background-v1:0": remove_background_tool,
    "stability.stable-image-control-sketch-v1:0": control_sketch,
    "stability.stable-image-control-structure-v1:0": control_structure,
    "stability.stable-image-style-guide-v1:0": style_guide,
    "stability.stable-style-transfer-v1:0": style_transfer,
    "stability.stable-fast-upscale-v1:0": fast_upscale,
    "stability.stable-conservative-upscale-v1:0": conservative_upscale,
    "stability.stable-creative-upscale-v1:0": creative_upscale,
}

SPECS: list[ModelSpec] = [
    ModelSpec(model_id, "stability-service", handler, profile_only=True)
    for model_id, handler in _TOOLS.items()
]
