"""Finding the headset: audio devices through sounddevice (PortAudio), chosen by index or name.

PortAudio lists devices once, when it initializes (at `import sounddevice`). A device that appears
later (a plugged-in headset, a PulseAudio server started after import) is seen only after
`rescan()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from voice_trainer.errors import AudioDeviceError

NO_INPUT = "no input device found; plug in a headset or use --text"
NO_OUTPUT = "no output device found; plug in a headset or use --text"


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    hostapi: str
    # The device's own output latency as PortAudio reports it (its lowest; our buffer comes on top only
    # when it is full, and a line starts into an empty one).
    low_output_latency_s: float = 0.0

    @property
    def default_rate_hz(self) -> int:
        return int(self.default_samplerate)

    def label(self) -> str:
        return f"[{self.index}] {self.name}"


def sounddevice() -> ModuleType:
    """The sounddevice module, or AudioDeviceError saying how to install PortAudio."""
    try:
        import sounddevice as sd
    except OSError as err:  # sounddevice raises OSError when libportaudio is missing
        raise AudioDeviceError(
            f"the PortAudio library is missing ({err}); install it with: apt-get install libportaudio2"
        ) from err
    return sd


def rescan() -> None:
    """Make PortAudio list devices again (after a headset or a sound server appeared)."""
    sd = sounddevice()
    sd._terminate()
    sd._initialize()


def list_devices() -> list[DeviceInfo]:
    sd = sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as err:
        raise AudioDeviceError(f"cannot list audio devices: {err}") from err
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_samplerate=float(d["default_samplerate"]),
            hostapi=str(hostapis[d["hostapi"]]["name"]),
            low_output_latency_s=float(d.get("default_low_output_latency", 0.0) or 0.0),
        )
        for d in raw
    ]


def default_indices() -> tuple[int | None, int | None]:
    """(input, output) indices PortAudio calls default; None where there is none."""
    sd = sounddevice()
    pair = []
    for which in ("input", "output"):
        try:
            index = int(sd.query_devices(kind=which)["index"])
        except (sd.PortAudioError, ValueError, TypeError, KeyError):
            index = -1
        pair.append(index if index >= 0 else None)
    return pair[0], pair[1]


def pick_input(spec: str | None) -> DeviceInfo:
    """The input device for `spec`: None = default, "3" = index 3, otherwise a name substring."""
    return _pick(spec, want_input=True)


def pick_output(spec: str | None) -> DeviceInfo:
    """The output device for `spec`: None = default, "3" = index 3, otherwise a name substring."""
    return _pick(spec, want_input=False)


def _pick(spec: str | None, *, want_input: bool) -> DeviceInfo:
    devices = list_devices()
    usable = [d for d in devices if (d.max_input_channels if want_input else d.max_output_channels) > 0]
    kind = "input" if want_input else "output"
    if spec is None or not spec.strip():
        if not usable:
            raise AudioDeviceError(NO_INPUT if want_input else NO_OUTPUT)
        default = default_indices()[0 if want_input else 1]
        return next((d for d in usable if d.index == default), usable[0])
    spec = spec.strip()
    if spec.isdigit():
        found = [d for d in usable if d.index == int(spec)]
    else:
        wanted = spec.lower()
        exact = [d for d in usable if d.name.lower() == wanted]
        found = exact or [d for d in usable if wanted in d.name.lower()]
    if not found:
        names = ", ".join(d.label() for d in usable) or "none"
        raise AudioDeviceError(f"no {kind} device matches {spec!r}; available {kind} devices: {names}")
    return found[0]


def supported_rate(device: DeviceInfo, rate_hz: int, input: bool = True) -> int:
    """`rate_hz` if the device takes it, else the device's default rate; AudioDeviceError if neither."""
    sd = sounddevice()
    check = sd.check_input_settings if input else sd.check_output_settings
    tried = []
    for candidate in dict.fromkeys([int(rate_hz), device.default_rate_hz]):
        try:
            check(device=device.index, samplerate=candidate, channels=1, dtype="int16")
            return candidate
        except (sd.PortAudioError, ValueError) as err:
            tried.append(f"{candidate} Hz ({err})")
    kind = "input" if input else "output"
    raise AudioDeviceError(f"{kind} device {device.label()} takes none of: {'; '.join(tried)}")
