"""Sessions as xAPI 1.0.3 statements, for a learning record store (LRS) or an LMS that imports them.

One statement per session: the trainee (an account on the centre's home page) passed, failed or
completed the scenario (an activity), with the score, success, completion and duration, and the
customer's persona, the company policy and the call's outcome as context extensions.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Iterable
from urllib.parse import quote

from voice_trainer.trainer.library.interface import UNFINISHED, SessionSummary

VERSION = "1.0.3"
DEFAULT_HOME_PAGE = "http://localhost/voice-trainer"
VERBS = {
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
}
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
# Statement ids are derived from the session id: exporting again gives the same ids (an LRS drops repeats).
_NAMESPACE = uuid.UUID("5f0e3a52-8f4b-4d0c-9c61-2b0f3c8e7a10")


def statements(sessions: Iterable[SessionSummary], *, home_page: str = "", activity_base: str = "") -> list[dict[str, Any]]:
    """Scored sessions as statements; a session that was never scored has nothing to report."""
    home = (home_page or DEFAULT_HOME_PAGE).rstrip("/")
    base = (activity_base or home).rstrip("/")
    return [statement(s, home, base) for s in sessions
            if s.outcome != UNFINISHED and s.score is not None and s.started_at]


def statement(s: SessionSummary, home_page: str, activity_base: str) -> dict[str, Any]:
    verb = "passed" if s.success is True else "failed" if s.success is False else "completed"
    ext = f"{activity_base}/xapi/extensions"
    return {
        "id": str(uuid.uuid5(_NAMESPACE, s.session_id)),
        "version": VERSION,
        "actor": {"objectType": "Agent", "name": s.trainee or "anonymous",
                  "account": {"homePage": home_page, "name": s.trainee or "anonymous"}},
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": {
            "objectType": "Activity",
            "id": f"{activity_base}/scenarios/{quote(s.scenario, safe='')}/{quote(s.lang, safe='')}",
            "definition": {"name": {_language(s.lang): s.scenario}, "type": SIMULATION},
        },
        "result": {
            "score": {"raw": s.score, "min": 0, "max": 100, "scaled": round(s.score / 100, 4)},
            "success": bool(s.success),
            "completion": not s.interrupted,
            "duration": iso_duration(s.duration_s),
        },
        "timestamp": s.started_at,
        "context": {
            "registration": str(uuid.uuid5(_NAMESPACE, "registration/" + s.session_id)),
            "platform": "voice-trainer",
            "language": _language(s.lang),
            "extensions": {
                f"{ext}/session-id": s.session_id,
                f"{ext}/persona": s.persona,
                f"{ext}/policy": s.policy,
                f"{ext}/outcome": s.outcome,
            },
        },
    }


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, to the hundredth of a second as xAPI keeps it: PT1H2M3.45S."""
    hundredths = max(0, round(seconds * 100))
    hours, rest = divmod(hundredths, 360000)
    minutes, rest = divmod(rest, 6000)
    secs = f"{rest // 100}" if rest % 100 == 0 else f"{rest // 100}.{rest % 100:02d}".rstrip("0")
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _language(lang: str) -> str:
    return lang if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang or "") else "und"
