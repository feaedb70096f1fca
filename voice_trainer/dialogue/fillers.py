"""Fillers and hesitations: words a nervous speaker puts between the words that carry meaning.

They are removed before patterns are matched, so they neither break a phrase ("до, э-э, свидания") nor
trigger a move. Some fillers are also ordinary words: "короче" is the comparative of "короткий", "like"
is a verb, "в общем" can be "в общем доступе", "типа" can be "какого типа модем". Each of those is
a filler only in the contexts listed here; elsewhere it stays. This is language knowledge, the same for
every scenario.
"""

from __future__ import annotations

from voice_trainer.dialogue.text import Token

# Always hesitation sounds.
_RU_SOUNDS = frozenset({"э", "ээ", "эээ", "эм", "ээм", "эмм", "м", "мм", "ммм", "хм", "хмм", "гм", "кхм"})
_EN_SOUNDS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ehm", "hmm", "hm", "mm", "mmm", "eh"})

# Filler phrases that are never anything else, longest first.
_RU_PHRASES = (
    ("в", "общем", "и", "целом"), ("в", "общем", "то"), ("короче", "говоря"), ("так", "сказать"),
    ("это", "самое"), ("как", "говорится"), ("скажем", "так"), ("в", "принципе"), ("честно", "говоря"),
    ("собственно", "говоря"),
)
_EN_PHRASES = (("you", "know", "what", "i", "mean"),)

# "ну" stays before these: "ну да, ну да" and "ну вы даёте" are sarcasm, "да ну вас" is rude.
_RU_NU_KEEPS = frozenset({"да", "вы", "ты", "и", "вас", "тебя", "уж", "нет", "конечно", "же", "ладно"})
# A pronoun and a verb after "как бы" make it a real "how would": "как бы вам объяснить", "как бы вы хотели".
_RU_KAK_BY_KEEPS = frozenset({"вы", "вам", "вас", "нам", "мне", "я", "мы", "ты", "тебе", "он", "она", "они", "это",
                              "то", "так", "не"})
# Before "короче" these make it a comparative: "намного короче", "стал короче".
_RU_SHORTER_BEFORE = frozenset({"намного", "гораздо", "еще", "чуть", "значительно", "немного", "все", "стал", "стала",
                                "стало", "стали", "становится", "был", "была", "было", "будет", "сделать", "сделали",
                                "даже", "вдвое", "втрое", "раза", "куда"})
_RU_TYPE_BEFORE = frozenset({"какого", "этого", "такого", "того", "одного", "другого", "нового", "старого", "любого",
                             "данного", "вашего", "нашего", "всякого", "определенного"})
# Weak fillers: only fillers next to another filler ("ну значит", "значит э").
_RU_WEAK = frozenset({"значит", "вот", "блин", "слушайте", "знаете", "типа"})
# "значит" means "so, that means" at the start of the turn and in "это значит", "значит ли"; elsewhere it fills.
_RU_MEANS_AFTER = frozenset({"это", "то", "что", "все", "оно", "не", "так", "а", "и"})
_RU_MEANS_BEFORE = frozenset({"что", "ли", "это"})
_RU_ALWAYS = frozenset({"собственно", "вообщем"})

# "like" is a verb or a preposition after these: "would you like", "looks like".
_EN_LIKE_KEEPS_AFTER = frozenset({
    "i", "you", "we", "they", "he", "she", "would", "wd", "id", "i'd", "youd", "you'd", "wed", "we'd", "theyd",
    "they'd", "to", "don't", "dont", "didn't", "didnt", "doesn't", "doesnt", "not", "might", "may", "will", "won't",
    "wont", "do", "does", "did", "really", "also", "feel", "feels", "felt", "look", "looks", "looked", "sound", "sounds",
    "sounded", "seem", "seems", "seemed", "something", "anything", "nothing", "much", "more", "people", "what's",
    "whats", "just", "exactly", "be", "is", "was", "it", "this", "that",
})
_EN_LIKE_KEEPS_BEFORE = frozenset({"this", "that", "these", "those", "a", "an", "the", "yours", "mine", "it", "to"})
_EN_RIGHT_KEEPS = frozenset({"now", "away", "here", "there", "then", "on", "side"})
_EN_KIND_KEEPS_AFTER = frozenset({"what", "which", "this", "that", "any", "some", "every", "a", "the", "no", "one", "same",
                                  "different", "other", "what's", "whats", "these", "those", "each", "that's", "thats",
                                  "your", "my", "our"})
_EN_YOU_KNOW_KEEPS_AFTER = frozenset({"do", "did", "don't", "dont", "didn't", "didnt", "if", "as", "would", "you'd",
                                      "wouldn't", "to", "let", "might", "may", "how", "what", "i"})
_EN_YOU_KNOW_KEEPS_BEFORE = frozenset({"what", "how", "why", "when", "where", "if", "whether", "who", "which", "that",
                                       "about"})
_EN_ALWAYS = frozenset({"basically", "actually", "literally", "anyway", "anyways"})
_EN_MEAN_KEEPS_AFTER = frozenset({"what", "that's", "thats", "know", "if", "do", "don't", "dont", "not"})
# "so" stays even there: "so basically you never had a drop" still asks for a confirmation.
_EN_WEAK = frozenset({"well", "right"})


def filler_positions(tokens: list[Token] | tuple[Token, ...], lang: str) -> frozenset[int]:
    if lang == "ru":
        return _russian(tokens)
    if lang == "en":
        return _english(tokens)
    return frozenset()


