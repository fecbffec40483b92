"""Replies to channel connectors: signed with the channel's own secret, so one connector cannot forge another's.

A reply is an ordinary outbox webhook (`event: channel.reply`), retried like every message. Its
signature is `X-Mapapp-Signature: sha256=<HMAC-SHA256 of the body>` keyed with the channel's reply
secret, derived from MAPAPP_SECRET_KEY and the channel's name (`mapapp channels create` prints it).
"""

import hashlib
import hmac

import httpx

from mapapp.core.settings import get_settings
from mapapp.notify.senders import PEER_TIMEOUT_SECONDS, DeliveryFailed, NetworkSender, Outgoing, signature, webhook_body

REPLY_EVENT = "channel.reply"


def channel_reply_secret(channel: str) -> str:
    """The secret a channel's connector checks replies with (the same on every server of one installation)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"channel-reply:{channel}".encode(), hashlib.sha256).hexdigest()


class ChannelReplySender(NetworkSender):
    """The network sender, with channel replies signed by their channel's secret instead of the shared one."""

    def __init__(self) -> None:
        super().__init__()
        self._replies: httpx.Client | None = None

    def send(self, message: Outgoing) -> None:
        if message.channel != "webhook" or message.payload.get("event") != REPLY_EVENT:
            super().send(message)
            return
        if self._replies is None:
            self._replies = httpx.Client(timeout=PEER_TIMEOUT_SECONDS)
        body = webhook_body(message)
        channel = str((message.payload.get("data") or {}).get("channel", ""))
        try:
            response = self._replies.post(
                message.recipient,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Mapapp-Delivery": str(message.id),
                    "X-Mapapp-Signature": signature(channel_reply_secret(channel), body),
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryFailed(f"channel reply answered {response.status_code}")

    def close(self) -> None:
        super().close()
        if self._replies is not None:
            self._replies.close()
            self._replies = None
