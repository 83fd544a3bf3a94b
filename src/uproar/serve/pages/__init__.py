"""The dashboard's pages: one module per page, each with a ``router``; ``create_app``
includes every router in ``ROUTERS``. To add a page, write ``pages/<page>.py`` and add its
router here (one line)."""

from __future__ import annotations

from fastapi import APIRouter

from uproar.serve.pages import (
    composer,
    drill,
    inbox,
    incident,
    login,
    now,
    search,
    settings,
)

ROUTERS: list[APIRouter] = [
    login.router,
    now.router,
    incident.router,
    inbox.router,
    composer.router,
    drill.router,
    search.router,
    settings.router,
]
