"""Which words of an utterance are negated, and which sit inside a denial.

Two kinds, on purpose:
- A plain negation ("не", "not") governs the next word or two ("не буду вас **приглашать**"). It only
  matters to pattern words marked `!`: most negations are part of what a move says ("вы не выключали
  компьютер?" is still the question, "не переживайте" is the reassurance).
- A denial frame says that something is *not* being said, needed or talked about: "речь не идёт о…",
  "я не намекаю, что…", "ехать никуда не надо", "договор тут ни при чём", "no need to…", "I'm not saying…",
  "leave the contract aside". Whatever it covers is not said, so a move whose words all lie inside it
  does not fire — unless the move's own pattern contains the frame ("не нужно переживать" reassures).

The frames are language knowledge, the same for every scenario, so they live here, not in scenario files.
Every scan is linear in the length of the utterance: a frame is a few words long and a scope is capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from voice_trainer.dialogue.text import CLAUSE_BREAKS, Token

# Words that negate what follows.
NEGATIONS = frozenset({"не", "ни", "нет", "без", "ничего", "not", "never", "no", "cannot"} | {
    # English contractions, with and without the apostrophe (speech recognition drops it)
    form
    for stem in ("don", "won", "can", "didn", "doesn", "isn", "aren", "wasn", "haven", "wouldn", "couldn")
    for form in (stem + "'t", stem + "t")
})
# "не хотите подойти", "не могли бы вы": polite offers, not negations.
POLITE_AFTER_NEGATION = frozenset({"хотите", "хотели", "желаете", "могли", "можете", "против", "сложно", "трудно", "откажите"})
# A negation reaches over these to the word it negates ("не буду вас приглашать") but stops at any other word
# ("не переживайте подойдите к нам" invites).
NEGATION_PASSES = frozenset({
    "буду", "будем", "стану", "станем", "хочу", "хотим", "могу", "можем", "нужно", "надо", "стоит", "следует",
    "собираюсь", "собираемся", "вас", "вам", "вы", "я", "мы", "никуда", "никого", "же", "бы", "уж", "даже",
    "совсем", "очень", "особо", "так", "такой", "такая", "такие", "то", "ли", "до",
    "will", "be", "going", "to", "you", "i", "we", "want", "really", "even", "at", "all",
})
NEGATION_REACH = 3
# "нет" stands on its own as a reply ("нет, простите за неудобства"); it negates what exists ("нет
# необходимости"), which the denial frames cover, not the next word.
_NEGATES_NEXT = NEGATIONS - {"нет"}


def negated_positions(tokens: list[Token] | tuple[Token, ...]) -> tuple[bool, ...]:
    """For each token, whether a plain negation governs it ("не буду вас **приглашать**")."""
    flags = []
    for i in range(len(tokens)):
        negated = False
        for j in range(i - 1, max(-1, i - 1 - NEGATION_REACH), -1):
            surface = tokens[j].surface
            if surface in _NEGATES_NEXT and not (j + 1 < len(tokens) and tokens[j + 1].surface in POLITE_AFTER_NEGATION):
                negated = True
                break
            if surface not in NEGATION_PASSES:
                break
        flags.append(negated)
    return tuple(flags)


# A set phrase said right after a plain negation is said negated ("я не кладу трубку", "это не наша вина",
# "I'm not hanging up"): a pattern of one group (a phrase, not words gathered from around the turn) does not
# count there. Not a negated request to the listener, which is itself what is said ("не смешите меня",
# "не говорите глупостей", "don't be ridiculous", "do not waste my time"); not "нет"/"no" (mostly a reply of
# their own: "нет, извините"); not the forms that intensify ("I can't apologise enough").
_EN_PHRASE_NEGATIONS = frozenset({"not", "never", "don't", "dont", "didn't", "didnt", "won't", "wont", "isn't", "isnt",
                                  "aren't", "arent", "wasn't", "wasnt", "doesn't", "doesnt"})
# An English negation is the speaker's own ("I'm not hanging up", "it isn't our fault") when a subject says it.
_EN_SAYERS = frozenset({"i", "i'm", "im", "we", "we're", "were", "we'll", "it", "it's", "its", "that", "that's", "thats",
                        "this", "is", "am", "are", "was", "he", "she", "they", "you're", "youre", "you"})


def negates_phrase_at(tokens: list[Token] | tuple[Token, ...], start: int) -> bool:
    """Whether the phrase starting at tokens[start] is said under a plain negation of the speaker's own."""
    if start == 0:
        return False
    first, before = tokens[start], tokens[start - 1].surface
    if first.surface in NEGATIONS or first.surface in POLITE_AFTER_NEGATION:
        return False
    if before == "не":
        return not ({"impr", "2per"} & first.grammemes)
    if before in _EN_PHRASE_NEGATIONS:
        k = start - 2
        if k >= 0 and tokens[k].surface in {"do", "does", "did", "will", "would", "could", "can"}:
            k -= 1  # "I do not accept", "we will not…"
        return k >= 0 and tokens[k].surface in _EN_SAYERS
    return False


