"""Command line: argument parsing and printing only; the work happens in the modules it calls."""

from __future__ import annotations

import sys

from voice_trainer.cli.app import app
from voice_trainer.cli.commands import register
from voice_trainer.cli.stderr import wait_for_stderr
from voice_trainer.errors import VoiceTrainerError


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    register(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int):  # typer.Exit(n) comes back as a return value without standalone mode
            return code
    except VoiceTrainerError as err:
        wait_for_stderr()
        print(f"voice-trainer: error: {_error_text(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        wait_for_stderr()
        print("voice-trainer: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    except Exception as err:  # the CLI library's own usage errors and aborts
        # typer bundles its own copy of click in newer releases, so match by shape, not by import.
        if hasattr(err, "show") and hasattr(err, "exit_code"):
            wait_for_stderr()
            err.show()
            return int(err.exit_code)
        if type(err).__name__ == "Abort":
            wait_for_stderr()
            print("voice-trainer: aborted", file=sys.stderr)
            return 130
        raise
    return 0


def _error_text(err: VoiceTrainerError) -> str:
    """The message with whatever it quotes (a file name, a line of a file, a session id) unable to move
    the cursor, change the terminal or start a line of its own; only a list of scenario problems keeps
    one line per problem."""
    from voice_trainer.cli.render import plain
    from voice_trainer.errors import ScenarioErrors

    if isinstance(err, ScenarioErrors):
        return "\n".join(plain(e) for e in err.errors)
    return plain(err)


def entry() -> None:
    from voice_trainer.heap import few_malloc_arenas

    few_malloc_arenas()
    sys.exit(main())


def quiet_libraries() -> None:
    """What the libraries we use have to say goes nowhere: the user reads our one-line messages only.

    Python logging: a handler on the root logger keeps Python's last-resort handler from printing, and
    stops a library's bare `logging.debug(...)` (pyttsx3's eSpeak driver has one) from installing a
    stderr handler for everyone (that is how `WARNING:transitions.core:...` reached the screen);
    warnings.warn goes to logging too. ALSA (under PortAudio) prints to stderr itself
    (`ALSA lib pcm.c:...: underrun occurred`): its error handler is replaced by one that logs."""
    import logging

    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    logging.captureWarnings(True)
    _quiet_alsa()


_ALSA_HANDLER = None  # kept alive for as long as ALSA may call it


def _quiet_alsa() -> None:
    global _ALSA_HANDLER
    import ctypes

    if _ALSA_HANDLER is not None:
        return
    try:
        alsa = ctypes.CDLL("libasound.so.2")  # the instance PortAudio loads later, by the same name
    except OSError:
        return  # no ALSA here: nothing to quiet
    # void handler(const char *file, int line, const char *function, int err, const char *fmt, ...)
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)

    def to_log(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
        import logging

        logging.getLogger("alsa").debug("%s:%d (%s) %s", file, line, function, fmt)

    _ALSA_HANDLER = handler_type(to_log)
    alsa.snd_lib_error_set_handler(_ALSA_HANDLER)
