"""`python -m voice_trainer ...` is the `voice-trainer` command."""

from voice_trainer.cli import entry

entry()
