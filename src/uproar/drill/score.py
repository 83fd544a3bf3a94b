"""The debrief: how a team (or any play: the brand's real one, the best one) handled an
incident, measure by measure, against the targets in ``best_play.toml``.

    debrief = score_play(posts, onset=..., until=..., tz=..., linter=Linter(), inbox=inbox)
    debrief.score, [m.key for m in debrief.measures], debrief.posts[0].categories

Measures (each scored 0-100; the play's score is their mean, over those that apply):

* ``first_ack_min``: onset to the first public post; full marks within the target, none
  at four times it.
* ``promises_kept``: of the next-update times the updates promised that fell due, the
  share met by the next update (within the grace); a team that promised none scores 0.
* ``update_gap``: the share of gaps between updates (and from the last one to the drill's
  end) within the target.
* ``facts_per_update``: what is wrong, who is hit, what to do, when the next update comes
  (for a resolution: what happened and that it is fixed), per thread, as the linter's
  ``facts`` rule reads them.
* ``lint``: each post starts at 100 and loses points per finding by level; the findings'
  categories (blame, flippant, jargon, ...) are named.
* ``answered_share``: mentions that needed a reply and got one, against what the team
  could answer (its size times ``replies_per_person_hour``); ``median_answer_min`` beside it.
* ``rumours_addressed``: rumours and bait links an update or reply called false or named;
  a backlash to the brand's own post (a ``reaction``) is addressed by an apology.
"""

from __future__ import annotations

import itertools
import statistics
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from uproar.drill.promises import promised_next
from uproar.errors import ConfigError, InputError
from uproar.records import Finding
from uproar.respond.inbox import Inbox
from uproar.respond.lint import Linter
from uproar.respond.lint.checks.facts import Facts
from uproar.respond.lint.text import Document
from uproar.simulate.scenario import parse_minutes
from uproar.times import duration

KINDS = ("update", "reply", "resolved")


# -- targets (data) ------------------------------------------------------------------------
class Targets(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    first_ack_min: float = 15.0
    update_gap_min: float = 60.0
    promise_grace_min: float = 5.0
    thread_gap_min: float = 5.0
    median_answer_min: float = 30.0
    replies_per_person_hour: float = 20.0
    rumour_words: tuple[str, ...] = ("scam", "fake", "phishing")
    apology_words: tuple[str, ...] = ("sorry", "apologise", "apologize", "we got this wrong")


class LintPoints(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    error: float = 50.0
    warning: float = 20.0
    suggestion: float = 5.0


class PlaySpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    at: str
    text: str
    kind: str = "update"
    reply_to: str | None = None


class BestPlayFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    targets: Targets = Targets()
    lint: LintPoints = LintPoints()
    plays: dict[str, list[PlaySpec]] = {}


def load_best_play(path: str | Path | None = None) -> BestPlayFile:
    """The shipped targets and best plays (``drill/best_play.toml``), or a file of your own."""
    where = str(path) if path is not None else "drill/best_play.toml"
    try:
        raw = (
            Path(path).read_text("utf-8")
            if path is not None
            else resources.files("uproar.drill").joinpath("best_play.toml").read_text("utf-8")
        )
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}", file=where) from None
    try:
        spec = msgspec.convert(tomllib.loads(raw), BestPlayFile)
    except (msgspec.ValidationError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}", file=where) from None
    for name, play in spec.plays.items():
        for i, post in enumerate(play):
            if post.kind not in KINDS:
                raise ConfigError(
                    f"{where}: plays.{name}[{i}].kind must be one of {', '.join(KINDS)}",
                    file=where,
                    key="kind",
                )
    return spec


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlayPost:
    """One post of a play: when (on the incident's clock), what kind, what it said."""

    at: datetime
    kind: str
    text: str
    reply_to: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredPost:
    n: int
    at: datetime
    kind: str
    text: str
    author: str | None
    findings: tuple[Finding, ...]
    score: float
    categories: tuple[str, ...]
    thread: int | None = None  # which update thread it belongs to (updates only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "at": self.at,
            "kind": self.kind,
            "text": self.text,
            "author": self.author,
            "score": round(self.score, 1),
            "categories": list(self.categories),
            "findings": [
                {"rule": f.rule, "category": f.category, "severity": f.severity,
                 "message": f.message, "suggestion": f.suggestion}
                for f in self.findings
            ],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Thread:
    """Updates posted close together, read as one update."""

    number: int
    at: datetime
    kind: str  # update | resolved
    text: str
    facts: tuple[str, ...]  # the facts it states
    missing: tuple[str, ...]  # the facts it leaves out
    promise: datetime | None  # when it said the next update would come
    kept: bool | None = None  # None: not yet due when the drill ended, or none promised

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at,
            "kind": self.kind,
            "facts": list(self.facts),
            "missing": list(self.missing),
            "promise": self.promise,
            "kept": self.kept,
        }


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    label: str
    value: float | None
    shown: str
    target: str
    score: float | None  # None: does not apply to this play

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "shown": self.shown,
            "target": self.target,
            "score": None if self.score is None else round(self.score, 1),
        }


