"""Jinja2 environment over the prompts/ folder (StrictUndefined: a missing value is an error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from advisor.errors import ConfigError

#: prompts/ at the top of the repository (the package is installed from src/).
DEFAULT_PROMPTS = Path(__file__).resolve().parents[3] / "prompts"
REQUIRED = (
    "lead.j2",
    "lead_system.j2",
    "lead_user.j2",
    "lead_examples.yaml",
    "refusal.j2",
    "injection.j2",
    "smalltalk.j2",
    "pay_note.j2",
    "duration_note.j2",
    "carry_over.j2",
    "fit.j2",
    "fit_starter.j2",
)


class PromptLibrary:
    """Renders the prompt templates of one folder."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or DEFAULT_PROMPTS
        missing = [name for name in REQUIRED if not (self.folder / name).is_file()]
        if missing:
            raise ConfigError(f"prompt folder {self.folder} lacks {', '.join(missing)}")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text prompts for a model, never HTML
            keep_trailing_newline=False,
        )

    def render(self, name: str, **values: Any) -> str:
        """One template, rendered and stripped."""
        try:
            return self.env.get_template(name).render(**values).strip()
        except jinja2.TemplateError as exc:
            raise ConfigError(f"prompt template {name} failed: {exc}") from exc

    def source(self, name: str) -> str:
        """The raw text of a template (to check an answer does not leak it)."""
        return (self.folder / name).read_text(encoding="utf-8")

    def data(self, name: str) -> Any:
        """A YAML file of the folder (worked examples for the model)."""
        import yaml

        try:
            return yaml.safe_load(self.source(name))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"prompt data {name} cannot be read: {exc}") from exc
