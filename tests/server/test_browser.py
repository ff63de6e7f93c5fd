"""Browser callers: CORS preflights and answers, the credentials rule, security headers."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.middleware.browser import API_POLICY, DOCS_POLICY, PLAYGROUND_POLICY, BrowserPolicyError
from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for

APP = "https://app.example.com"
OTHER = "https://evil.example.net"
TITAN = "amazon.titan-image-generator-v1"
TITAN_BODY = {
    "taskType": "TEXT_IMAGE",
    "textToImageParams": {"text": "a red kite"},
    "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512},
}
# One POST per surface, each answered with images.
SURFACES: dict[str, tuple[str, dict[str, Any]]] = {
    "native": ("/v1/images/text-to-image", {"prompt": "a red kite", "width": 512, "height": 512}),
    "openai": ("/openai/v1/images/generations", {"prompt": "a red kite", "size": "512x512"}),
    "bedrock": (f"/model/{TITAN}/invoke", TITAN_BODY),
}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def preflight(origin: str, method: str = "POST", headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return asked


def assert_secured(response: httpx.Response, policy: str = API_POLICY) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert response.headers["content-security-policy"] == policy
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-request-id"]


class TestPreflight:
    @pytest.mark.parametrize("surface", SURFACES)
    async def test_an_allowed_origin_may_post_with_any_header(
        self, emulator: EmulatorServer, surface: str
    ) -> None:
        path, _ = SURFACES[surface]
        asked = "authorization, x-api-key, content-type, x-stainless-lang, x-amz-date"
        async with open_gateway(settings_for(emulator, cors_origins=[APP])) as client:
            response = await client.options(path, headers=preflight(APP, headers=asked))
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == APP
        assert response.headers["access-control-allow-methods"] == "GET, HEAD, POST"
        assert response.headers["access-control-allow-headers"] == asked
        assert "access-control-allow-credentials" not in response.headers
        assert response.headers["access-control-max-age"] == "600"
        assert_secured(response)
        assert emulator.requests() == []

    @pytest.mark.parametrize("surface", SURFACES)
    async def test_another_origin_is_refused(self, emulator: EmulatorServer, surface: str) -> None:
        path, _ = SURFACES[surface]
        async with open_gateway(settings_for(emulator, cors_origins=[APP])) as client:
            response = await client.options(path, headers=preflight(OTHER))
        assert response.status_code == 400
        assert response.text == "Disallowed CORS origin"
        assert "access-control-allow-origin" not in response.headers
        assert_secured(response)

    async def test_without_an_allow_list_every_origin_is_refused(
        self, gateway: httpx.AsyncClient
    ) -> None:
        response = await gateway.options("/v1/models", headers=preflight(APP, method="GET"))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_a_method_other_than_get_head_post_is_refused(
        self, emulator: EmulatorServer
    ) -> None:
        async with open_gateway(settings_for(emulator, cors_origins=[APP])) as client:
            response = await client.options("/v1/models", headers=preflight(APP, method="DELETE"))
        assert response.status_code == 400
        assert response.text == "Disallowed CORS method"

    async def test_preflights_pass_before_the_key_check(self, emulator: EmulatorServer) -> None:
        """Browsers send no key with a preflight; the POST that follows carries it."""
        key_hash = "sha256:" + hashlib.sha256(b"big_unused").hexdigest()
        settings = settings_for(
            emulator, cors_origins=[APP], api_keys=[{"name": "web", "hash": key_hash}]
        )
        async with open_gateway(settings) as client:
            asked = await client.options("/v1/images/text-to-image", headers=preflight(APP))
            refused = await client.post(
                "/v1/images/text-to-image", json={"prompt": "a kite"}, headers={"Origin": APP}
            )
        assert asked.status_code == 200
        # The page can read why it was refused.
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == APP
        assert "WWW-Authenticate" in refused.headers["access-control-expose-headers"]
        assert_secured(refused)


class TestAnswers:
    @pytest.mark.parametrize("surface", SURFACES)
    async def test_an_allowed_origin_reads_the_answer_and_its_headers(
        self, emulator: EmulatorServer, surface: str
    ) -> None:
        path, body = SURFACES[surface]
        async with open_gateway(settings_for(emulator, cors_origins=[APP])) as client:
            allowed = await client.post(path, json=body, headers={"Origin": APP})
            other = await client.post(path, json=body, headers={"Origin": OTHER})
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == APP
        exposed = allowed.headers["access-control-expose-headers"].split(", ")
        assert {"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"} <= set(exposed)
        assert "Origin" in allowed.headers["vary"]
        # The server still answers another origin (CORS binds browsers, not servers), but without
        # the grant its page cannot read the answer.
        assert other.status_code == 200
        assert "access-control-allow-origin" not in other.headers
        assert "Origin" in other.headers["vary"]


class TestCredentials:
    async def test_credentials_grant_the_exact_origin(self, emulator: EmulatorServer) -> None:
        settings = settings_for(emulator, cors_origins=[APP], cors_allow_credentials=True)
        async with open_gateway(settings) as client:
            asked = await client.options("/v1/models", headers=preflight(APP, method="GET"))
            answer = await client.get("/v1/models", headers={"Origin": APP})
        for response in (asked, answer):
            assert response.headers["access-control-allow-origin"] == APP
            assert response.headers["access-control-allow-credentials"] == "true"

    async def test_a_wildcard_without_credentials_grants_any_origin(
        self, emulator: EmulatorServer
    ) -> None:
        async with open_gateway(settings_for(emulator, cors_origins=["*"])) as client:
            asked = await client.options("/v1/models", headers=preflight(OTHER, method="GET"))
            answer = await client.get("/v1/models", headers={"Origin": OTHER})
        assert asked.headers["access-control-allow-origin"] == "*"
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers

    def test_a_wildcard_with_credentials_is_refused_at_start(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, cors_origins=["*"], cors_allow_credentials=True)
        with pytest.raises(BrowserPolicyError, match=r'has "\*" while GATEWAY_CORS_ALLOW_CRED'):
            create_app(settings)

    @pytest.mark.parametrize("origin", ["https://app.example.com/", "app.example.com", "null"])
    def test_an_origin_browsers_never_send_is_refused_at_start(
        self, emulator: EmulatorServer, origin: str
    ) -> None:
        with pytest.raises(BrowserPolicyError, match=re.escape(f"{origin!r} is not an origin")):
            create_app(settings_for(emulator, cors_origins=[origin]))


class TestSecurityHeaders:
    async def test_every_surface_answer_carries_them(self, emulator: EmulatorServer) -> None:
        big = b"x" * 2048
        async with open_gateway(settings_for(emulator, max_body_bytes=1024)) as client:
            answers = [
                await client.get("/v1/models"),
                await client.get("/openapi.json"),
                await client.get("/nowhere"),
                # Problems on each surface, and the body cap's 413 from the outer middleware.
                await client.post("/v1/images/text-to-image", json={"prompt": ""}),
                await client.post("/openai/v1/images/generations", json={"n": "two"}),
                await client.post(f"/model/{TITAN}/invoke", json={"taskType": "NOPE"}),
                await client.post("/v1/images/text-to-image", content=big),
            ]
            answers += [
                await client.post(path, json=body, headers={"Accept": "image/png"})
                for path, body in SURFACES.values()
            ]
        statuses = [response.status_code for response in answers]
        assert statuses == [200, 200, 404, 422, 400, 400, 413, 200, 200, 200]
        assert answers[-3].headers["content-type"] == "image/png"
        for response in answers:
            assert_secured(response)

    async def test_hsts_only_over_https(self, emulator: EmulatorServer) -> None:
        async with open_gateway(settings_for(emulator)) as client:
            client.base_url = httpx.URL("https://gateway")
            response = await client.get("/v1/models")
        assert response.headers["strict-transport-security"] == "max-age=31536000"

    @pytest.mark.parametrize(
        ("path", "policy"),
        [("/docs", DOCS_POLICY), ("/redoc", DOCS_POLICY), ("/playground", PLAYGROUND_POLICY)],
    )
    async def test_pages_run_the_gateways_own_script_files_only(
        self, gateway: httpx.AsyncClient, path: str, policy: str
    ) -> None:
        response = await gateway.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == policy
        directives = dict(directive.split(" ", 1) for directive in policy.split("; "))
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'none'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        # No inline script (the policy would block it) and every file the page loads is served
        # here, by a relative URL (so the page works under a proxy's path prefix too).
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == []
        loaded = re.findall(r'(?:src|href|spec-url)="([^"#]+)"', response.text)
        assert loaded
        for url in loaded:
            assert not url.startswith(("/", "http:", "https:")), url
            asset = await gateway.get(f"/{url}")
            assert asset.status_code == 200, url
            if url.startswith("static/"):
                assert_secured(asset)

    async def test_the_playground_modules_are_served_as_javascript(
        self, gateway: httpx.AsyncClient
    ) -> None:
        for name in ("main", "api", "form", "mask", "snippets"):
            response = await gateway.get(f"/static/playground/{name}.js")
            assert response.status_code == 200
            # Module scripts load only with a JavaScript type.
            assert response.headers["content-type"].startswith("text/javascript")

    async def test_fastapis_cdn_pages_are_gone(self, gateway: httpx.AsyncClient) -> None:
        assert (await gateway.get("/docs/oauth2-redirect")).status_code == 404
        for path in ("/docs", "/redoc"):
            assert "cdn.jsdelivr.net" not in (await gateway.get(path)).text
