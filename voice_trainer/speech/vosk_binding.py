"""vosk's speech library, called without importing the `vosk` package.

`import vosk` also imports what its model downloader needs (requests, urllib3, ssl, tqdm, srt): what a
session imports came to 73 MB with it and 62 MB without, a practice process ~7 MB more before its first
turn, for nothing a session uses (models are installed by `voice-trainer models install`). This loads the same library file the package ships (libvosk) through
the package's own generated declarations (vosk/vosk_cffi.py) and wraps the few calls the recognizer
makes, under the names vosk's Python API gives them.

Handles are freed when their object goes; a recognizer keeps its model alive inside the library.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

_LIBRARY = {"linux": "libvosk.so", "darwin": "libvosk.dyld", "win32": "libvosk.dll"}


@lru_cache(maxsize=1)
def _bound():
    """(ffi, lib): the package's declarations and its library, loaded once per process."""
    spec = importlib.util.find_spec("vosk")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the vosk package is not installed; reinstall voice_trainer (./quickstart)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    declarations = importlib.util.spec_from_file_location("vosk.vosk_cffi", folder / "vosk_cffi.py")
    if declarations is None or declarations.loader is None:
        raise ImportError(f"{folder}: vosk_cffi.py is missing; reinstall the vosk package")
    module = importlib.util.module_from_spec(declarations)
    declarations.loader.exec_module(module)
    name = _LIBRARY.get(sys.platform)
    if name is None:
        raise ImportError(f"vosk has no library for {sys.platform}")
    if sys.platform == "win32" and hasattr(os, "add_dll_directory"):
        os.add_dll_directory(str(folder))  # the library's own dependencies sit beside it
    return module.ffi, module.ffi.dlopen(str(folder / name))


def SetLogLevel(level: int) -> None:  # noqa: N802 - vosk's name
    _bound()[1].vosk_set_log_level(level)


class _Handle:
    """An object of the library's, freed by `_free` (a library function's name) when this one goes."""

    _free = ""

    def __init__(self, make, *args, what: str):
        self._ffi, self._lib = _bound()
        handle = getattr(self._lib, make)(*args)
        if handle == self._ffi.NULL:
            raise RuntimeError(f"Failed to create a {what}")
        self._handle = handle

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            getattr(self._lib, self._free)(self._handle)
            self._handle = None


class Model(_Handle):
    """A loaded model folder (vosk.Model without the downloader)."""

    _free = "vosk_model_free"

    def __init__(self, model_path: str):
        super().__init__("vosk_model_new", str(model_path).encode("utf-8"), what="model")

    def vosk_model_find_word(self, word: str) -> int:
        return self._lib.vosk_model_find_word(self._handle, word.encode("utf-8"))


class KaldiRecognizer(_Handle):
    """One decoding stream over a model, free or limited to a JSON grammar (vosk.KaldiRecognizer's calls)."""

    _free = "vosk_recognizer_free"

    def __init__(self, model: Model, sample_rate: float, grammar: str | None = None):
        if grammar is None:
            super().__init__("vosk_recognizer_new", model._handle, sample_rate, what="recognizer")
        else:
            super().__init__("vosk_recognizer_new_grm", model._handle, sample_rate, grammar.encode("utf-8"),
                             what="recognizer")

    def SetWords(self, enable: bool) -> None:  # noqa: N802
        self._lib.vosk_recognizer_set_words(self._handle, 1 if enable else 0)

    def AcceptWaveform(self, data: bytes) -> bool:  # noqa: N802
        done = self._lib.vosk_recognizer_accept_waveform(self._handle, data, len(data))
        if done < 0:
            raise RuntimeError("Failed to process waveform")
        return done == 1

    def Result(self) -> str:  # noqa: N802
        return self._text(self._lib.vosk_recognizer_result(self._handle))

    def PartialResult(self) -> str:  # noqa: N802
        return self._text(self._lib.vosk_recognizer_partial_result(self._handle))

    def FinalResult(self) -> str:  # noqa: N802
        return self._text(self._lib.vosk_recognizer_final_result(self._handle))

    def _text(self, pointer) -> str:
        return self._ffi.string(pointer).decode("utf-8")
