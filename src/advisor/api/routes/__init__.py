"""Routers of the app: ops (health, metrics), chat, reference, OpenAI-compatible, pages."""
