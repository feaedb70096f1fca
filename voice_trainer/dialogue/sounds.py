"""How words sound, roughly, and how far apart two of them sound.

Speech recognition either spells a word by ear when it doesn't know it ("дагавор") or — Vosk, which only
outputs words of its dictionary — hears a different real word that sounds alike ("извилите", "пустите" for
"простите", "contact" for "contract"). Both are compared here by sound: a sound key merges what speech
merges (unstressed vowels, voiced and voiceless pairs at the end of a word, spelling variants), and the
distance between two keys charges less for the confusions a recognizer makes most (one vowel for another,
a voiced consonant for its voiceless pair, one sonorant for another) than for a different sound.
"""

from __future__ import annotations

from functools import lru_cache

_RU_VOWELS = str.maketrans("оеяэыю", "аииииу")
_RU_DEVOICED = str.maketrans("дзбгвж", "тспкфш")


def russian_sound_key(word: str, word_end: bool = True) -> str:
    """Unstressed vowels merge and a final consonant devoices in speech, so "дагавор", "офиз" and
    "панимаю" are spelled by ear for "договор", "офис" and "понимаю"."""
    if not word:
        return word
    # A first "я", "е", "ю" is still heard as such ("ясно" is not "исно"); a first "о" is an "а".
    sounded = word[0].replace("о", "а") + word[1:].translate(_RU_VOWELS)
    return sounded[:-1] + sounded[-1].translate(_RU_DEVOICED) if word_end else sounded


_EN_DIGRAPHS = (("tch", "ch"), ("ph", "f"), ("gh", ""), ("ck", "k"), ("qu", "kw"), ("wh", "w"), ("x", "ks"),
                ("sch", "sk"), ("th", "t"), ("dg", "j"))
_EN_VOWELS = set("aeiouy")


def english_sound_key(word: str, word_end: bool = True) -> str:
    """A rough English key: spelling variants of one sound merge ("ph"/"f", soft "c"/"s"), doubled letters
    and runs of vowels collapse to one vowel, and a silent final "e" goes."""
    w = word.lower().replace("'", "")
    if not w:
        return w
    if word_end and len(w) > 3 and w.endswith("e") and w[-2] not in _EN_VOWELS:
        w = w[:-1]
    for a, b in _EN_DIGRAPHS:
        w = w.replace(a, b)
    if w[:2] in ("kn", "wr", "gn"):
        w = w[1:]
    out = []
    for i, c in enumerate(w):
        if c == "c":
            c = "s" if i + 1 < len(w) and w[i + 1] in "eiy" else "k"
        elif c in "qz":
            c = "k" if c == "q" else "s"
        elif c in _EN_VOWELS and not (c == "y" and i == 0):
            c = "a"
        if out and out[-1] == c:
            continue
        out.append(c)
    return "".join(out)


def russian_heard_key(word: str, word_end: bool = True) -> str:
    """The Russian key without the signs that are no sound of their own ("ь", "ъ")."""
    return russian_sound_key(word, word_end).replace("ь", "").replace("ъ", "")


# Keys for comparing a real word with a pattern word by sound, per language.
SOUND_KEYS = {"ru": russian_heard_key, "en": english_sound_key}

# Sounds a recognizer confuses most; a swap inside one class costs half.
_CLASSES = ("аиоуеыяюэ", "бп", "дт", "гкх", "вф", "зсц", "жшщч", "лр", "мн", "a", "bp", "dt", "gkh", "vfw", "szc",
            "jch", "lr", "mn")
_CLASS_OF = {c: n for n, cls in enumerate(_CLASSES) for c in cls}
_VOWEL_KEYS = set("аиоуеыяюэa")


@lru_cache(maxsize=100_000)
def sound_distance(a: str, b: str) -> float:
    """Weighted edit distance between two sound keys: a substitution within a class of similar sounds, or
    adding or dropping a vowel, costs 0.5; anything else costs 1."""
    previous = [0.0]
    for ch in b:
        previous.append(previous[-1] + _indel(ch))
    for ca in a:
        current = [previous[0] + _indel(ca)]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + _indel(ca), current[j - 1] + _indel(cb),
                               previous[j - 1] + _substitution(ca, cb)))
        previous = current
    return previous[-1]


def _indel(c: str) -> float:
    return 0.5 if c in _VOWEL_KEYS else 1.0


def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    same_class = _CLASS_OF.get(a) is not None and _CLASS_OF.get(a) == _CLASS_OF.get(b)
    return 0.5 if same_class else 1.0


def same_onset(a: str, b: str) -> bool:
    """Both start with the same kind of sound: a recognizer that mishears a word keeps its onset."""
    if not a or not b:
        return False
    return a[0] == b[0] or (_CLASS_OF.get(a[0]) is not None and _CLASS_OF.get(a[0]) == _CLASS_OF.get(b[0]))


def allowed_sound_distance(length: int) -> float:
    """How far a real word may sound from a pattern word whose key has this length and still be taken for it:
    a short word only by a word that sounds the same ("поводок" for "паводок"; "просто" is no "прости"),
    a longer one by one different sound, a long one by a little more ("пустите" for "простите")."""
    if length < 7:
        return 0.0
    return 1.0 if length < 8 else 1.5
