"""What the citizen and the office are told, in the citizen's language; put in the notify outbox."""

from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox

TEXTS = {
    "received": {
        "ko": ("[신고 접수] {category}", "신고가 접수되었습니다 ({id}).\n담당: {office}\n처리 과정: {url}\n"),
        "en": (
            "[Report received] {category}",
            "We have your report ({id}).\nResponsible: {office}\nFollow it: {url}\n",
        ),
    },
    "acknowledged": {
        "ko": ("[신고 확인] {category}", "담당 부서가 신고를 확인했습니다 ({id}).\n{url}\n"),
        "en": ("[Report acknowledged] {category}", "The office has seen your report ({id}).\n{url}\n"),
    },
    "resolved": {
        "ko": ("[처리 완료] {category}", "신고가 처리되었습니다 ({id}).\n답변: {answer}\n{url}\n"),
        "en": ("[Report resolved] {category}", "Your report is resolved ({id}).\nAnswer: {answer}\n{url}\n"),
    },
}


def tell_citizen(
    session: Session,
    *,
    email: str | None,
    locale: str,
    event: str,
    public_id: str,
    category: str,
    office: str,
    answer: str = "",
) -> None:
    """Queue the citizen's e-mail for this event, if they left an address."""
    if not email:
        return
    subject, body = TEXTS[event]["ko" if locale == "ko" else "en"]
    url = f"{get_settings().public_base_url.rstrip('/')}/reports/{public_id}"
    values = {"id": public_id, "category": category, "office": office, "url": url, "answer": answer}
    outbox.enqueue_email(session, to=email, subject=subject.format(**values), body=body.format(**values))


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
