"""Prometheus metrics of the server, in a registry of their own (one per app)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)


class Metrics:
    """Every metric the server exports; dashboards query only these names."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "advisor_requests_total",
            "HTTP requests by route and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "advisor_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retrieval_seconds = Histogram(
            "advisor_retrieval_seconds",
            "Time to retrieve passages for a question.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.first_token_seconds = Histogram(
            "advisor_first_token_seconds",
            "Time from question to the first answer token.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "advisor_answer_seconds",
            "Time from question to the whole answer.",
            ["mode"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens_generated = Counter(
            "advisor_tokens_generated_total", "Tokens written by the language model.", registry=r
        )
        self.answers = Counter(
            "advisor_answers_total",
            "Answers given, by mode (extractive_busy: the model was busy) and outcome.",
            ["mode", "outcome"],
            registry=r,
        )
        self.refusals = Counter(
            "advisor_refusals_total",
            "Questions answered as not covered by the documents.",
            registry=r,
        )
        self.queue_depth = Gauge(
            "advisor_queue_depth",
            "Requests waiting for or holding the language model.",
            registry=r,
        )
        self.feedback = Counter(
            "advisor_feedback_total", "Thumbs up/down from users.", ["rating"], registry=r
        )
        self.querylog_errors = Counter(
            "advisor_querylog_errors_total",
            "Query-log operations that failed (the answers still went out).",
            ["operation"],
            registry=r,
        )
        self.index_reloads = Counter(
            "advisor_index_reloads_total",
            "New index builds seen by the server: swapped in, or refused (the old one served on).",
            ["outcome"],
            registry=r,
        )
