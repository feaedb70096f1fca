"""A virtual headset: a private PulseAudio server with two null sinks, for tests and the benchmark.

    vt_mic  -- what the trainee "says": `play_into_mic(wav)` plays into it; its monitor
               (vt_mic.monitor) is the default source, so MicStream on the default/pulse device hears it.
    vt_spk  -- what the customer says: the default sink; `record_speaker(path)` records its monitor.

The server is private (its own runtime dir, HOME and XDG_RUNTIME_DIR under `root`), so parallel runs
never share a server. Clients reach it through the variables in `client_env` (PULSE_SERVER,
PULSE_SINK, PULSE_SOURCE); a process that imported sounddevice earlier must call
`voice_trainer.audio.devices.rescan()` after setting them. Needs pulseaudio and pulseaudio-utils.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MIC_SINK = "vt_mic"
SPEAKER_SINK = "vt_spk"

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn` for a helper process that must not outlive what started it (Linux): the kernel sends
    it SIGTERM when the starting thread dies, so a benchmark or test run killed from outside (a timeout,
    kill -9) leaves no practice process or PulseAudio server behind. Start such processes from a thread
    that lives as long as they should (the main thread)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the caller's own clean-up is all there is


@dataclass
class Headset:
    root: Path
    client_env: dict[str, str]  # just the pulse routing variables
    env: dict[str, str]  # os.environ plus the pulse routing, for subprocesses
    processes: list[subprocess.Popen]  # the server first, then the silence keepers

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def play_into_mic(self, wav_path: Path | str, *, wait: bool = True) -> subprocess.Popen:
        """Play a WAV into the virtual microphone; returns the paplay process (finished when wait=True)."""
        proc = subprocess.Popen(["paplay", "-d", MIC_SINK, str(wav_path)], env=self.env, preexec_fn=die_with_parent)
        if wait:
            assert proc.wait(timeout=60) == 0
        return proc

    @contextmanager
    def record_speaker(self, path: Path | str) -> Iterator[Path]:
        """Record everything played to the virtual speaker while the block runs, into a WAV at `path`."""
        path = Path(path)
        proc = subprocess.Popen(
            ["parecord", "-d", f"{SPEAKER_SINK}.monitor", "--file-format=wav", "--channels=1", "--rate=22050",
             "--latency-msec=20", "--client-name=vt-recorder", str(path)],
            env=self.env,
            preexec_fn=die_with_parent,
        )
        _wait_for_client(self, "vt-recorder")
        try:
            yield path
        finally:
            proc.send_signal(signal.SIGINT)  # parecord finishes the WAV header on SIGINT
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, check=True, capture_output=True, text=True).stdout


def _wait_for_client(headset: Headset, name: str, listing: str = "source-outputs", count: int = 1) -> None:
    """Until `count` streams of client `name` are connected (waiting on processes, not on behaviour)."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        streams = headset.pactl("list", listing)
        if streams.count(f'application.name = "{name}"') >= count:
            return
        time.sleep(0.02)
    raise RuntimeError(f"{name} did not connect to the test PulseAudio server")


def start_pulse(root: Path) -> Headset:
    """A private PulseAudio server under `root` with the two sinks, ready for clients."""
    if shutil.which("pulseaudio") is None:
        raise RuntimeError("pulseaudio is not installed: apt-get install pulseaudio pulseaudio-utils libasound2-plugins")
    runtime = root / "pulse"
    home = root / "home"
    xdg = root / "xdg"
    for folder in (runtime, home, xdg):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    server_env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "HOME": str(home), "XDG_RUNTIME_DIR": str(xdg)}
    for var in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
        server_env.pop(var, None)
    log = open(root / "pulseaudio.log", "wb")
    server = subprocess.Popen(
        [
            "pulseaudio", "--daemonize=no", "--system=false", "--exit-idle-time=-1", "--disallow-exit",
            "--use-pid-file=no", "-n", "--log-target=stderr",
            "--load=module-native-protocol-unix auth-anonymous=1",
            f"--load=module-null-sink sink_name={MIC_SINK} rate=44100 channels=1",
            f"--load=module-null-sink sink_name={SPEAKER_SINK} rate=44100 channels=1",
        ],
        env=server_env,
        stdout=log,
        stderr=log,
        preexec_fn=die_with_parent,
    )
    client_env = {
        "PULSE_SERVER": f"unix:{runtime / 'native'}",
        "PULSE_RUNTIME_PATH": str(runtime),
        "PULSE_SINK": SPEAKER_SINK,
        "PULSE_SOURCE": f"{MIC_SINK}.monitor",
    }
    env = {**os.environ, **client_env}
    deadline = time.monotonic() + 15
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"test PulseAudio did not start; see {root / 'pulseaudio.log'}")
        time.sleep(0.05)
    headset = Headset(root=root, client_env=client_env, env=env, processes=[server])
    # An idle null sink sleeps with 2 s latency, and a new stream waits out that sleep (~1.8 s of
    # silence before the first block plays). A real sound card runs at a few ms; a silent
    # low-latency client on each sink keeps the null sinks there too.
    for sink in (MIC_SINK, SPEAKER_SINK):
        headset.processes.append(
            subprocess.Popen(
                ["pacat", "--playback", "-d", sink, "--raw", "--format=s16le", "--rate=44100", "--channels=1",
                 "--latency-msec=10", "--client-name=vt-keeper"],
                stdin=open("/dev/zero", "rb"),
                env=env,
                preexec_fn=die_with_parent,
            )
        )
    _wait_for_client(headset, "vt-keeper", listing="sink-inputs", count=2)
    return headset
