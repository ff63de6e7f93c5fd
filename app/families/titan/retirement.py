"""Titan and Nova Canvas requests as the replacement map serves them by Stability's live models:
the successor per task, and what Titan's own fields (styles, conditioning, mask prompts,
similarity) become."""

from ...schemas.requests import Task
from ..base import Retirement

_TEXT = "sd3.5-large"
RETIREMENT = Retirement(
    routes={
        Task.TEXT_TO_IMAGE: _TEXT,
        Task.INPAINT: "stability-inpaint",
        Task.OUTPAINT: "stability-outpaint",
        Task.VARIATIONS: _TEXT,
        Task.IMAGE_TO_IMAGE: _TEXT,
        Task.REMOVE_BACKGROUND: "remove-background",
    },
    refused={
        Task.COLOR_GUIDED: (
            "no live model generates from a colour palette: describe the colours in the prompt "
            "of /v1/images/text-to-image, or send a reference image to /v1/images/style-guide"
        ),
        Task.VIRTUAL_TRY_ON: (
            "no live model dresses a person in a garment: describe the change to "
            "/v1/images/edit, or mask the garment's area for /v1/images/inpaint"
        ),
    },
    # Nova styles with a Stability style preset of the same look; the others have none.
    styles={
        "3D_ANIMATED_FAMILY_FILM": "3d-model",
        "DESIGN_SKETCH": "line-art",
        "GRAPHIC_NOVEL_ILLUSTRATION": "comic-book",
        "PHOTOREALISM": "photographic",
        "SOFT_DIGITAL_PAINTING": "digital-art",
    },
    conditioning={"CANNY_EDGE": "control-sketch", "SEGMENTATION": "control-structure"},
    mask_prompt_route=(
        "search-replace",
        "without a prompt, Titan fills what mask_prompt names with background; its successor "
        "{successor} needs `prompt` (what to put there): send one, or send a mask instead of "
        "mask_prompt to erase",
    ),
    # Titan without a prompt fills the mask with background: Stability's erase does that.
    promptless_inpaint_route="erase",
    closeness=("similarity_strength", 0.7),
)
