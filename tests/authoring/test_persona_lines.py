"""Persona-specific lines, in both documented forms: `key@stubborn` beside `key` (last week's README), and
`key: {stubborn: [...], default: [...]}`. `scenario check` used to accept the first and the engine ignored it:
the stubborn customer spoke the reasonable one's lines."""

from __future__ import annotations

import pytest

from tests.authoring.cli import last_json, run, template_text, write_scenario
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.events import CustomerLine
from voice_trainer.scenario.loader import load_file

REASONABLE = "Excuse me? Don't talk to me like that!"
STUBBORN = "How dare you! I want your manager, right now!"
RUDE = "that is not my problem"

AT_FORM = template_text("sample", "en")  # the template writes insulted + insulted@stubborn
MAPPING_FORM = AT_FORM.replace(
    f'  insulted:\n    - "{REASONABLE}"\n  insulted@stubborn:\n    - "{STUBBORN}"\n',
    f'  insulted:\n    default:\n      - "{REASONABLE}"\n    stubborn:\n      - "{STUBBORN}"\n',
)


def reply_to(path, persona: str, text: str = RUDE) -> str:
    call = Conversation(load_file(path).data, persona=persona, seed=1)
    call.opening()
    return next(e for e in call.handle(text, 1) if isinstance(e, CustomerLine)).text


@pytest.mark.parametrize("form", ["at", "mapping"])
def test_each_persona_speaks_its_own_lines(form, tmp_path):
    assert MAPPING_FORM != AT_FORM
    path = write_scenario(tmp_path, "sample", "en", AT_FORM if form == "at" else MAPPING_FORM)
    assert reply_to(path, "stubborn").startswith(STUBBORN)  # then he hangs up: 65 + 30 x 1.3 anger
    assert reply_to(path, "reasonable") == REASONABLE


def test_a_stubborn_call_on_the_command_line_uses_the_stubborn_line(tmp_path):
    path = write_scenario(tmp_path, "sample", "en", AT_FORM)
    done = run("practice", "--text", "--scenario", path, "--persona", "stubborn", "--json", "--mute",
               "--data-dir", tmp_path / "data", input=RUDE + "\n")
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["turns"][0]["customer"].startswith(STUBBORN)


def test_a_rule_that_names_the_persona_key_still_says_it(tmp_path):
    """Some scenarios written from the old README say `say: insulted@stubborn` in a rule: it keeps working."""
    text = AT_FORM.replace("    anger: 30\n    say: insulted\n", "    anger: 30\n    say: insulted@stubborn\n", 1)
    path = write_scenario(tmp_path, "sample", "en", text)
    assert reply_to(path, "reasonable") == STUBBORN


def test_both_forms_for_the_same_persona_is_one_clear_error(tmp_path):
    text = MAPPING_FORM.replace("  repeating:\n", f'  insulted@stubborn:\n    - "Again?"\n  repeating:\n', 1)
    path = write_scenario(tmp_path, "sample", "en", text)
    done = run("scenario", "check", path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "'insulted@stubborn'" in done.stderr and "keep one" in done.stderr


def test_check_points_at_the_at_form_line_of_a_bad_variant(tmp_path):
    text = AT_FORM.replace(f'  insulted@stubborn:\n    - "{STUBBORN}"\n', "  insulted@stubborn:\n    - 5\n", 1)
    path = write_scenario(tmp_path, "sample", "en", text)
    done = run("scenario", "check", path)
    assert done.returncode == 3
    lineno = text.splitlines().index("    - 5") + 1
    assert f"{path}:{lineno} (lines.insulted@stubborn.0)" in done.stderr, done.stderr
