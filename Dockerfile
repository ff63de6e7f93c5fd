# The gateway (and the emulator, same image): `docker compose up` runs both, see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv

# Only what the package needs (README.md is its long description); tests and dev tools stay out.
COPY pyproject.toml README.md ./
COPY app ./app
COPY emulator ./emulator
RUN pip install . \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --user-group --no-create-home gateway

USER gateway

# Listen on every interface inside the container; publish the port to choose who can reach it.
# Beyond loopback the gateway starts only with API keys (GATEWAY_API_KEYS) or GATEWAY_PUBLIC=true.
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# /healthz needs no key and calls nothing upstream: the process is alive and serving.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"

# python -m app, not uvicorn directly: it serves with the gateway's own bounds on request heads
# (size, count, time) and idle connections (app/heads.py), needed with no proxy in front.
CMD ["python", "-m", "app"]
