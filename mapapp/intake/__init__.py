"""Channel intake: social-media, messenger and call-centre messages in; classified, located, routed; answered."""

from mapapp.intake import replies
from mapapp.reports import messages as _report_messages

# Reports tell their listeners of every move; the channel a report came from is answered on two of them.
if replies.queue_reply not in _report_messages.MOVE_LISTENERS:
    _report_messages.MOVE_LISTENERS.append(replies.queue_reply)
