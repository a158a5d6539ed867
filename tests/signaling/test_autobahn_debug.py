"""autobahn's debug values cost nothing until a debug line is written."""

from __future__ import annotations

import inspect
import pprint

from autobahn import util as autobahn_util
from autobahn.twisted import websocket as autobahn_twisted_websocket
from autobahn.websocket import protocol as autobahn_protocol
from twisted.logger import Logger, formatEvent

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
    assert autobahn_twisted_websocket.hltype is autobahn_debug.deferred_hltype


# --- the per-frame debug values -----------------------------------------------------------------


def test_the_per_frame_debug_lines_autobahn_makes_are_still_there():
    # If a new autobahn no longer colours these values on every frame, this part can go.
    received = inspect.getsource(autobahn_twisted_websocket.WebSocketAdapterProtocol.dataReceived)
    sent = inspect.getsource(autobahn_protocol.WebSocketProtocol.sendData)
    for source in (received, sent):
        assert "hltype(self." in source
        assert "hlval(self.peer)" in source


def test_install_defers_the_per_frame_values_in_both_modules(monkeypatch):
    for module in (autobahn_protocol, autobahn_twisted_websocket):
        monkeypatch.setattr(module, "hltype", autobahn_util.hltype)
        monkeypatch.setattr(module, "hlval", autobahn_util.hlval)
    autobahn_debug.install()
    for module in (autobahn_protocol, autobahn_twisted_websocket):
        assert module.hltype is autobahn_debug.deferred_hltype
        assert module.hlval is autobahn_debug.deferred_hlval


def test_a_deferred_value_is_not_computed_until_formatted(monkeypatch):
    calls = []
    real = autobahn_util.hltype
    monkeypatch.setattr(autobahn_util, "hltype", lambda obj: calls.append(obj) or real(obj))
    value = autobahn_debug.deferred_hltype(test_a_deferred_value_is_not_computed_until_formatted)
    assert calls == []
    assert f"{value}" == real(test_a_deferred_value_is_not_computed_until_formatted)
    assert str(value) == f"{value}"
    assert len(calls) == 1  # computed once, then kept


def test_a_written_debug_line_reads_as_autobahn_would_write_it():
    events = []
    log = Logger(observer=events.append)
    template = '{func} received {data_len} bytes for peer="{peer}"'
    method = autobahn_protocol.WebSocketProtocol.sendData
    log.debug(
        template,
        func=autobahn_util.hltype(method),
        peer=autobahn_util.hlval("tcp4:127.0.0.1:5000"),
        data_len=autobahn_util.hlval(42),
    )
    log.debug(
        template,
        func=autobahn_debug.deferred_hltype(method),
        peer=autobahn_debug.deferred_hlval("tcp4:127.0.0.1:5000"),
        data_len=autobahn_debug.deferred_hlval(42),
    )
    original, deferred = (formatEvent(event) for event in events)
    assert "sendData" in original and "127.0.0.1:5000" in original and "42" in original
    assert deferred == original


def test_the_colour_arguments_reach_autobahn():
    value = autobahn_debug.deferred_hlval("x", color="red", bold=False)
    assert str(value) == autobahn_util.hlval("x", color="red", bold=False)
    assert repr(value) == repr(autobahn_util.hlval("x", color="red", bold=False))
