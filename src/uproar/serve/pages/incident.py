"""Incident: the list of stored incidents and one incident's page (/incidents/{id})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse, Response

from uproar.detect import incident_dict
from uproar.serve.auth import get_store
from uproar.serve.pages._common import cached, json_response, json_script, not_found
from uproar.serve.render import render
from uproar.serve.views import incident_view
from uproar.store import Store
from uproar.store.detect import load_incidents

router = APIRouter(tags=["incidents"])

IncidentId = Annotated[str, Path(max_length=200, description="The incident's id.")]


@router.get("/incidents", response_class=HTMLResponse, summary="Every stored incident.")
def incidents_page(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    incidents = sorted(load_incidents(store), key=lambda i: i.start, reverse=True)
    return render(request, "incidents.html.j2", {"incidents": incidents})


@router.get("/api/incidents", summary="Every stored incident, newest first.")
def incidents_api(store: Annotated[Store, Depends(get_store)]) -> Response:
    incidents = sorted(load_incidents(store), key=lambda i: i.start, reverse=True)
    return json_response([incident_dict(i) for i in incidents])


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, summary="One incident.")
def incident_page(
    request: Request, incident_id: IncidentId, store: Annotated[Store, Depends(get_store)]
) -> Response:
    with not_found():
        view = cached(request, store, ("incident", incident_id),
                      lambda: incident_view(store, incident_id), coarse=True)  # fmt: skip
    charts = {name: json_script(spec) for name, spec in view.charts.items()}
    return render(request, "incident.html.j2", {"view": view, "charts": charts})


@router.get(
    "/api/incidents/{incident_id}",
    summary="What the Incident page shows: timeline, measures, own posts with lint "
    "findings, regions, terms, sample posts, peers, rumours and chart specs.",
    responses={404: {"description": "No such incident; the message names the known ones."}},
)
def incident_api(
    request: Request, incident_id: IncidentId, store: Annotated[Store, Depends(get_store)]
) -> Response:
    with not_found():
        view = cached(request, store, ("incident", incident_id),
                      lambda: incident_view(store, incident_id), coarse=True)  # fmt: skip
    return json_response(view)
