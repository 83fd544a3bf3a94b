"""What each dashboard page shows, built from a store with no web code: frozen records a
template renders and a JSON route returns. ``now`` is always passed in (the newest stored
post by default), so a test or an archive reads exactly like a live store.

    now_view(store)                       # Now: brands against their usual range, incidents
    incident_view(store, "kiwinet-...")   # Incident: the report's chapter, live
    inbox_view(store, "kiwinet")          # Inbox: ranked clusters with drafts; decide(...)
    composer_view("We're sorry ...")      # Composer: findings as spans, lengths, threads
"""

from uproar.serve.views.composer import ComposerView, composer_view
from uproar.serve.views.inbox import InboxView, decide, inbox_view
from uproar.serve.views.incident import IncidentView, incident_view
from uproar.serve.views.now import NowView, now_view

__all__ = [
    "ComposerView",
    "InboxView",
    "IncidentView",
    "NowView",
    "composer_view",
    "decide",
    "inbox_view",
    "incident_view",
    "now_view",
]