@dataclass(frozen=True, slots=True)
class UnansweredCluster:
    """A cluster of the inbox with questions still unanswered when the drill ended."""

    label: str
    topic: str | None
    questions: int
    unanswered: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "topic": self.topic,
            "questions": self.questions,
            "unanswered": self.unanswered,
        }


@dataclass(frozen=True, slots=True)
class Debrief:
    name: str
    onset: datetime
    until: datetime
    score: float
    measures: tuple[Measure, ...]
    posts: tuple[ScoredPost, ...]
    threads: tuple[Thread, ...]
    unanswered: tuple[UnansweredCluster, ...] = ()
    categories: Mapping[str, int] = field(default_factory=dict)

    def measure(self, key: str) -> Measure:
        return next(m for m in self.measures if m.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "onset": self.onset,
            "until": self.until,
            "score": round(self.score, 1),
            "measures": [m.to_dict() for m in self.measures],
            "categories": dict(self.categories),
            "threads": [t.to_dict() for t in self.threads],
            "posts": [p.to_dict() for p in self.posts],
            "unanswered": [u.to_dict() for u in self.unanswered],
        }


# -- scoring -------------------------------------------------------------------------------
def score_play(
    posts: Sequence[PlayPost],
    *,
    name: str,
    onset: datetime,
    until: datetime,
    tz: tzinfo,
    linter: Linter,
    rumours: Sequence[Mapping[str, Any]] = (),
    inbox: Inbox | None = None,
    team_size: int = 1,
    best: BestPlayFile | None = None,
) -> Debrief:
    """Score one play over ``[onset, until]``: posts after ``until`` are not read."""
    spec = best or load_best_play()
    t, points = spec.targets, spec.lint
    shown = sorted((p for p in posts if p.at <= until), key=lambda p: p.at)
    scored = _scored_posts(shown, linter, points)
    threads = _threads(shown, linter, tz, t, until)
    measures = [
        _first_ack(shown, onset, t),
        _promises(threads),
        _gaps(threads, until, t),
        _facts(threads),
        _lint(scored),
        *_answers(inbox, onset, until, team_size, t),
        _rumours(shown, rumours, t),
    ]
    scores = [m.score for m in measures if m.score is not None]
    categories = Counter(c for p in scored for c in p.categories)
    return Debrief(
        name=name,
        onset=onset,
        until=until,
        score=statistics.fmean(scores) if scores else 0.0,
        measures=tuple(measures),
        posts=tuple(scored),
        threads=tuple(threads),
        unanswered=_unanswered(inbox),
        categories=dict(categories.most_common()),
    )


def play_from_spec(specs: Sequence[PlaySpec], onset: datetime) -> list[PlayPost]:
    """A best play's posts on the incident's clock."""
    return [
        PlayPost(at=when(s.at, onset), kind=s.kind, text=s.text, reply_to=s.reply_to) for s in specs
    ]


def when(value: str, onset: datetime, *, where: str = "at") -> datetime:
    """An offset from onset (``"+20m"``, ``"-1h"``) or an ISO 8601 time (zone-less: UTC)."""
    if value.startswith(("+", "-")):
        minutes = parse_minutes(value[1:])
        if minutes is None:
            raise InputError(f"{where}: expected an offset like +20m or +1h30m, got {value!r}")
        sign = -1 if value.startswith("-") else 1
        return onset + sign * timedelta(minutes=minutes)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{where}: expected +20m (after onset) or an ISO 8601 time, got {value!r}"
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _facts_checks(linter: Linter) -> dict[str, Facts]:
    """The linter's facts rules by the draft kind they judge (update, resolved)."""
    out: dict[str, Facts] = {}
    for check in linter.checks:
        if isinstance(check, Facts):
            for kind in check.rule.applies_to:
                out.setdefault(kind, check)
    return out


