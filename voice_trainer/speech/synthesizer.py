"""The synthesizer: text + prosody -> mono 16-bit audio through pyttsx3 over eSpeak NG.

How the customer sounds at an anger and how a line is cut into sentences live with his voice
(`speech/voice.py`).

pyttsx3's espeak driver has process-wide state (espeak initializes once per process and keeps one
synthesis callback), `runAndWait` raises when re-entered, and `save_to_file` prints
"Audio saved to ..." on stdout. So the process has ONE engine, owned by one worker thread that
takes render jobs from a queue; every `Pyttsx3Synthesizer` submits its jobs there.
"""

from __future__ import annotations

import builtins
import itertools
import queue
import sys
import tempfile
import threading
import time
import wave
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

import numpy as np

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.resample import resample
from voice_trainer.errors import VoiceTrainerError
from voice_trainer.speech.interfaces import Prosody
from voice_trainer.speech.line_cache import LineCache

RATE_HZ = 22050
INSTALL_HINT = "install it with: apt-get install espeak-ng"

# Preferred voices when a language has several (espeak-ng's "en" is British; US first, then GB).
_PREFERRED_VOICES = {"en": ("en-us", "en-gb", "en")}


class SynthesisError(VoiceTrainerError):
    """The speech synthesizer cannot start, has no voice for a language, or failed on a line."""

    exit_code = 1


# --- the engine --------------------------------------------------------------------------------


