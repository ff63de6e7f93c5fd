"""The OpenAI-compatible surface: `/openai/v1/images/*` for apps built on the OpenAI SDK."""
