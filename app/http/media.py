"""The media types the surfaces answer with, named once, and what a caller asks for."""

from starlette.requests import Request

JSON = "application/json"


def asks_for_html(request: Request) -> bool:
    """Whether the caller is a browser asking for a page: `text/html` in Accept."""
    return "text/html" in request.headers.get("accept", "").lower()
