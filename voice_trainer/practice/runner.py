"""One practice run: picks text, voice or replay, wires the session to the headset, the recorder and
the library, and makes sure that whatever happens the session is finished and its files are complete.

The CLI builds `PracticeSettings` once and calls `run_practice`; nothing here parses arguments.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from voice_trainer.clock import FakeClock
from voice_trainer.errors import AudioDeviceError, ModelError, ModelNotFound, VoiceTrainerError
from voice_trainer.events import Event, Notice
from voice_trainer.scenario.loader import Scenario
from voice_trainer.session import Session
from voice_trainer.session_log import RECORDING_FILE
from voice_trainer.settings import PracticeSettings, VoiceSettings, default_data_dir

Print = Callable[[str], None]

RECORDING_RATE_HZ = 16000


@dataclass
class Outcome:
    session: Session
    result: dict[str, Any]
    interrupted: bool


def grammar_phrases(scenario: Scenario) -> list[str]:
    """The scenario's vocabulary for recognizer biasing (see speech/vocabulary.py)."""
    from voice_trainer.speech.vocabulary import scenario_vocabulary

    return scenario_vocabulary(scenario.data, scenario.lang)


def recover_sessions(data_dir: Path, say: Print) -> None:
    """Sessions a crash left unfinished: repaired and marked interrupted before a new one starts."""
    from voice_trainer.trainer.recovery import recover_unfinished

    for found in recover_unfinished(data_dir):
        if found.ok:
            say(f"recovered interrupted session {found.session_id} ({found.outcome}, score {found.score})")
        else:
            say(f"could not recover {found.folder}: {found.error}")


# --- the pieces, each optional where the product can do without it ------------------------------


def open_synthesizer(scenario: Scenario, say: Print):
    from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer

    try:
        return Pyttsx3Synthesizer(scenario.lang, voice=scenario.data.voice.espeak)
    except VoiceTrainerError as err:
        say(f"the customer will not speak: {err}")
        return None


def load_recognizer_model(lang: str, voice: VoiceSettings, data_dir: Path):
    from voice_trainer.speech.models import find_model
    from voice_trainer.speech.vosk_recognizer import load_model

    return load_model(find_model(lang, voice.model, data_dir).path)


def make_recognizer(model, scenario: Scenario, voice: VoiceSettings):
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer

    if not voice.grammar:
        return VoskRecognizer(model)
    return VoskRecognizer(model, grammar=sorted(set(grammar_phrases(scenario)) | set(voice.grammar_words)))


