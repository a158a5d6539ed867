"""Log lines leave without URL query values: meet/logs.py and the LOGGING that installs it."""

import logging

from meet.logs import RedactQueryValues, redact_query, redact_urls


def test_redact_query_keeps_names_and_hides_every_value():
    assert redact_query("resume=abc&invite=def&x=") == (
        "resume=[redacted]&invite=[redacted]&x=[redacted]"
    )
    assert redact_query("abc123") == "[redacted]"


def test_redact_urls_hides_query_values_inside_a_line_and_inside_next():
    line = 'Redirect to /accounts/login/?next=/rooms/r/%3Finvite%3Dsecret1 then "/x/?a=secret2"'
    redacted = redact_urls(line)
    assert "secret1" not in redacted and "secret2" not in redacted
    assert "/accounts/login/?next=[redacted]" in redacted
    assert '"/x/?a=[redacted]"' in redacted


def test_redact_urls_leaves_prose_and_sql_placeholders_alone():
    text = "Really? yes. SELECT 1 WHERE a = ? AND b IN (?, ?)"
    assert redact_urls(text) == text


def test_a_django_logger_line_quoting_a_url_reaches_the_handler_redacted():
    # The filter is installed on the console handler by meet/settings.py's LOGGING.
    from django.conf import settings

    assert "redact_query_values" in settings.LOGGING["handlers"]["console"]["filters"]
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Bad request: %s", ("/r/?t=s3cret",), None
    )
    assert RedactQueryValues().filter(record) is True
    assert record.getMessage() == "Bad request: /r/?t=[redacted]"


def test_a_malformed_log_call_still_reaches_the_handler_instead_of_raising():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%d items", ("many",), None)
    assert RedactQueryValues().filter(record) is True


# --- JSON lines and secrets kept out of fields (LOG_FORMAT=json) --------------------------------

SDP_MARKER = "sdpmarker7f3a"
CANDIDATE_MARKER = "candmarker9b2c"
OFFER_SDP = f"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns={SDP_MARKER}\r\nt=0 0\r\n"
CANDIDATE = f"candidate:842163049 1 udp 1677729535 198.51.100.7 {CANDIDATE_MARKER} typ srflx"


def _emit(logger_name: str, level: int, msg: str, *args, extra=None, exc_info=None) -> str:
    """What a handler configured as meet/settings.py does (both filters, the JSON formatter)."""
    import io

    from meet.logs import JsonLinesFormatter, RedactSecrets

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(RedactQueryValues())
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.log(level, msg, *args, extra=extra, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_log_format_json_installs_the_json_formatter_and_the_secret_filter():
    from django.conf import settings

    console = settings.LOGGING["handlers"]["console"]
    assert "redact_secrets" in console["filters"]
    assert settings.LOGGING["formatters"]["json"]["()"] == "meet.logs.JsonLinesFormatter"
    assert console["formatter"] == settings.LOG_FORMAT


def test_a_json_line_has_time_level_logger_message_and_extra_fields():
    import json

    output = _emit("meet.test", logging.WARNING, "Peer %s said\nhello", "abc", extra={"room": 7})
    assert output.endswith("\n") and output.count("\n") == 1
    entry = json.loads(output)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "meet.test"
    assert entry["message"] == "Peer abc said\nhello"
    assert entry["room"] == 7
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_extra_fields_named_like_secrets_sdp_or_candidates_are_redacted():
    import json

    output = _emit(
        "meet.test",
        logging.INFO,
        "frame received",
        extra={
            "frame": {"type": "sdp", "description": {"type": "offer", "sdp": OFFER_SDP}},
            "candidate": {"candidate": CANDIDATE},
            "resume_token": "resume-secret-1",
            "invite": "invite-secret-2",
            "sessionid": "session-secret-3",
            "turn_password": "turn-secret-4",
            "url": "/rooms/r/?invite=invite-secret-5",
        },
    )
    for secret in (SDP_MARKER, CANDIDATE_MARKER, "secret-1", "secret-2", "secret-3", "secret-4"):
        assert secret not in output
    assert "invite-secret-5" not in output
    entry = json.loads(output)
    assert entry["frame"]["type"] == "sdp"
    assert entry["frame"]["description"] == "[redacted]"
    assert entry["url"] == "/rooms/r/?invite=[redacted]"


def test_sdp_and_candidates_quoted_in_a_message_or_a_traceback_are_redacted():
    import json

    try:
        raise ValueError(f"bad frame {{'sdp': {OFFER_SDP!r}}}")
    except ValueError:
        output = _emit(
            "meet.test",
            logging.ERROR,
            "Relay of ice failed: %s",
            CANDIDATE,
            exc_info=True,
        )
    entry = json.loads(output)
    assert "Traceback" in entry["exception"]
    assert entry["message"] == "Relay of ice failed: [redacted]"
    assert SDP_MARKER not in output and CANDIDATE_MARKER not in output


def test_a_request_passed_as_extra_is_written_as_text_without_its_query_values(rf):
    import json

    request = rf.get("/rooms/weekly/?invite=invite-secret-6")
    output = _emit(
        "django.request",
        logging.WARNING,
        "Not Found: %s",
        request.path,
        extra={"request": request, "status_code": 404},
    )
    entry = json.loads(output)
    assert "invite-secret-6" not in output
    assert "/rooms/weekly/" in entry["request"]
    assert entry["status_code"] == 404
