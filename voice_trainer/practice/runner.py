"""One practice run: picks the source of the trainee's turns (typed text, the microphone, recorded
files), builds what every mode shares once (the session, the customer's voice, the recording), and
makes sure that whatever happens the session is finished and its files are complete.

The CLI builds `PracticeSettings` once and calls `run_practice`; nothing here parses arguments.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from voice_trainer.clock import Clock, ManualClock
from voice_trainer.errors import AudioDeviceError, DiskFull, ModelError, ModelNotFound, VoiceTrainerError
from voice_trainer.events import Event, MicrophoneOpened, Notice
from voice_trainer.scenario.loader import Scenario
from voice_trainer.session import Session
from voice_trainer.session_folder import RECORDING_RATE_HZ
from voice_trainer.settings import PracticeSettings, VoiceSettings, default_data_dir

Print = Callable[[str], None]


@dataclass
class Outcome:
    session: Session
    result: dict[str, Any]
    interrupted: bool


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
) -> Outcome:
    """Run one call to its end. `replies_from` feeds text mode (a script, a pipe or the keyboard)."""
    from voice_trainer.trainer.recovery import recover_sessions

    if settings.data_dir is None:
        settings = replace(settings, data_dir=default_data_dir())
    recover_sessions(settings.data_dir, say)
    if replies:
        return _replay(settings, scenario, replies, observers, say)
    if not text_mode:
        try:
            return _voice(settings, scenario, observers, say, replies_from)
        except _NoVoice as why:
            say(f"{why}; continuing in text mode (type your replies)")
            settings = replace(settings, voice=replace(settings.voice, speak=True))
    voice = settings.voice
    speak = not voice.mute and (voice.speak if voice.speak is not None else interactive)
    return _text(settings, scenario, replies_from or (), speak, observers, say)


class _NoVoice(Exception):
    """Voice practice cannot start here (no microphone, no model); text mode takes over."""


# --- the three sources of turns ------------------------------------------------------------------


def _text(settings: PracticeSettings, scenario: Scenario, replies: Iterable[str], speak: bool,
          observers: list, say: Print) -> Outcome:
    from voice_trainer.practice.text import run_text

    voice = _open_voice(settings.voice, scenario, say, with_device=True) if speak else None
    call = _Call(_session(settings, scenario, "text", observers), settings.data_dir)
    if voice is not None:
        call.record()
        call.customer = voice.live(call.session, call.recorder)
    with _to_the_end(call, say) as run:
        run_text(call.session, replies, call.customer)
    return run.outcome


def _replay(settings: PracticeSettings, scenario: Scenario, paths: list[Path], observers: list,
            say: Print) -> Outcome:
    from voice_trainer.practice.customer import SpokenCustomer
    from voice_trainer.practice.replay import Replay, VirtualSpeaker
    from voice_trainer.speech.audio_file import read_audio_file
    from voice_trainer.speech.vosk_recognizer import load_model

    turns = [read_audio_file(p) for p in paths]  # a bad file fails before anything is logged
    model = load_model(_model_path(scenario, settings), max_active=settings.voice.decoder_max_active or None)
    voice = None if settings.voice.mute else _open_voice(settings.voice, scenario, say, with_device=False)
    clock = ManualClock()
    call = _Call(_session(settings, scenario, "replay", observers, clock), settings.data_dir)
    call.record()
    if voice is not None:
        speaker = VirtualSpeaker(clock, call.session.clock, on_block=call.recorder.add_customer)
        call.customer = SpokenCustomer(call.session, voice.synth, speaker)
    replay = Replay(call.session, clock, _recognizer(model, scenario, settings.voice), customer=call.customer,
                    on_mic=call.recorder.add_mic)
    with _to_the_end(call, say) as run:
        replay.run(turns, [str(p) for p in paths])
    return run.outcome


def _voice(settings: PracticeSettings, scenario: Scenario, observers: list, say: Print,
           replies_from: Iterable[str] | None) -> Outcome:
    from voice_trainer.audio.devices import pick_input

    voice = settings.voice
    try:
        model_path = _model_path(scenario, settings)
        mic_device = pick_input(voice.input)
    except (ModelNotFound, ModelError, AudioDeviceError) as err:
        raise _NoVoice(str(err)) from None
    spoken = None if voice.mute else _open_voice(voice, scenario, say, with_device=True)
    call = _Call(_session(settings, scenario, "voice", observers), settings.data_dir)
    call.record()
    if spoken is not None:
        call.customer = spoken.live(call.session, call.recorder)
    with _to_the_end(call, say) as run:
        call.session.start()
        # The opening line first: importing vosk and loading the model (~3.5 s of both cores) would slow
        # rendering it and delay his first word, and the model is first needed when the trainee answers.
        if call.customer is not None and call.customer.speaking:  # a scenario may open in silence
            call.customer.wait_until_speaking(OPENING_HEADSTART_S)
        from voice_trainer.audio.endpoint import EndOfTurnDetector
        from voice_trainer.audio.streams import MicStream
        from voice_trainer.practice.text import feed_text
        from voice_trainer.practice.voice import VoiceLoop

        try:
            # The microphone opens now, before the recognizer's imports and not when the model is ready:
            # what the trainee says meanwhile is queued for the recognizers, which start decoding once the
            # model has loaded.
            with MicStream(mic_device, clock=call.session.clock) as mic:
                call.session.emit(MicrophoneOpened(device=mic_device.name))
                model = _load_model_in_background(model_path, voice.decoder_max_active)
                passes = _Passes(model, model_path, scenario, voice)
                detector = EndOfTurnDetector(trailing_silence_ms=voice.trailing_silence_ms,
                                             max_turn_ms=voice.max_turn_ms)
                loop = VoiceLoop(call.session, detector, customer=call.customer, barge_in=voice.barge_in,
                                 on_mic=call.recorder.add_mic, turn_end=_turn_end_rule(scenario, voice),
                                 early_final_before_end_ms=passes.early_final_before_end_ms)
                live, full = passes.start()
                call.closing += [r for r in (live, full) if r is not None]
                _warm_up_understanding(call.session, scenario)
                loop.listen(mic, live, full, transcribe_every_turn=not voice.grammar)
        except ModelError as err:  # found, but broken: found out only now (in `listen`), while he already talks
            say(f"{err}; continuing in text mode (type your replies)")
            call.session.emit(Notice(kind="model", message=str(err)))
            loop.wait_for_customer()
            feed_text(call.session, replies_from or (), call.customer)
    return run.outcome


# How long the model load waits for the opening line to start playing (a slow eSpeak must not hold it up).
OPENING_HEADSTART_S = 2.0


class _Passes:
    """The call's recognizers, made on their own threads once the model has loaded.

    With a model that takes a grammar (small models), two passes: the live one knows only the scenario's
    words (fast: it decides the customer's answer) and the full one recognizes freely (the transcript for
    the record, at lower priority). With `--grammar` the full pass only hears turns the live one heard
    nothing in. A model without grammar support has one pass, free.
    """

    def __init__(self, model: Future, model_path: Path, scenario: Scenario, voice: VoiceSettings):
        from voice_trainer.speech.vosk_recognizer import grammar_supported

        self._model, self._scenario, self._voice = model, scenario, voice
        self.two = grammar_supported(model_path)
        # FinalResult on a grammar is quick; free recognition of a small model needs ~300 ms on two cores.
        self.early_final_before_end_ms = 100 if self.two else 300

    def start(self):
        """(live, full) background recognizers; full is None with one pass."""
        from voice_trainer.speech.background import BackgroundRecognizer
        from voice_trainer.speech.vosk_recognizer import VoskRecognizer

        if not self.two:
            return BackgroundRecognizer(make=lambda: VoskRecognizer(self._model.result()), name="recognizer"), None
        live = BackgroundRecognizer(make=self._live, name="recognizer-live")
        full = BackgroundRecognizer(make=lambda: VoskRecognizer(self._model.result(), partials=False),
                                    nice=FULL_PASS_NICE, name="recognizer-full")
        return live, full

    def _live(self):
        from voice_trainer.speech.vocabulary import scenario_vocabulary
        from voice_trainer.speech.vosk_recognizer import VoskRecognizer

        from voice_trainer.practice.turn_taking import grammar_words

        # The model first: building the vocabulary is pure Python (for Russian every inflected form), and
        # while the model loads the opening line is being rendered on the same two cores.
        model = self._model.result()
        # The words that keep a turn open ("because", "um") too: the end-of-turn rule reads them.
        words = (set(scenario_vocabulary(self._scenario.data, self._scenario.lang)) | set(self._voice.grammar_words)
                 | grammar_words(self._scenario.lang))
        return VoskRecognizer(model, grammar=sorted(words))


# The full pass only makes the record: on a busy machine it gives way to the pass the reply waits for.
FULL_PASS_NICE = 5


def _turn_end_rule(scenario: Scenario, voice: VoiceSettings):
    from voice_trainer.practice.turn_taking import TurnEndRule

    neutral = voice.trailing_silence_ms
    return TurnEndRule(lang=scenario.lang, neutral_ms=neutral, floor_ms=min(voice.trailing_silence_floor_ms, neutral),
                       ceiling_ms=max(voice.trailing_silence_ceiling_ms, neutral))


# --- the pieces, each built once -----------------------------------------------------------------


@dataclass
class _Call:
    """One call's session and the pieces around it, all closed at the end whatever happens."""

    session: Session
    data_dir: Path
    customer: Any = None  # SpokenCustomer, when he speaks
    recorder: Any = None  # SessionRecorder, when there is audio
    closing: list = field(default_factory=list)

    def record(self) -> None:
        """The session's recording: the one place it is made, at the recording rate, on the session clock.
        It stops writing as soon as the session finds the disk full: the room left is for the log's end."""
        from voice_trainer.audio.recorder import SessionRecorder

        try:
            self.recorder = SessionRecorder(self.session.folder.recording_path, rate_hz=RECORDING_RATE_HZ,
                                            clock=self.session.clock)
        except DiskFull as err:
            raise _no_room_to_start(self, err) from None
        self.session.folder.when_full(self.recorder.halt)