def warm_up(model) -> None:
    """Decode a moment of silence: the first decode pages in the model's graph, which would otherwise
    land on the trainee's first turn."""
    from voice_trainer.audio.chunk import AudioChunk
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer

    recognizer = VoskRecognizer(model)
    recognizer.accept(AudioChunk(bytes(2 * recognizer.rate_hz // 2), recognizer.rate_hz))
    recognizer.finish()


def _warm_up_understanding(session: Session, scenario: Scenario) -> None:
    """Morphology dictionaries load on first use; let that happen while the customer talks."""
    examples = [e for move in scenario.data.moves.values() for e in move.examples][:1]
    for example in examples:
        session.conversation.understand(example)


def finish_files(session: Session, recorder, data_dir: Path, say: Print) -> None:
    """Close the recording, write the transcript, index the session. Each step on its own: one failing
    must not cost the others."""
    from voice_trainer.transcript import write_transcript

    if recorder is not None:
        try:
            recorder.close()
        except OSError as err:
            say(f"the recording could not be completed: {err}")
    try:
        write_transcript(session.folder, session.events)
    except OSError as err:
        say(f"the transcript could not be written: {err}")
    try:
        from voice_trainer.trainer.library import Library

        with Library(data_dir) as library:
            library.index(session.folder)
    except (VoiceTrainerError, OSError) as err:
        say(f"the session library was not updated ({err}); `voice-trainer sessions list` will pick it up")


# --- the three modes -------------------------------------------------------------------------------


def run_practice(
    settings: PracticeSettings,
    scenario: Scenario,
    *,
    replies: list[Path] | None,
    replies_from: Iterable[str] | None,
    text_mode: bool,
    interactive: bool,
    observers: list[Callable[[Event], None]],
    say: Print,
    on_session: Callable[[Session], None] = lambda s: None,
    on_partial: Callable[[str], None] | None = None,
) -> Outcome:
    """Run one call to its end. `replies_from` feeds text mode (a script, a pipe or the keyboard)."""
    data_dir = settings.data_dir or default_data_dir()
    recover_sessions(data_dir, say)
    voice = settings.voice
    if replies:
        return _replay(settings, scenario, replies, data_dir, observers, say, on_session)
    if not text_mode:
        try:
            return _voice(settings, scenario, data_dir, observers, say, on_session, on_partial, replies_from)
        except _NoVoice as why:
            say(f"{why}; continuing in text mode (type your replies)")
            voice = VoiceSettings(**{**voice.__dict__, "speak": True})
    speak = not voice.mute and (voice.speak if voice.speak is not None else interactive)
    return _text(settings, scenario, replies_from or (), speak, data_dir, observers, say, on_session)


class _NoVoice(Exception):
    """Voice practice cannot start here (no microphone, no model); text mode takes over."""


def _session(settings: PracticeSettings, scenario: Scenario, mode: str, data_dir: Path, observers, clock=None) -> Session:
    return Session(
        scenario, persona=settings.persona, policy=settings.policy, seed=settings.seed, trainee=settings.trainee,
        mode=mode, data_dir=data_dir, clock=clock, observers=observers,
    )


class _Run:
    """How a call ended; filled in by `_to_the_end`."""

    outcome: Outcome


@contextmanager
def _to_the_end(session: Session, recorder, data_dir: Path, say: Print, *closing):
    """Whatever happens inside (an ending, Ctrl-C, a vanished device), the session is finished, its
    files completed and the audio pieces closed. Ctrl-C marks it interrupted; other errors go on up."""
    run = _Run()
    interrupted = False
    try:
        yield run
    except KeyboardInterrupt:
        interrupted = True
    except AudioDeviceError as err:
        session.emit(Notice(kind="device", message=str(err)))
        interrupted = True
        raise
    finally:
        try:
            result = session.finish(interrupted=interrupted)
        finally:
            finish_files(session, recorder, data_dir, say)
            for piece in closing:
                if piece is not None:
                    piece.close()
        run.outcome = Outcome(session, result, interrupted)


def _replay(settings, scenario, paths, data_dir, observers, say, on_session) -> Outcome:
    from voice_trainer.audio.recorder import SessionRecorder
    from voice_trainer.practice.replay import Replay
    from voice_trainer.speech.synthesizer import prosody_for
    from voice_trainer.speech.audio_file import read_audio_file

    turns = [read_audio_file(p) for p in paths]  # a bad file fails before anything is logged
    model = load_recognizer_model(scenario.lang, settings.voice, data_dir)
    synth = None if settings.voice.mute else open_synthesizer(scenario, say)
    clock = FakeClock()
    session = _session(settings, scenario, "replay", data_dir, observers, clock)
    on_session(session)
    recorder = SessionRecorder(session.folder / RECORDING_FILE, rate_hz=RECORDING_RATE_HZ)
    replay = Replay(
        session, clock, make_recognizer(model, scenario, settings.voice), synthesizer=synth,
        prosody_for=prosody_for, on_mic=recorder.add_mic, on_customer=recorder.add_customer,
    )
    with _to_the_end(session, recorder, data_dir, say, synth) as run:
        replay.run(turns, [str(p) for p in paths])
    return run.outcome


def _text(settings, scenario, replies, speak, data_dir, observers, say, on_session) -> Outcome:
    from voice_trainer.practice.text import run_text

    customer = _open_customer_voice(settings.voice, scenario, say) if speak else None
    session = _session(settings, scenario, "text", data_dir, observers)
    on_session(session)
    recorder = None
    if customer is not None:
        recorder = customer.attach(session)
    with _to_the_end(session, recorder, data_dir, say, customer) as run:
        run_text(session, replies, after_turn=customer.speak_new_lines if customer else None)
    return run.outcome


def _voice(settings, scenario, data_dir, observers, say, on_session, on_partial, replies_from) -> Outcome:
    from voice_trainer.audio.devices import pick_input
    from voice_trainer.audio.endpoint import EndOfTurnDetector
    from voice_trainer.audio.streams import MicStream
    from voice_trainer.practice.voice import LoopSettings, VoiceLoop

    voice = settings.voice
    try:
        from voice_trainer.speech.models import find_model

        location = find_model(scenario.lang, voice.model, data_dir)
        mic_device = pick_input(voice.input)
    except (ModelNotFound, ModelError, AudioDeviceError) as err:
        raise _NoVoice(str(err)) from None
    # The model loads (~1-2 s) while the customer already speaks his opening line.
    model_future: Future = Future()

    def load() -> None:
        try:
            from voice_trainer.speech.vosk_recognizer import load_model

            model = load_model(location.path)
            warm_up(model)
            model_future.set_result(model)
        except BaseException as err:  # handed to the main thread
            model_future.set_exception(err)

    threading.Thread(target=load, name="vosk-model-load", daemon=True).start()
    customer = None if voice.mute else _open_customer_voice(voice, scenario, say)
    session = _session(settings, scenario, "voice", data_dir, observers)
    on_session(session)
    recorder = customer.attach(session) if customer else _recorder(session)
    with _to_the_end(session, recorder, data_dir, say, customer) as run:
        loop = VoiceLoop(
            session, None, EndOfTurnDetector(trailing_silence_ms=voice.trailing_silence_ms, max_turn_ms=voice.max_turn_ms),
            None, customer, settings=LoopSettings(barge_in=voice.barge_in),
            on_mic=recorder.add_mic, on_partial=on_partial,
        )
        loop.begin()
        _warm_up_understanding(session, scenario)
        try:
            model = model_future.result()
        except ModelError as err:  # found, but broken: found out only now, while he already talks
            say(f"{err}; continuing in text mode (type your replies)")
            session.emit(Notice(kind="model", message=str(err)))
            loop.wait_for_customer()
            _continue_in_text(session, customer, replies_from or ())
        else:
            from voice_trainer.speech.background import BackgroundRecognizer

            loop.recognizer = BackgroundRecognizer(make_recognizer(model, scenario, voice))
            with MicStream(mic_device, clock=session.clock) as mic:
                loop.mic = mic
                loop.listen()
    return run.outcome


def _continue_in_text(session: Session, customer, replies: Iterable[str]) -> None:
    for reply in replies:
        if session.ended:
            break
        since = len(session.events)
        session.trainee_says(reply, source="text")
        if customer is not None:
            customer.speak_new_lines(session, since)


def _recorder(session: Session):
    from voice_trainer.audio.recorder import SessionRecorder

    return SessionRecorder(session.folder / RECORDING_FILE, rate_hz=RECORDING_RATE_HZ, clock=session.clock)


def _open_customer_voice(voice: VoiceSettings, scenario: Scenario, say: Print):
    from voice_trainer.practice.voice import SpokenCustomer

    try:
        return SpokenCustomer.open(voice.output, scenario.lang, scenario.data.voice.espeak)
    except VoiceTrainerError as err:
        say(f"the customer will not speak: {err}")
        return None
