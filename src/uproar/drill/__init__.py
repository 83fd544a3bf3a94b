"""Drills: replay a recorded or simulated incident at an accelerated clock into a fresh
store, let a team answer it as if live, and score the team's play against the best one.

    from uproar.drill import prepare_source, start_drill, advance, record_response, score

The dashboard and ``uproar drill`` are thin shells over these calls; every one takes the
wall-clock ``now``, and the drill's state lives in its store.
"""

from uproar.drill.report import debrief_sections, write_drill_report
from uproar.drill.score import Debrief, PlayPost, load_best_play, score_play
from uproar.drill.session import (
    Advance,
    Clock,
    DrillDebrief,
    Response,
    Source,
    advance,
    clock,
    parse_speed,
    pause,
    prepare_source,
    record_response,
    responses,
    resume,
    score,
    start_drill,
    wall_time,
)

__all__ = [
    "Advance",
    "Clock",
    "Debrief",
    "DrillDebrief",
    "PlayPost",
    "Response",
    "Source",
    "advance",
    "clock",
    "debrief_sections",
    "load_best_play",
    "parse_speed",
    "pause",
    "prepare_source",
    "record_response",
    "responses",
    "resume",
    "score",
    "score_play",
    "start_drill",
    "wall_time",
    "write_drill_report",
]
