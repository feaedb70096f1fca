"""`voice-trainer config show` and the settings file: what is in force and where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = clean_env(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.update(extra)
    return env


def shown(done) -> dict[str, dict[str, str]]:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_with_no_settings_the_library_stays_on_this_machine(tmp_path):
    values = shown(run_cli("config", "show", "--json", env=env_for(tmp_path)))
    assert values["mode"]["value"] == "local"
    assert values["database"] == {"value": f"SQLite in {tmp_path / 'data'}", "from": "default"}
    assert values["data_dir"]["from"] == "environment VOICE_TRAINER_DATA"
    assert values["config file"]["value"] == "-"


def test_the_settings_file_in_the_config_dir_then_the_environment_then_the_command_line(tmp_path):
    config = tmp_path / "config" / "voice-trainer" / "voice-trainer.toml"
    config.parent.mkdir(parents=True)
    config.write_text('database = "postgresql://trainer:s3cret@db.centre.lan/voice"\n'
                      'recordings = "/mnt/voice-share"\nstation = "room2-pc07"\nconnect_timeout_s = 5\n',
                      encoding="utf-8")
    done = run_cli("config", "show", env=env_for(tmp_path))
    assert "s3cret" not in done.stdout and "postgresql://trainer:***@db.centre.lan/voice" in done.stdout
    values = shown(run_cli("config", "show", "--json", env=env_for(tmp_path)))
    assert values["mode"]["value"] == "centre"
    assert values["database"]["from"] == f"file {config}" and values["station"]["value"] == "room2-pc07"
    assert values["connect_timeout_s"]["value"] == "5" and values["config file"]["value"] == str(config)

    env = env_for(tmp_path, VOICE_TRAINER_RECORDINGS="/srv/other-share", VOICE_TRAINER_STATION="room9")
    values = shown(run_cli("config", "show", "--json", "--data-dir", str(tmp_path / "elsewhere"), env=env))
    assert values["recordings"] == {"value": "/srv/other-share", "from": "environment VOICE_TRAINER_RECORDINGS"}
    assert values["station"] == {"value": "room9", "from": "environment VOICE_TRAINER_STATION"}
    assert values["database"]["from"] == f"file {config}"
    assert values["data_dir"] == {"value": str(tmp_path / "elsewhere"), "from": "--data-dir"}


def test_config_names_another_settings_file(tmp_path):
    other = tmp_path / "centre.toml"
    other.write_text('database = "postgresql://db/voice"\nrecordings = "/mnt/share"\n', encoding="utf-8")
    values = shown(run_cli("--config", str(other), "config", "show", "--json", env=env_for(tmp_path)))
    assert values["database"] == {"value": "postgresql://db/voice", "from": f"file {other}"}
    assert values["config file"] == {"value": str(other), "from": "--config"}


@pytest.mark.parametrize("content,expected", [
    ('database = "postgresql://db/voice"\nrecordings = \n', "not a valid TOML file"),
    ('databse = "postgresql://db/voice"\n', "unknown setting 'databse'"),
    ('database = "mysql://db/voice"\nrecordings = "/mnt"\n', "give a postgresql://user@host/dbname URL"),
    ('database = "postgresql://db/voice"\n', "no recordings store"),
    ('recordings = "/mnt/share"\n', "no centre database"),
    ('database = "postgresql://db/v"\nrecordings = "/m"\nconnect_timeout_s = "soon"\n', "give seconds"),
    ('station = "a\\nb"\n', "short name"),
    ('xapi_home_page = "lms.example"\n', "http:// or https://"),
    ("\xff\xfe", "not UTF-8"),
], ids=["toml", "unknown key", "not postgres", "no store", "no database", "timeout", "station", "home page", "bytes"])
def test_a_bad_settings_file_is_one_clear_line(tmp_path, content, expected):
    config = tmp_path / "bad.toml"
    config.write_bytes(content.encode("utf-8", "surrogateescape") if content != "\xff\xfe" else b"\xff\xfe")
    message = assert_one_line_error(run_cli("--config", str(config), "sessions", "list", env=env_for(tmp_path)), 2)
    assert expected in message and (str(config) in message or "bad.toml" in message or expected == "give seconds")


def test_a_missing_settings_file_and_a_bad_environment_value_are_one_clear_line(tmp_path):
    message = assert_one_line_error(run_cli("--config", str(tmp_path / "none.toml"), "config", "show",
                                            env=env_for(tmp_path)), 2)
    assert "no such settings file" in message
    env = env_for(tmp_path, VOICE_TRAINER_DATABASE="sqlite:///tmp/x.db", VOICE_TRAINER_RECORDINGS="/tmp")
    message = assert_one_line_error(run_cli("sessions", "list", env=env), 2)
    assert "environment VOICE_TRAINER_DATABASE" in message


def test_an_unreachable_centre_is_one_clear_line_for_a_trainer(tmp_path):
    env = env_for(tmp_path, VOICE_TRAINER_DATABASE=f"postgresql://nobody@/none?host={tmp_path}",
                  VOICE_TRAINER_RECORDINGS=str(tmp_path))
    message = assert_one_line_error(run_cli("sessions", "list", env=env))
    assert "cannot be reached" in message and "VOICE_TRAINER_DATABASE" in message
