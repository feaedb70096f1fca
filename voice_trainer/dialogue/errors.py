"""The dialogue core's own failure kind: a conversation asked for something its scenario does not have."""

from __future__ import annotations

from voice_trainer.errors import VoiceTrainerError


class DialogueError(VoiceTrainerError):
    """An unknown persona or policy for this scenario; the message lists the ones it has."""

    exit_code = 2