def _session(settings: PracticeSettings, scenario: Scenario, mode: str, observers: list,
             clock: Clock | None = None) -> Session:
    return Session(
        scenario, persona=settings.persona, policy=settings.policy, seed=settings.seed, trainee=settings.trainee,
        mode=mode, data_dir=settings.data_dir, clock=clock, observers=observers,
    )


@dataclass
class _Voice:
    """The customer's voice before the session starts: his synthesizer and, live, the output device."""

    synth: Any
    device: Any = None

    def live(self, session: Session, recorder) -> Any:
        """Speaking on the headset; what is played goes to the recording's right channel."""
        from voice_trainer.audio.streams import SpeakerStream
        from voice_trainer.practice.customer import SpokenCustomer

        speaker = SpeakerStream(self.device, clock=session.clock, on_block=recorder.add_customer)
        return SpokenCustomer(session, self.synth, speaker)


def _open_voice(voice: VoiceSettings, scenario: Scenario, say: Print, *, with_device: bool) -> _Voice | None:
    """None (with a note) when the customer cannot speak here: no speaker, no eSpeak NG."""
    from voice_trainer.audio.devices import pick_output
    from voice_trainer.speech.line_cache import LineCache, default_cache_dir
    from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer

    try:
        device = pick_output(voice.output) if with_device else None
        # Lines rendered on an earlier launch play at once: the opening above all (~50-100 ms of eSpeak).
        cache = LineCache(default_cache_dir())
        return _Voice(Pyttsx3Synthesizer(scenario.lang, voice=scenario.data.voice.espeak, cache=cache), device)
    except VoiceTrainerError as err:
        say(f"the customer will not speak: {err}")
        return None


