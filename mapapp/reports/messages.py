"""What the citizen and the office are told, in the citizen's language; put in the notify outbox.

The citizen's e-mails carry a private reopen link (`/reports/{id}#reopen=<token>`): only the token's
hash is stored, and each new link replaces the previous one. The fragment is never sent to a server,
so the token stays out of logs and Referer headers.
"""

import hashlib
import secrets

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import ratelimit
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox

TEXTS = {
    "received": {
        "ko": (
            "[신고 접수] {category}",
            "신고가 접수되었습니다 ({id}).\n담당: {office}\n처리 과정: {url}\n\n"
            "처리 완료 후에도 문제가 남아 있으면 이 링크로 다시 열 수 있습니다 (다른 사람과 공유하지 마세요):\n"
            "{reopen}\n",
        ),
        "en": (
            "[Report received] {category}",
            "We have your report ({id}).\nResponsible: {office}\nFollow it: {url}\n\n"
            "If the problem is still there after it is marked resolved, this link reopens it "
            "(keep it to yourself):\n{reopen}\n",
        ),
    },
    "acknowledged": {
        "ko": ("[신고 확인] {category}", "담당 부서가 신고를 확인했습니다 ({id}).\n{url}\n"),
        "en": ("[Report acknowledged] {category}", "The office has seen your report ({id}).\n{url}\n"),
    },
    "resolved": {
        "ko": (
            "[처리 완료] {category}",
            "신고가 처리되었습니다 ({id}).\n답변: {answer}\n{url}\n\n"
            "문제가 남아 있으면 {days}일 안에 이 링크로 다시 열 수 있습니다:\n{reopen}\n",
        ),
        "en": (
            "[Report resolved] {category}",
            "Your report is resolved ({id}).\nAnswer: {answer}\n{url}\n\n"
            "Not fixed? Within {days} days, this link reopens it:\n{reopen}\n",
        ),
    },
    "reopen_link": {
        "ko": (
            "[다시 열기 링크] {id}",
            "요청하신 신고 다시 열기 링크입니다 ({id}). 요청하지 않았다면 무시하세요.\n{reopen}\n",
        ),
        "en": (
            "[Reopen link] {id}",
            "Here is the link to reopen your report ({id}). If you did not ask for it, ignore this e-mail.\n{reopen}\n",
        ),
    },
}
# E-mails that anyone can cause by typing an address: limited per recipient, so mapapp cannot be used
# to mail third parties. Staff-caused e-mails (acknowledged, resolved) are not limited.
ANONYMOUS_EVENTS = ("received", "reopen_link")


def token_digest(token: str) -> str:
    """What is stored of a reopen token (a random 192-bit secret needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reopen_link(session: Session, *, public_id: str) -> str:
    """A new secret reopen link for the report; the previous link stops working."""
    token = secrets.token_urlsafe(24)
    session.execute(
        text("UPDATE reports SET reopen_token_hash = :h WHERE public_id = :p"),
        {"h": token_digest(token), "p": public_id},
    )
    return f"{get_settings().public_base_url.rstrip('/')}/reports/{public_id}#reopen={token}"


def tell_citizen(
    session: Session,
    *,
    email: str | None,
    locale: str,
    event: str,
    public_id: str,
    category: str = "",
    office: str = "",
    answer: str = "",
) -> bool:
    """Queue the citizen's e-mail for this event, if they left an address; False when none was queued.

    Confirmation-type e-mails beyond the per-address limit are not sent; the report itself is accepted.
    The limit is taken in the caller's transaction, so a report that is rolled back uses none of it.
    """
    if not email:
        return False
    if event in ANONYMOUS_EVENTS:
        limit = ratelimit.limit_named("email")
        allowed, _ = ratelimit.allow(session, limit=limit, subject=email.strip().lower())
        if not allowed:
            return False
    subject, body = TEXTS[event]["ko" if locale == "ko" else "en"]
    settings = get_settings()
    url = f"{settings.public_base_url.rstrip('/')}/reports/{public_id}"
    reopen = issue_reopen_link(session, public_id=public_id) if "{reopen}" in body else ""
    values = {
        "id": public_id,
        "category": category,
        "office": office,
        "url": url,
        "answer": answer,
        "reopen": reopen,
        "days": settings.reopen_days,
    }
    outbox.enqueue_email(session, to=email, subject=subject.format(**values), body=body.format(**values))
    return True


def tell_office(
    session: Session, *, office_email: str | None, public_id: str, category: str, status: str, office_slug: str | None
) -> None:
    """Queue the office's notice of a new report, and the webhook for other systems."""
    url = f"{get_settings().public_base_url.rstrip('/')}/reports/{public_id}"
    if office_email:
        outbox.enqueue_email(
            session,
            to=office_email,
            subject=f"[mapapp] new report {public_id}: {category}",
            body=f"A new report is in your queue: {category}\n{url}\n",
        )
    hook = get_settings().webhook_url
    if hook:
        outbox.enqueue_webhook(
            session,
            url=hook,
            event="report.created",
            data={"id": public_id, "category": category, "status": status, "office": office_slug, "url": url},
        )
