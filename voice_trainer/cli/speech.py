"""CLI commands: speech."""

from voice_trainer.cli.app import app  # noqa: F401
