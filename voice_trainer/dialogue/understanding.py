"""Which moves a trainee's utterance makes. One utterance may carry several moves; none means `unknown`.

An utterance is read once (patterns.py): fillers out, each word looked up in the scenario's lexicon,
negations and denial frames marked (negation.py). A move is recognized when one of its patterns matches
completely on a stretch of words that
- no `reject` pattern of the move overlaps, and
- no denial frame covers ("о пунктах договора речь не идёт" cites nothing), unless the pattern itself
  holds the frame's words ("не нужно переживать" reassures);
or, failing that, when one of its patterns matches with a real word that only *sounds* like a pattern word
("пустите" for "простите") and the words around it fit the move (another word of its patterns or
examples, such as "за неудобства"); or, failing that, when the utterance is close to one of its examples.
Moves come out in the order they appear in the utterance, so "sorry ... when did you connect" is
apologize before ask_connect_date.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from voice_trainer.dialogue.patterns import CompiledPattern, Lexicon, Span, Utterance, parse_pattern
from voice_trainer.dialogue.text import Token, lemmatizer_for, tokenize
from voice_trainer.scenario.schema import Move

UNKNOWN = "unknown"

# Words that say nothing about which move is meant, so they can't vouch for a sound-alike.
_FUNCTION_GRAMMEMES = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "Apro", "PRED"})
_ENGLISH_FUNCTION_WORDS = frozenset(
    "a an the i you we he she it they me us him her them my your our his its their this that these those to of in "
    "on at by for from with about as is are was were be been am do does did have has had will would can could shall "
    "should may might must not no and or but so if then than there here what which who when where how why just "
    "please yes yeah okay ok oh well really very all any some up down out off over one get got let go".split()
)


@dataclass(frozen=True)
class Understanding:
    moves: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    # Moves whose words were said but denied or negated ("ехать в офис не нужно"): not made, for a debrief
    # or a customer who reacts to what was *not* said.
    denied: tuple[str, ...] = ()
    # Moves recognized only through a real word that sounds like one of their words ("пустите за неудобства").
    by_sound: tuple[str, ...] = ()

    @property
    def is_unknown(self) -> bool:
        return not self.moves


@dataclass(frozen=True)
class _MoveModel:
    name: str
    patterns: tuple[CompiledPattern, ...]
    reject: tuple[CompiledPattern, ...]
    examples: tuple[tuple[str, frozenset[str]], ...]  # (sorted lemma string, lemma set)
    words: frozenset[int]  # lexicon ids of every word of the move's patterns
    signs: frozenset[int]  # the one-word alternatives of its one-group patterns: each alone makes the move
    # Whether a sound-alike may make it: not for conduct (rudeness or mockery can't be heard from a
    # misheard word, and a false alarm angers the customer).
    heard_ok: bool
    context: frozenset[str]  # lemmas of the content words of the move's examples


@dataclass(frozen=True)
class _Verdict:
    score: float
    position: int | None = None  # where the move starts, if it is made
    denied: bool = False
    by_sound: bool = False


class MoveClassifier:
    # An utterance this close to an example counts as that move even if no pattern matched.
    # Tuned on the dev sets in tests/data/; see docs/understanding.md.
    example_threshold = 0.86
    # Example matching is only trusted for utterances of a few words or more; short ones are too easy to confuse.
    example_min_tokens = 3
    # Scores below this are noise (any two sentences share some letters); they are left out of `scores`.
    near_miss_score = 0.5
    # A sound-alike counts when the move's own word is its nearest content word, at most this many words away.
    sound_context_reach = 4
    # The score of a move recognized through a sound-alike: made, but less sure than an exact match.
    sound_alike_score = 0.9

    def __init__(self, moves: dict[str, Move], lang: str, sound_alikes: bool = True):
        """`sound_alikes=False` turns off taking real words for pattern words they sound like (to measure it)."""
        self._sound_alikes = sound_alikes
        self._lemmatizer = lemmatizer_for(lang)
        self._lexicon = Lexicon(self._lemmatizer)
        self._moves = tuple(self._compile(name, move) for name, move in moves.items())

    def _compile(self, name: str, move: Move) -> _MoveModel:
        lem = self._lemmatizer
        examples = []
        context: set[str] = set()
        for example in move.examples:
            tokens = tokenize(example, lem)
            lemmas = [t.lemma for t in tokens]
            examples.append((" ".join(sorted(lemmas)), frozenset(lemmas)))
            context.update(t.lemma for t in tokens if self._is_content(t))
        patterns = tuple(CompiledPattern(parse_pattern(p), self._lexicon) for p in move.patterns)
        return _MoveModel(
            name=name,
            patterns=patterns,
            reject=tuple(CompiledPattern(parse_pattern(p), self._lexicon) for p in move.reject),
            examples=tuple(examples),
            words=frozenset().union(*(p.words for p in patterns)),
            signs=frozenset(alt[0] for p in patterns if len(p.groups) == 1 for alt in p.groups[0] if len(alt) == 1),
            heard_ok=move.kind != "conduct",
            context=frozenset(context),
        )

    def tokens(self, text: str) -> list[Token]:
        return tokenize(text, self._lemmatizer)

    def classify(self, text: str) -> Understanding:
        tokens = self.tokens(text)
        if not tokens:
            return Understanding(())
        utterance = self._lexicon.read(tokens)
        if not utterance.tokens:  # nothing but fillers
            return Understanding(())
        lemma_key = " ".join(sorted(t.lemma for t in utterance.tokens))
        found: list[tuple[int, str]] = []
        scores: dict[str, float] = {}
        denied, by_sound = [], []
        for move in self._moves:
            verdict = self._judge(move, utterance, lemma_key)
            if verdict.score >= self.near_miss_score:
                scores[move.name] = round(verdict.score, 3)
            if verdict.position is not None:
                found.append((verdict.position, move.name))
                if verdict.by_sound:
                    by_sound.append(move.name)
            elif verdict.score >= 1.0:
                scores[move.name] = 0.0  # every match was cancelled by a reject pattern or a denial
                if verdict.denied:
                    denied.append(move.name)
        found.sort()
        return Understanding(tuple(name for _, name in found), scores, tuple(denied), tuple(by_sound))

    def _judge(self, move: _MoveModel, u: Utterance, lemma_key: str) -> _Verdict:
        """The move's score and, if it is made, the word where it starts."""
        matches = [p.match(u) for p in move.patterns]
        spans = [span for m in matches for span in m.spans]
        if spans:
            kept = self._unrejected(move, u, spans)
            said = [s for s in kept if not self._denied(s, u)]
            if said:
                return _Verdict(1.0, min(s.start for s in said))
            return _Verdict(1.0, denied=bool(kept))
        if self._sound_alikes and move.heard_ok and u.heard & move.words:
            heard = [s for p in move.patterns for s in p.match(u, by_sound=True).spans
                     if s.sounded]
            heard = [s for s in self._unrejected(move, u, heard) if not self._denied(s, u) and self._fits(move, u, s)]
            if heard:
                return _Verdict(self.sound_alike_score, min(s.start for s in heard), by_sound=True)
        negated = self._negated(move, u)
        best = max((0.5 * m.groups_found / m.groups_total for m in matches if m.groups_total > 1), default=0.0)
        position = None
        for key, example_lemmas in move.examples:
            similarity = fuzz.ratio(lemma_key, key) / 100.0
            if similarity > best:
                best = similarity
                close = similarity >= self.example_threshold and len(u.tokens) >= self.example_min_tokens
                if close and not self._rejected(move, u):
                    shared = [t_index for t_index, t in enumerate(u.tokens) if t.lemma in example_lemmas]
                    position = shared[0] if shared else len(u.tokens)
        if negated and position is None:
            return _Verdict(1.0, denied=True)
        return _Verdict(best, position)

    def _negated(self, move: _MoveModel, u: Utterance) -> bool:
        """Said, but under a negation of its `!` words ("я не буду вас приглашать в офис")."""
        if not (any(u.negated) and move.words & self._lexicon.affirmed):
            return False
        spans = [s for p in move.patterns for s in p.match(u, despite_negation=True).spans]
        return bool(spans and self._unrejected(move, u, spans))

    def _unrejected(self, move: _MoveModel, u: Utterance, spans: list[Span]) -> list[Span]:
        """The spans no reject match overlaps; sorted intervals keep this linear in long utterances."""
        rejected = self._rejected(move, u)
        if not rejected:
            return spans
        merged: list[list[int]] = []
        for r in sorted(rejected, key=lambda r: r.start):
            if merged and r.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], r.end)
            else:
                merged.append([r.start, r.end])
        ends = [m[1] for m in merged]
        kept = []
        for s in spans:
            k = bisect_left(ends, s.start)  # the first merged reject that ends at or after the span's start
            if k == len(merged) or merged[k][0] > s.end:
                kept.append(s)
        return kept

    @staticmethod
    def _denied(span: Span, u: Utterance) -> bool:
        """Every word of the match lies inside a denial, and the pattern doesn't itself say the denial."""
        if not u.denied or not span.hits:
            return False
        return all(u.denied[p] for p in span.hits) and not any(u.frame[p] for p in span.hits)

    def _fits(self, move: _MoveModel, u: Utterance, span: Span) -> bool:
        """A sound-alike counts only when its nearest content word, before or after it (function words
        aside), is one of the move's own: a word of its examples or a word that alone makes the move.
        These are its usual neighbours: "пустите | за неудобства", "приносим | свои прошения", "the contact
        | says". A real word in its own meaning has its own neighbours ("прошение | о перерасчёте")."""
        # The pattern's other words are no extra evidence: "офорт висит | в офисе" is no "визит в офис".
        matched = set(span.hits)
        for i in span.sounded:
            for step in (-1, 1):
                j = i + step
                while 0 <= j < len(u.tokens) and abs(j - i) <= self.sound_context_reach:
                    if j not in matched and self._is_content(u.tokens[j]):
                        if u.words[j] & move.signs or u.tokens[j].lemma in move.context:
                            return True
                        break
                    j += step
        return False

    def _is_content(self, token: Token) -> bool:
        if token.grammemes:
            return not token.grammemes & _FUNCTION_GRAMMEMES
        return token.surface not in _ENGLISH_FUNCTION_WORDS and len(token.surface) > 1

    @staticmethod
    def _rejected(move: _MoveModel, u: Utterance) -> list[Span]:
        return [span for r in move.reject for span in r.match(u).reach]
