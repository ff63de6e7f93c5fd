"""POST /openai/v1/images/{generations,edits,variations}, answered as OpenAI's Images API answers.

Not in openapi/openapi.json: callers of this surface use the OpenAI SDK and OpenAI's own spec.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/openai/v1", include_in_schema=False)
