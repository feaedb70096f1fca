"""Command line: argument parsing and printing only; the work happens in the modules it calls."""

from __future__ import annotations

import sys

from voice_trainer.cli.app import app
from voice_trainer.errors import VoiceTrainerError

# Command modules register themselves on `app` when imported.
from voice_trainer.cli import practice as _practice  # noqa: F401,E402
from voice_trainer.cli import speech as _speech  # noqa: F401,E402
from voice_trainer.cli import audio as _audio  # noqa: F401,E402
from voice_trainer.cli import trainer as _trainer  # noqa: F401,E402
from voice_trainer.cli import review as _review  # noqa: F401,E402
from voice_trainer.cli import bench as _bench  # noqa: F401,E402


def main(argv: list[str] | None = None) -> int:
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int):  # typer.Exit(n) comes back as a return value without standalone mode
            return code
    except VoiceTrainerError as err:
        print(f"voice-trainer: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("voice-trainer: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    except Exception as err:  # the CLI library's own usage errors and aborts
        # typer bundles its own copy of click in newer releases, so match by shape, not by import.
        if hasattr(err, "show") and hasattr(err, "exit_code"):
            err.show()
            return int(err.exit_code)
        if type(err).__name__ == "Abort":
            print("voice-trainer: aborted", file=sys.stderr)
            return 130
        raise
    return 0


def entry() -> None:
    sys.exit(main())
