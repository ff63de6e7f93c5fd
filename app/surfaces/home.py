"""GET /: where to go from the gateway's root: the API docs, the playground, the spec, the models.

JSON by default; a small HTML page of links for a browser (`Accept: text/html`). Open without an
API key, like the documentation it points to.
"""

from __future__ import annotations

from html import escape

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from ..http.media import asks_for_html

router = APIRouter(include_in_schema=False)

# What each link is, in the order a newcomer wants them.
LINKS = {
    "docs": ("/docs", "Interactive API documentation (Swagger UI)"),
    "redoc": ("/redoc", "API reference (ReDoc)"),
    "playground": ("/playground", "Playground: try the tasks in the browser"),
    "openapi": ("/openapi.json", "OpenAPI 3.1 spec, for generating clients"),
    "models": ("/v1/models", "Models, their tasks and limits (?task= filters, ?pretty indents)"),
    "health": ("/healthz", "Liveness probe"),
}
TITLE = "Bedrock image gateway"


@router.get("/")
async def home(request: Request) -> Response:
    """Links to the docs, the playground, the spec and the models."""
    if asks_for_html(request):
        items = "".join(
            f'<li><a href="{escape(href)}">{escape(href)}</a>: {escape(what)}</li>'
            for href, what in LINKS.values()
        )
        page = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>'
            f"</head><body><h1>{TITLE}</h1><p>One HTTP API in front of Amazon Bedrock's image "
            f"models.</p><ul>{items}</ul></body></html>"
        )
        return HTMLResponse(page)
    body = {
        "name": TITLE,
        "version": request.app.version,
        "links": {name: href for name, (href, _) in LINKS.items()},
    }
    return Response(orjson.dumps(body), media_type="application/json")
