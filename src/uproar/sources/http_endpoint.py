"""An HTTP ingest endpoint, for tools that push posts rather than being read.

``POST /v1/posts`` takes a JSON object, a JSON array or JSON Lines in any archive format
(``?format=`` or detected from the first record) and answers with the ingest counts.
Every request is one transaction on the store, taken one at a time (DuckDB has one writer).
Errors share one shape: ``{"ok": false, "error": "...", "status": N}``.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from uproar.errors import UproarError
from uproar.sources.ingestor import JSON_FORMATS, Ingestor, IngestResult, sniff_format

MAX_BODY_BYTES = 16 << 20


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)


def make_ingest_app(
    ingestor: Ingestor, *, token: str | None = None, max_body: int = MAX_BODY_BYTES
) -> FastAPI:
    """The endpoint as an ASGI app over one ingestor (and so one store)."""
    app = FastAPI(title="Uproar ingest", docs_url=None, redoc_url=None)
    writer = threading.Lock()
    totals = {"requests": 0, "stored": 0, "quarantined": 0}

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True, **totals}

    @app.post("/v1/posts")
    async def post(request: Request, format: str = "auto") -> JSONResponse:
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "missing or wrong bearer token")
        if format != "auto" and format not in JSON_FORMATS:
            return _error(400, f"format must be auto or one of {', '.join(JSON_FORMATS)}")
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > max_body:
            return _error(413, f"body over {max_body} bytes; send smaller batches")
        body = await request.body()
        if len(body) > max_body:
            return _error(413, f"body over {max_body} bytes; send smaller batches")
        objects = _objects(body)
        name = format if format != "auto" else next(filter(None, map(sniff_format, objects)), None)
        if name is None:
            return _error(400, "cannot tell the format of these records; pass ?format=")
        source = f"http:{request.client.host if request.client else 'unknown'}"

        def write() -> IngestResult:
            with writer:
                return ingestor.ingest_objects(objects, format=name, source=source)

        try:
            result = await run_in_threadpool(write)
        except UproarError as exc:
            return _error(400, exc.message)
        totals["requests"] += 1
        totals["stored"] += result.stored
        totals["quarantined"] += result.quarantined
        return JSONResponse({"ok": True, **result.as_dict(), "errors": result.errors})

    return app


def _objects(body: bytes) -> list[Any]:
    """A JSON array's elements, one JSON object, or JSON Lines (bad lines kept as text)."""
    try:
        whole = orjson.loads(body)
        return whole if isinstance(whole, list) else [whole]
    except orjson.JSONDecodeError:
        pass
    objects: list[Any] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            objects.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            objects.append(line.decode("utf-8", "replace"))  # quarantined as not an object
    return objects
