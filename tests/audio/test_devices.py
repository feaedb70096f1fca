"""Choosing the headset among real PortAudio devices (the private PulseAudio server of the headset fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from voice_trainer.audio.devices import (
    DeviceInfo,
    list_devices,
    pick_input,
    pick_output,
    supported_rate,
)
from voice_trainer.errors import AudioDeviceError

pytestmark = pytest.mark.audio


def test_the_virtual_headset_shows_up_as_a_pulse_device(headset):
    names = [d.name for d in list_devices()]
    assert "pulse" in names or "default" in names
    assert all(isinstance(d, DeviceInfo) and d.hostapi for d in list_devices())


def test_no_name_picks_the_default_input_and_output(headset):
    mic, speaker = pick_input(None), pick_output(None)
    assert mic.max_input_channels > 0 and speaker.max_output_channels > 0
    assert mic.name in ("default", "pulse")


def test_a_device_is_found_by_index_or_by_part_of_its_name(headset):
    pulse = pick_input("PULS")
    assert pulse.name == "pulse"
    assert pick_input(str(pulse.index)) == pulse
    assert pick_output("pulse").index == pulse.index


def test_an_unknown_name_lists_the_devices_there_are(headset):
    with pytest.raises(AudioDeviceError) as err:
        pick_input("nosuchheadset")
    message = str(err.value)
    assert "nosuchheadset" in message and "pulse" in message
    with pytest.raises(AudioDeviceError, match="available output devices"):
        pick_output("999")


def test_a_rate_the_device_takes_is_kept_and_an_impossible_one_falls_back_to_the_default(headset):
    mic = pick_input("pulse")
    assert supported_rate(mic, 16000) == 16000
    assert supported_rate(mic, 10_000_000) == mic.default_rate_hz
    assert supported_rate(pick_output("pulse"), 22050, input=False) == 22050


def test_a_rate_nothing_takes_is_an_audio_device_error(headset):
    broken = DeviceInfo(9999, "gone", 1, 1, 44100.0, "ALSA")
    with pytest.raises(AudioDeviceError, match="gone"):
        supported_rate(broken, 16000)


def test_without_any_sound_device_the_error_says_to_plug_in_a_headset(tmp_path):
    # A fresh process whose PulseAudio server does not exist sees no devices at all.
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/no-server", "PULSE_RUNTIME_PATH": str(tmp_path)}
    code = (
        "from voice_trainer.audio.devices import pick_input\n"
        "from voice_trainer.errors import AudioDeviceError\n"
        "try:\n    pick_input(None)\nexcept AudioDeviceError as err:\n    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "no input device found; plug in a headset or use --text"


@pytest.mark.audio
def test_a_killed_bench_or_test_run_leaves_no_sound_server_behind(tmp_path):
    """The virtual headset's PulseAudio and its helpers die with the process that started them, even when
    that process is killed outright (a timeout): nothing is left running on a shared machine."""
    starter = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from voice_trainer.audio.virtual_headset import start_pulse\n"
         f"headset = start_pulse(Path({str(tmp_path)!r}))\n"
         "print(' '.join(str(p.pid) for p in headset.processes), flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    pids = [int(p) for p in starter.stdout.readline().split()]
    assert len(pids) == 3  # the server and its two silence keepers
    assert all(os.path.exists(f"/proc/{pid}") for pid in pids)
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 30

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for the processes to end, not for readiness
    left = [pid for pid in pids if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left
