"""A centre for the tests: a fresh PostgreSQL database, a shared recordings folder, and stations.

`centre.station(name)` is a machine configured for the centre (its own data dir, the centre's database and
share in its environment, no settings file of the user's); `centre.trainer()` is one that never recorded.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.cli_run import clean_env, run_cli


@dataclass
class Machine:
    name: str
    data_dir: Path
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        if stdin is None:
            return run_cli(*args, env=self.env, cwd=self.data_dir.parent, timeout=timeout)
        return subprocess.run([str(_cli()), *args], input=stdin, capture_output=True, text=True, env=self.env,
                              cwd=self.data_dir.parent, timeout=timeout)

    def ok(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done


def _cli() -> Path:
    from tests.faults.cli_run import CLI

    return CLI


@dataclass
class Centre:
    url: str
    share: Path
    root: Path

    def machine(self, name: str, url: str | None = None) -> Machine:
        home = self.root / name
        data_dir = home / "data"
        home.mkdir(parents=True, exist_ok=True)
        env = clean_env(data_dir)
        env.update({
            "VOICE_TRAINER_DATABASE": url or self.url,
            "VOICE_TRAINER_RECORDINGS": str(self.share),
            "VOICE_TRAINER_STATION": name,
            "XDG_CONFIG_HOME": str(home / "config"),  # no settings file of the user running the tests
            "HOME": str(home),
        })
        return Machine(name, data_dir, env)

    def station(self, name: str) -> Machine:
        return self.machine(name)

    def trainer(self) -> Machine:
        return self.machine("trainer-laptop")

    def library(self):
        from voice_trainer.trainer.library.centre import CentreLibrary

        return CentreLibrary(self.url, self.share)


@pytest.fixture
def centre(postgres_url, tmp_path) -> Centre:
    share = tmp_path / "share"
    share.mkdir()
    return Centre(postgres_url, share, tmp_path)
