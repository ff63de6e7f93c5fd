"""The pages a browser opens on the gateway and the files they load, all served from here.

Swagger UI and ReDoc come from the fastapi-offline package (under /static/vendor), so the docs
work without a CDN; the playground is plain ES modules and CSS (under /static): nothing to build.
Every URL in the pages is relative, so they work under a proxy's path prefix (root_path) too.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from starlette.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

from ..middleware.browser import DOCS_POLICY, PLAYGROUND_POLICY

_HERE = Path(__file__).parent
VENDOR = Path(str(files("fastapi_offline").joinpath("static")))
# Each page's Content-Security-Policy (see app.middleware.browser).
PAGE_POLICIES = {"/docs": DOCS_POLICY, "/redoc": DOCS_POLICY, "/playground": PLAYGROUND_POLICY}


def install_pages(app: FastAPI) -> None:
    """Serve /docs, /redoc, /playground and /static on `app` (built with docs_url=None)."""
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> FileResponse:
        return FileResponse(_HERE / "pages" / "docs.html", media_type="text/html")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url="static/vendor/redoc.standalone.js",
            redoc_favicon_url="static/vendor/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/playground", include_in_schema=False)
    async def playground() -> FileResponse:
        return FileResponse(_HERE / "pages" / "playground.html", media_type="text/html")

    # The vendor mount first: /static would otherwise take its paths.
    app.mount("/static/vendor", StaticFiles(directory=VENDOR), name="vendor")
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
