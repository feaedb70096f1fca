"""The day and time a trainee proposes ("приходите во вторник к одиннадцати", "come by tomorrow at noon"),
read from the words of a turn and said back in the customer's words.

Reads what a recognizer writes (number words) as well as typed digits ("в 16:00", "at 10:30 am").
Only proposals count: a day already past ("вчера в десять", "yesterday at ten") is not one, and a number
followed by a unit ("за двадцать секунд", "ten times") is not a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

DAYS = ("today", "tomorrow", "after_tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday")


@dataclass(frozen=True)
class DayTime:
    """A proposed day and/or time. `hour` is on the 24-hour clock once the part of day is known;
    `twelve_hour` keeps that it was said on a 12-hour clock without saying which half."""

    day: str | None = None  # one of DAYS
    hour: int | None = None
    minute: int = 0
    by: bool = False  # "к десяти" / "by ten": at the latest, not sharp
    part: str | None = None  # morning | afternoon | evening | night, when the trainee said it
    half_past: bool = False  # said as "в половине третьего" / "half past two"
    twelve_hour: bool = True  # said as 1-12 ("в три"), not as "в 15:00"; said back the same way


def read_day_and_time(text: str, lang: str) -> DayTime | None:
    """The first day-and-time proposal in `text`, or None."""
    reader = _RU if lang.split("-")[0] == "ru" else _EN
    return reader.read(_words(text))


def say_day_and_time(when: DayTime, lang: str) -> str:
    return (_RU if lang.split("-")[0] == "ru" else _EN).say(when)


def vocabulary(lang: str) -> set[str]:
    """Every word the reader understands, for recognizer grammars."""
    reader = _RU if lang.split("-")[0] == "ru" else _EN
    return set(reader.words())


def _words(text: str) -> list[str]:
    text = text.lower().replace("ё", "е")
    return re.findall(r"\d{1,2}[:.]\d{2}|\d+|[a-zа-я']+", text)


def _clock(token: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?", token)
    if not m:
        return None
    hour, minute = int(m[1]), int(m[2] or 0)
    return (hour, minute) if hour <= 24 and minute < 60 else None


def _distance(i: int, time: tuple[int, int, DayTime]) -> int:
    start, end, _ = time
    return 0 if start <= i < end else start - i if i < start else i - end + 1


def _daytime_hour(hour: int, part: str | None) -> int:
    """24-hour value: by the part of day when said, else office hours (one to seven is afternoon)."""
    if hour >= 13 or hour == 0:
        return hour % 24
    if part in ("afternoon", "evening"):
        return hour + 12 if hour < 12 else 12
    if part == "night":
        return 0 if hour == 12 else hour if hour < 5 else hour + 12
    if part == "morning":
        return 0 if hour == 12 else hour
    return hour + 12 if 1 <= hour <= 7 else hour


class _Reader:
    """Scans the words for a day word and a time expression close together."""

    day_words: dict[str, str]
    past_words: frozenset[str]
    window = 6  # a day word and a time this many words apart belong together

    def read(self, words: list[str]) -> DayTime | None:
        times = list(self._times(words))
        days = self._days(words)
        pasts = [i for i, w in enumerate(words) if w in self.past_words]
        day_of: dict[int, tuple[int, str]] = {}
        for i, day in days:
            k = self._nearest(times, i)
            if k is not None and (k not in day_of or _distance(i, times[k]) < _distance(day_of[k][0], times[k])):
                day_of[k] = (i, day)
        past_times = {self._nearest(times, i) for i in pasts}
        candidates: list[tuple[int, DayTime]] = []
        for k, (start, _, when) in enumerate(times):
            if k in day_of:
                candidates.append((start, replace(when, day=day_of[k][1])))
            elif k not in past_times:
                candidates.append((start, when))
        attached = {i for i, _ in day_of.values()}
        for i, day in days:
            part = self._part_after(words, i)
            # "today" alone is as often about the drops as about a visit; a day alone must be ahead.
            if i not in attached and (day != "today" or part):
                candidates.append((i, DayTime(day=day, part=part)))
        candidates.sort(key=lambda c: c[0])
        return candidates[0][1] if candidates else None

    def _nearest(self, times: list[tuple[int, int, DayTime]], i: int) -> int | None:
        near = [(_distance(i, t), k) for k, t in enumerate(times) if _distance(i, t) <= self.window]
        return min(near)[1] if near else None

    def _days(self, words: list[str]) -> list[tuple[int, str]]:
        """Day words, without the ones said of the past ("в прошлую пятницу", "last Friday")."""
        return [(i, self.day_words[w]) for i, w in enumerate(words)
                if w in self.day_words and not (i > 0 and words[i - 1] in self.past_words)]

    def _part_after(self, words: list[str], i: int) -> str | None:
        return None

    def _times(self, words: list[str]):
        raise NotImplementedError

    def say(self, when: DayTime) -> str:
        raise NotImplementedError

    def words(self) -> list[str]:
        raise NotImplementedError


# --- Russian --------------------------------------------------------------------------------------

_RU_HOURS = {
    # nominative (в десять) and dative (к десяти) forms
    "час": 1, "часу": 1, "один": 1, "одному": 1, "два": 2, "двум": 2, "три": 3, "трем": 3, "четыре": 4,
    "четырем": 4, "пять": 5, "пяти": 5, "шесть": 6, "шести": 6, "семь": 7, "семи": 7, "восемь": 8,
    "восьми": 8, "девять": 9, "девяти": 9, "десять": 10, "десяти": 10, "одиннадцать": 11, "одиннадцати": 11,
    "двенадцать": 12, "двенадцати": 12, "тринадцать": 13, "тринадцати": 13, "четырнадцать": 14,
    "четырнадцати": 14, "пятнадцать": 15, "пятнадцати": 15, "шестнадцать": 16, "шестнадцати": 16,
    "семнадцать": 17, "семнадцати": 17, "восемнадцать": 18, "восемнадцати": 18, "девятнадцать": 19,
    "девятнадцати": 19, "двадцать": 20, "двадцати": 20,
}
# "в половине третьего": the genitive ordinal of the next hour
_RU_ORDINAL_GEN = {
    "первого": 1, "второго": 2, "третьего": 3, "четвертого": 4, "пятого": 5, "шестого": 6, "седьмого": 7,
    "восьмого": 8, "девятого": 9, "десятого": 10, "одиннадцатого": 11, "двенадцатого": 12,
}
_RU_MINUTES = {
    "ноль": 0, "пять": 5, "десять": 10, "пятнадцать": 15, "двадцать": 20, "тридцать": 30, "сорок": 40,
    "пятьдесят": 50,
}
_RU_UNITS = {"один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9}
_RU_PARTS = {"утра": "morning", "утром": "morning", "дня": "afternoon", "днем": "afternoon", "вечера": "evening",
             "вечером": "evening", "ночи": "night", "ночью": "night"}
_RU_BEFORE = {"в": False, "во": False, "к": True, "около": True, "часам": True, "часикам": True}
# A number followed by one of these is an amount, not a time.
_RU_UNIT_NOUN = re.compile(r"^(секунд|минут|раз|месяц|дн|ден|недел|лет|год|процент|рубл|мегабит|килобит|гигабайт|мегабайт|абонент|человек|этаж|кабинет|штук)")


class _Russian(_Reader):
    day_words = {"сегодня": "today", "завтра": "tomorrow", "послезавтра": "after_tomorrow",
                 "понедельник": "monday", "вторник": "tuesday", "среду": "wednesday", "среда": "wednesday",
                 "четверг": "thursday", "пятницу": "friday", "пятница": "friday", "субботу": "saturday",
                 "суббота": "saturday", "воскресенье": "sunday"}
    past_words = frozenset({"вчера", "позавчера", "прошлый", "прошлой", "прошлую", "прошлое", "позапрошлый",
                            "позапрошлую", "назад"})

    def _part_after(self, words: list[str], i: int) -> str | None:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        return _RU_PARTS.get(nxt)

    def _times(self, words: list[str]):
        i = 0
        while i < len(words):
            found = self._time_at(words, i)
            if found:
                end, when = found
                yield i, end, when
                i = end
            else:
                i += 1

    def _time_at(self, words: list[str], i: int) -> tuple[int, DayTime] | None:
        w = words[i]
        if w in ("полдень", "полудню") and i > 0 and words[i - 1] in _RU_BEFORE:
            return i + 1, DayTime(hour=12, by=_RU_BEFORE[words[i - 1]])
        if w == "без":
            return self._to_the_hour(words, i)
        if w not in _RU_BEFORE or i + 1 >= len(words):
            return None
        by = _RU_BEFORE[w]
        j = i + 1
        half = self._half_past(words, j)
        if half:
            hour, end = half
            part, end = self._part(words, end)
            return end, DayTime(hour=_daytime_hour(hour, part), minute=30, by=by, part=part, half_past=True)
        clock = _clock(words[j])
        if clock:
            hour, minute = clock
            end = j + 1
            if ":" not in words[j] and "." not in words[j] and end < len(words) and re.fullmatch(r"\d{2}", words[end]):
                minute, end = int(words[end]), end + 1
            twelve = 1 <= hour <= 12
        elif words[j] in _RU_HOURS:
            hour, end = _RU_HOURS[words[j]], j + 1
            if hour == 20 and end < len(words) and words[end] in ("один", "одному", "два", "двум", "три", "трем"):
                hour, end = hour + _RU_HOURS[words[end]], end + 1
            minute, twelve = 0, hour <= 12
        else:
            return None
        if end < len(words) and words[end].startswith("час"):
            end += 1
        if not minute and not clock:
            minute, end = self._minutes(words, end)
            if minute and end < len(words) and words[end].startswith("минут"):
                end += 1
        part, end = self._part(words, end)
        if not part and end < len(words) and _RU_UNIT_NOUN.match(words[end]) or minute >= 60:
            return None
        return end, DayTime(hour=_daytime_hour(hour, part), minute=minute, by=by, part=part, twelve_hour=twelve)

    @staticmethod
    def _half_past(words: list[str], j: int) -> tuple[int, int] | None:
        """'половине третьего' / 'пол третьего' / 'полтретьего': (the hour before, index after)."""
        w = words[j] if j < len(words) else ""
        nxt = words[j + 1] if j + 1 < len(words) else ""
        if w in ("половине", "пол") and nxt in _RU_ORDINAL_GEN:
            return (_RU_ORDINAL_GEN[nxt] - 1) or 12, j + 2
        if w.startswith("пол") and w[3:] in _RU_ORDINAL_GEN:
            return (_RU_ORDINAL_GEN[w[3:]] - 1) or 12, j + 1
        return None

    def _to_the_hour(self, words: list[str], i: int) -> tuple[int, DayTime] | None:
        """'без четверти три', 'без десяти одиннадцать'."""
        before = {"четверти": 15, "пятнадцати": 15, "десяти": 10, "пяти": 5, "двадцати": 20}
        if i + 2 >= len(words) or words[i + 1] not in before or words[i + 2] not in _RU_HOURS:
            return None
        hour = _RU_HOURS[words[i + 2]]
        end = i + 3
        if end < len(words) and _RU_UNIT_NOUN.match(words[end]):
            return None
        part, end = self._part(words, end)
        hour = (hour - 1) or 12
        return end, DayTime(hour=_daytime_hour(hour, part), minute=60 - before[words[i + 1]], part=part)

    @staticmethod
    def _minutes(words: list[str], k: int) -> tuple[int, int]:
        if k < len(words) and words[k] == "ноль" and k + 1 < len(words) and words[k + 1] == "ноль":
            return 0, k + 2
        if k < len(words) and words[k] in _RU_MINUTES and words[k] != "ноль":
            minute, k = _RU_MINUTES[words[k]], k + 1
            if minute >= 20 and k < len(words) and words[k] in _RU_UNITS:
                minute, k = minute + _RU_UNITS[words[k]], k + 1
            return minute, k
        return 0, k

    @staticmethod
    def _part(words: list[str], k: int) -> tuple[str | None, int]:
        if k < len(words) and words[k] in _RU_PARTS:
            return _RU_PARTS[words[k]], k + 1
        return None, k

    def say(self, when: DayTime) -> str:
        out = []
        if when.day:
            out.append(_RU_SAY_DAY[when.day])
        if when.hour is not None:
            out.append(self._say_time(when))
        elif when.part:
            out.append({"morning": "утром", "afternoon": "днём", "evening": "вечером", "night": "ночью"}[when.part])
        return " ".join(out)

    def _say_time(self, when: DayTime) -> str:
        prep = "к" if when.by and not when.minute or when.half_past and when.by else "в"
        if when.hour == 12 and when.minute == 0 and not when.part:
            return "к полудню" if when.by else "в полдень"
        twelve = when.hour % 12 or 12
        if when.half_past:
            text = f"половине {_RU_ORDINAL_GEN_BY_NUMBER[twelve % 12 + 1]}"
        elif when.minute == 45 and (when.twelve_hour or when.part):
            prep, text = "без", "четверти " + _RU_NOMINATIVE[twelve % 12 + 1]
        elif when.twelve_hour or when.part:
            text = (_RU_DATIVE if prep == "к" else _RU_NOMINATIVE)[twelve]
            if when.minute:
                text += " " + _ru_minutes(when.minute)
        else:
            text = (_RU_DATIVE if prep == "к" else _RU_NOMINATIVE)[when.hour]
            text += " " + (_ru_minutes(when.minute) if when.minute else "часам" if prep == "к" else _ru_hours_word(when.hour))
            return f"{prep} {text}"
        if when.part:
            text += " " + {"morning": "утра", "afternoon": "дня", "evening": "вечера", "night": "ночи"}[when.part]
        return f"{prep} {text}"

    def words(self) -> list[str]:
        return [*self.day_words, *_RU_HOURS, *_RU_ORDINAL_GEN, *_RU_MINUTES, *_RU_PARTS, *_RU_BEFORE,
                "полдень", "полудню", "половине", "часов", "часа", "минут"]


_RU_SAY_DAY = {"today": "сегодня", "tomorrow": "завтра", "after_tomorrow": "послезавтра", "monday": "в понедельник",
               "tuesday": "во вторник", "wednesday": "в среду", "thursday": "в четверг", "friday": "в пятницу",
               "saturday": "в субботу", "sunday": "в воскресенье"}
_RU_NOMINATIVE = {1: "час", 2: "два", 3: "три", 4: "четыре", 5: "пять", 6: "шесть", 7: "семь", 8: "восемь",
                  9: "девять", 10: "десять", 11: "одиннадцать", 12: "двенадцать", 13: "тринадцать",
                  14: "четырнадцать", 15: "пятнадцать", 16: "шестнадцать", 17: "семнадцать", 18: "восемнадцать",
                  19: "девятнадцать", 20: "двадцать", 21: "двадцать один", 22: "двадцать два", 23: "двадцать три",
                  0: "ноль"}
_RU_DATIVE = {1: "часу", 2: "двум", 3: "трём", 4: "четырём", 5: "пяти", 6: "шести", 7: "семи", 8: "восьми",
              9: "девяти", 10: "десяти", 11: "одиннадцати", 12: "двенадцати", 13: "тринадцати", 14: "четырнадцати",
              15: "пятнадцати", 16: "шестнадцати", 17: "семнадцати", 18: "восемнадцати", 19: "девятнадцати",
              20: "двадцати", 21: "двадцати одному", 22: "двадцати двум", 23: "двадцати трём", 0: "нулю"}
_RU_ORDINAL_GEN_BY_NUMBER = {v: k for k, v in _RU_ORDINAL_GEN.items()}
_RU_TENS = {20: "двадцать", 30: "тридцать", 40: "сорок", 50: "пятьдесят"}


def _ru_minutes(n: int) -> str:
    if n < 10:
        return "ноль " + {1: "одна", 2: "две"}.get(n, _RU_NOMINATIVE[n])
    if n < 20:
        return _RU_NOMINATIVE[n]
    tens, units = divmod(n, 10)
    return _RU_TENS[tens * 10] + (" " + {1: "одна", 2: "две"}.get(units, _RU_NOMINATIVE[units]) if units else "")


def _ru_hours_word(n: int) -> str:
    if n % 10 == 1 and n != 11:
        return "час"
    return "часа" if n % 10 in (2, 3, 4) and n not in (12, 13, 14) else "часов"


# --- English --------------------------------------------------------------------------------------

_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10, "eleven": 11, "twelve": 12}
_EN_MINUTES = {"oh": 0, "o": 0, "five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
               "fifty": 50}
_EN_BEFORE = {"at": False, "by": True, "around": True, "about": True}
_EN_DAYS = {"today": "today", "tonight": "today", "tomorrow": "tomorrow", "monday": "monday", "tuesday": "tuesday",
            "wednesday": "wednesday", "thursday": "thursday", "friday": "friday", "saturday": "saturday",
            "sunday": "sunday"}
# After a bare number word these make it something else than a time ("at one point", "ten times").
_EN_NOT_TIME = re.compile(r"^(second|minute|time|times|percent|month|day|week|year|point|stage|moment|of|more|less|"
                          r"megabit|gig|meg|people|person|drop|disconnect|go|or|and|hundred|thousand|euro|dollar|pound)")


class _English(_Reader):
    day_words = _EN_DAYS
    past_words = frozenset({"yesterday", "ago", "last"})

    def _days(self, words: list[str]) -> list[tuple[int, str]]:
        days = super()._days(words)
        for i in range(len(words) - 3):
            if words[i:i + 4] == ["the", "day", "after", "tomorrow"]:
                days = [(k, "after_tomorrow" if k == i + 3 else d) for k, d in days]
        return days

    def _times(self, words: list[str]):
        i = 0
        while i < len(words):
            found = self._time_at(words, i)
            if found:
                end, when = found
                yield i, end, when
                i = end
            else:
                i += 1

    def _time_at(self, words: list[str], i: int) -> tuple[int, DayTime] | None:
        w = words[i]
        if w in ("noon", "midday") and i > 0 and words[i - 1] in _EN_BEFORE:
            return i + 1, DayTime(hour=12, by=_EN_BEFORE[words[i - 1]])
        if w not in _EN_BEFORE:
            return None
        by = _EN_BEFORE[w]
        j = i + 1
        half = None
        if words[j:j + 2] == ["half", "past"]:
            half, j = 30, j + 2
        elif words[j:j + 3] in (["a", "quarter", "past"], ["quarter", "past"]):
            half, j = 15, j + (3 if words[j] == "a" else 2)
        elif words[j:j + 3] in (["a", "quarter", "to"], ["quarter", "to"]):
            half, j = -15, j + (3 if words[j] == "a" else 2)
        if j >= len(words):
            return None
        clock = _clock(words[j])
        if clock:
            hour, minute = clock
        elif words[j] in _EN_NUMBERS:
            hour, minute = _EN_NUMBERS[words[j]], 0
        else:
            return None
        end = j + 1
        if half is None and not clock and end < len(words):
            minute, end = self._minutes(words, end)
        strong = bool(clock) or half is not None or minute != 0
        if words[end:end + 1] in (["oclock"], ["o'clock"]):
            end, strong = end + 1, True
        elif words[end:end + 2] == ["o", "clock"]:
            end, strong = end + 2, True
        part, end = self._part(words, end)
        strong = strong or part is not None
        if end < len(words) and _EN_NOT_TIME.match(words[end]) and part is None:
            return None
        if not strong and words[i] != "at" and words[i] != "by":
            return None
        if half is not None and half > 0:
            minute = half
        elif half == -15:
            hour, minute = (hour - 1) or 12, 45
        return end, DayTime(hour=_daytime_hour(hour, part), minute=minute, by=by, part=part,
                            half_past=half == 30, twelve_hour=hour <= 12)

    @staticmethod
    def _minutes(words: list[str], k: int) -> tuple[int, int]:
        if k < len(words) and words[k] in ("oh", "o") and k + 1 < len(words) and words[k + 1] in _EN_NUMBERS:
            return _EN_NUMBERS[words[k + 1]], k + 2
        if k < len(words) and words[k] in _EN_MINUTES and words[k] not in ("oh", "o"):
            minute, k = _EN_MINUTES[words[k]], k + 1
            if minute >= 20 and k < len(words) and words[k] in _EN_NUMBERS and _EN_NUMBERS[words[k]] < 10:
                minute, k = minute + _EN_NUMBERS[words[k]], k + 1
            return minute, k
        return 0, k

    @staticmethod
    def _part(words: list[str], k: int) -> tuple[str | None, int]:
        nxt = words[k:k + 3]
        if nxt[:1] in (["am"], ["pm"]):
            return ("morning" if nxt[0] == "am" else "afternoon"), k + 1
        if nxt[:2] in (["a", "m"], ["p", "m"]):
            return ("morning" if nxt[0] == "a" else "afternoon"), k + 2
        if nxt[:2] == ["in", "the"] and len(nxt) == 3 and nxt[2] in ("morning", "afternoon", "evening"):
            return nxt[2], k + 3
        if nxt[:2] == ["at", "night"]:
            return "night", k + 2
        return None, k

    def _part_after(self, words: list[str], i: int) -> str | None:
        if words[i] == "tonight":
            return "evening"
        nxt = words[i + 1] if i + 1 < len(words) else ""
        return nxt if nxt in ("morning", "afternoon", "evening") else None

    def say(self, when: DayTime) -> str:
        out = []
        if when.day:
            out.append(_EN_SAY_DAY[when.day])
        if when.hour is not None:
            out.append(self._say_time(when))
        elif when.part:
            out.append(f"in the {when.part}" if when.part != "night" else "at night")
        return " ".join(out)

    def _say_time(self, when: DayTime) -> str:
        prep = "by" if when.by else "at"
        if when.hour == 12 and when.minute == 0:
            return f"{prep} noon"
        twelve = when.hour % 12 or 12
        if when.half_past:
            words = f"half past {_EN_WORDS[twelve]}"
        elif when.minute == 15:
            words = f"a quarter past {_EN_WORDS[twelve]}"
        elif when.minute == 45:
            words = f"a quarter to {_EN_WORDS[twelve % 12 + 1]}"
        elif when.minute:
            words = f"{_EN_WORDS[twelve]} {_en_minutes(when.minute)}"
        else:
            words = _EN_WORDS[twelve]
        part = when.part
        if not part and not when.twelve_hour:
            part = "morning" if when.hour < 12 else "afternoon" if when.hour <= 17 else "evening"
        if part:
            words += " at night" if part == "night" else f" in the {part}"
        return f"{prep} {words}"

    def words(self) -> list[str]:
        return [*_EN_DAYS, *_EN_NUMBERS, *_EN_MINUTES, *_EN_BEFORE, "noon", "midday", "half", "past", "quarter",
                "oclock", "am", "pm", "morning", "afternoon", "evening", "night", "day", "after"]


_EN_SAY_DAY = {"today": "today", "tomorrow": "tomorrow", "after_tomorrow": "the day after tomorrow",
               "monday": "on Monday", "tuesday": "on Tuesday", "wednesday": "on Wednesday",
               "thursday": "on Thursday", "friday": "on Friday", "saturday": "on Saturday", "sunday": "on Sunday"}
_EN_WORDS = {v: k for k, v in _EN_NUMBERS.items()}
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty"}


def _en_minutes(n: int) -> str:
    if n < 10:
        return "oh " + _EN_WORDS[n]
    if n in (10, 11, 12):
        return _EN_WORDS[n]
    teens = {13: "thirteen", 14: "fourteen", 15: "fifteen", 16: "sixteen", 17: "seventeen", 18: "eighteen",
             19: "nineteen"}
    if n < 20:
        return teens[n]
    tens, units = divmod(n, 10)
    return _EN_TENS[tens * 10] + (f"-{_EN_WORDS[units]}" if units else "")


_RU = _Russian()
_EN = _English()
