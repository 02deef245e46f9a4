"""The access log's masking and the JSON log format (aula_ws/access_log.py, aula_ws/logs.py)."""

import io
import json
import logging

from aula_ws.access_log import AccessLog, masked_query, request_line
from aula_ws.logs import JsonFormatter


def test_every_secret_parameter_is_masked_and_the_rest_kept():
    query = "wstoken=abc123&wsfunction=report_etl_get&password=pw&api_key=k&client_secret=s&id=7&wsdl"
    assert masked_query(query) == (
        "wstoken=***&wsfunction=report_etl_get&password=***&api_key=***&client_secret=***&id=7&wsdl="
    )


def test_a_token_in_an_odd_spelling_or_encoding_is_masked_too():
    assert "abc" not in masked_query("WSTOKEN=abc&x=1")
    assert "abc" not in masked_query("ws%74oken=abc")
    assert request_line({"PATH_INFO": "/a b", "QUERY_STRING": ""}) == "/a%20b"


def test_the_middleware_counts_the_bytes_and_logs_once_closed(caplog):
    def app(environ, start_response):
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"abc", b"de"]

    caplog.set_level(logging.INFO, logger="aula_ws.access")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "QUERY_STRING": "wstoken=x", "REMOTE_ADDR": "10.0.0.9"}
    body = AccessLog(app)(environ, lambda status, headers, exc_info=None: None)
    assert b"".join(body) == b"abcde"
    assert not caplog.records  # written when the server closes the answer
    body.close()  # type: ignore[attr-defined]
    [record] = caplog.records
    assert record.getMessage().startswith("POST /soap?wstoken=*** 201 5 ")
    assert record.getMessage().endswith(" 10.0.0.9")


def test_the_json_format_is_one_object_per_record_with_the_extra_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("hello %s", "there", extra={"status": "200"})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "hello there" and entry["level"] == "WARNING" and entry["status"] == "200"
    assert entry["logger"] == "tests.json" and entry["time"].endswith("+00:00")
