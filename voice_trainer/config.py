"""The settings file and environment overrides: where the library lives (this machine or a centre).

    ~/.config/voice-trainer/voice-trainer.toml     (the platform config dir; or --config PATH)

        database = "postgresql://voice@db.centre.lan/voice"   # unset: SQLite in the data dir
        recordings = "/mnt/voice-share"                      # the shared recordings store
        station = "room2-pc07"                               # default: this machine's name

Environment overrides the file: VOICE_TRAINER_DATABASE, VOICE_TRAINER_RECORDINGS, VOICE_TRAINER_STATION;
VOICE_TRAINER_DATA and --data-dir choose the data dir as before. The CLI builds `Settings` once;
`voice-trainer config show` prints each value and where it came from.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from voice_trainer.errors import UsageError
from voice_trainer.settings import APP_NAME

CONFIG_FILE = "voice-trainer.toml"
ENV = {
    "database": "VOICE_TRAINER_DATABASE",
    "recordings": "VOICE_TRAINER_RECORDINGS",
    "station": "VOICE_TRAINER_STATION",
}
DEFAULT_CONNECT_TIMEOUT_S = 3.0
FILE_KEYS = ("database", "recordings", "station", "connect_timeout_s", "xapi_home_page", "xapi_activity_base")


class ConfigError(UsageError):
    """The settings file or an environment override is not usable."""


@dataclass(frozen=True)
class CentreSettings:
    """Where a training centre keeps its library; `database` None means this machine only (SQLite)."""

    database: str | None = None  # postgresql://...
    recordings: Path | None = None  # the shared recordings store (a folder on a network share)
    station: str = ""  # this machine's name in the centre
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    @property
    def enabled(self) -> bool:
        return self.database is not None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    centre: CentreSettings = CentreSettings()
    xapi_home_page: str = ""
    xapi_activity_base: str = ""
    config_file: Path | None = None  # the settings file read, if there was one
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def mode(self) -> str:
        return "centre" if self.centre.enabled else "local"

    def shown(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for `config show`; passwords never shown."""
        c = self.centre
        rows = [
            ("mode", self.mode, "database set" if c.enabled else "no database: this machine only"),
            ("config file", str(self.config_file) if self.config_file else "-", self.sources.get("config file", "")),
            ("data_dir", str(self.data_dir), self.sources.get("data_dir", "")),
            ("database", redact(c.database) if c.database else f"SQLite in {self.data_dir}",
             self.sources.get("database", "default")),
            ("recordings", str(c.recordings) if c.recordings else "in each session folder",
             self.sources.get("recordings", "default")),
            ("station", c.station, self.sources.get("station", "default")),
            ("connect_timeout_s", f"{c.connect_timeout_s:g}", self.sources.get("connect_timeout_s", "default")),
            ("xapi_home_page", self.xapi_home_page or "(default) http://localhost/voice-trainer",
             self.sources.get("xapi_home_page", "default")),
        ]
        return rows


def default_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE


def load_settings(config_file: Path | None = None, data_dir: Path | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the settings file, then the environment, then the command line."""
    from voice_trainer.settings import default_data_dir

    env = os.environ if env is None else env
    sources: dict[str, str] = {}
    path = Path(config_file).expanduser() if config_file else default_config_file()
    if config_file is not None and not path.is_file():
        raise ConfigError(f"{path}: no such settings file; give an existing file to --config")
    values = _read_file(path) if path.is_file() else {}
    sources["config file"] = "--config" if config_file else ("default place" if values or path.is_file() else "none")
    for key in values:
        sources[key] = f"file {path}"
    for key, name in ENV.items():
        if env.get(name):
            values[key] = env[name]
            sources[key] = f"environment {name}"
    if data_dir is not None:
        sources["data_dir"] = "--data-dir"
    elif env.get("VOICE_TRAINER_DATA"):
        sources["data_dir"] = "environment VOICE_TRAINER_DATA"
    else:
        sources["data_dir"] = "default"
    centre = CentreSettings(
        database=_database(values.get("database"), sources.get("database", "")),
        recordings=_folder(values.get("recordings"), sources.get("recordings", "")),
        station=_station(values.get("station"), sources.get("station", "")),
        connect_timeout_s=_timeout(values.get("connect_timeout_s"), sources.get("connect_timeout_s", "")),
    )
    if centre.database and centre.recordings is None:
        raise ConfigError(
            f"a centre database is set ({sources['database']}) but no recordings store; set "
            f"VOICE_TRAINER_RECORDINGS or 'recordings' in {path} to the shared folder"
        )
    if centre.recordings is not None and not centre.database:
        raise ConfigError(
            f"a recordings store is set ({sources['recordings']}) but no centre database; set "
            f"VOICE_TRAINER_DATABASE or 'database' in {path}, or remove the store setting"
        )
    return Settings(
        data_dir=Path(data_dir) if data_dir is not None else default_data_dir(),
        centre=centre,
        xapi_home_page=_text(values.get("xapi_home_page"), "xapi_home_page", sources),
        xapi_activity_base=_text(values.get("xapi_activity_base"), "xapi_activity_base", sources),
        config_file=path if path.is_file() else None,
        sources=sources,
    )


def redact(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- the command line's choice, made once --------------------------------------------------------------

_chosen: dict[str, Any] = {}


def choose_file(path: Path | None) -> None:
    """Called by the CLI before any command: the --config given (or None for the default place)."""
    _chosen["file"] = path
    _chosen.pop("settings", None)


def cli_settings(data_dir: Path | None = None) -> Settings | None:
    """The settings the command line chose, built once; None when not run from the CLI (library use)."""
    if "file" not in _chosen:
        return None
    if "settings" not in _chosen:
        _chosen["settings"] = load_settings(_chosen["file"])
    settings = _chosen["settings"]
    if data_dir is not None and Path(data_dir) != settings.data_dir:
        sources = {**settings.sources, "data_dir": "--data-dir"}
        settings = replace(settings, data_dir=Path(data_dir), sources=sources)
    return settings


# --- reading values ----------------------------------------------------------------------------------


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the settings file ({err.strerror}); check permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the settings file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not a valid TOML file ({err}); see docs/centre.md for an example") from None
    unknown = [k for k in data if k not in FILE_KEYS]
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}; the settings are {', '.join(FILE_KEYS)}")
    return dict(data)


def _database(value: Any, source: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("postgresql", "postgres"):
        shown = redact(value) if isinstance(value, str) else repr(value)
        raise ConfigError(f"database {shown[:120]!r} ({source}): give a postgresql://user@host/dbname URL, "
                          "or leave it unset to keep the library on this machine")
    return value


def _folder(value: Any, source: str) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"recordings ({source}): give a folder path as text")
    return Path(value).expanduser()


def _station(value: Any, source: str) -> str:
    if value is None or value == "":
        return socket.gethostname() or "station"
    if not isinstance(value, str) or len(value) > 64 or any(ord(c) < 32 for c in value):
        raise ConfigError(f"station ({source}): give a short name for this machine (up to 64 characters)")
    return value


def _timeout(value: Any, source: str) -> float:
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT_S
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 <= value <= 120:
        raise ConfigError(f"connect_timeout_s ({source}): give seconds between 0.5 and 120")
    return float(value)


def _text(value: Any, key: str, sources: Mapping[str, str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(f"{key} ({sources.get(key)}): give an http:// or https:// address")
    return value
