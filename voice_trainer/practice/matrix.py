"""One script of trainee replies played against every persona x policy (x case) of a scenario: how each
customer takes the same call. In memory through the dialogue core, as `sessions rescore` replays a call;
nothing is recorded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product

from voice_trainer.dialogue.cases import seed_for_case
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.scoring import score_call
from voice_trainer.scenario.schema import ScenarioFile


@dataclass(frozen=True)
class MatrixRow:
    persona: str
    policy: str
    case: str | None
    seed: int
    outcome: str
    success: bool
    score: int
    turns: int  # replies the customer heard before the call ended
    final_anger: float
    missed: tuple[str, ...]  # rubric items missed
    penalties: tuple[str, ...]  # flags charged

    def to_json(self) -> dict:
        return asdict(self) | {"missed": list(self.missed), "penalties": list(self.penalties)}


def play_matrix(s: ScenarioFile, replies: list[str], seed: int = 0) -> list[MatrixRow]:
    """Every persona x policy, and every case when the scenario has cases (each case with the first seed from
    `seed` on that gives it)."""
    cases: list[str | None] = list(s.cases) or [None]
    rows = []
    for persona, policy, case in product(s.personas, s.policies, cases):
        cell_seed = seed if case is None else seed_for_case(s, case, start=seed)
        if cell_seed is None:
            continue
        rows.append(_play(s, replies, persona, policy, case, cell_seed))
    return rows


def _play(s: ScenarioFile, replies: list[str], persona: str, policy: str, case: str | None, seed: int) -> MatrixRow:
    call = Conversation(s, persona=persona, policy=policy, seed=seed)
    call.opening()
    heard = 0
    for reply in replies:
        if call.ended:
            break
        heard += 1
        call.handle(reply, heard)
    call.quit(heard)
    score = score_call(s, call.call, call.turn_texts)
    return MatrixRow(
        persona, policy, case, seed, score.outcome, score.success, score.score, heard, round(call.call.anger, 1),
        tuple(i.id for i in score.items if not i.met), tuple(p.flag for p in score.penalties),
    )
