"""autobahn's per-socket configuration dump costs a ``repr``, not a pretty-print."""

from __future__ import annotations

import inspect
import pprint

from autobahn.websocket import protocol as autobahn_protocol

from signaling import autobahn_debug


def test_the_configuration_dump_autobahn_makes_per_socket_is_still_there():
    # If a new autobahn no longer formats its configuration on every connection, the override
    # is no longer needed: this fails so it is removed.
    source = inspect.getsource(autobahn_protocol.WebSocketProtocol._connectionMade)
    assert "pformat(configAttrLog)" in source


def test_install_makes_autobahn_format_its_debug_values_with_repr(monkeypatch):
    monkeypatch.setattr(autobahn_protocol, "pformat", pprint.pformat)
    autobahn_debug.install()
    assert autobahn_protocol.pformat is repr
    settings = [("openHandshakeTimeout", 5, "WebSocketServerFactory")] * 3
    assert autobahn_protocol.pformat(settings) == repr(settings)


def test_the_server_runs_with_it_installed():
    import meet.asgi  # noqa: F401 - installs it, as daphne loads the application

    assert autobahn_protocol.pformat is repr
