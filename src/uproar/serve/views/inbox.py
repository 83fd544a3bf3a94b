"""The Inbox page's view: the ranked queue (clusters, intents, drafted replies), the
response-time figures, and what people decided on each draft.

Opening the inbox saves its drafts (``reply_drafts``, keyed by brand, the inbox's "now" and
the cluster's rank), so a decision always names a draft that is kept; deciding records who
approved or skipped which text, and when (``reply_decisions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from uproar.errors import InputError
from uproar.respond.inbox import Inbox, build_inbox, save_inbox
from uproar.respond.lint import Linter
from uproar.store import Store
from uproar.store.pages import DECISIONS, Decision, decisions, draft_text, record_decision


@dataclass(frozen=True, slots=True)
class InboxView:
    brand: str
    brand_name: str
    inbox: Inbox
    drafted_at: datetime
    decisions: Mapping[int, Decision]  # cluster -> the latest decision

    @property
    def pending(self) -> int:
        return sum(c.id not in self.decisions for c in self.inbox.clusters)


def inbox_view(
    store: Store,
    brand: str,
    *,
    incident: str | None = None,
    now: datetime | None = None,
    limit: int = 20,
    linter: Linter | None = None,
    save: bool = True,
    built: Inbox | None = None,
) -> InboxView:
    """The inbox of ``brand`` (within ``incident`` when given). An unknown brand or incident
    raises ``UnknownNameError`` naming the known ones. ``built`` is an inbox built (and
    saved) earlier for the same question, with the store unchanged since: only the
    decisions are read again."""
    store.require_brand(brand)
    if incident is not None:
        store.require_incident(incident)
    inbox = built or build_inbox(
        store, brand=brand, incident=incident, now=now, limit=limit, linter=linter
    )
    if inbox.now is None:
        raise InputError(f"no mentions of {brand!r} are stored yet", field="brand")
    if built is None and save and not store.read_only:
        save_inbox(store, inbox)
    latest = {
        d.cluster: d
        for d in decisions(store, brand=brand, drafted_at=inbox.now, incident=inbox.incident)
    }
    brands = store.load_brands()
    return InboxView(
        brand=brand,
        brand_name=brands[brand].name if brand in brands else brand,
        inbox=inbox,
        drafted_at=inbox.now,
        decisions=latest,
    )


def decide(
    store: Store,
    *,
    brand: str,
    drafted_at: datetime,
    cluster: int,
    action: str,
    by: str,
    at: datetime,
    text: str | None = None,
    incident: str | None = None,
) -> Decision:
    """Approve or skip a saved draft (of the brand's inbox, or ``incident``'s) as ``by`` at
    ``at``; ``text`` is the edited reply (default: the draft as saved). Raises
    ``InputError`` for an unknown draft or action."""
    if action not in DECISIONS:
        raise InputError(f"action must be one of {', '.join(DECISIONS)}, not {action!r}",
                         field="action")  # fmt: skip
    saved = draft_text(
        store, brand=brand, drafted_at=drafted_at, cluster=cluster, incident=incident
    )
    if saved is None:
        raise InputError(
            f"no saved draft {cluster} of {brand!r} drafted at {drafted_at.isoformat()}; "
            "reload the inbox",
            field="cluster",
        )
    final = saved if text is None else text.strip()
    if action == "approve" and not final:
        raise InputError("an approved reply cannot be empty", field="text")
    decision = Decision(
        brand=brand,
        drafted_at=drafted_at,
        cluster=cluster,
        incident=incident,
        action=action,
        text=final,
        edited=final != saved,
        by=by,
        at=at,
    )
    record_decision(store, decision)
    return decision
