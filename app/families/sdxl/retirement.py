"""SDXL requests as the replacement map serves them by Stability's live models: the successor
per task, and what SDXL's image strength becomes."""

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
    },
    closeness=("image_strength", 0.35),
    # IMAGE_STRENGTH is the only mode a strength expresses.
    closeness_mode=("init_image_mode", "IMAGE_STRENGTH"),
    from_image_keeps_input_size=True,
)
