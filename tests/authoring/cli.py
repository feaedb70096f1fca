"""Running voice-trainer as a user does (subprocess), and making scenario files from the template."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


def run(*args: str, cwd: Path | None = None, input: str | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          input=input, stdin=None if input is not None else subprocess.DEVNULL)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def template_text(name: str, lang: str) -> str:
    from voice_trainer.scenario.template import template

    return template(name, lang)


def write_scenario(folder: Path, name: str, lang: str, text: str) -> Path:
    path = folder / f"{name}.{lang}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def template_data(lang: str, name: str = "sample") -> dict:
    return yaml.safe_load(template_text(name, lang))


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)


def warnings_of(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if ": warning: " in line]


# A call through the template that ends well, in each language.
GOOD_CALL = {
    "en": ["hello, I'm so sorry about the delay", "could you tell me your order number",
           "and what is the delivery address", "the parcel was held up at our warehouse by the storm",
           "we will deliver it tomorrow before noon"],
    "ru": ["здравствуйте, извините за задержку", "подскажите, пожалуйста, номер заказа", "и по какому адресу доставка",
           "посылка задержалась на складе из-за метели", "мы привезём её завтра до обеда"],
}
