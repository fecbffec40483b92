"""What the worker says at start about where e-mail goes."""

import logging
import socket

from mapapp.notify.worker import _say_where_mail_goes


def test_no_relay_listening_is_said_once_with_the_settings_to_change(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    with caplog.at_level(logging.INFO, logger="mapapp.worker"):
        _say_where_mail_goes("127.0.0.1", port)
    assert f"no SMTP relay answers at 127.0.0.1:{port}" in caplog.text and "MAPAPP_SMTP_HOST" in caplog.text


def test_a_listening_relay_is_named(caplog):
    with socket.socket() as relay:
        relay.bind(("127.0.0.1", 0))
        relay.listen()
        port = relay.getsockname()[1]
        with caplog.at_level(logging.INFO, logger="mapapp.worker"):
            _say_where_mail_goes("127.0.0.1", port)
    assert f"e-mail goes to the SMTP relay at 127.0.0.1:{port}" in caplog.text
