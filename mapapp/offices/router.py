"""HTTP for office work: queues, the workflow, transfers and triage. Authorization is in the services."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mapapp.accounts.router import ActorDep
from mapapp.core.db import transaction
from mapapp.core.errors import InvalidInput
from mapapp.core.text import StorableStr
from mapapp.offices import desk, queue, workflow
from mapapp.offices.schemas import OfficeQueue, ReportMoved, StaffReport, TriageQueue
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
    """The queue's filters, the same for the page, its map and the CSV export."""

    status: Annotated[list[str] | None, Query(description="workflow statuses or public groups")] = None
    open: Annotated[bool | None, Query(description="only unfinished (true) or finished (false) reports")] = None
    category: str | None = None
    layer: str | None = None
    overdue: bool | None = None
    min_age_hours: Annotated[float | None, Query(ge=0, description="only reports at least this old")] = None
    q: Annotated[str | None, Query(max_length=200, description="report id, or words of the description or place")] = (
        None
    )
    mine: Annotated[bool, Query(description="only reports assigned to me")] = False
    sort: Annotated[str, Query(description="age (oldest first), newest, priority (due first), supporters")] = "age"

    def query(self) -> queue.QueueQuery:
        return queue.QueueQuery(
            statuses=self.status,
            open=self.open,
            category=self.category,
            layer=self.layer,
            overdue=self.overdue,
            min_age_hours=self.min_age_hours,
            search=self.q,
            mine=self.mine,
            sort=self.sort,
        )


FiltersDep = Annotated[QueueFilters, Depends()]


@router.get("/offices/{slug}/queue", summary="A page of an office's queue", response_model=OfficeQueue)
def office_queue(
    slug: str,
    actor: ActorDep,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=queue.MAX_PAGE_SIZE)] = queue.PAGE_SIZE,
) -> dict[str, Any]:
    with transaction() as session:
        return queue.office_queue(
            session, actor=actor, office_slug=slug, query=filters.query(), page=page, page_size=page_size
        )


@router.get("/offices/{slug}/queue/points", summary="Where the filtered queue's reports are, for its map")
def office_queue_points(slug: str, actor: ActorDep, filters: FiltersDep) -> dict[str, Any]:
    with transaction() as session:
        return queue.office_points(session, actor=actor, office_slug=slug, query=filters.query())


@router.get("/offices/{slug}/queue.csv", summary="The filtered queue as CSV, streamed", response_class=Response)
def office_queue_csv(slug: str, actor: ActorDep, filters: FiltersDep) -> Response:
    chunks = queue.office_csv(actor=actor, office_slug=slug, query=filters.query())
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-queue.csv"'},
    )


@router.get("/offices/{slug}/staff", summary="The office's people, for the assign picker")
def office_staff(slug: str, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return {"staff": desk.office_staff(session, actor=actor, office_slug=slug)}


@router.get("/offices", summary="Every open office, for the transfer and routing pickers")
def open_offices(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return {"offices": desk.open_offices(session, actor=actor)}


@router.get("/triage", summary="The triage queue, oldest first", response_model=TriageQueue)
def triage(
    actor: ActorDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=queue.MAX_PAGE_SIZE)] = queue.PAGE_SIZE,
) -> dict[str, Any]:
    with transaction() as session:
        return queue.triage_queue(session, actor=actor, page=page, page_size=page_size)


@router.get(
    "/staff/reports/{public_id}",
    summary="One report for the people working on it, with the moves they may make",
    response_model=StaffReport,
)
def staff_report(public_id: str, actor: ActorDep) -> dict[str, Any]:
    """`actions` lists the moves the server allows this user now (workflow.allowed_actions): acknowledge,
    assign, start, resolve, close, close_duplicate, reopen, transfer, route, after_photo, note."""
    with transaction() as session:
        return desk.staff_report(session, actor=actor, public_id=public_id)


class Note(BaseModel):
    body: StorableStr


@router.post("/reports/{public_id}/notes", summary="An internal note (never public)")
def add_note(public_id: str, body: Note, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        note = workflow.add_note(session, actor=actor, public_id=public_id, body=body.body)
        return {"id": public_id, "note": note.id}


class Bulk(BaseModel):
    ids: list[StorableStr]
    action: StorableStr  # acknowledge | assign | close
    assignee: StorableStr | None = None
    reason: StorableStr | None = None
    public_note: StorableStr = ""


@router.post("/staff/bulk", summary="Acknowledge, assign or close many reports; each one's result")
def bulk(body: Bulk, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        results = desk.bulk(
            session,
            actor=actor,
            ids=list(body.ids),
            action=body.action,
            assignee=body.assignee,
            reason=body.reason,
            public_note=body.public_note,
        )
        return {"results": results}


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
