"""What the customer would answer, worked out while the trainee is still pausing.

In a pause the words heard so far may already be the whole turn. The customer's answer to them is
worked out on a twin of the conversation, never on the real one: a fresh `Conversation` with the same
scenario, persona, policy and seed that has heard the same turns (the dialogue core is a function of
its seed and the texts it handled). A deep copy would not do: the machine's chance conditions close
over the call's dice, so a copy would throw the real call's dice.

The twin is built on a background thread when the trainee starts (or resumes) talking (~50-150 ms of
pure Python, while they talk), so a preview in a pause costs one `handle()`. The voice then renders the answer's first
sentence ahead of time (`SpokenCustomer.expect`). The real turn still goes through the session as always;
only the `CustomerLine` it produces is ever spoken, and pre-rendered audio is used only when that line's
text is exactly the previewed one, so a preview the final words contradict is never heard.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.events import CustomerLine
from voice_trainer.session import Session


class ReplyPreview:
    def __init__(self, session: Session):
        self._session = session
        self._twin: Future | None = None
        self._twin_after_turn = -1  # the session turn the twin has heard up to

    def ready(self) -> bool:
        """A twin of the conversation as it stands is built: a preview now costs one `handle()`."""
        twin = self._twin
        return twin is not None and twin.done() and self._twin_after_turn == self._session.turn

    def prepare(self) -> None:
        """Start building a twin of the conversation as it stands now, unless one is ready or on its way."""
        session = self._session
        if session.ended or (self._twin is not None and self._twin_after_turn == session.turn):
            return
        real = session.conversation
        heard = sorted(real.turn_texts.items())
        made: Future = Future()

        def build() -> None:
            try:
                twin = Conversation(real.scenario, persona=real.persona, policy=real.policy, seed=real.seed,
                                    classifier=real.classifier)
                twin.opening()
                _ = twin.reader  # built now, not in the pause
                for turn, text in heard:
                    twin.handle(text, turn)
                made.set_result(twin)
            except BaseException as err:  # a preview is an optimisation: without a twin there is none
                made.set_exception(err)

        self._twin, self._twin_after_turn = made, session.turn
        threading.Thread(target=build, name="reply-preview", daemon=True).start()

    def reply_to(self, text: str) -> CustomerLine | None:
        """The customer's first line if `text` were the whole next turn; None when no twin is ready yet
        (this never waits) or he would say nothing. Uses up the twin: `prepare()` the next one once the
        trainee talks on (not now: building it in the pause would compete with the reply for the CPU)."""
        twin, after_turn = self._twin, self._twin_after_turn
        if twin is None or not twin.done() or after_turn != self._session.turn:
            return None
        self._twin = None
        try:
            conversation: Conversation = twin.result()
            events = conversation.handle(text, after_turn + 1)
        except Exception:  # noqa: BLE001 - the real turn will show any real problem
            return None
        return next((e for e in events if isinstance(e, CustomerLine) and e.text), None)
