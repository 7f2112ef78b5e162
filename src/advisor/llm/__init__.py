"""The language model: what a model backend is, the backends, their request queue, the prompts.

- ``generator.py``         the ``Generator`` protocol: ``stream`` and ``count_tokens``
- ``llamacpp.py``          the in-process llama.cpp model (``llama_cpp`` imported lazily) and
                           the default SmolLM2 GGUF
- ``openai_compatible.py`` a remote OpenAI-compatible model server, N requests in flight
- ``request_queue.py``     ``RequestQueue``: bounded admission and turns for every model stream
- ``prompts.py``           ``PromptLibrary``: the Jinja2 environment over prompts/

Exports ``Generator``, ``Messages``, ``LlamaCppGenerator``, ``default_model_path``,
``OpenAICompatibleGenerator``, ``RequestQueue`` and ``PromptLibrary``.
"""

from advisor.llm.generator import Generator, Messages
from advisor.llm.llamacpp import LlamaCppGenerator, default_model_path
from advisor.llm.openai_compatible import OpenAICompatibleGenerator
from advisor.llm.prompts import PromptLibrary
from advisor.llm.request_queue import RequestQueue

__all__ = ["Generator", "LlamaCppGenerator", "Messages", "OpenAICompatibleGenerator",
           "PromptLibrary", "RequestQueue", "default_model_path"]
