"""What the citizen and the office are told, in the citizen's language; put in the notify outbox.

The citizen's e-mails carry a private reopen link (`/reports/{id}#reopen=<token>`): only the token's
hash is stored, and each new link replaces the previous one. The fragment is never sent to a server,
so the token stays out of logs and Referer headers.
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable

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
    report_id = session.execute(text("SELECT id FROM reports WHERE public_id = :p"), {"p": public_id}).scalar_one()
    # The reporter follows their report from the first e-mail on, and can stop it from any of them.
    _add_follower(session, report_id=report_id, email=email, locale=locale, role="reporter")
    link = unsubscribe_url(unsubscribe_token(report_id, email.strip().lower()))
    lang = "ko" if locale == "ko" else "en"
    outbox.enqueue_email(
        session,
        to=email,
        subject=subject.format(**values),
        body=body.format(**values) + FOOTER[lang].format(unsubscribe=link),
        headers=unsubscribe_headers(link),
    )
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


# --- followers: the reporter and the supporters who left an e-mail with "me too" -----------------------

# What every follower is told of a move. Only the office or the role ever appears, never a staff member.
FOLLOWER_TEXTS = {
    "following": {
        "ko": (
            "[알림 신청] {category}",
            "신고({id})의 처리 과정을 이 주소로 알려 드립니다.\n{url}\n"
            "신청하지 않았다면 아래 링크로 알림을 끊으세요.\n",
        ),
        "en": (
            "[Following a report] {category}",
            "We will e-mail you as report {id} moves on.\n{url}\n"
            "If you did not ask for this, stop it with the link below.\n",
        ),
    },
    "transferred": {
        "ko": ("[담당 변경] {category}", "신고({id})의 담당이 {office}(으)로 바뀌었습니다.\n사유: {reason}\n{url}\n"),
        "en": ("[Report transferred] {category}", "Report {id} is now with {office}.\nWhy: {reason}\n{url}\n"),
    },
    "routed": {
        "ko": (
            "[담당 지정] {category}",
            "시 분류 담당이 신고({id})를 {office}에 배정했습니다.\n{reason}\n{url}\n",
        ),
        "en": (
            "[Report routed] {category}",
            "The city's triage team has given report {id} to {office}.\n{reason}\n{url}\n",
        ),
    },
    "reopened": {
        "ko": ("[다시 열림] {category}", "신고({id})가 다시 열렸습니다.\n사유: {reason}\n{url}\n"),
        "en": ("[Report reopened] {category}", "Report {id} is open again.\nWhy: {reason}\n{url}\n"),
    },
    "closed": {
        "ko": ("[종결] {category}", "신고({id})가 종결되었습니다.\n사유: {reason}\n{answer}\n{url}\n"),
        "en": ("[Report closed] {category}", "Report {id} is closed.\nReason: {reason}\n{answer}\n{url}\n"),
    },
    "duplicate": {
        "ko": (
            "[중복 신고로 병합] {category}",
            "신고({id})는 같은 문제를 다룬 다른 신고와 합쳐졌습니다. 처리 과정은 이곳에서 확인하세요:\n{original}\n",
        ),
        "en": (
            "[Merged as a duplicate] {category}",
            "Report {id} is about the same problem as another report and has been merged into it. "
            "Follow it here:\n{original}\n",
        ),
    },
    "resolved": {
        "ko": ("[처리 완료] {category}", "신고({id})가 처리되었습니다.\n답변: {answer}\n{url}\n"),
        "en": ("[Report resolved] {category}", "Report {id} is resolved.\nAnswer: {answer}\n{url}\n"),
    },
    "acknowledged": TEXTS["acknowledged"],
    "in_progress": {
        "ko": ("[처리 중] {category}", "담당 부서가 신고({id})를 처리하고 있습니다.\n{answer}\n{url}\n"),
        "en": ("[In progress] {category}", "The office is working on report {id}.\n{answer}\n{url}\n"),
    },
}
FOOTER = {
    "ko": "\n--\n이 신고에 대한 메일을 그만 받으려면: {unsubscribe}\n",
    "en": "\n--\nTo stop e-mails about this report: {unsubscribe}\n",
}
# Close reasons in words, never the code.
CLOSE_REASONS = {
    "cannot_fix": {"ko": "처리할 수 없는 문제입니다", "en": "it cannot be fixed"},
    "duplicate": {"ko": "중복 신고", "en": "a duplicate of another report"},
}
TRIAGE_TEAM = {"ko": "시 분류 담당", "en": "the city's triage team"}
# Only the reporter hears of these (supporters follow the public moves, not the office's bookkeeping).
REPORTER_ONLY = ("acknowledged",)


def unsubscribe_token(report_id: int, email: str) -> str:
    """The follower's unsubscribe token: an HMAC, so every e-mail can carry it again without storing it."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"unsubscribe:{report_id}:{email}".encode(), hashlib.sha256).hexdigest()[:40]


def unsubscribe_url(token: str) -> str:
    """Where the one-click unsubscribe link points (GET: a confirm page; POST: done)."""
    return f"{get_settings().public_base_url.rstrip('/')}/api/reports/unsubscribe/{token}"


