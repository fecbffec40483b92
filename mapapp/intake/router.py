"""HTTP for channel intake: connectors post messages; staff read what was read from them and decide triage."""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from mapapp.accounts.router import ActorDep
from mapapp.core.db import transaction
from mapapp.core.requests import read_json_object
from mapapp.core.text import StorableStr
from mapapp.intake import service, staff

router = APIRouter(prefix="/api/intake", tags=["intake"])

POST_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {
                "example": {
                    "messages": [
                        {
                            "channel": "twitter",
                            "account": "@seoulcity",
                            "external_id": "1729384756",
                            "author": "@citizen",
                            "text": "합정역 앞 가로등이 며칠째 꺼져 있어요 #가로등",
                            "geotag": {"lat": 37.5496, "lon": 126.9139},
                            "photos": [{"data": "<base64 JPEG>", "url": "https://pbs.example/abc.jpg"}],
                            "posted_at": "2026-11-25T21:04:00+09:00",
                        }
                    ]
                }
            }
        }
    }
}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return (header[7:].strip() or None) if header.lower().startswith("bearer ") else None


# Deadlock and serialization failure: the transaction was rolled back whole, so it is simply run again.
RETRYABLE = ("40P01", "40001")
ATTEMPTS = 4


def _ingest(key: str | None, body: dict[str, Any]) -> list[service.Accepted]:
    # One transaction for the batch: every message is stored, or none is. A batch's reports touch the
    # tile counters of several layers and cells (triggers on reports): two batches at once can deadlock,
    # so batches take turns, and a transaction that loses a deadlock anyway is run again from the start.
    for attempt in range(ATTEMPTS):
        try:
            with transaction() as session:
                channel = service.authenticate(session, key)
                messages = service.read_batch(body, channel=channel.name)
                if len(messages) > 1:
                    service.take_batch_turn(session)
                return service.ingest_messages(session, channel=channel, messages=messages)
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) not in RETRYABLE or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@router.post("/messages", summary="Messages from a channel connector", openapi_extra=POST_DOC)
async def post_messages(request: Request) -> JSONResponse:
    """One message, or `{"messages": [...]}` of up to MAPAPP_INTAKE_BATCH_MAX, with the channel's API key.

    Each is classified, located and routed (or put in triage); a message delivered again (same channel
    and external_id) answers its existing report with `replayed: true`. A malformed message refuses the
    whole batch (422 with its index and field), and nothing is stored.
    """
    body = read_json_object(await request.body())
    results = await run_in_threadpool(_ingest, _bearer(request), body)
    created = any(not r.replayed for r in results)
    return JSONResponse({"results": [r.to_public() for r in results]}, status_code=201 if created else 200)


@router.get("/reports/{public_id}", summary="What was read from a report's channel message (staff)")
def report_intake(public_id: str, actor: ActorDep) -> dict[str, Any]:
    """The `intake` object for a staff report detail: text, confidence, evidence, candidates, places, precision."""
    with transaction() as session:
        return {"id": public_id, "intake": staff.intake_for_report(session, actor=actor, public_id=public_id)}


@router.get("/reports/{public_id}/public", summary="A report's channel, as the public sees it")
def report_channel(public_id: str) -> dict[str, Any]:
    """The channel a report came from; the author's handle only when the channel's messages are public anyway."""
    with transaction() as session:
        return {"id": public_id, "channel": staff.public_channel(session, public_id=public_id)}


@router.get("/triage", summary="Channel reports waiting in triage, with what the machine read")
def triage(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return {"reports": staff.triage_messages(session, actor=actor)}


@router.get("/unreported", summary='Messages read as "no problem": no report was made (staff)')
def unreported(actor: ActorDep, days: Annotated[int, Query(ge=1, le=90)] = 7) -> dict[str, Any]:
    with transaction() as session:
        return {"messages": staff.unreported_messages(session, actor=actor, days=days)}


class Decision(BaseModel):
    category: StorableStr | None  # None: the message reports nothing to fix
    district: StorableStr | None = None
    dong: StorableStr | None = None
    note: StorableStr = ""


@router.post("/reports/{public_id}/decision", summary="Decide a triage message: category and place, or no problem")
def decide(public_id: str, body: Decision, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return staff.decide(
            session,
            actor=actor,
            public_id=public_id,
            category=body.category,
            district=body.district,
            dong=body.dong,
            note=body.note,
        )
