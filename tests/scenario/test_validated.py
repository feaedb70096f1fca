"""A scenario file found valid is read back from the cache of validated scenarios on the next load; a changed
file, a changed program, or a damaged or foreign entry is validated in full again, never served stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voice_trainer.errors import ScenarioErrors
from voice_trainer.scenario import validated
from voice_trainer.scenario.loader import load_file
from voice_trainer.scenario.validated import ValidatedScenarios

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "razryv.en.yaml"


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "razryv.en.yaml"
    path.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def entries(cache_home: Path) -> list[Path]:
    folder = cache_home / "voice-trainer" / "scenarios"
    return sorted(folder.glob("*.scenario")) if folder.exists() else []


def load_in_fresh_process(path: Path, cache_home: Path) -> dict:
    """Load in a new interpreter: what it imported tells whether the file was parsed (PyYAML) or read back."""
    code = ("import sys, json\nfrom pathlib import Path\nfrom voice_trainer.scenario.loader import load_file\n"
            "s = load_file(Path(sys.argv[1]))\n"
            "print(json.dumps({'opening': s.data.lines[s.data.opening][0], 'path': str(s.path), "
            "'parsed': 'yaml' in sys.modules, 'validators_built': 'pydantic.plugin._loader' in sys.modules}))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "XDG_CACHE_HOME": str(cache_home)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_valid_file_is_read_back_on_the_next_load_without_parsing(scenario_file, cache_home):
    first = load_in_fresh_process(scenario_file, cache_home)
    assert first["parsed"] and len(entries(cache_home)) == 1
    second = load_in_fresh_process(scenario_file, cache_home)
    assert not second["parsed"] and not second["validators_built"]
    assert second["opening"] == first["opening"] and second["path"] == str(scenario_file)


def test_what_is_read_back_equals_what_validation_gives(scenario_file, cache_home):
    fresh = load_file(scenario_file).data
    again = load_file(scenario_file).data
    assert again is not fresh and again == fresh
    assert again.model_dump() == fresh.model_dump()


def test_a_changed_file_is_never_served_from_the_cache(scenario_file, cache_home):
    before = load_file(scenario_file).data
    opening = before.lines[before.opening][0]
    scenario_file.write_text(scenario_file.read_text(encoding="utf-8").replace(opening, "A brand new first line."),
                             encoding="utf-8")
    after = load_in_fresh_process(scenario_file, cache_home)
    assert after["parsed"] and after["opening"] == "A brand new first line."


def test_a_file_made_invalid_gives_the_same_errors_as_without_a_cache(scenario_file, cache_home, tmp_path, monkeypatch):
    load_file(scenario_file)
    scenario_file.write_text(scenario_file.read_text(encoding="utf-8").replace("\ntitle:", "\ntitel:", 1),
                             encoding="utf-8")
    with pytest.raises(ScenarioErrors) as cached_home:
        load_file(scenario_file)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
    with pytest.raises(ScenarioErrors) as no_cache:
        load_file(scenario_file)
    assert [str(e) for e in cached_home.value.errors] == [str(e) for e in no_cache.value.errors]
    assert any("titel" in str(e) for e in no_cache.value.errors)


def test_an_invalid_file_is_not_kept(tmp_path, cache_home):
    bad = tmp_path / "bad.en.yaml"
    bad.write_text(SEED.read_text(encoding="utf-8").replace("\nopening:", "\nopenning:", 1), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ScenarioErrors):
            load_file(bad)
    assert entries(cache_home) == []


def _truncate(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])


def _flip_a_payload_byte(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))


def _other_scenarios_entry(entry: Path) -> None:
    """A whole, well-formed entry, but for another file's text, under this name."""
    other = ValidatedScenarios(entry.parent)
    other.put("some other text", validated.pickle.loads(entry.read_bytes()[validated._HEADER.size:]))
    foreign = next(p for p in entry.parent.glob("*.scenario") if p != entry)
    foreign.replace(entry)


def _not_a_scenario(entry: Path) -> None:
    """A consistent header and checksum around a pickle of something else."""
    payload = validated.pickle.dumps({"scenario": "not one"})
    key = entry.read_bytes()[len(validated._MAGIC): len(validated._MAGIC) + 32]
    entry.write_bytes(validated._HEADER.pack(validated._MAGIC, key, len(payload), validated._digest(payload)) + payload)


@pytest.mark.parametrize("damage", [_truncate, _flip_a_payload_byte, _other_scenarios_entry, _not_a_scenario,
                                    lambda e: e.write_bytes(b"")],
                         ids=["truncated", "flipped byte", "foreign entry", "not a scenario", "empty"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(scenario_file, cache_home, damage):
    good = load_file(scenario_file).data
    [entry] = entries(cache_home)
    damage(entry)
    assert ValidatedScenarios().get(scenario_file.read_text(encoding="utf-8")) is None
    assert load_file(scenario_file).data == good
    assert ValidatedScenarios().get(scenario_file.read_text(encoding="utf-8")) == good  # rewritten whole


def test_another_program_does_not_read_this_programs_entries(scenario_file, cache_home, monkeypatch):
    load_file(scenario_file)
    text = scenario_file.read_text(encoding="utf-8")
    assert ValidatedScenarios().get(text) is not None
    monkeypatch.setattr(validated, "_PROGRAM", b"another version of the schema or of pydantic")
    assert ValidatedScenarios().get(text) is None


def test_the_program_digest_covers_the_schema_source(monkeypatch, tmp_path):
    """Editing schema.py or checks.py changes every key: a scenario validated by the old code is not served."""
    package = tmp_path / "scenario"
    package.mkdir()
    for source in Path(validated.__file__).parent.glob("*.py"):
        (package / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(validated, "_PACKAGE_DIR", package)
    monkeypatch.setattr(validated, "_PROGRAM", None)
    before = validated._program()
    (package / "schema.py").write_text((package / "schema.py").read_text() + "\n# a change\n")
    monkeypatch.setattr(validated, "_PROGRAM", None)
    assert validated._program() != before


def test_an_unwritable_cache_folder_only_means_no_cache(scenario_file, tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert load_file(scenario_file).data == load_file(scenario_file).data


def test_entries_in_a_folder_others_can_write_are_not_read(scenario_file, cache_home):
    good = load_file(scenario_file).data
    folder = cache_home / "voice-trainer" / "scenarios"
    folder.chmod(0o777)
    try:
        assert ValidatedScenarios().get(scenario_file.read_text(encoding="utf-8")) is None
        assert load_file(scenario_file).data == good  # validated in full instead
    finally:
        folder.chmod(0o700)
    assert ValidatedScenarios().get(scenario_file.read_text(encoding="utf-8")) == good
