"""Where things live on disk, and the settings objects the CLI builds once and passes down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "voice-trainer"


def default_data_dir() -> Path:
    """VOICE_TRAINER_DATA, else the platform's user data dir (~/.local/share/voice-trainer on Linux)."""
    if os.environ.get("VOICE_TRAINER_DATA"):
        return Path(os.environ["VOICE_TRAINER_DATA"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def sessions_dir(data_dir: Path) -> Path:
    return data_dir / "sessions"


def ensure_private_dir(path: Path) -> Path:
    """Recordings of staff stay readable by their user only: the folder (made if missing) is 0700."""
    from voice_trainer.errors import DiskFull, SessionError, room_advice, room_problem

    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        if room_problem(err):
            raise DiskFull(f"{path}: cannot create the folder: {room_problem(err)}; {room_advice(err)}", path, err) from None
        raise SessionError(f"{path}: cannot create the folder ({err.strerror}); give a --data-dir you can write to") from None
    try:
        path.chmod(0o700)
    except OSError:
        pass
    return path


# People hand the turn over after ~200 ms of silence in conversation, but a trainee on a hard call
# pauses mid-thought for 400-600 ms ("so... let me check"). Ending the turn there makes the customer
# interrupt them, which feels broken; waiting much longer makes the customer feel slow. 700 ms keeps
# most thinking pauses inside the turn while the reply still feels prompt.
DEFAULT_TRAILING_SILENCE_MS = 700
# The pause that ends a turn follows the words (practice/turn_taking.py): after a finished phrase that
# makes a move, the floor (a beat longer than the ~200 ms people leave, so a breath does not end it);
# after "and", "because", "um" or a number, the ceiling (longer than the 300-700 ms thinking pauses
# measured in docs/benchmarks.md); otherwise the trailing silence above.
DEFAULT_TRAILING_SILENCE_FLOOR_MS = 300
DEFAULT_TRAILING_SILENCE_CEILING_MS = 1200
# Decoding hypotheses vosk keeps per frame (the small models ship 3000). Free recognition of 17 espeak-ng
# Korean turns with the recognizer kept across turns (below), CPU s per s of speech / words shared with the
# model's own settings: 3000 0.52 / 0.91, 2000 0.40 / 0.84, 1500 0.31 / 0.84, 1000 0.28 / 0.79 (two runs
# at 3000 share 0.94: vosk is not repeatable here; the model hears espeak-ng poorly, so this is how much
# the words change, not accuracy). 1000 keeps the benchmark's 4-turn free pass under 0.5 including the
# first turn's warm-up; a narrower beam (8, lattice-beam 1) cut 0.28 to 0.21 but shared only 0.65 of the
# words, so the beams stay the model's own. 0 keeps the model's own setting.
DEFAULT_DECODER_MAX_ACTIVE = 1000
# A free recognizer keeps one vosk recognizer for the whole session instead of a fresh one per turn:
# a new one spends ~0.8-1 s of CPU on its first second of audio building its search graph, which on
# the benchmark's 2-3 s turns was most of the cost (CPU RTF 0.92 fresh -> 0.28 kept on 17 espeak-ng
# turns, max-active 1000, while other jobs loaded the machine; docs/benchmarks.md).
DEFAULT_KEEP_FREE_DECODER = True
# ...for this many turns: what it built stays in memory, ~10-20 MB a turn on the Korean small model
# (VmRSS after loading the model +165 MB after 22 kept turns, +190 MB after 88). Peak RSS of one 8-turn
# practice call (bench calls, freed memory handed back between turns) by renewal cadence: 8 turns 711,
# 6 710, 4 685, 3 676-682, 2 674 MB (724 before the hand-back); with MALLOC_ARENA_MAX=2 (mallopt at
# start-up) 4: 678, 3: 667-668 MB. CPU RTF of the turns / with the warm-ups between them, 24 espeak-ng
# turns in one run (load average ~2.5; runs differ by +-0.05): 2 0.40 / 0.56, 3 0.38 / 0.51, 4 0.36 / 0.45,
# 8 0.29 / 0.35; 3 without a warm-up 0.48. 3 is the widest that keeps a practice process near the 680 MB
# budget (under it only with MALLOC_ARENA_MAX=2).
DEFAULT_FREE_DECODER_TURNS = 3
# ...or sooner, at the end of the turn that brings the audio it decoded since it was made to this many
# seconds (never within a turn): what it builds grows with the audio, not the turns. In bench calls short
# turns decode 2.3-4.7 s each (two: 5.6-6.6 s), so they keep the 3-turn cadence; pause turns decode
# 4.3-6.4 s, so they renew every 2. Per-call peak RSS (VmHWM), default / pause / glued calls, one run each
# (load average 1.5-2.7; runs differ by ~5 MB): by turns only 667-669 / 661-688 / 644-684 MB; 8 s
# 656-670 / 660-680 / 670-677; 6 s 667-669 / 675-677 (default calls then renew every 2 turns about half
# the time, for no lower peak). 0: by turns only.
DEFAULT_FREE_DECODER_RENEW_AFTER_S = 8.0
# A renewed one is made and warmed on this much silence between turns, off the reply path
# (speech/vosk_recognizer.py): a new recognizer's first frames build the start of its search graph,
# ~1 s of CPU that would otherwise land on the trainee's next turn. 150, 300 and 500 ms cost about the
# same and take the same off the turn (the cost is in the first frames); 0 turns it off.
DEFAULT_FREE_DECODER_WARM_UP_MS = 150


@dataclass(frozen=True)
class VoiceSettings:
    """The headset side of practice; text mode ignores all but `mute` and `speak`."""

    model: Path | None = None
    input: str | None = None
    output: str | None = None
    barge_in: bool = False
    trailing_silence_ms: int = DEFAULT_TRAILING_SILENCE_MS
    trailing_silence_floor_ms: int = DEFAULT_TRAILING_SILENCE_FLOOR_MS
    trailing_silence_ceiling_ms: int = DEFAULT_TRAILING_SILENCE_CEILING_MS
    decoder_max_active: int = DEFAULT_DECODER_MAX_ACTIVE
    max_turn_ms: int = 30000
    grammar: bool = False  # recognize only the scenario's vocabulary (small models only)
    grammar_words: tuple[str, ...] = ()  # more words for that vocabulary (names, products)
    mute: bool = False  # never voice the customer
    speak: bool | None = None  # text mode: voice the customer (None: when typing at a terminal)


@dataclass(frozen=True)
class PracticeSettings:
    scenario: str = "razryv"
    lang: str = "ru"
    persona: str | None = None
    policy: str | None = None
    seed: int | None = None
    trainee: str = ""
    data_dir: Path | None = None  # None: default_data_dir()
    voice: VoiceSettings = VoiceSettings()
