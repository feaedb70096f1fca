"""The commented scenario a trainer starts from (`voice-trainer scenario new`): one file per language in
templates/, valid and playable as it is."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_LANGUAGES = ("ru", "en")


def template(name: str, lang: str) -> str:
    """The template for `lang` with the scenario id and title filled in."""
    text = (TEMPLATES / f"new.{lang}.yaml").read_text(encoding="utf-8")
    title = name.replace("_", " ").replace("-", " ").capitalize()
    return text.replace("__NAME__", name).replace("__TITLE__", title)
