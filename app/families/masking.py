"""The edit region of a masked request, whatever convention the caller drew it in."""

from __future__ import annotations

import numpy as np

from ..imaging.inputs import ImageInputError
from ..imaging.masks import MaskConvention, check_same_size
from ..problems import FieldProblem, invalid
from ..schemas.requests import MaskedRequest


def uses_image_alpha(request: MaskedRequest) -> bool:
    """alpha-is-edit with no mask: the image's own transparent pixels are the ones to edit."""
    return (
        request.mask is None
        and request.mask_convention is MaskConvention.ALPHA_IS_EDIT
        and request.image.has_alpha
    )


def mask_problems(request: MaskedRequest, *, prompt_allowed: bool) -> list[FieldProblem]:
    """Exactly one way of marking the region, and a mask the size of the image."""
    has_mask = request.mask is not None or uses_image_alpha(request)
    has_prompt = getattr(request, "mask_prompt", None) is not None
    if has_mask and has_prompt:
        return [
            FieldProblem(field="mask_prompt", message="give either mask or mask_prompt, not both")
        ]
    if not has_mask and not has_prompt:
        options = "mask or mask_prompt" if prompt_allowed else "mask"
        return [
            FieldProblem(field="mask", message=f"{options} is required to mark the pixels to edit")
        ]
    if request.mask is not None:
        message = check_same_size(request.image, request.mask)
        if message:
            return [FieldProblem(field="mask", message=message)]
    if has_mask:
        # Read the mask now, so a photo sent as a mask is named with every other bad field.
        try:
            request.edit_region  # noqa: B018 (decoded here, kept by the request for the plan)
        except ImageInputError as exc:
            return [FieldProblem(field=_region_source(request), message=exc.message)]
    return []


def region_of(request: MaskedRequest) -> np.ndarray:
    """The pixels to generate (True), read from the mask or the image's alpha."""
    try:
        return request.edit_region
    except ImageInputError as exc:
        problem = FieldProblem(field=_region_source(request), message=exc.message)
        raise invalid([problem]) from None


def _region_source(request: MaskedRequest) -> str:
    return "mask" if request.mask is not None else "image"
