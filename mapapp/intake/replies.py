"""The answer goes back on the channel a report came from: acknowledged and resolved, in the message's language.

Each reply is an outbox webhook to the channel's reply URL (signed with the channel's own secret by
mapapp.notify.replies), written in the transaction of the move it announces, and retried like e-mail.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import visibility
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox
from mapapp.notify.replies import REPLY_EVENT

REPLY_TEXTS = {
    "acknowledged": {
        "ko": "담당 부서가 제보를 확인했습니다 ({id}). 처리 과정: {url}",
        "en": "The responsible office has seen your report ({id}). Follow it: {url}",
    },
    "resolved": {
        "ko": "제보하신 문제가 처리되었습니다 ({id}). 답변: {answer} {url}",
        "en": "The problem you reported is fixed ({id}). Answer: {answer} {url}",
    },
}

# A reply is public on its channel and links to the report page: none for a report hidden by moderation.
MESSAGE_OF_REPORT = text(
    f"""
    SELECT m.external_id, m.account, m.author_handle, m.lang, c.name AS channel, c.reply_url, r.public_id
    FROM intake_messages m
    JOIN intake_channels c ON c.id = m.channel_id
    JOIN reports r ON r.id = m.report_id
    WHERE m.report_id = :report AND {visibility.report_public_sql("r")}
    ORDER BY m.id
    """  # noqa: S608 - the shared visibility rule; values bound
)


def queue_reply(session: Session, report_id: int, event: str, values: dict[str, object]) -> None:
    """Queue the reply to each channel message behind this report, for the moves that are answered."""
    if event not in REPLY_TEXTS:
        return
    base = get_settings().public_base_url.rstrip("/")
    for row in session.execute(MESSAGE_OF_REPORT, {"report": report_id}):
        if not row.reply_url:
            continue  # a channel without a reply URL (a one-way import) is not answered
        lang = "ko" if row.lang == "ko" else "en"
        reply = REPLY_TEXTS[event][lang].format(
            id=row.public_id, url=f"{base}/reports/{row.public_id}", answer=str(values.get("answer") or "")
        )
        outbox.enqueue_webhook(
            session,
            url=row.reply_url,
            event=REPLY_EVENT,
            data={
                "channel": row.channel,
                "external_id": row.external_id,
                "account": row.account,
                "author": row.author_handle,
                "report": row.public_id,
                "status": event,
                "lang": lang,
                "text": reply,
            },
        )