class _EngineWorker:
    """The process's one pyttsx3 engine, driven only from its own thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future] | None] = queue.Queue()
        self._ready: Future = Future()
        self._thread = threading.Thread(target=self._run, name="pyttsx3-engine", daemon=True)
        self._thread.start()
        self._ready.result()  # raises SynthesisError when the engine cannot start

    def submit(self, job: Callable[[Any], Any]) -> Future:
        done: Future = Future()
        self._jobs.put((job, done))
        return done

    def _run(self) -> None:
        try:
            engine = _start_engine()
        except SynthesisError as err:
            self._ready.set_exception(err)
            return
        self._ready.set_result(None)
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, done = item
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(job(engine))
            except BaseException as err:  # handed to the caller's thread
                done.set_exception(err)


def _start_engine() -> Any:
    try:
        import pyttsx3
        import pyttsx3.drivers.espeak as espeak_driver
    except (ImportError, OSError) as err:
        raise SynthesisError(f"cannot load eSpeak NG for pyttsx3 ({err}); {INSTALL_HINT}") from err
    _silence_save_message(espeak_driver)
    try:
        return pyttsx3.init("espeak")
    except Exception as err:  # pyttsx3 raises RuntimeError/OSError/bare errors from ctypes
        raise SynthesisError(f"cannot start eSpeak NG through pyttsx3 ({err}); {INSTALL_HINT}") from err


def _silence_save_message(driver_module: Any) -> None:
    """The espeak driver prints "Audio saved to <file>" after each save; the CLI owns stdout.

    Shadowing `print` in that one module keeps every other print in the process untouched.
    """

    def quiet_print(*args: Any, **kwargs: Any) -> None:
        if args and str(args[0]).startswith("Audio saved to"):
            return
        kwargs.setdefault("file", sys.stderr)
        builtins.print(*args, **kwargs)

    driver_module.print = quiet_print


_worker: _EngineWorker | None = None
_worker_lock = threading.Lock()


def _engine_worker() -> _EngineWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _EngineWorker()
        return _worker


def start_engine_early() -> None:
    """Start eSpeak NG (~100 ms) and the sound system (PortAudio lists the devices when it is loaded,
    ~50-100 ms, much of it waiting on the sound server) on background threads now, while the main thread
    loads the scenario, so the customer's first line is not late. Failures are left for the synthesizer
    and the speaker to report when they are made."""

    def start() -> None:
        try:
            _engine_worker().submit(_list_voices).result()
        except Exception:
            pass

    def load_sound_system() -> None:
        from voice_trainer.audio.devices import sounddevice

        try:
            sounddevice()
        except Exception:
            pass

    global _SOUND_SYSTEM_START
    threading.Thread(target=start, name="pyttsx3-start", daemon=True).start()
    _SOUND_SYSTEM_START = threading.Thread(target=load_sound_system, name="portaudio-start", daemon=True)
    _SOUND_SYSTEM_START.start()


_SOUND_SYSTEM_START: threading.Thread | None = None


def wait_for_sound_system(timeout_s: float = 10.0) -> None:
    """Wait until the sound system started by `start_engine_early` is up. While PortAudio starts,
    sounddevice points stderr (fd 2) at /dev/null to hide ALSA's chatter: a message printed then is
    lost, so whoever prints an error during start-up waits for this first."""
    global _SOUND_SYSTEM_START
    if _SOUND_SYSTEM_START is not None:
        _SOUND_SYSTEM_START.join(timeout_s)
        _SOUND_SYSTEM_START = None  # up, or hung: either way nobody waits for it again


# --- the synthesizer ---------------------------------------------------------------------------


class Pyttsx3Synthesizer:
    """Synthesizer (speech/interfaces.py) on pyttsx3 + eSpeak NG; audio is mono int16 at 22050 Hz."""

    rate_hz = RATE_HZ

    def __init__(self, lang: str, *, voice: str | None = None, cache: LineCache | None = None):
        self.lang = lang
        self._worker = _engine_worker()
        voices = self._worker.submit(_list_voices).result()
        self.voice_id = _choose_voice(voices, lang, voice)
        self._pitch_supported = self._worker.submit(_supports_pitch).result()
        self._cache = cache
        self._engine_version = self._worker.submit(_engine_version).result() if cache is not None else ""
        self._tmp = tempfile.TemporaryDirectory(prefix="vt-synth-")
        self._line_numbers = itertools.count(1)
        self._closed = False

    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        if self._closed:
            raise SynthesisError("the synthesizer is closed")
        if not text.strip():
            return AudioChunk(b"", RATE_HZ)
        key = self._cache_key(text, prosody)
        if self._cache is not None:
            kept = self._cache.get(key)
            if kept is not None and kept.rate_hz == RATE_HZ:
                return kept
        path = Path(self._tmp.name) / f"line-{next(self._line_numbers)}.wav"
        job = _RenderJob(self.voice_id, text, prosody, path, self._pitch_supported)
        self._worker.submit(job).result()
        audio = _read_wav(path)
        if self._cache is not None:
            self._cache.put(key, audio)
        return audio

    def _cache_key(self, text: str, prosody: Prosody) -> str:
        """Everything that shapes the audio, as `_RenderJob` applies it."""
        settings = _RenderJob.engine_settings(prosody, self._pitch_supported)
        return "\n".join([self._engine_version, self.voice_id, repr(sorted(settings.items())), str(RATE_HZ), text])

    def close(self) -> None:
        """Stop using the engine. The engine itself lives as long as the process (espeak can't re-init)."""
        if not self._closed:
            self._closed = True
            self._tmp.cleanup()

    def __enter__(self) -> "Pyttsx3Synthesizer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _RenderJob:
    """One line rendered to a WAV file; runs on the engine thread."""

    def __init__(self, voice_id: str, text: str, prosody: Prosody, path: Path, pitch_supported: bool):
        self.voice_id, self.text, self.prosody, self.path = voice_id, text, prosody, path
        self.pitch_supported = pitch_supported

    @staticmethod
    def engine_settings(prosody: Prosody, pitch_supported: bool) -> dict[str, Any]:
        """The engine properties a line is rendered with (the line cache keys on them too)."""
        settings: dict[str, Any] = {
            "rate": int(prosody.rate_wpm),
            "volume": float(min(max(prosody.volume, 0.0), 1.0)),
        }
        if pitch_supported:
            settings["pitch"] = int(min(max(prosody.pitch, 0), 100))
        return settings

    def __call__(self, engine: Any) -> None:
        errors: list[BaseException] = []
        finished = threading.Event()
        tokens = [
            engine.connect("error", lambda exception=None, **_: errors.append(exception)),
            engine.connect("finished-utterance", lambda **_: finished.set()),
        ]
        try:
            if engine.getProperty("voice") != self.voice_id:
                engine.setProperty("voice", self.voice_id)
            for name, value in self.engine_settings(self.prosody, self.pitch_supported).items():
                engine.setProperty(name, value)
            # espeak applies parameters on its own thread; synthesis queued before they land
            # comes out at the old rate/pitch (seen as lines ignoring anger).
            _wait_for_espeak()
            engine.save_to_file(self.text, str(self.path))
            engine.runAndWait()
            # The espeak driver starts synthesis asynchronously and runAndWait may return before the
            # file is written; "finished-utterance" comes from espeak's thread after the write.
            if not finished.wait(_RENDER_TIMEOUT_S + len(self.text) / 10):
                errors.append(TimeoutError("no end of synthesis"))
            _wait_until_idle(engine)
            _wait_for_espeak()
        finally:
            for token in tokens:
                engine.disconnect(token)
        if errors:
            raise SynthesisError(f"eSpeak NG failed on {self.text[:40]!r}: {errors[0]}")
        if not self.path.exists():
            raise SynthesisError(f"eSpeak NG produced no audio for {self.text[:40]!r}")


_RENDER_TIMEOUT_S = 20.0


def _wait_for_espeak() -> None:
    """Until espeak's command queue is empty (pyttsx3 exposes no public way to ask)."""
    from pyttsx3.drivers import _espeak

    deadline = time.monotonic() + 2.0
    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(0.001)


def _wait_until_idle(engine: Any) -> None:
    """espeak's thread marks the driver idle just after the finish notice; the next job must not race it."""
    deadline = time.monotonic() + 2.0
    while engine.isBusy() and time.monotonic() < deadline:
        time.sleep(0.001)


def _list_voices(engine: Any) -> list[tuple[str, str]]:
    """(voice id, language) pairs."""
    return [(v.id, (v.languages or [""])[0].lower()) for v in engine.getProperty("voices")]


def _engine_version(engine: Any) -> str:
    """eSpeak NG's and pyttsx3's versions: a new eSpeak may say a line differently (the line cache keys on them)."""
    import pyttsx3
    from pyttsx3.drivers import _espeak

    try:
        espeak = _espeak.Info().decode("ascii", "replace")
    except Exception:  # noqa: BLE001 - an unknown version only means a cache of its own
        espeak = "unknown"
    # Its dist-info folder names the installed version; importlib.metadata would scan every path (~30 ms).
    package = Path(pyttsx3.__file__).parent
    found = sorted(p.name for p in package.parent.glob("pyttsx3-*.dist-info"))
    return f"espeak-ng {espeak}; {found[-1] if found else 'pyttsx3 ' + str(package)}"


def _supports_pitch(engine: Any) -> bool:
    try:
        engine.getProperty("pitch")
    except KeyError:
        return False
    return True


def _choose_voice(voices: list[tuple[str, str]], lang: str, explicit: str | None) -> str:
    if explicit:
        for voice_id, language in voices:
            if explicit.lower() in (voice_id.lower(), language):
                return voice_id
        raise SynthesisError(f"no eSpeak NG voice named {explicit!r}; see `espeak-ng --voices`")
    lang = lang.lower()
    for wanted in _PREFERRED_VOICES.get(lang, (lang,)):
        for voice_id, language in voices:
            if language == wanted:
                return voice_id
    for voice_id, language in voices:
        if language.startswith(lang + "-"):
            return voice_id
    raise SynthesisError(
        f"no eSpeak NG voice for language {lang!r}; {INSTALL_HINT} (the full package has ru and en voices)"
    )


def _read_wav(path: Path) -> AudioChunk:
    try:
        with wave.open(str(path), "rb") as wav:
            rate_hz, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (OSError, wave.Error) as err:
        raise SynthesisError(f"cannot read the rendered line {path}: {err}") from err
    finally:
        path.unlink(missing_ok=True)
    if width != 2:
        raise SynthesisError(f"eSpeak NG wrote {8 * width}-bit audio; expected 16-bit")
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    mono = samples.mean(axis=1).astype("<i2") if channels > 1 else samples[:, 0]
    chunk = AudioChunk.from_samples(mono, rate_hz)
    return resample(chunk, RATE_HZ)