def _scored_posts(
    posts: Sequence[PlayPost], linter: Linter, points: LintPoints
) -> list[ScoredPost]:
    facts_rules = {c.rule.id for c in linter.checks if isinstance(c, Facts)}
    out = []
    for n, post in enumerate(posts, 1):
        # An update is one piece of a thread: the facts are judged over the thread.
        findings = tuple(
            f for f in linter.lint(post.text, kind=post.kind) if f.rule not in facts_rules
        )
        lost = sum(getattr(points, f.severity) for f in findings)
        out.append(
            ScoredPost(
                n=n,
                at=post.at,
                kind=post.kind,
                text=post.text,
                author=post.author,
                findings=findings,
                score=max(0.0, 100.0 - lost),
                categories=tuple(dict.fromkeys(f.category for f in findings)),
            )
        )
    return out


def _threads(
    posts: Sequence[PlayPost], linter: Linter, tz: tzinfo, t: Targets, until: datetime
) -> list[Thread]:
    broadcasts = [p for p in posts if p.kind != "reply"]
    groups: list[list[PlayPost]] = []
    for post in broadcasts:
        if groups and post.at - groups[-1][-1].at <= timedelta(minutes=t.thread_gap_min):
            groups[-1].append(post)
        else:
            groups.append([post])
    checks = _facts_checks(linter)
    raw = []
    for number, group in enumerate(groups, 1):
        kind = "resolved" if any(p.kind == "resolved" for p in group) else "update"
        text = " ".join(p.text for p in group)
        check = checks.get(kind)
        labels = [label for label, _ in check.facts] if check else []
        missing = check.missing(Document(text)) if check else []
        promise = promised_next(text, group[-1].at, tz) if kind == "update" else None
        raw.append((number, group[0].at, kind, text, labels, missing, promise))
    grace = timedelta(minutes=t.promise_grace_min)
    out = []
    for i, (number, at, kind, text, labels, missing, promise) in enumerate(raw):
        kept: bool | None = None
        if promise is not None:
            following = raw[i + 1][1] if i + 1 < len(raw) else None
            if following is not None and following <= promise + grace:
                kept = True
            elif promise + grace < until:
                kept = False  # it fell due before the drill ended and nothing came
        out.append(
            Thread(
                number=number,
                at=at,
                kind=kind,
                text=text,
                facts=tuple(lb for lb in labels if lb not in missing),
                missing=tuple(missing),
                promise=promise,
                kept=kept,
            )
        )
    return out


def _decay(value: float, target: float) -> float:
    """Full marks up to ``target``, none from four times it, linear between."""
    if value <= target:
        return 100.0
    return max(0.0, 100.0 * (1 - (value - target) / (3 * target)))


def _first_ack(posts: Sequence[PlayPost], onset: datetime, t: Targets) -> Measure:
    target = f"within {duration(t.first_ack_min * 60)}"
    if not posts:
        return Measure("first_ack_min", "Time to first acknowledgement", None, "never", target, 0.0)
    minutes = max(0.0, (posts[0].at - onset).total_seconds() / 60)
    return Measure(
        "first_ack_min",
        "Time to first acknowledgement",
        minutes,
        duration(minutes * 60),
        target,
        _decay(minutes, t.first_ack_min),
    )


def _promises(threads: Sequence[Thread]) -> Measure:
    due = [th for th in threads if th.kept is not None]
    made = [th for th in threads if th.promise is not None]
    label = "Next-update promises kept"
    target = "every promised update on time"
    if not threads:
        return Measure("promises_kept", label, None, "no updates", target, 0.0)
    if not made:
        return Measure("promises_kept", label, None, "no update promised a next one", target, 0.0)
    if not due:
        return Measure(
            "promises_kept", label, None, f"{len(made)} made, none due yet", target, None
        )
    kept = sum(bool(th.kept) for th in due)
    return Measure(
        "promises_kept",
        label,
        kept / len(due),
        f"{kept} of {len(due)}",
        target,
        100.0 * kept / len(due),
    )


