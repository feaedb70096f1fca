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


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except VoiceTrainerError as err:
        print(f"voice-trainer: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("voice-trainer: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    except Exception as err:  # click usage errors and aborts
        import click

        if isinstance(err, click.ClickException):
            err.show()
            return err.exit_code
        if isinstance(err, click.exceptions.Abort):
            print("voice-trainer: aborted", file=sys.stderr)
            return 130
        raise
    return 0


def entry() -> None:
    sys.exit(main())
