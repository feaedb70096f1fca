"""Examples that carry weight: a move written with a few example phrasings also recognizes their paraphrases.

An utterance makes a move by its examples when a short stretch of it holds most of one example's weight:
- **weight**: a word found in the examples of many moves ("вы", "скорость", "you") says little about which
  move is meant, a word of one move's examples says a lot (inverse move frequency); function words
  (prepositions, pronouns, particles) weigh a quarter;
- **found**: the same lemma, or a related word — the same stem ("замер" / "замеряли", "проверка" /
  "проверяли", "measure" / "measurement") — counted at `RELATED` of its weight;
- a word under a negation or denial in the utterance doesn't count unless the example negates it too
  ("я не могу обещать сто мегабит" is no "обещаю сто мегабит").

This is the path for moves a trainer wrote with examples only; patterns stay the precise instrument, and
`classify --eval` shows where the examples miss. Every step is linear in the utterance's length: each
token is related to the examples' vocabulary once (cached), and only windows that start on a found word
are scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from voice_trainer.dialogue.fillers import without_fillers
from voice_trainer.dialogue.negation import negated_positions
from voice_trainer.dialogue.text import Lemmatizer, Token, tokenize

# A related word (same stem) counts for this share of the example word's weight.
RELATED = 0.8
# Function words weigh this share: they shape a phrase ("или", "по") but don't say what it is about.
FUNCTION_WEIGHT = 0.25
# Words that share a stem: at least this many first letters in common…
STEM_MIN = 5
# …and the shorter word may have at most this many letters beyond the common start.
STEM_SLACK = 2

_FUNCTION_GRAMMEMES = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "Apro", "PRED"})
ENGLISH_FUNCTION_WORDS = frozenset(
    "a an the i you we he she it they me us him her them my your our his its their this that these those to of in "
    "on at by for from with about as is are was were be been am do does did have has had will would can could shall "
    "should may might must not no and or but so if then than there here what which who when where how why just "
    "please yes yeah okay ok oh well really very all any some up down out off over one get got let go".split()
)


@dataclass(frozen=True)
class ExampleWord:
    lemma: str
    weight: float
    negated: bool


@dataclass(frozen=True)
class Example:
    move: str
    index: int  # its place in the move's `examples`
    text: str
    words: tuple[ExampleWord, ...]

    @property
    def total(self) -> float:
        return sum(w.weight for w in self.words)


@dataclass(frozen=True)
class Evidence:
    weight: float  # the summed weight of the move's example words found
    positions: tuple[int, ...]  # where they were found
    share_of_turn: float = 0.0  # the share of the utterance's own weight they make up
    # Its key word was said under a negation ("я не могу обещать сто мегабит"): the move is denied, not made.
    negated: bool = False


@dataclass(frozen=True)
class ExampleMatch:
    example: Example
    similarity: float  # share of the example's weight found, 0..1
    positions: tuple[int, ...]  # utterance token positions that matched (in the reading without fillers)


class ExampleIndex:
    """The examples of every move of a scenario, ready to be looked for in utterances."""

    def __init__(self, examples: dict[str, list[str]], lemmatizer: Lemmatizer, lang: str):
        self._lemmatizer = lemmatizer
        self._lang = lang
        read = {move: [self._read(text) for text in texts] for move, texts in examples.items()}
        # Inverse move frequency: in how many moves' examples a lemma occurs.
        moves_with: dict[str, int] = {}
        for texts in read.values():
            for lemma in {t.lemma for tokens in texts for t in tokens}:
                moves_with[lemma] = moves_with.get(lemma, 0) + 1
        n = max(1, len(read))
        self._moves = n
        self._weights: dict[str, float] = {}
        self.examples: dict[str, tuple[Example, ...]] = {}
        vocabulary: set[str] = set()
        for move, texts in read.items():
            built = []
            for i, tokens in enumerate(texts):
                negated = negated_positions(tokens)
                words = tuple(
                    ExampleWord(t.lemma, self._weight(t, moves_with.get(t.lemma, 1), n), negated[k])
                    for k, t in enumerate(tokens)
                )
                built.append(Example(move, i, examples[move][i], words))
                for w in words:
                    self._weights[w.lemma] = w.weight
                vocabulary.update(w.lemma for w in words)
            self.examples[move] = tuple(built)
        self._vocabulary = frozenset(vocabulary)
        # lemma -> (move, its weight there, said negated there) for every move whose examples have it
        owners: dict[str, dict[str, tuple[float, bool]]] = {}
        for move, built_examples in self.examples.items():
            for example in built_examples:
                for w in example.words:
                    weight, negated_there = owners.setdefault(w.lemma, {}).get(move, (0.0, False))
                    owners[w.lemma][move] = (max(weight, w.weight), negated_there or w.negated)
        self._owners = {lemma: tuple((m, wt, neg) for m, (wt, neg) in by_move.items())
                        for lemma, by_move in owners.items()}
        self._by_start: dict[str, list[str]] = {}
        for lemma in sorted(vocabulary):
            self._by_start.setdefault(lemma[:STEM_MIN], []).append(lemma)

    def _read(self, text: str) -> list[Token]:
        return without_fillers(tokenize(text, self._lemmatizer), self._lang)

    def _weight(self, token: Token, moves_with: int, moves: int) -> float:
        weight = math.log((moves + 1) / moves_with)
        function = (token.grammemes & _FUNCTION_GRAMMEMES if token.grammemes
                    else token.surface in ENGLISH_FUNCTION_WORDS or len(token.surface) < 2)
        return weight * FUNCTION_WEIGHT if function else weight

    @lru_cache(maxsize=50_000)
    def related(self, lemma: str) -> tuple[tuple[str, float], ...]:
        """The examples' lemmas this lemma stands for: itself (1.0) and words of the same stem (RELATED)."""
        found = [(lemma, 1.0)] if lemma in self._vocabulary else []
        if len(lemma) >= STEM_MIN:
            for other in self._by_start.get(lemma[:STEM_MIN], ()):
                if other != lemma and _same_stem(lemma, other):
                    found.append((other, RELATED))
        return tuple(found)

    def evidence(self, tokens: tuple[Token, ...], negated: tuple[bool, ...], denied: tuple[bool, ...],
                 moves: frozenset[str]) -> dict[str, Evidence]:
        """For each of `moves`, the weight of its examples' words the utterance holds (each word once, its best
        reading), and where: the sum of what the utterance says for that move."""
        found: dict[str, dict[str, tuple[float, int]]] = {m: {} for m in moves}
        refused: dict[str, float] = {}  # the heaviest move word said under a negation the examples don't have
        for p, token in enumerate(tokens):
            if denied and denied[p]:
                continue
            for lemma, sim in self._token_related(token):
                for move, weight, negated_there in self._owners.get(lemma, ()):
                    if move not in found:
                        continue
                    value = weight * sim
                    if negated[p] and not negated_there:
                        refused[move] = max(refused.get(move, 0.0), value)
                    elif value > found[move].get(lemma, (0.0, p))[0]:
                        found[move][lemma] = (value, p)
        weights = [self._token_weight(t) for t in tokens]
        turn = sum(weights) or 1.0
        out = {}
        for m, words in found.items():
            positions = tuple(sorted({p for _, p in words.values()}))
            heaviest = max((v for v, _ in words.values()), default=0.0)
            out[m] = Evidence(sum(v for v, _ in words.values()), positions, sum(weights[p] for p in positions) / turn,
                              negated=refused.get(m, 0.0) >= max(heaviest, 1.0))
        return out

    def _token_weight(self, token: Token) -> float:
        """What a word of the utterance weighs: as in the examples, or as a word no move uses (rare, telling)."""
        weight = self._weights.get(token.lemma)
        if weight is None:
            weight = self._weight(token, 1, self._moves)
        return weight

    def best(self, move: str, tokens: tuple[Token, ...], negated: tuple[bool, ...],
             denied: tuple[bool, ...]) -> ExampleMatch | None:
        """The move's example most present in the utterance, with the share of its weight found."""
        examples = self.examples.get(move)
        if not examples or not tokens:
            return None
        # For each utterance position: the example lemmas it stands for, with their similarity.
        stands_for = [dict() if (denied and denied[p]) else dict(self._token_related(t)) for p, t in enumerate(tokens)]
        best: ExampleMatch | None = None
        for example in examples:
            match = self._score(example, stands_for, negated)
            if match and (best is None or match.similarity > best.similarity):
                best = match
        return best

    def _token_related(self, token: Token) -> tuple[tuple[str, float], ...]:
        out: dict[str, float] = {}
        for lemma in dict.fromkeys((token.lemma, *token.lemmas)):
            for other, sim in self.related(lemma):
                out[other] = max(out.get(other, 0.0), sim)
        return tuple(out.items())

    def _score(self, example: Example, stands_for: list[dict[str, float]], negated: tuple[bool, ...]
               ) -> ExampleMatch | None:
        total = example.total
        if total <= 0:
            return None
        width = len(example.words) + 4
        starts = [p for p, found in enumerate(stands_for) if any(w.lemma in found for w in example.words)]
        best_share, best_positions = 0.0, ()
        for start in starts:
            window = range(start, min(len(stands_for), start + width))
            share, positions = 0.0, []
            for w in example.words:
                top, where = 0.0, None
                for p in window:
                    sim = stands_for[p].get(w.lemma, 0.0)
                    # A negated word is another meaning, unless the example says it negated too.
                    if sim and negated[p] and not w.negated and w.weight > 0:
                        sim = 0.0
                    if sim > top:
                        top, where = sim, p
                if where is not None:
                    share += w.weight * top
                    positions.append(where)
            if share > best_share:
                best_share, best_positions = share, tuple(sorted(set(positions)))
        if not best_positions:
            return None
        return ExampleMatch(example, best_share / total, best_positions)


def _same_stem(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return common >= STEM_MIN and min(len(a), len(b)) - common <= STEM_SLACK