def _gaps(threads: Sequence[Thread], until: datetime, t: Targets) -> Measure:
    label = "Update cadence"
    target = f"every {duration(t.update_gap_min * 60)} or sooner"
    if not threads:
        return Measure("update_gap", label, None, "no updates", target, 0.0)
    times = [th.at for th in threads]
    gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(times)]
    if threads[-1].kind != "resolved":
        gaps.append((until - times[-1]).total_seconds() / 60)
    if not gaps:
        return Measure("update_gap", label, None, "one update", target, 100.0)
    ok = sum(g <= t.update_gap_min for g in gaps)
    return Measure(
        "update_gap",
        label,
        max(gaps),
        f"longest gap {duration(max(gaps) * 60)}; {ok} of {len(gaps)} gaps on time",
        target,
        100.0 * ok / len(gaps),
    )


def _facts(threads: Sequence[Thread]) -> Measure:
    label = "Facts covered per update"
    target = "all of what, who, what to do and the next update"
    shares = [
        len(th.facts) / (len(th.facts) + len(th.missing))
        for th in threads
        if th.facts or th.missing
    ]
    if not shares:
        return Measure("facts_per_update", label, None, "no updates", target, 0.0)
    mean = statistics.fmean(shares)
    return Measure("facts_per_update", label, mean, f"{mean:.0%} on average", target, 100.0 * mean)


def _lint(posts: Sequence[ScoredPost]) -> Measure:
    label = "What the linter found in the posts"
    target = "no findings"
    if not posts:
        return Measure("lint", label, None, "nothing posted", target, None)
    findings = sum(len(p.findings) for p in posts)
    categories = Counter(c for p in posts for c in p.categories)
    named = ", ".join(f"{c} ({n})" for c, n in categories.most_common()) or "none"
    return Measure(
        "lint",
        label,
        float(findings),
        f"{findings} finding(s): {named}",
        target,
        statistics.fmean(p.score for p in posts),
    )


def _answers(
    inbox: Inbox | None, onset: datetime, until: datetime, team_size: int, t: Targets
) -> list[Measure]:
    share_label, speed_label = "Mentions answered", "Median time to answer"
    speed_target = f"within {duration(t.median_answer_min * 60)}"
    if inbox is None:
        return [
            Measure("answered_share", share_label, None, "not measured", "—", None),
            Measure("median_answer_min", speed_label, None, "not measured", speed_target, None),
        ]
    r = inbox.response
    hours = max(0.0, (until - onset).total_seconds() / 3600)
    can = min(r.mentions, round(team_size * t.replies_per_person_hour * hours))
    share = r.answered / r.mentions if r.mentions else None
    answered = Measure(
        "answered_share",
        share_label,
        share,
        f"{r.answered} of {r.mentions} needing a reply" if r.mentions else "none needed one",
        f"{can} (a team of {team_size} at {t.replies_per_person_hour:g} an hour each)",
        (100.0 * min(1.0, r.answered / can) if can else 100.0) if r.mentions else None,
    )
    median = r.median_first_reply_s / 60 if r.median_first_reply_s is not None else None
    speed = Measure(
        "median_answer_min",
        speed_label,
        median,
        duration(median * 60) if median is not None else "none answered",
        speed_target,
        _decay(median, t.median_answer_min)
        if median is not None
        else (0.0 if r.mentions else None),
    )
    return [answered, speed]


def _rumours(
    posts: Sequence[PlayPost], rumours: Sequence[Mapping[str, Any]], t: Targets
) -> Measure:
    label = "Rumours and bait links addressed"
    if not rumours:
        return Measure("rumours_addressed", label, None, "none spread", "—", None)
    texts = [p.text.lower() for p in posts]
    warned = any(w in text for text in texts for w in t.rumour_words)
    sorry = any(w in text for text in texts for w in t.apology_words)
    addressed = sum(
        # A backlash to the brand's own post is answered by owning it; anything else by
        # calling it false or naming its domain.
        sorry
        if r.get("kind") == "reaction"
        else warned or any(str(r.get("domain") or "\x00").lower() in text for text in texts)
        for r in rumours
    )
    return Measure(
        "rumours_addressed",
        label,
        addressed / len(rumours),
        f"{addressed} of {len(rumours)}",
        "every one called out",
        100.0 * addressed / len(rumours),
    )


def _unanswered(inbox: Inbox | None) -> tuple[UnansweredCluster, ...]:
    if inbox is None:
        return ()
    out = []
    for cluster in inbox.clusters:
        questions = [m for m in cluster.mentions if m.intent == "question"]
        waiting = sum(not m.answered for m in questions)
        if waiting:
            out.append(UnansweredCluster(cluster.label, cluster.topic, len(questions), waiting))
    return tuple(sorted(out, key=lambda u: -u.unanswered))
