"""HTTP for office work: queues, the workflow, transfers and triage. Authorization is in the services."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mapapp.accounts.router import ActorDep
from mapapp.core.csv_export import write_csv
from mapapp.core.db import transaction
from mapapp.core.errors import InvalidInput
from mapapp.core.text import StorableStr
from mapapp.offices import queue, workflow
from mapapp.offices.schemas import OfficeQueue, ReportMoved, TriageQueue
from mapapp.ratelimit.deps import limit_by_client

router = APIRouter(prefix="/api", tags=["staff"])


class StatusChange(BaseModel):
    to: StorableStr
    public_note: StorableStr = ""
    private_note: StorableStr = ""
    assignee: StorableStr | None = None
    reason: StorableStr | None = None
    duplicate_of: StorableStr | None = None


class Transfer(BaseModel):
    to_office: StorableStr | None = None  # None: back to triage
    reason: StorableStr
    private_note: StorableStr = ""


class TriageDecision(BaseModel):
    office: StorableStr
    note: StorableStr = ""


def _summary(report: Any) -> dict[str, Any]:
    return {"id": report.public_id, "status": report.status, "office_id": report.office_id}


@dataclass
class QueueFilters:
    """The queue's filters, the same for the page, the API and the CSV export."""

    status: Annotated[list[str] | None, Query()] = None
    category: str | None = None
    layer: str | None = None
    overdue: bool | None = None
    min_age_hours: Annotated[float | None, Query(ge=0, description="only reports at least this old")] = None
    sort: Annotated[str, Query(description="age (oldest first), newest, or priority (due first)")] = "age"

    def read(self, actor: Any, slug: str, limit: int = 500) -> dict[str, Any]:
        with transaction() as session:
            return queue.office_queue(
                session,
                actor=actor,
                office_slug=slug,
                statuses=self.status,
                category=self.category,
                layer=self.layer,
                overdue=self.overdue,
                min_age_hours=self.min_age_hours,
                sort=self.sort,
                limit=limit,
            )


FiltersDep = Annotated[QueueFilters, Depends()]


@router.get("/offices/{slug}/queue", summary="An office's queue", response_model=OfficeQueue)
def office_queue(slug: str, actor: ActorDep, filters: FiltersDep) -> dict[str, Any]:
    return filters.read(actor, slug)


@router.get("/offices/{slug}/queue.csv", summary="The filtered queue as CSV", response_class=Response)
def office_queue_csv(slug: str, actor: ActorDep, filters: FiltersDep) -> Response:
    body = filters.read(actor, slug, limit=100_000)
    csv_text = write_csv(body["reports"], queue.CSV_COLUMNS)
    return Response(
        "\ufeff" + csv_text,
        media_type="text/csv; charset=utf-8",  # BOM: Excel reads Korean
        headers={"Content-Disposition": f'attachment; filename="{slug}-queue.csv"'},
    )


@router.get("/triage", summary="The triage queue", response_model=TriageQueue)
def triage(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return queue.triage_queue(session, actor=actor)


@router.post("/reports/{public_id}/status", summary="Move a report along the workflow", response_model=ReportMoved)
def change_status(public_id: str, body: StatusChange, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        report = workflow.change_status(
            session,
            actor=actor,
            public_id=public_id,
            to=body.to,
            public_note=body.public_note,
            private_note=body.private_note,
            assignee_email=body.assignee,
            close_reason=body.reason,
            duplicate_of=body.duplicate_of,
        )
        return _summary(report)


@router.post(
    "/reports/{public_id}/transfer",
    summary="Transfer a report to another office or to triage",
    response_model=ReportMoved,
)
def transfer(public_id: str, body: Transfer, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _summary(
            workflow.transfer(
                session,
                actor=actor,
                public_id=public_id,
                to_office=body.to_office,
                reason=body.reason,
                private_note=body.private_note,
            )
        )


@router.post("/triage/{public_id}/route", summary="Route a triage report by hand", response_model=ReportMoved)
def route_from_triage(public_id: str, body: TriageDecision, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _summary(
            workflow.route_from_triage(session, actor=actor, public_id=public_id, to_office=body.office, note=body.note)
        )


class Reopen(BaseModel):
    token: StorableStr | None = None  # the secret of the reopen link in the citizen's e-mail
    contact: StorableStr | None = None  # or: the e-mail address reported with, to be sent a new link
    reason: StorableStr = ""


REOPEN_LINK_SENT = "If this address filed the report, we have sent it a link to reopen the report."


@router.post(
    "/reports/{public_id}/reopen",
    summary="The citizen reopens a resolved report",
    tags=["reports"],
    dependencies=[limit_by_client("reopen", "reopen requests")],
    responses={202: {"description": "Sent with a contact: the same answer whether or not it is the reporter's"}},
)
def reopen(public_id: str, body: Reopen) -> Response:
    """With the `token` of the reopen link: reopen (say why in `reason`). With a `contact` instead: 202,
    and a new link goes to that address only if the report was filed with it."""
    if body.token:
        with transaction() as session:
            report = workflow.reopen(session, public_id=public_id, token=body.token, reason=body.reason)
            return JSONResponse(_summary(report))
    if body.contact:
        with transaction() as session:
            workflow.request_reopen_link(session, public_id=public_id, contact=body.contact)
        return JSONResponse({"id": public_id, "status": "link_requested", "message": REOPEN_LINK_SENT}, 202)
    raise InvalidInput("give the token of your reopen link, or the contact you reported with", field="token")


@router.post("/reports/{public_id}/after-photo", summary="The office's photo of the fixed problem")
async def after_photo(public_id: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("photo")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("send the photo as multipart field 'photo'", field="photo")
    data = await upload.read()

    def work() -> str:
        with transaction() as session:
            return workflow.add_after_photo(session, actor=actor, public_id=public_id, data=data)

    key = await run_in_threadpool(work)
    return {"id": public_id, "photo": "/media/" + key}
