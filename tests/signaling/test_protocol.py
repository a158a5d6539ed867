"""The frame parser on its own: what it accepts, what it rebuilds, what it refuses and how."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling import protocol
from signaling.protocol import ProtocolError, parse_frame

CANDIDATE = {
    "candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "u",
}


def refused(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_frame(text)
    return caught.value


def test_sdp_is_rebuilt_without_client_extras():
    message = parse_frame(
        json.dumps(
            {
                "type": "sdp",
                "to": "p1",
                "from": "spoof",
                "peer_id": "spoof",
                "extra": [1],
                "description": {"type": "answer", "sdp": "v=0", "junk": True},
            }
        )
    )
    assert message.type == "sdp"
    assert message.fields == {"to": "p1", "description": {"type": "answer", "sdp": "v=0"}}


def test_rollback_needs_no_sdp():
    message = parse_frame('{"type": "sdp", "to": "p", "description": {"type": "rollback"}}')
    assert message.fields["description"] == {"type": "rollback", "sdp": ""}


def test_ice_candidate_fields_are_kept_and_null_ends_candidates():
    message = parse_frame(json.dumps({"type": "ice", "to": "p", "candidate": CANDIDATE}))
    assert message.fields == {"to": "p", "candidate": CANDIDATE}
    assert parse_frame('{"type": "ice", "to": "p", "candidate": null}').fields == {
        "to": "p",
        "candidate": None,
    }


def test_ice_missing_optional_candidate_fields_become_null():
    message = parse_frame('{"type": "ice", "to": "p", "candidate": {"candidate": ""}}')
    assert message.fields["candidate"] == {
        "candidate": "",
        "sdpMid": None,
        "sdpMLineIndex": None,
        "usernameFragment": None,
    }


def test_chat_is_trimmed():
    assert parse_frame('{"type": "chat", "text": "  hi  "}').fields == {"text": "hi"}


def test_state_keeps_only_known_boolean_keys():
    message = parse_frame('{"type": "state", "audio": false, "hand": true, "mood": "x"}')
    assert message.fields == {"state": {"audio": False, "hand": True}}


def test_kick_mute_lock_and_fieldless_types():
    assert parse_frame('{"type": "kick", "peer_id": "p"}').fields == {"peer_id": "p", "reason": ""}
    assert parse_frame('{"type": "mute", "peer_id": "p"}').fields == {"peer_id": "p"}
    assert parse_frame('{"type": "lock", "locked": true}').fields == {"locked": True}
    for kind in ("end", "ping", "leave"):
        assert parse_frame(json.dumps({"type": kind, "junk": 1})).fields == {}


def test_ban_carries_the_target_and_a_trimmed_optional_reason():
    assert parse_frame('{"type": "ban", "peer_id": "p"}').fields == {"peer_id": "p", "reason": ""}
    message = parse_frame('{"type": "ban", "peer_id": "p", "reason": " spam ", "user": 9}')
    assert (message.type, message.fields) == ("ban", {"peer_id": "p", "reason": "spam"})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nul",
        "{",
        "[]",
        "null",
        "3",
        '"ping"',
        '{"type": null}',
        '{"type": ["ping"]}',
        '{"kind": "ping"}',
        '{"type": "state", "audio": NaN}',
        '{"type": "ping", "x": Infinity}',
        "[" * 5000 + "]" * 5000,
    ],
)
def test_malformed_frames_are_bad_message(text):
    assert refused(text).code == "bad_message"


@pytest.mark.parametrize(
    ("frame", "ref"),
    [
        ({"type": "sdp", "description": {"type": "offer", "sdp": "v"}}, "sdp"),
        ({"type": "sdp", "to": "", "description": {"type": "offer", "sdp": "v"}}, "sdp"),
        ({"type": "sdp", "to": "x" * 65, "description": {"type": "offer", "sdp": "v"}}, "sdp"),
        ({"type": "sdp", "to": "p", "description": "v=0"}, "sdp"),
        ({"type": "sdp", "to": "p", "description": {"type": "offer"}}, "sdp"),
        ({"type": "sdp", "to": "p", "description": {"type": "offer", "sdp": 1}}, "sdp"),
        ({"type": "ice", "to": "p"}, "ice"),
        ({"type": "ice", "to": "p", "candidate": []}, "ice"),
        ({"type": "ice", "to": "p", "candidate": {"candidate": 5}}, "ice"),
        ({"type": "ice", "to": "p", "candidate": {"candidate": "", "sdpMLineIndex": True}}, "ice"),
        ({"type": "ice", "to": "p", "candidate": {"candidate": "", "sdpMLineIndex": -1}}, "ice"),
        ({"type": "ice", "to": "p", "candidate": {"candidate": "", "sdpMid": 0}}, "ice"),
        ({"type": "chat"}, "chat"),
        ({"type": "chat", "text": ""}, "chat"),
        ({"type": "chat", "text": "x" * 2001}, "chat"),
        ({"type": "state"}, "state"),
        ({"type": "state", "audio": 0}, "state"),
        ({"type": "kick", "peer_id": 3}, "kick"),
        ({"type": "kick", "peer_id": "p", "reason": 3}, "kick"),
        ({"type": "ban"}, "ban"),
        ({"type": "ban", "peer_id": "p", "reason": "x" * 201}, "ban"),
        ({"type": "mute"}, "mute"),
        ({"type": "lock"}, "lock"),
        ({"type": "lock", "locked": "true"}, "lock"),
    ],
)
def test_wrong_field_types_are_bad_message_with_ref(frame, ref):
    error = refused(json.dumps(frame))
    assert (error.code, error.ref) == ("bad_message", ref)
    assert error.as_frame()["type"] == "error" and error.as_frame()["message"]


def test_unknown_type_names_the_type():
    error = refused('{"type": "teleport"}')
    assert error.code == "unknown_type" and error.ref == "teleport"


def test_frames_over_64_kib_are_too_large_counting_utf8_bytes():
    at_limit = '{"type": "chat", "text": "' + "x" * (65536 - 28) + '"}'
    assert len(at_limit) <= protocol.MAX_FRAME_BYTES
    with pytest.raises(ProtocolError) as caught:
        parse_frame(at_limit)
    assert caught.value.code == "bad_message"  # Within the size limit, refused for its length.
    multibyte = '{"type": "chat", "text": "' + "é" * 40000 + '"}'
    assert len(multibyte) < protocol.MAX_FRAME_BYTES
    assert refused(multibyte).code == "too_large"


def test_binary_is_not_a_frame():
    with pytest.raises(ProtocolError) as caught:
        parse_frame(b'{"type": "ping"}')
    assert caught.value.code == "bad_message"


# --- property-based -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "to",
        "from",
        "description",
        "candidate",
        "text",
        "audio",
        "video",
        "screen",
        "hand",
        "peer_id",
        "locked",
        "reason",
        "type",
        "sdp",
        "sdpMid",
        "sdpMLineIndex",
        "feed",
        "feeds",
        "target",
        "layers",
    ]
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(protocol.CLIENT_TYPES)) | st.text(max_size=10)},
    optional={},
).flatmap(
    lambda base: st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=6).map(
        lambda extra: {**extra, **base}
    )
)


def _only_json(value) -> None:
    # What the parser keeps must serialise as strict JSON (no NaN, no Python-only objects).
    json.dumps(value, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(st.one_of(frames, json_values))
def test_any_decoded_json_is_either_a_valid_message_or_a_protocol_error(data):
    try:
        message = protocol.validate_message(data)
    except ProtocolError as error:
        assert error.code in {"bad_message", "unknown_type"}
        return
    assert message.type in protocol.CLIENT_TYPES
    _only_json(message.fields)
    if message.type in ("sdp", "ice"):
        assert isinstance(message.fields["to"], str) and message.fields["to"]
        assert "from" not in message.fields
    if message.type == "sdp":
        assert message.fields["description"]["type"] in protocol.SDP_TYPES
    if message.type == "state":
        assert message.fields["state"]
        assert all(isinstance(v, bool) for v in message.fields["state"].values())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
def test_any_text_is_either_a_valid_message_or_a_protocol_error(text):
    try:
        message = parse_frame(text)
    except ProtocolError as error:
        assert error.code in {"bad_message", "unknown_type", "too_large"}
        return
    _only_json(message.fields)


@pytest.mark.parametrize("emoji", protocol.REACTION_EMOJI)
def test_reaction_keeps_an_allowed_emoji_and_nothing_else(emoji):
    message = parse_frame(json.dumps({"type": "reaction", "emoji": emoji, "peer_id": "spoofed"}))
    assert (message.type, message.fields) == ("reaction", {"emoji": emoji})


@pytest.mark.parametrize("emoji", [None, 1, "", "💩", "👍👍", "<b>hi</b>", ["👍"]])
def test_reaction_outside_the_allow_list_is_bad_message(emoji):
    error = refused(json.dumps({"type": "reaction", "emoji": emoji}))
    assert (error.code, error.ref) == ("bad_message", "reaction")


# --- SFU requests (issue #11) -------------------------------------------------------------------


def test_sfu_publish_and_unpublish_keep_only_the_feed_and_the_offer():
    message = parse_frame(
        json.dumps({"type": "sfu-publish", "feed": "camera", "sdp": "v=0", "room": 1, "id": 7})
    )
    assert (message.type, message.fields) == ("sfu-publish", {"feed": "camera", "sdp": "v=0"})
    message = parse_frame('{"type": "sfu-unpublish", "feed": "screen", "feed_id": 9}')
    assert (message.type, message.fields) == ("sfu-unpublish", {"feed": "screen"})


def test_sfu_subscribe_names_feeds_by_peer_and_kind_and_may_ask_for_none():
    frame = {
        "type": "sfu-subscribe",
        "feeds": [
            {"peer_id": "p1", "feed": "camera", "id": 123},
            {"peer_id": "p2", "feed": "screen"},
        ],
    }
    assert parse_frame(json.dumps(frame)).fields == {"feeds": [("p1", "camera"), ("p2", "screen")]}
    assert parse_frame('{"type": "sfu-subscribe", "feeds": []}').fields == {"feeds": []}
    most = [{"peer_id": f"p{index}", "feed": "camera"} for index in range(protocol.MAX_SFU_FEEDS)]
    assert len(parse_frame(json.dumps({**frame, "feeds": most})).fields["feeds"]) == len(most)


def test_sfu_start_carries_the_answer():
    assert parse_frame('{"type": "sfu-start", "sdp": "v=0", "jsep": {}}').fields == {"sdp": "v=0"}


@pytest.mark.parametrize("target", protocol.SFU_TARGETS)
def test_sfu_trickle_keeps_the_target_and_an_ice_candidate_or_null(target):
    message = parse_frame(
        json.dumps({"type": "sfu-trickle", "target": target, "candidate": CANDIDATE, "to": "x"})
    )
    assert message.fields == {"target": target, "candidate": CANDIDATE}
    ended = parse_frame(json.dumps({"type": "sfu-trickle", "target": target, "candidate": None}))
    assert ended.fields == {"target": target, "candidate": None}


def test_sfu_configure_keeps_a_layer_or_null_for_paused_per_feed():
    frame = {
        "type": "sfu-configure",
        "layers": [
            {"peer_id": "p1", "feed": "camera", "layer": 0},
            {"peer_id": "p2", "feed": "camera", "layer": 2, "mid": "3"},
            {"peer_id": "p3", "feed": "screen", "layer": None},
        ],
    }
    assert parse_frame(json.dumps(frame)).fields == {
        "layers": [("p1", "camera", 0), ("p2", "camera", 2), ("p3", "screen", None)]
    }


_TOO_MANY_FEEDS = [{"peer_id": "p", "feed": "camera"}] * (protocol.MAX_SFU_FEEDS + 1)


@pytest.mark.parametrize(
    ("frame", "ref"),
    [
        ({"type": "sfu-publish", "sdp": "v=0"}, "sfu-publish"),
        ({"type": "sfu-publish", "feed": "microphone", "sdp": "v=0"}, "sfu-publish"),
        ({"type": "sfu-publish", "feed": ["camera"], "sdp": "v=0"}, "sfu-publish"),
        ({"type": "sfu-publish", "feed": "camera"}, "sfu-publish"),
        ({"type": "sfu-publish", "feed": "camera", "sdp": ""}, "sfu-publish"),
        ({"type": "sfu-publish", "feed": "camera", "sdp": {"sdp": "v=0"}}, "sfu-publish"),
        ({"type": "sfu-unpublish"}, "sfu-unpublish"),
        ({"type": "sfu-unpublish", "feed": "subscriber"}, "sfu-unpublish"),
        ({"type": "sfu-subscribe"}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": {"peer_id": "p", "feed": "camera"}}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": _TOO_MANY_FEEDS}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": ["p:camera"]}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": [{"feed": "camera"}]}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": [{"peer_id": "", "feed": "camera"}]}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": [{"peer_id": "p", "feed": "audio"}]}, "sfu-subscribe"),
        ({"type": "sfu-subscribe", "feeds": [{"peer_id": "p"}]}, "sfu-subscribe"),
        ({"type": "sfu-start"}, "sfu-start"),
        ({"type": "sfu-start", "sdp": ""}, "sfu-start"),
        ({"type": "sfu-start", "sdp": 0}, "sfu-start"),
        ({"type": "sfu-trickle", "candidate": None}, "sfu-trickle"),
        ({"type": "sfu-trickle", "target": "publisher", "candidate": None}, "sfu-trickle"),
        ({"type": "sfu-trickle", "target": ["camera"], "candidate": None}, "sfu-trickle"),
        ({"type": "sfu-configure"}, "sfu-configure"),
        ({"type": "sfu-configure", "layers": _TOO_MANY_FEEDS}, "sfu-configure"),
        ({"type": "sfu-configure", "layers": [2]}, "sfu-configure"),
        (
            {"type": "sfu-configure", "layers": [{"peer_id": "p", "feed": "camera", "layer": 3}]},
            "sfu-configure",
        ),
        (
            {"type": "sfu-configure", "layers": [{"peer_id": "p", "feed": "camera", "layer": -1}]},
            "sfu-configure",
        ),
        (
            {
                "type": "sfu-configure",
                "layers": [{"peer_id": "p", "feed": "camera", "layer": True}],
            },
            "sfu-configure",
        ),
        (
            {"type": "sfu-configure", "layers": [{"peer_id": "p", "feed": "camera", "layer": "1"}]},
            "sfu-configure",
        ),
        (
            {"type": "sfu-configure", "layers": [{"peer_id": "p", "feed": "camera", "layer": 1.5}]},
            "sfu-configure",
        ),
        (
            {"type": "sfu-configure", "layers": [{"peer_id": "p", "feed": "mic", "layer": 1}]},
            "sfu-configure",
        ),
        ({"type": "sfu-configure", "layers": [{"feed": "camera", "layer": 1}]}, "sfu-configure"),
    ],
)
def test_malformed_sfu_requests_are_bad_message_naming_the_request(frame, ref):
    error = refused(json.dumps(frame))
    assert (error.code, error.ref) == ("bad_message", ref)
    assert error.message


@pytest.mark.parametrize(
    "candidate",
    [
        [],
        "candidate:1 1 udp 1 192.0.2.1 9 typ host",
        {"candidate": 5},
        {"candidate": "x" * (protocol.MAX_CANDIDATE_LENGTH + 1)},
        {"candidate": "", "sdpMid": 0},
        {"candidate": "", "sdpMLineIndex": True},
        {"candidate": "", "sdpMLineIndex": -1},
    ],
)
def test_sfu_trickle_refuses_a_candidate_that_ice_refuses_and_names_sfu_trickle(candidate):
    ice = refused(json.dumps({"type": "ice", "to": "p", "candidate": candidate}))
    assert (ice.code, ice.ref) == ("bad_message", "ice")
    error = refused(json.dumps({"type": "sfu-trickle", "target": "camera", "candidate": candidate}))
    # The error answers the sfu-trickle the browser sent; "ice" would point at another request.
    assert (error.code, error.ref) == ("bad_message", "sfu-trickle")


def test_sfu_trickle_without_a_candidate_is_bad_message():
    error = refused('{"type": "sfu-trickle", "target": "subscriber"}')
    assert (error.code, error.ref) == ("bad_message", "sfu-trickle")