# Scope kinds. SAYING: what follows, to the end of the clause ("я не намекаю, что вы круглые сутки в сети").
# DOING: the verb phrase that follows ("нет необходимости ехать в офис | мы всё решим").
# BEFORE: the clause part before the frame ("о пунктах договора | речь не идёт", "ехать никуда | не надо").
# DOING_OR_BEFORE: DOING when an infinitive follows, else BEFORE ("не за что извиняться" / "извиняться не за что").
# REFUSING: what the speaker won't do, up to its infinitive, over pronouns ("не буду я вам про договор
# рассказывать | …"); in English, without a grammar, the verb phrase as DOING ("I won't read you the contract").
SAYING, DOING, BEFORE, DOING_OR_BEFORE, REFUSING = "saying", "doing", "before", "doing_or_before", "refusing"
SAYING_REACH, DOING_REACH, BEFORE_REACH = 8, 6, 5


@dataclass(frozen=True)
class Frame:
    words: tuple[frozenset[str], ...]
    scope: str


def _frames(spec: dict[str, list[str]]) -> tuple[Frame, ...]:
    """Frames written as "не говорю|утверждаю что": words in order, '|' between alternatives."""
    return tuple(Frame(tuple(frozenset(w.split("|")) for w in text.split()), scope)
                 for scope, texts in spec.items() for text in texts)


_RU = _frames({
    SAYING: [
        "не говорю|говорил|говорила|утверждаю|утверждал|намекаю|намекал|намекала|спрашиваю|спрашивал|спрашивала"
        "|предлагаю|прошу|заставляю|обвиняю|считаю|думаю|призываю",
        "не хочу|хотел|хотела сказать", "не имею|имел|имела в виду", "не к тому", "никто не говорит|утверждает",
        "не про|о|об|обо", "речь|разговор|вопрос не о|об|про|в", "речь не идет о|об|про", "не идет речь о|об|про",
        "дело не в", "не в том дело", "забудьте|забудем|забудь", "оставим", "давайте не будем про|о|об",
    ],
    DOING: [
        "нет необходимости|смысла|нужды|надобности", "нет никакой|особой необходимости|нужды|надобности",
        "незачем", "ни к чему", "не придется|обязательно|требуется",
    ],
    DOING_OR_BEFORE: ["не нужно|надо|стоит", "не в|за чем", "не за что"],
    REFUSING: ["не буду|будем|стану|станем|собираюсь|собираемся"],
    BEFORE: [
        "ни|не при чем", "ни|не причем", "не важно|важна|важен|важны", "неважно|неважна|неважен|неважны",
        "не имеет значения", "не играет роли", "не главное|главная|главный|главное", "не то что важно", "в сторону",
        "речь не идет", "не идет речь", "не о том речь",
    ],
})
_EN = _frames({
    SAYING: [
        "not saying|suggesting|implying|asking|talking|claiming", "im|i'm not saying|suggesting|implying|asking",
        "isn't|isnt|not about", "nothing to do with", "forget about|the|your", "never mind the|your|about",
        "let's|lets not talk|worry about", "aside from", "putting|set|setting aside",
        "no one|nobody is saying|says",
    ],
    DOING: [
        "no need to|for", "there's|theres no need", "needn't|neednt", "don't|dont need to", "do not need to",
        "don't|dont have to", "do not have to", "not necessary to", "no reason to", "don't|dont bother",
        "nothing to", "no point in",
        # Refusals in the first person: "I'm not going to apologise", "we won't read you the contract".
        "i'm|im not going|gonna to", "i am not going|gonna to", "we're|were not going|gonna to",
        "we are not going|gonna to", "i|we won't|wont|refuse", "i|we will not",
    ],
    BEFORE: [
        "aside", "isn't|isnt|not what matters|counts", "is not what matters|counts", "doesn't|doesnt matter",
        "does not matter", "is irrelevant", "isn't|isnt the point",
        "is not the point", "beside the point", "not important",
        "has|have|had nothing to do with it|this|that|anything",
    ],
})
FRAMES = {"ru": _RU, "en": _EN}

_QUESTION_WORDS = frozenset({
    "какой", "какая", "какое", "какие", "каким", "какого", "какую", "когда", "сколько", "почему", "где", "как",
    "зачем", "what", "which", "when", "how", "why", "where", "who",
})
_SUBJECTS = frozenset({"я", "мы", "ты", "он", "она", "они", "i", "we", "they", "he", "she", "let's", "lets", "please"})
_SCOPE_ENDS = CLAUSE_BREAKS | {"зато", "лучше", "давайте", "поэтому", "потому", "because", "so", "instead", "rather"}
# In English a verb phrase is over once its pronoun object is said: "no need to do anything | the modem…".
_OBJECTS_THAT_CLOSE = frozenset({"anything", "something", "nothing", "it", "them", "us", "me", "him", "her", "that",
                                 "this"})


