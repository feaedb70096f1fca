"""User-facing failure kinds. The CLI turns each into one line on stderr and a non-zero exit."""

from __future__ import annotations


class VoiceTrainerError(Exception):
    """A failure the user can act on. `str(err)` is the whole message: what, where, what to do."""

    exit_code = 1


class ScenarioError(VoiceTrainerError):
    """A scenario file is missing or invalid."""

    exit_code = 3

    def __init__(self, file: str, message: str, path: str = "", line: int | None = None):
        self.file = file
        self.path = path
        self.line = line
        self.message = message
        where = file
        if line is not None:
            where += f":{line}"
        if path:
            where += f" ({path})"
        super().__init__(f"{where}: {message}")


class ScenarioErrors(ScenarioError):
    """Several problems in one scenario file, all reported at once."""

    def __init__(self, errors: list[ScenarioError]):
        self.errors = errors
        first = errors[0]
        VoiceTrainerError.__init__(self, "\n".join(str(e) for e in errors))
        self.file, self.path, self.line, self.message = first.file, first.path, first.line, first.message


class ModelNotFound(VoiceTrainerError):
    """No speech model where we looked; the message says what to run."""

    exit_code = 4


class ModelError(VoiceTrainerError):
    """A speech model exists but cannot be loaded or used."""

    exit_code = 4


class AudioDeviceError(VoiceTrainerError):
    """No usable audio device, a device vanished, or a rate is unsupported."""

    exit_code = 5


class AudioFileError(VoiceTrainerError):
    """An audio file cannot be read or is in an unusable format."""

    exit_code = 6


class SessionError(VoiceTrainerError):
    """A session folder or the session library is missing or unreadable."""

    exit_code = 7


class UsageError(VoiceTrainerError):
    """Bad command-line input that the argument parser cannot catch itself."""

    exit_code = 2


class DiskFull(SessionError):
    """A session's file could not be written for lack of room: a full disk, a quota, or the file size
    limit (ulimit -f). `path` is the file (or folder) that could not take more; `advice` what to do."""

    def __init__(self, message: str, path: object, err: OSError, reason: str | None = None):
        super().__init__(message)
        self.path = path
        self.os_error = err
        self.errno = err.errno
        self.reason = reason or room_problem(err) or (err.strerror or str(err))
        self.advice = room_advice(err)


def room_problem(err: OSError) -> str | None:
    """What ran out, in words, when `err` is a write that found no room; None for any other failure."""
    import errno

    if err.errno == errno.ENOSPC:
        return "disk full"
    if err.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if err.errno == errno.EFBIG:
        return "the file size limit (ulimit -f) reached"
    return None


def room_advice(err: OSError) -> str:
    import errno

    if err.errno == errno.EFBIG:
        return "raise the file size limit (ulimit -f)"
    return "free some space on that disk or pass --data-dir on a bigger one"