def _model_path(scenario: Scenario, settings: PracticeSettings) -> Path:
    from voice_trainer.speech.models import find_model

    return find_model(scenario.lang, settings.voice.model, settings.data_dir).path


def _load_model_in_background(path: Path, max_active: int) -> Future:
    """The model, loaded on its own thread; its errors come out of `result()`. Nothing is decoded here: the
    free pass warms its own recognizer while the opening plays (`VoskRecognizer.between_turns`)."""
    loaded: Future = Future()

    def load() -> None:
        try:
            from voice_trainer.speech.vosk_recognizer import load_model  # vosk: ~0.15 s of imports, here too

            model = load_model(path, max_active=max_active or None)
            loaded.set_result(model)
        except BaseException as err:  # handed to the main thread
            loaded.set_exception(err)

    threading.Thread(target=load, name="vosk-model-load", daemon=True).start()
    return loaded


def _recognizer(model, scenario: Scenario, voice: VoiceSettings):
    from voice_trainer.speech.vocabulary import scenario_vocabulary
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer

    if not voice.grammar:
        return VoskRecognizer(model)
    vocabulary = set(scenario_vocabulary(scenario.data, scenario.lang)) | set(voice.grammar_words)
    return VoskRecognizer(model, grammar=sorted(vocabulary))