@dataclass(frozen=True)
class Denial:
    denied: tuple[bool, ...]  # inside what a denial frame covers
    frame: tuple[bool, ...]  # a word of the frame itself


def denials(tokens: list[Token] | tuple[Token, ...], lang: str) -> Denial:
    by_first = _frames_by_first_word(lang)
    n = len(tokens)
    denied, frame = [False] * n, [False] * n
    surfaces = [t.surface for t in tokens]
    inside = 0  # a frame within another is part of it ("has nothing to do with it" is one frame, not two)
    for i in range(n):
        for f in by_first.get(surfaces[i], ()):  # longest first: one frame per start
            end = i + len(f.words)
            if end > n or end <= inside or not all(surfaces[i + k] in alts for k, alts in enumerate(f.words)):
                continue
            for k in range(i, end):
                frame[k] = True
            for k in _scope(tokens, i, end, f.scope):
                denied[k] = True
            inside = max(inside, end)
            break
    return Denial(tuple(denied), tuple(frame))


def _scope(tokens, start: int, end: int, kind: str) -> range:
    """The positions a frame at tokens[start:end] covers."""
    if kind == DOING_OR_BEFORE:
        kind = DOING if end < len(tokens) and _is_infinitive(tokens[end]) else BEFORE
    if kind == REFUSING:
        return _refused(tokens, end)
    if kind == BEFORE:
        first = start
        while first > 0 and start - first < BEFORE_REACH and tokens[first - 1].surface not in _SCOPE_ENDS:
            first -= 1
        return range(first, start)
    reach = SAYING_REACH if kind == SAYING else DOING_REACH
    last = end
    while last < len(tokens) and last - end < reach and not _ends_scope(tokens, end, last, kind):
        last += 1
    if kind == SAYING and last == end:  # nothing follows: what he isn't saying came first ("о договоре я не говорю")
        return _scope(tokens, start, end, BEFORE)
    return range(end, last)


def _refused(tokens, end: int) -> range:
    """From the frame to the infinitive it governs, over pronouns and adverbs ("не буду я вам про договор
    **рассказывать**"), and the infinitive's own phrase after it; nothing if a clause break or a finite verb
    comes first ("не буду, давайте…")."""
    for i in range(end, min(len(tokens), end + DOING_REACH)):
        t = tokens[i]
        if _is_infinitive(t):
            return range(end, _object_end(tokens, i + 1))
        if t.surface in _SCOPE_ENDS or t.surface in NEGATIONS or _is_finite_verb(t):
            break
    return range(end, end)


_BEFORE_OBJECT = frozenset({"PREP", "ADJF", "PRTF", "NPRO", "NUMR", "ADVB", "PRCL"})


def _object_end(tokens, first: int) -> int:
    """Where the noun phrase an infinitive governs ends ("зачитывать вам **пункты договора**"): over
    prepositions, pronouns and adjectives to its first noun, then nouns in the genitive that hang on it.
    No noun within reach: nothing ("не буду вас задерживать | всего доброго")."""
    i = first
    while i < len(tokens) and i - first < DOING_REACH:
        t = tokens[i]
        if t.surface in _SCOPE_ENDS or t.surface in NEGATIONS:
            break
        if "NOUN" in t.grammemes:
            i += 1
            while i < len(tokens) and "gent" in tokens[i].grammemes and (
                    "NOUN" in tokens[i].grammemes or "ADJF" in tokens[i].grammemes):
                i += 1
            return i
        if not (_BEFORE_OBJECT & t.grammemes):
            break
        i += 1
    return first


def _ends_scope(tokens, first: int, i: int, kind: str) -> bool:
    t = tokens[i]
    if t.surface in _SCOPE_ENDS or t.surface in NEGATIONS and i > first:
        return True
    if i == first:
        return False
    if kind == SAYING:
        return t.surface in _QUESTION_WORDS
    # The verb phrase ends where a new subject or a finite verb starts ("ехать не нужно | мы всё решим").
    return t.surface in _SUBJECTS or _is_finite_verb(t) or tokens[i - 1].surface in _OBJECTS_THAT_CLOSE


def _is_infinitive(t: Token) -> bool:
    return "INFN" in t.grammemes or t.surface == "to"


def _is_finite_verb(t: Token) -> bool:
    return "VERB" in t.grammemes and ("indc" in t.grammemes or "impr" in t.grammemes)


@lru_cache(maxsize=None)
def _frames_by_first_word(lang: str) -> dict[str, tuple[Frame, ...]]:
    index: dict[str, list[Frame]] = {}
    for f in FRAMES.get(lang, ()):
        for word in f.words[0]:
            index.setdefault(word, []).append(f)
    return {word: tuple(sorted(frames, key=lambda f: -len(f.words))) for word, frames in index.items()}
