"""stderr during start-up: practice starts the sound system on a thread early (speech/synthesizer.py), and
while PortAudio starts, sounddevice points stderr at /dev/null to hide ALSA's chatter. The one line that
says what went wrong must not go with it."""

from __future__ import annotations

import sys


def wait_for_stderr() -> None:
    """Return once stderr reaches the terminal again: at once unless the sound system is starting."""
    synthesizer = sys.modules.get("voice_trainer.speech.synthesizer")  # not imported: nothing was started
    if synthesizer is not None:
        synthesizer.wait_for_sound_system()