def unsubscribe_headers(link: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to the link."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _add_follower(session: Session, *, report_id: int, email: str, locale: str, role: str) -> bool:
    """Record a follower; False when this address already follows (or has unsubscribed from) the report."""
    email = email.strip().lower()
    row = session.execute(
        text(
            "INSERT INTO report_followers (report_id, email, locale, role, unsubscribe_token_hash) "
            "VALUES (:r, :e, :l, :role, :h) ON CONFLICT (report_id, email) DO NOTHING RETURNING id"
        ),
        {
            "r": report_id,
            "e": email,
            "l": "ko" if locale == "ko" else "en",
            "role": role,
            "h": token_digest(unsubscribe_token(report_id, email)),
        },
    ).first()
    return row is not None


def follow(session: Session, *, report_id: int, public_id: str, email: str, locale: str) -> bool:
    """A supporter's address follows the report; True when it does now (a short confirmation is queued).

    Anyone can type any address, so a new follower costs the same per-address e-mail allowance as a
    report's confirmation: mapapp cannot be used to flood a third party. An address that unsubscribed
    stays unsubscribed.
    """
    email = email.strip().lower()
    known = session.execute(
        text("SELECT unsubscribed_at IS NULL FROM report_followers WHERE report_id = :r AND email = :e"),
        {"r": report_id, "e": email},
    ).scalar()
    if known is not None:
        return bool(known)
    allowed, _ = ratelimit.allow(session, limit=ratelimit.limit_named("email"), subject=email)
    if not allowed or not _add_follower(session, report_id=report_id, email=email, locale=locale, role="supporter"):
        return False
    _queue(session, report_id=report_id, public_id=public_id, email=email, locale=locale, event="following")
    return True


def unsubscribe(session: Session, *, token: str) -> tuple[str, str] | None:
    """Stop all e-mail about one report to one address; (report public id, locale), or None for a bad token."""
    row = session.execute(
        text(
            "UPDATE report_followers f SET unsubscribed_at = coalesce(f.unsubscribed_at, now()) "
            "FROM reports r WHERE r.id = f.report_id AND f.unsubscribe_token_hash = :h "
            "RETURNING r.public_id, f.locale"
        ),
        {"h": token_digest(token.strip())},
    ).first()
    return (row.public_id, row.locale) if row else None


def follower_locale(session: Session, *, token: str) -> str | None:
    """The locale of the follower a token belongs to (for the confirm page), or None."""
    return session.execute(
        text("SELECT locale FROM report_followers WHERE unsubscribe_token_hash = :h"),
        {"h": token_digest(token.strip())},
    ).scalar()


def _queue(
    session: Session,
    *,
    report_id: int,
    public_id: str,
    email: str,
    locale: str,
    event: str,
    values: dict[str, object] | None = None,
    texts: dict[str, tuple[str, str]] | None = None,
) -> None:
    lang = "ko" if locale == "ko" else "en"
    settings = get_settings()
    base = settings.public_base_url.rstrip("/")
    names = session.execute(
        text(
            "SELECT c.name_ko, c.name_en, o.name_ko AS office_ko, o.name_en AS office_en FROM reports r "
            "JOIN categories c ON c.id = r.category_id LEFT JOIN offices o ON o.id = r.office_id WHERE r.id = :r"
        ),
        {"r": report_id},
    ).one()
    link = unsubscribe_url(unsubscribe_token(report_id, email))
    given = dict(values or {})
    reason = given.pop("close_reason", None)
    fields: dict[str, object] = {
        "id": public_id,
        "category": names.name_ko if lang == "ko" else names.name_en,
        "office": (names.office_ko if lang == "ko" else names.office_en) or TRIAGE_TEAM[lang],
        "url": f"{base}/reports/{public_id}",
        "reason": "",
        "answer": "",
        "original": "",
        "days": settings.reopen_days,
        "reopen": "",
        **given,
    }
    if isinstance(reason, str):
        fields["reason"] = CLOSE_REASONS.get(reason, CLOSE_REASONS["cannot_fix"])[lang]
    subject, body = (texts or FOLLOWER_TEXTS[event])[lang]
    if "{reopen}" in body:
        fields["reopen"] = issue_reopen_link(session, public_id=public_id)
    outbox.enqueue_email(
        session,
        to=email,
        subject=subject.format(**fields),
        body=body.format(**fields) + FOOTER[lang].format(unsubscribe=link),
        headers=unsubscribe_headers(link),
    )


# Doors that answer on their own channel (mapapp.intake replies to the message a report came from) add
# themselves here, so that reports never imports them: each is called with every move followers hear of.
MOVE_LISTENERS: list[Callable[[Session, int, str, dict[str, object]], None]] = []


def tell_followers(session: Session, *, report_id: int, event: str, **values: object) -> int:
    """Tell the reporter and every supporter still following, each in their language; how many were queued.

    `values` fill the texts: reason, answer, original (a link), close_reason (a code, put in words here).
    The reporter's "resolved" keeps its private reopen link; supporters get the public answer only.
    """
    report = session.execute(
        text("SELECT public_id, reporter_email, locale FROM reports WHERE id = :r"), {"r": report_id}
    ).one()
    if report.reporter_email:
        _add_follower(session, report_id=report_id, email=report.reporter_email, locale=report.locale, role="reporter")
    followers = session.execute(
        text(
            "SELECT email, locale, role FROM report_followers "
            "WHERE report_id = :r AND unsubscribed_at IS NULL ORDER BY id"
        ),
        {"r": report_id},
    ).all()
    told = 0
    for f in followers:
        if event in REPORTER_ONLY and f.role != "reporter":
            continue
        own = TEXTS["resolved"] if event == "resolved" and f.role == "reporter" else None
        _queue(
            session,
            report_id=report_id,
            public_id=report.public_id,
            email=f.email,
            locale=f.locale,
            event=event,
            values=values,
            texts=own,
        )
        told += 1
    for listener in MOVE_LISTENERS:
        listener(session, report_id, event, values)
    return told
