"""How long a pause must last before the trainee's turn is over, judged from what they have said so far.

People hand the turn over ~200 ms after a finished phrase (Stivers et al. 2009), but pause far longer
mid-thought: after "и", "но", "потому что", "and", "because", on "э-э", "um", or between the digits of
a number being recalled. One fixed trailing silence is either too slow after a finished phrase or cuts
the trainee off mid-sentence. So the wait follows two cues: the words heard so far, and how the voice
ended before the pause (its pitch, audio/prosody.py: fallen to the speaker's low, or held level).

    ends on a conjunction, a preposition, a filler or a number      -> ceiling_ms (still talking)
    otherwise one point for "finished" each: the words make a complete move; the pitch fell;
    one point against: the pitch was held level
        more for than against                                       -> floor_ms   (answer now)
        more against                                                -> ceiling_ms (still talking)
        even (nothing understood, no pitch to read, or a move said on a held note) -> neutral_ms

The pitch matters most where the words are thin: a recognizer that hears little (a small model, a noisy
line) still lets a finished sentence be answered at once, and a held note keeps a pause open when the
connector before it was not heard.

The word lists are language knowledge, the same for every scenario (ru, en; ko for the benchmark,
whose only installable model is Korean). An unknown language has no continuation words: a complete
move still shortens the wait, everything else gets the neutral one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

_RU = {
    # conjunctions and clause openers
    "и", "а", "но", "или", "либо", "что", "чтобы", "потому", "поэтому", "так", "как", "если", "когда", "хотя",
    "пока", "чем", "зато", "ибо", "причем", "притом", "то", "ни", "который", "которая", "которое", "которые",
    "будто", "словно",
    # prepositions
    "в", "во", "на", "с", "со", "к", "ко", "по", "за", "из", "изо", "от", "ото", "до", "для", "о", "об", "обо",
    "про", "у", "без", "через", "при", "над", "под", "перед", "между", "около", "после", "вокруг", "из-за",
    "из-под", "насчет", "вроде", "кроме", "среди", "против", "вместо", "ради", "ввиду", "вследствие", "благодаря",
    "согласно", "касательно", "относительно", "поводу",  # "по поводу" and other compound prepositions
    # fillers and hesitations
    "э", "ээ", "эээ", "эм", "ээм", "эмм", "м", "мм", "ммм", "хм", "хмм", "гм", "ну", "это", "значит",
    "типа", "короче", "собственно", "например", "скажем", "допустим", "мой", "моя", "мое", "мои", "ваш",
    "ваша", "ваше", "ваши", "наш", "наша", "наше", "наши", "этот", "эта", "эти", "тот", "та", "те",
}
_RU_NUMBERS = {  # in case one is being recalled
    "ноль", "один", "одна", "одно", "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять",
    "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
    "семнадцать", "восемнадцать", "девятнадцать", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят",
    "семьдесят", "восемьдесят", "девяносто", "сто", "двести", "триста", "четыреста", "пятьсот", "тысяча",
    "тысячи", "тысяч",
}
_EN = {
    "and", "but", "or", "nor", "so", "because", "cause", "cos", "that", "which", "who", "whom", "whose", "if",
    "when", "while", "whereas", "although", "though", "unless", "until", "than", "as",
    # prepositions that do not end phrasal verbs ("plugged in", "switched on" end a question)
    "to", "of", "at", "for", "with", "from", "by", "about", "into", "onto", "under", "between", "through",
    "without", "within", "during", "against", "per", "via",
    "the", "a", "an", "my", "your", "our", "their", "his", "her", "its", "this", "these", "those", "some",
    "is", "are", "was", "were", "be", "been", "will", "would", "can", "could", "should", "have", "has", "had",
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "ehm", "hmm", "hm", "mm", "mmm", "eh", "like",
}
_EN_NUMBERS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand",
}
_KO = {
    # conjunctions and sentence connectors
    "그리고", "하지만", "그런데", "근데", "그래서", "그러니까", "그러면", "그럼", "그러나", "왜냐하면", "또는", "또",
    "아니면", "혹은", "그리고요", "그래서요",
    # fillers
    "음", "어", "저", "그", "뭐", "저기", "아", "에", "으음", "그게", "있잖아요", "있잖아",
}
_KO_NUMBERS = {  # Sino-Korean and native
    "영", "공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "십", "백", "천", "만",
    "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉", "열", "스물", "서른", "마흔", "쉰",
}
CONNECTORS: dict[str, frozenset[str]] = {"ru": frozenset(_RU), "en": frozenset(_EN), "ko": frozenset(_KO)}
NUMBERS: dict[str, frozenset[str]] = {"ru": frozenset(_RU_NUMBERS), "en": frozenset(_EN_NUMBERS),
                                      "ko": frozenset(_KO_NUMBERS)}
CONTINUATIONS = {lang: CONNECTORS[lang] | NUMBERS[lang] for lang in CONNECTORS}

# A word the recognizer writes with digits ("5", "14:30") is a number too.
_NUMBER = re.compile(r"^\d+([:.,]\d+)?$")


def continuation_words(lang: str) -> frozenset[str]:
    """The words a phrase cannot end on in `lang` (none for a language without a list)."""
    return CONTINUATIONS.get(lang.split("-")[0].lower(), frozenset())


def grammar_words(lang: str) -> frozenset[str]:
    """The connectors and fillers a live grammar should know so the rule can see them. Not the numbers,
    nor one-letter words: short words that sound like parts of longer ones make a grammar decoder hear
    them everywhere (measured on the benchmark's Korean: fewer moves understood with them)."""
    return frozenset(w for w in CONNECTORS.get(lang.split("-")[0].lower(), frozenset()) if len(w) >= 2)


@dataclass(frozen=True)
class TurnEndRule:
    """The trailing silence that ends a turn, from the words so far. Floor <= neutral <= ceiling."""

    lang: str
    neutral_ms: int
    floor_ms: int
    ceiling_ms: int

    def __post_init__(self) -> None:
        if not self.floor_ms <= self.neutral_ms <= self.ceiling_ms:
            raise ValueError(
                f"the end-of-turn pause needs floor <= trailing silence <= ceiling, got "
                f"{self.floor_ms} / {self.neutral_ms} / {self.ceiling_ms} ms"
            )

    def wait_ms(self, text: str, complete_move: Callable[[str], bool], phrase_end: str = "unknown") -> int:
        """How long a pause after `text` must last to end the turn. `complete_move(text)` says whether the
        words make a move the customer can answer; `phrase_end` is how the voice ended (prosody.PhraseEnd's
        kind: falling, rising, level, unknown)."""
        return self.judge(text, complete_move, phrase_end)[0]

    def judge(self, text: str, complete_move: Callable[[str], bool], phrase_end: str = "unknown") -> tuple[int, str]:
        """(the wait in ms, why: the cues that decided it, e.g. "move+falling", "connector", "level")."""
        words = text.lower().replace("ё", "е").split()
        if words and self.still_talking(words[-1]):
            return self.ceiling_ms, "connector"
        cues = []
        if words and complete_move(text):
            cues.append("move")
        if phrase_end in ("falling", "level"):
            cues.append(phrase_end)
        score = ("move" in cues) + ("falling" in cues) - ("level" in cues)
        why = "+".join(cues) or "nothing"
        if score > 0:
            return self.floor_ms, why
        if score < 0:
            return self.ceiling_ms, why
        return self.neutral_ms, why

    def still_talking(self, last_word: str) -> bool:
        """The phrase cannot end on this word: a conjunction, preposition, filler or a number."""
        word = last_word.strip(".,!?…-").lower()
        return word in continuation_words(self.lang) or bool(_NUMBER.match(word))
