# mockhub as a standalone mock server: docker build -t mockhub . && docker run -p 8080:8080 mockhub
# The base image is a build argument, so a mirror or a locally built Python image can stand in.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOCKHUB_HOST=0.0.0.0 \
    MOCKHUB_PORT=8080

COPY pyproject.toml README.md /src/
COPY mockhub /src/mockhub
COPY contracts /src/contracts
COPY fixtures /src/fixtures
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir /src \
 && rm -rf /src \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin mockhub

USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__mockhub/health' % os.environ.get('MOCKHUB_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["/opt/venv/bin/mockhub", "serve"]