def _warm_up_understanding(session: Session, scenario: Scenario) -> None:
    """Morphology dictionaries load on first use; let that happen while the customer talks."""
    examples = [e for move in scenario.data.moves.values() for e in move.examples][:1]
    for example in examples:
        session.conversation.understand(example)


# --- to the end, whatever happens ----------------------------------------------------------------


class _Run:
    """How a call ended; filled in by `_to_the_end`."""

    outcome: Outcome


@contextmanager
def _to_the_end(call: _Call, say: Print) -> Iterator[_Run]:
    """Whatever happens inside (an ending, Ctrl-C, a vanished device, a full disk), the customer falls
    silent (his cut line still logged), the session is finished and its files completed, and the pieces
    are closed. Ctrl-C marks the session interrupted; a full disk too, and then ends in one DiskFull
    saying what was kept; other errors go on up."""
    run = _Run()
    interrupted = False
    full: DiskFull | None = None
    result = None
    try:
        yield run
    except KeyboardInterrupt:
        interrupted = True
    except DiskFull as err:
        interrupted, full = True, err
    except AudioDeviceError as err:
        try:
            call.session.emit(Notice(kind="device", message=str(err)))
        except DiskFull:
            pass  # the device error is the one to report; recovery completes the session
        interrupted = True
        raise
    finally:
        try:
            try:
                if call.customer is not None:
                    call.customer.close()
            finally:
                if full is None and call.recorder is not None and call.recorder.failure is not None:
                    interrupted, full = True, call.recorder.failure  # found on the customer's thread
                try:
                    result = call.session.finish(interrupted=interrupted)
                except DiskFull as err:
                    full = full or err
        finally:
            full = _finish_files(call, say, full)
            for piece in call.closing:
                piece.close()
        run.outcome = Outcome(call.session, result, interrupted)  # type: ignore[arg-type]
    if full is not None:
        raise _stopped_for_room(call, full)


def _finish_files(call: _Call, say: Print, full: DiskFull | None) -> DiskFull | None:
    """Close the recording, write the transcript, index the session. Each step on its own: one failing
    must not cost the others. Returns `full`, or the recording's DiskFull if the disk filled only now.
    On a full disk they are tried quietly: the one line about it says what was kept."""
    session = call.session
    if call.recorder is not None:
        try:
            call.recorder.close()
        except DiskFull as err:
            full = full or err
        except (VoiceTrainerError, OSError) as err:
            say(f"the recording could not be completed: {err}")
    if full is not None and not session.said:
        return full  # nothing of the trainee's to keep: the folder goes (`_stopped_for_room`)
    try:
        session.folder.write_transcript(session.events)
    except (VoiceTrainerError, OSError) as err:
        if full is None and not isinstance(err, DiskFull):
            say(f"the transcript could not be written: {err}")
        full = full or (err if isinstance(err, DiskFull) else None)
    if full is None:
        from voice_trainer.trainer.publish import after_call

        after_call(call.data_dir, session.folder.path, say)  # indexed here, published to the centre if there is one
    return full


def _stopped_for_room(call: _Call, full: DiskFull) -> DiskFull:
    """The one line for a call the disk stopped: what ran out, where, what was kept, what to do."""
    session = call.session
    if not session.said:
        return _no_room_to_start(call, full)
    folder = session.folder
    if folder.has_result:
        kept = "everything said until then is saved and the session is marked interrupted"
    else:
        kept = ("everything said until then is saved; the next start of voice-trainer marks the session "
                "interrupted once there is room")
    return DiskFull(f"{full.path}: {full.reason}, the call was stopped; {kept} ({folder}); {full.advice}",
                    full.path, full.os_error, full.reason)


def _no_room_to_start(call: _Call, full: DiskFull) -> DiskFull:
    """No room before the trainee said anything: the half-made session is removed, so no later command
    finds it."""
    if call.recorder is not None:
        try:
            call.recorder.close()
        except VoiceTrainerError:
            pass
    call.session.folder.discard()
    root = call.session.folder.path.parent
    return DiskFull(f"{root}: {full.reason}, no session was started and nothing was saved; {full.advice}",
                    root, full.os_error, full.reason)
