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

from voice_trainer.dialogue.examples import Evidence, ExampleIndex, ExampleMatch
from voice_trainer.dialogue.explain import Cancelled, Explanation, Made, NearMiss, NotMade, Said, Source
from voice_trainer.dialogue.patterns import CompiledPattern, Lexicon, Span, Utterance, parse_pattern
from voice_trainer.dialogue.text import Token, lemmatizer_for, tokenize
from voice_trainer.scenario.schema import Move

UNKNOWN = "unknown"
# Words too common to make a near miss worth showing by themselves.
_VAGUE = frozenset({"какой", "который", "идти", "быть", "мочь", "сказать", "делать", "сделать", "весь", "это", "так",
                    "сейчас", "уже", "очень", "ваш", "наш", "свой"})

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
    example_texts: tuple[str, ...]
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
    # A move with patterns also counts when the utterance is nearly one of its examples (sorted lemmas this
    # similar, a few words or more): rarely decisive, the patterns do the work.
    verbatim_threshold = 0.86
    verbatim_min_tokens = 3
    # A move with examples only (examples.py) is made when the utterance holds enough of its examples' words
    # (`example_evidence`, in inverse-move-frequency units: one word no other move uses weighs about 2.9 in a
    # scenario of 17 moves), nearly as much as for the best move of the turn (`example_dominance`), and a
    # fair share of one example (`example_share`); a short turn made mostly of the move's words
    # (`example_turn_share`) needs less (`example_short_evidence`: "здравствуйте"); or when it holds most of
    # one example (`example_close`). Tuned on the speed dev sets with every pattern removed; see
    # docs/understanding.md.
    example_evidence = 3.0
    example_turn_share = 0.5
    example_short_evidence = 2.5
    example_dominance = 0.8
    example_share = 0.25
    example_close = 0.75
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
        self._examples = ExampleIndex({name: list(move.examples) for name, move in moves.items()},
                                      self._lemmatizer, lang)
        # Moves a trainer wrote with examples only: their examples generalize (examples.py).
        self._by_examples = frozenset(m.name for m in self._moves if not m.patterns)

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
            example_texts=tuple(move.examples),
            words=frozenset().union(*(p.words for p in patterns)),
            signs=frozenset(alt[0] for p in patterns if len(p.groups) == 1 for alt in p.groups[0] if len(alt) == 1),
            heard_ok=move.kind != "conduct",
            context=frozenset(context),
        )

    @property
    def move_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self._moves)

    def tokens(self, text: str) -> list[Token]:
        return tokenize(text, self._lemmatizer)

    # -- explanations (explain.py) ----------------------------------------------------------------------------

    def explain(self, text: str, moves: list[str] | None = None) -> Explanation:
        """Which pattern or example and which words made each move of `text`; for the moves not made (`moves`,
        or by default every move with some evidence), the nearest pattern and what cancelled a match."""
        understanding = self.classify(text)
        tokens = self.tokens(text)
        words = tuple(t.surface for t in tokens)
        u = self._lexicon.read(tokens)
        kept = {t.index for t in u.tokens}
        fillers = tuple(i for i in range(len(tokens)) if i not in kept)
        made, not_made = [], []
        wanted = set(moves) if moves is not None else None
        for move in self._moves:
            if move.name in understanding.moves:
                made.append(self._why_made(move, u, understanding))
            elif wanted is None or move.name in wanted:
                why = self._why_not(move, u, understanding.scores.get(move.name, 0.0), asked=wanted is not None)
                if wanted is not None or why.nearest or why.cancelled or why.example:
                    not_made.append(why)
        made.sort(key=lambda m: understanding.moves.index(m.move))
        return Explanation(text, words, fillers, tuple(made), tuple(not_made))

    def _said(self, u: Utterance, positions, sounded=()) -> tuple[Said, ...]:
        return tuple(Said(u.tokens[p].index, u.tokens[p].surface, p in sounded) for p in sorted(set(positions)))

    def _why_made(self, move: _MoveModel, u: Utterance, understanding: Understanding) -> Made:
        score = understanding.scores.get(move.name, 1.0)
        by_sound = move.name in understanding.by_sound
        best: tuple[int, int, Span] | None = None
        for i, pattern in enumerate(move.patterns):
            spans = pattern.match(u, by_sound=by_sound).spans
            if by_sound:
                spans = tuple(s for s in spans if s.sounded and self._fits(move, u, s))
            for s in self._unrejected(move, u, list(spans)):
                if not self._denied(s, u) and (best is None or s.start < best[2].start):
                    best = (i, s.start, s)
        if best is not None:
            i, _, span = best
            return Made(move.name, score, Source(move.name, "patterns", i, move.patterns[i].source),
                        self._said(u, span.hits, span.sounded), by_sound=by_sound)
        if move.name in self._by_examples:
            match = self._examples.best(move.name, u.tokens, u.negated, u.denied)
            if match is not None:
                ex = match.example
                return Made(move.name, score, Source(move.name, "examples", ex.index, ex.text),
                            self._said(u, match.positions), similarity=match.similarity)
        lemma_key = " ".join(sorted(t.lemma for t in u.tokens))
        sims = [fuzz.ratio(lemma_key, key) / 100.0 for key, _ in move.examples]
        i = max(range(len(sims)), key=sims.__getitem__) if sims else 0
        lemmas = move.examples[i][1] if move.examples else frozenset()
        return Made(move.name, score, Source(move.name, "examples", i, move.example_texts[i] if sims else ""),
                    self._said(u, [p for p, t in enumerate(u.tokens) if t.lemma in lemmas]),
                    similarity=sims[i] if sims else None)

    def _why_not(self, move: _MoveModel, u: Utterance, score: float, asked: bool = True) -> NotMade:
        """`asked`: the caller wants this move explained; otherwise a near miss is only worth showing when it is
        one group short and what was found says something (not just "вы", "какой")."""
        cancelled: list[Cancelled] = []
        nearest: tuple[float, int, NearMiss] | None = None
        rejects = [(j, r, span) for j, r in enumerate(move.reject) for span in r.match(u).reach]
        frame = tuple(p for p, on in enumerate(u.frame) if on) if u.frame else ()
        for i, pattern in enumerate(move.patterns):
            source = Source(move.name, "patterns", i, pattern.source)
            match = pattern.match(u)
            for s in match.spans:
                by = next(((j, r) for j, r, span in rejects if span.overlaps(s)), None)
                if by is not None:
                    cancelled.append(Cancelled(source, self._said(u, s.hits), "reject",
                                               Source(move.name, "reject", by[0], by[1].source)))
                elif self._denied(s, u):
                    cancelled.append(Cancelled(source, self._said(u, s.hits), "denial",
                                               frame=self._said(u, frame)))
            if not match.spans:
                freed = pattern.match(u, despite_negation=True).spans
                if freed:
                    negations = [p for s in freed for p in s.hits if u.negated[p]]
                    cancelled.append(Cancelled(source, self._said(u, freed[0].hits), "negation",
                                               frame=self._said(u, [max(0, p - 1) for p in negations])))
                    continue
                if self._sound_alikes and move.heard_ok and u.heard & move.words:
                    heard = [s for s in pattern.match(u, by_sound=True).spans if s.sounded]
                    unfit = [s for s in heard if not self._fits(move, u, s)]
                    if unfit:
                        cancelled.append(Cancelled(source, self._said(u, unfit[0].hits, unfit[0].sounded),
                                                   "sound_context"))
                        continue
                hits = pattern.hits(u)
                found = {h[2] for h in hits}
                if found:
                    need = len(pattern.groups)
                    missing = tuple(g for k, g in enumerate(pattern.group_texts) if k not in found)
                    miss = NearMiss(source, len(found), need, missing,
                                    self._said(u, [p for h in hits for p in range(h[0], h[1] + 1)]))
                    rank = (len(found) / need, len(found))
                    telling = need >= 2 and len(found) >= need - 1 and any(
                        self._is_content(u.tokens[p]) and u.tokens[p].lemma not in _VAGUE
                        for h in hits for p in range(h[0], h[1] + 1))
                    if (asked or telling) and (nearest is None or rank > nearest[:2]):
                        nearest = (*rank, miss)
        example, similarity = self._closest_example(move, u)
        return NotMade(move.name, score, nearest[2] if nearest else None, tuple(cancelled), example, similarity)

    def _closest_example(self, move: _MoveModel, u: Utterance) -> tuple[Source | None, float | None]:
        match = self._examples.best(move.name, u.tokens, u.negated, u.denied)
        if match is None or match.similarity < self.near_miss_score:
            return None, None
        ex = match.example
        return Source(move.name, "examples", ex.index, ex.text), match.similarity

    def classify(self, text: str) -> Understanding:
        tokens = self.tokens(text)
        if not tokens:
            return Understanding(())
        utterance = self._lexicon.read(tokens)
        if not utterance.tokens:  # nothing but fillers
            return Understanding(())
        lemma_key = " ".join(sorted(t.lemma for t in utterance.tokens))
        evidence = (self._examples.evidence(utterance.tokens, utterance.negated, utterance.denied, self._by_examples)
                    if self._by_examples else {})
        top = max((e.weight for e in evidence.values()), default=0.0)
        found: list[tuple[int, str]] = []
        scores: dict[str, float] = {}
        denied, by_sound = [], []
        for move in self._moves:
            verdict = self._judge(move, utterance, lemma_key, evidence.get(move.name), top)
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

    def _judge(self, move: _MoveModel, u: Utterance, lemma_key: str, evidence: Evidence | None = None,
               top: float = 0.0) -> _Verdict:
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
        if evidence is not None and evidence.negated:
            negated = True
        elif evidence is not None:
            match = self._examples.best(move.name, u.tokens, u.negated, u.denied)
            if match is not None:
                best = max(best, match.similarity)
                if self._by_example(move, u, match, evidence, top):
                    position = min(match.positions[0], *evidence.positions)
        else:
            for key, example_lemmas in move.examples:
                similarity = fuzz.ratio(lemma_key, key) / 100.0
                if similarity > best:
                    best = similarity
                    close = similarity >= self.verbatim_threshold and len(u.tokens) >= self.verbatim_min_tokens
                    if close and not self._rejected(move, u):
                        shared = [t_index for t_index, t in enumerate(u.tokens) if t.lemma in example_lemmas]
                        position = shared[0] if shared else len(u.tokens)
        if negated and position is None:
            return _Verdict(1.0, denied=True)
        return _Verdict(best, position)

    def _by_example(self, move: _MoveModel, u: Utterance, match: ExampleMatch, evidence: Evidence,
                    top: float) -> bool:
        """Whether an examples-only move is made: most of one example, or enough of its examples' words."""
        words = sum(1 for w in match.example.words if w.weight > 0)
        close = match.similarity >= self.example_close and len(match.positions) >= min(2, words)
        strong = evidence.weight >= self.example_evidence or (
            evidence.share_of_turn >= self.example_turn_share and evidence.weight >= self.example_short_evidence)
        enough = strong and evidence.weight >= self.example_dominance * top and match.similarity >= self.example_share
        if not (close or enough):
            return False
        where = sorted(set(match.positions) | set(evidence.positions if enough else ()))
        return bool(self._unrejected(move, u, [Span(where[0], where[-1], tuple(where))]))

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
