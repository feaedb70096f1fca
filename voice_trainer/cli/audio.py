"""CLI commands: audio."""

from voice_trainer.cli.app import app  # noqa: F401