def without_fillers(tokens: list[Token], lang: str) -> list[Token]:
    drop = filler_positions(tokens, lang)
    return [t for i, t in enumerate(tokens) if i not in drop] if drop else tokens


def _phrases(words: list[str], phrases, found: set[int]) -> None:
    for i in range(len(words)):
        for phrase in phrases:
            if tuple(words[i:i + len(phrase)]) == phrase:
                found.update(range(i, i + len(phrase)))
                break


def _russian(tokens) -> frozenset[int]:
    words = [t.surface for t in tokens]
    n = len(words)
    found: set[int] = {i for i, w in enumerate(words) if w in _RU_SOUNDS or w in _RU_ALWAYS}
    _phrases(words, _RU_PHRASES, found)

    def at(i: int) -> str:
        return words[i] if 0 <= i < n else ""

    for i, w in enumerate(words):
        if i in found:
            continue
        if w == "ну" and not _nu_means(words, i):
            found.add(i)
        elif w == "как" and at(i + 1) == "бы" and i + 2 < n and not _how_would(tokens, i):
            found.update((i, i + 1))
        elif w == "в" and at(i + 1) == "общем" and not _locative(tokens, i + 2):
            found.update((i, i + 1))
        elif w == "короче" and at(i + 1) != "чем" and at(i - 1) not in _RU_SHORTER_BEFORE:
            found.add(i)
        elif w == "значит" and i > 0 and at(i - 1) not in _RU_MEANS_AFTER and at(i + 1) not in _RU_MEANS_BEFORE:
            found.add(i)
        elif w == "типа" and at(i - 1) not in _RU_TYPE_BEFORE and not _genitive(tokens, i + 1):
            found.add(i)
    # Weak fillers count only beside a filler: "ну значит извините", "так значит э когда".
    # One pass each way catches a run of them on either side of the filler, in linear time. A "значит" that
    # opens what is left of the turn is "so": "ну значит вы ни разу не замечали обрывов?".
    first_word = next((i for i in range(n) if i not in found), n)
    for order in (range(n), range(n - 1, -1, -1)):
        for i in order:
            if i in found or words[i] not in _RU_WEAK or not (i - 1 in found or i + 1 in found):
                continue
            if words[i] == "значит" and i == first_word:
                continue
            found.add(i)
    return frozenset(found)


def _nu_means(words: list[str], i: int) -> bool:
    """"ну" that carries a tone: "ну да", "ну вы даёте", "да ну вас", and a "ну-ну" that opens or closes the turn."""
    n = len(words)
    after = words[i + 1] if i + 1 < n else ""
    if after in _RU_NU_KEEPS or (i > 0 and words[i - 1] == "да"):
        return True
    pair_start = i if after == "ну" else i - 1 if i > 0 and words[i - 1] == "ну" else None
    return pair_start is not None and (pair_start == 0 or pair_start + 2 == n)


def _how_would(tokens, i: int) -> bool:
    if not (i + 3 < len(tokens) and tokens[i + 2].surface in _RU_KAK_BY_KEEPS):
        return False
    for t in tokens[i + 3:i + 5]:  # "как бы вам объяснить", "как бы вам это объяснить"
        if "INFN" in t.grammemes or ("VERB" in t.grammemes and "past" in t.grammemes):
            return True
    return False


def _locative(tokens, i: int) -> bool:
    """A locative noun or adjective follows, so "в общем" is "in the shared…" ("в общем доступе", "чате")."""
    return 0 <= i < len(tokens) and bool({"NOUN", "ADJF"} & tokens[i].grammemes) and "loct" in tokens[i].grammemes


def _genitive(tokens, i: int) -> bool:
    """A genitive noun or a number follows ("короче минуты", "типа модема")."""
    if not 0 <= i < len(tokens):
        return False
    g = tokens[i].grammemes
    return ("NOUN" in g and "gent" in g) or "NUMR" in g or tokens[i].surface.isdigit()


def _english(tokens) -> frozenset[int]:
    words = [t.surface for t in tokens]
    n = len(words)
    found: set[int] = {i for i, w in enumerate(words) if w in _EN_SOUNDS or w in _EN_ALWAYS}
    _phrases(words, _EN_PHRASES, found)

    def at(i: int) -> str:
        return words[i] if 0 <= i < n else ""

    for i, w in enumerate(words):
        if i in found:
            continue
        if w == "like" and at(i - 1) not in _EN_LIKE_KEEPS_AFTER and at(i + 1) not in _EN_LIKE_KEEPS_BEFORE:
            found.add(i)
        elif w in ("kind", "sort") and at(i + 1) == "of" and at(i - 1) not in _EN_KIND_KEEPS_AFTER:
            found.update((i, i + 1))
        elif w == "you" and at(i + 1) == "know" and at(i - 1) not in _EN_YOU_KNOW_KEEPS_AFTER \
                and at(i + 2) not in _EN_YOU_KNOW_KEEPS_BEFORE:
            found.update((i, i + 1))
        elif w == "i" and at(i + 1) == "mean" and at(i - 1) not in _EN_MEAN_KEEPS_AFTER \
                and at(i + 2) not in ("it", "that", "by", "to"):
            found.update((i, i + 1))
    # Weak fillers count only beside a filler ("well um", "right uh"): alone, "yeah right" mocks and "well" may be
    # "works well".
    for order in (range(n), range(n - 1, -1, -1)):
        for i in order:
            w = words[i]
            if i in found or w not in _EN_WEAK or not (i - 1 in found or i + 1 in found):
                continue
            if w == "right" and at(i + 1) in _EN_RIGHT_KEEPS:
                continue
            found.add(i)
    return frozenset(found)
