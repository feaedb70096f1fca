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
    """Recordings of staff stay readable by their user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        path.chmod(0o700)
    except OSError:
        pass
    return path


@dataclass(frozen=True)
class PracticeSettings:
    scenario: str = "razryv"
    lang: str = "ru"
    persona: str | None = None
    policy: str | None = None
    seed: int | None = None
    trainee: str = ""
    data_dir: Path | None = None
    json_result: bool = False
