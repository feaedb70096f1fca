"""The seed's facts hold together: the drops come from the spring thaw, he has had the service about five
months, so he connected in autumn; `scenario check` holds date facts to the scenario's timeline."""

from __future__ import annotations

import pytest

from voice_trainer.errors import ScenarioError
from voice_trainer.scenario.loader import load, load_file

AUTUMN = {"ru": ("октября", "ноября", "декабря"), "en": ("october", "november", "december")}
SPRING = {"ru": ("марта", "апреля", "мая"), "en": ("march", "april", "may")}
FIVE_MONTHS = {"ru": "пять месяцев", "en": "five months"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_he_connected_in_autumn_about_five_months_before_a_spring_call(lang):
    s = load("razryv", lang).data
    assert s.timeline is not None and set(s.timeline.call_months) <= {3, 4}
    assert s.timeline.dates["connect_date"].months_before == (4, 6)
    for date in s.facts["connect_date"]:
        assert any(m in date.lower() for m in AUTUMN[lang]), date
        assert not any(m in date.lower() for m in SPRING[lang]), date
    assert all(FIVE_MONTHS[lang] in line.lower() or "5" in line for line in s.lines["opening"][:1])
    assert any(f"{{connect_date}}, {FIVE_MONTHS[lang]}" in line for line in s.lines["answer_connect_date"])


@pytest.mark.parametrize("lang,spring_date", [("ru", "третьего мая"), ("en", "on the third of May")])
def test_a_spring_connect_date_fails_the_check_with_file_line_and_key(tmp_path, lang, spring_date):
    seed = load("razryv", lang).path
    text = seed.read_text(encoding="utf-8")
    autumn = load("razryv", lang).data.facts["connect_date"][1]
    broken = tmp_path / f"spring.{lang}.yaml"
    broken.write_text(text.replace(f'"{autumn}"', f'"{spring_date}"'), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_file(broken)
    error = getattr(caught.value, "errors", [caught.value])[0]
    assert error.path == "facts.connect_date.1"
    assert error.line == next(n for n, line in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1)
                              if spring_date in line)
    assert "months before" in error.message and "10, 11" in error.message
