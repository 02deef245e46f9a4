"""Hostile requests to the MNET XML-RPC endpoint through a real server (issue 9, item 8):
each gets an XML-RPC fault (Moodle's code where it has one) or, for a well-formed call
with unusable parameters, the use_stats status answer; never waitress's 500, never a
traceback, at most one log line, and nothing written (no replay record for a refused call;
replay records only for AES seals, RC4 ones are not refused as replays).
SQLite and PostgreSQL."""

import base64
import json
import re
import xmlrpc.client
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

from aula_ws.rpc import envelope
from aula_ws.services import peers
from aula_ws.services.clock import utc_now
from aula_ws.store.database import create_database_engine
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.hostile.server_log import logged_during
from tests.mnet_peer import MOODLE, HandMadePeer, answer_value, method_call, moodle_peer
from tests.usage_dataset import build_usage_platform

STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"
SCORES = "blocks/use_stats/rpclib.php/use_stats_rpc_get_scores"
TRUSTED = "http://trusted.test"  # a peer that trusts 127.0.0.0/8: signed plaintext is served
COUNTED = ("mnet_seen_envelopes", "mnet_peers", "mnet_keys", "users", "activity_log", "lesson_sessions")
ENDPOINT_LOGGERS = re.compile(r"\b(rpc|aula_ws\.rest)\.")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("mnet_hostile")
    url = fresh_database(request, data_dir, "mnet")
    engine = create_database_engine(url)
    build_usage_platform(engine, start=utc_now() - timedelta(hours=5))
    moodle, trusted = moodle_peer(), HandMadePeer(TRUSTED)
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, utc_now())
    peers.add_peer(engine, TRUSTED, trusted.certificate_pem, utc_now(), trusted_ips=["127.0.0.0/8"])
    with running_server(aula_env(data_dir, url)) as server:
        certificate = requests.get(f"{server.base_url}/mnet/publickey.php", timeout=10).text
        yield SimpleNamespace(server=server, engine=engine, moodle=moodle, trusted=trusted, certificate=certificate)
    engine.dispose()


# --------------------------------------------------------------------------- helpers


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in COUNTED}


def send(site, body: bytes, method: str = "POST") -> tuple[requests.Response, dict[str, int], list[str]]:
    """POST `body`; the answer, the rows it added per table, the log lines it caused."""
    before = counts(site.engine)
    url = f"{site.server.base_url}/mnet/xmlrpc/server.php"
    response, lines = logged_during(site.server, lambda: requests.request(method, url, data=body, timeout=30))
    after = counts(site.engine)
    assert "Traceback" not in "".join(lines)
    assert len([line for line in lines if ENDPOINT_LOGGERS.search(line)]) <= 1, lines
    written = {table: after[table] - before[table] for table in COUNTED if after[table] != before[table]}
    return response, written, lines


def value_of(site, response: requests.Response) -> Any:
    """The XML-RPC value (a fault as (code, text)), opened and checked when signed or sealed."""
    assert response.headers["Content-Type"].startswith("text/xml"), response.text[:200]
    document = response.content
    if envelope.kind(document) == "encrypted" and envelope.read_sealed(document).cipher == "aes":
        document = envelope.open_sealed(envelope.read_sealed(document), site.moodle.key)
    if b"<encryptedMessage>" in document[:100] or b"<signedMessage>" in document[:100]:
        document = site.moodle.open_answer(document, site.certificate)
    return answer_value(document)


def refused(site, body: bytes) -> tuple[int, str]:
    """A refusal: a fault, HTTP 200, and nothing written."""
    response, written, _lines = send(site, body)
    assert response.status_code == 200
    fault = value_of(site, response)
    assert isinstance(fault, tuple), fault
    assert written == {}
    return fault


def answered(site, body: bytes) -> Any:
    """A call answered with a use_stats status: nothing written, except the envelope of an AES
    seal (remembered against replay)."""
    response, written, _lines = send(site, body)
    assert response.status_code == 200
    value = value_of(site, response)
    aes = envelope.kind(body) == "encrypted" and envelope.read_sealed(body).cipher == "aes"
    assert written == ({"mnet_seen_envelopes": 1} if aes else {})
    return json.loads(value) if isinstance(value, str) else value


def sealed(site, payload: bytes, **signing: Any) -> bytes:
    return site.moodle.sealed(site.moodle.signed(payload, **signing), site.certificate)


def aes_sealed(site, signed: bytes) -> bytes:
    """Sealed as an aula-ws peer seals: AES-GCM, the timestamp inside authenticated."""
    public_key = peers.Peer("http://aula.test", site.certificate, "aes", ()).public_key
    return envelope.seal(signed, public_key, MOODLE, "aes")


def raw_call(method: str, *params_xml: str) -> bytes:
    """A methodCall written by hand, for values xmlrpc.client refuses to write (31-digit ints...)."""
    params = "".join(f"<param><value>{value}</value></param>" for value in params_xml)
    return f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>".encode()


def struct(**members: str) -> str:
    return (
        "<struct>"
        + "".join(f"<member><name>{name}</name><value>{value}</value></member>" for name, value in members.items())
        + "</struct>"
    )


CALLER = struct(
    username="<string>lovecraft</string>",
    remoteuserhostroot=f"<string>{MOODLE}</string>",
    remotehostroot=f"<string>{MOODLE}</string>",
)
LOVECRAFT, HERE = "<string>lovecraft</string>", "<string></string>"
TIMEFROM_REFUSED = {
    "status": 500,
    "errors": ["timefrom must be a Unix time: an integer from -2147483648 to 2147483647."],
}


# --------------------------------------------------------------------------- method parameters


@pytest.mark.parametrize(
    "timefrom",
    [
        "<int>" + "9" * 31 + "</int>",
        "<string>" + "9" * 31 + "</string>",
        "<i8>999999999999999999</i8>",
        "<double>1e20</double>",
        "<double>-1e308</double>",
        "<double>nan</double>",
        "<int>2147483648</int>",
        "<struct></struct>",
        "<array><data/></array>",
        "<boolean>1</boolean>",
    ],
)
def test_a_timefrom_that_is_not_an_xmlrpc_int_unix_time_is_status_500_naming_it(site, timefrom):
    body = sealed(site, raw_call(STATS, CALLER, LOVECRAFT, HERE, "<int>1</int>", timefrom))
    assert answered(site, body) == TIMEFROM_REFUSED


def test_the_extremes_of_the_int_range_are_answered(site):
    for timefrom in (2**31 - 1, -(2**31)):
        body = sealed(site, method_call(STATS, site.moodle.caller("lovecraft"), "lovecraft", "", 1, timefrom, True))
        answer = answered(site, body)
        assert answer["status"] == 200, answer


@pytest.mark.parametrize(
    "scope", ["<int>" + "9" * 40 + "</int>", "<struct></struct>", "<string>site</string>", "<nil/>"]
)
def test_a_statsscope_that_is_not_1_2_or_3_is_status_500(site, scope):
    answer = answered(site, sealed(site, raw_call(STATS, CALLER, LOVECRAFT, HERE, scope)))
    assert answer["status"] == 500 and "Unknown stats scope" in answer["errors"][0]


@pytest.mark.parametrize(
    "caller",
    [
        "<string>lovecraft</string>",
        "<array><data><value>lovecraft</value></data></array>",
        "<base64>bG92ZWNyYWZ0</base64>",
        "<nil/>",
        struct(username="<struct></struct>", remoteuserhostroot="<array><data/></array>", remotehostroot="<nil/>"),
        struct(username="<string>lovecraft</string>"),
    ],
)
def test_a_callinguser_that_is_not_the_struct_of_three_strings_is_status_501(site, caller):
    answer = answered(site, sealed(site, raw_call(STATS, caller, LOVECRAFT, HERE)))
    assert answer == {"status": 501, "errors": ["Bad client user format."]}


@pytest.mark.parametrize("position, name", [(1, "targetuser"), (2, "whereroot")])
@pytest.mark.parametrize(
    "value",
    [
        "<struct><member><name>a</name><value>1</value></member></struct>",
        "<array><data><value>1</value></data></array>",
        "<base64>/w==</base64>",
        "<dateTime.iso8601>20260101T00:00:00</dateTime.iso8601>",
    ],
)
def test_a_string_parameter_given_another_type_is_status_500_naming_it(site, position, name, value):
    params = [CALLER, LOVECRAFT, HERE]
    params[position] = value
    answer = answered(site, sealed(site, raw_call(STATS, *params)))
    assert answer == {"status": 500, "errors": [f"{name} must be a string."]}


def test_json_response_of_another_type_is_refused_in_the_default_json_form(site):
    body = sealed(site, raw_call(STATS, CALLER, LOVECRAFT, HERE, "<int>1</int>", "<int>0</int>", "<struct></struct>"))
    assert answered(site, body) == {"status": 500, "errors": ["json_response must be a boolean."]}


def test_an_unknown_whereroot_is_unknown_host(site):
    body = sealed(site, raw_call(STATS, CALLER, LOVECRAFT, "<string>http://evil.test</string>"))
    assert answered(site, body) == {"status": 500, "errors": ["unknown host"]}


@pytest.mark.parametrize("identifier", ["9" * 40, "99999999999", "\u0661\u0662", "-1"])
def test_a_course_id_that_no_integer_column_holds_is_an_unknown_course(site, identifier):
    body = sealed(
        site, method_call(SCORES, site.moodle.caller("lovecraft"), "lovecraft", "", "notes/global", "id", identifier)
    )
    assert answered(site, body) == {"status": 520, "errors": ["Unknown course."]}


def test_a_courseidfield_of_another_type_is_status_500_naming_it(site):
    body = sealed(site, raw_call(SCORES, CALLER, LOVECRAFT, HERE, "<string>notes/global</string>", "<struct></struct>"))
    assert answered(site, body) == {"status": 500, "errors": ["courseidfield must be a string."]}


@pytest.mark.parametrize("params", [(), ("a",), ("a", "b", "c", 1, 0, True, "extra", "more")])
def test_too_few_or_too_many_parameters_are_fault_32602_and_not_remembered(site, params):
    code, message = refused(site, sealed(site, method_call(STATS, *params)))
    assert (code, message) == (-32602, f"{STATS} takes 3 to 6 parameters.")


def test_an_unknown_method_is_713_and_not_remembered(site):
    assert refused(site, sealed(site, method_call("system/evil", 1)))[0] == 713


def test_a_malformed_call_inside_a_good_envelope_is_a_parse_fault_answered_sealed(site):
    response, written, _lines = send(site, sealed(site, b"<methodCall><methodName>x</methodName><params><param>"))
    assert response.content.startswith(b'<?xml version="1.0" encoding="iso-8859-1"?>\n<encryptedMessage>')
    assert value_of(site, response) == (-32700, "parse error. not well formed")
    assert written == {}


# --------------------------------------------------------------------------- XML-RPC documents


GOOD = method_call(
    STATS, {"username": "lovecraft", "remoteuserhostroot": MOODLE, "remotehostroot": MOODLE}, "lovecraft", ""
)


@pytest.mark.parametrize(
    "body, fault",
    [
        (b"", (-32700, "parse error. not well formed")),
        (b"not xml at all", (-32700, "parse error. not well formed")),
        (b"\x00\xff\xfe" * 50, (-32700, "parse error. not well formed")),
        (b"<foo/>", (-32700, "parse error. not well formed")),
        (
            b"<methodCall>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</methodCall>",
            (-32700, "parse error. not well formed"),
        ),
        (GOOD.replace(b"lovecraft", b"love\xffcraft"), (-32700, "parse error. not well formed")),
        (
            GOOD.replace(b"<?xml version='1.0'?>", b"<?xml version='1.0' encoding='klingon'?>"),
            (-32701, "parse error. unsupported encoding"),
        ),
        (
            GOOD.replace(b"<?xml version='1.0'?>", b"<?xml version='1.0' encoding='rot13'?>"),
            (-32701, "parse error. unsupported encoding"),
        ),
        (
            b"<methodCall><params/></methodCall>",
            (-32600, "server error. invalid xml-rpc. not conforming to spec. (not a methodCall)"),
        ),
        (
            xmlrpc.client.dumps(xmlrpc.client.Fault(1, "x")).encode(),
            (-32600, "server error. invalid xml-rpc. not conforming to spec. (not a methodCall)"),
        ),
        (
            xmlrpc.client.dumps((1,), methodresponse=True).encode(),
            (-32600, "server error. invalid xml-rpc. not conforming to spec. (not a methodCall)"),
        ),
    ],
    ids=[
        "empty",
        "text",
        "binary",
        "wrong-root",
        "deep",
        "bad-utf8",
        "unknown-encoding",
        "rot13",
        "no-method-name",
        "fault",
        "method-response",
    ],
)
def test_a_document_that_is_not_an_xmlrpc_call_gets_its_parse_fault(site, body, fault):
    assert refused(site, body) == fault


def test_a_get_is_405_with_a_transport_fault(site):
    response, written, _lines = send(site, b"", method="GET")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert answer_value(response.content) == (-32300, "transport error. POST an XML-RPC methodCall here.")
    assert written == {}


# --------------------------------------------------------------------------- envelopes


def _signed_by_trusted(site, payload: bytes = GOOD, timestamp: str | None = None) -> bytes:
    document = site.trusted.signed(payload)
    if timestamp is not None:
        document = re.sub(rb"<timestamp>[^<]*</timestamp>", f"<timestamp>{timestamp}</timestamp>".encode(), document)
    return document


def _replace_cipher_value(document: bytes, index: int, value: bytes) -> bytes:
    values = re.findall(rb"<CipherValue>([^<]*)</CipherValue>", document)
    return document.replace(values[index], value)


NOT_UNIX_TIMES = ["9" * 400, "\u0661\u0662\u0663", "1e9", "", "-" + "9" * 30]


def _with_timestamp(document: bytes, timestamp: str) -> bytes:
    return re.sub(rb"<timestamp>[^<]*</timestamp>", f"<timestamp>{timestamp}</timestamp>".encode(), document)


@pytest.mark.parametrize("timestamp", NOT_UNIX_TIMES)
def test_an_aes_sealed_timestamp_that_is_no_unix_time_is_7027(site, timestamp):
    assert refused(site, aes_sealed(site, _with_timestamp(site.moodle.signed(GOOD), timestamp)))[0] == 7027


@pytest.mark.parametrize("timestamp", NOT_UNIX_TIMES)
def test_a_signed_or_rc4_sealed_timestamp_that_is_no_unix_time_is_answered_as_moodle_does(site, timestamp):
    # through the gate to the caller's identity: lovecraft's home is moodle.test, not trusted.test
    from_trusted = method_call(STATS, site.trusted.caller("lovecraft"), "lovecraft", "")
    assert answered(site, _signed_by_trusted(site, from_trusted, timestamp=timestamp)) == {
        "status": 501,
        "errors": ["Calling user has no local account. Register remote user first"],
    }
    signed = _with_timestamp(site.moodle.signed(GOOD), timestamp)
    assert answered(site, site.moodle.sealed(signed, site.certificate))["status"] == 200


@pytest.mark.parametrize(
    "body",
    [
        b"<signedMessage>nonsense</signedMessage>",
        b"<signedMessage/>",
        b"<?xml version='1.0' encoding='klingon'?><signedMessage/>",
    ],
)
def test_a_signed_message_that_is_nonsense_is_711(site, body):
    assert refused(site, body)[0] == 711


@pytest.mark.parametrize("part", ["SignatureValue", "object"])
def test_a_signed_message_whose_base64_cannot_be_decoded_is_711(site, part):
    document = re.sub(
        rf"<{part}([^>]*)>[^<]*</{part}>".encode(),
        rf"<{part}\1>!!!*** not base64</{part}>".encode(),
        _signed_by_trusted(site),
    )
    assert refused(site, document)[0] == 711


def test_a_signed_payload_that_is_not_xmlrpc_is_a_parse_fault(site):
    assert refused(site, site.trusted.signed(b"\x00garbage"))[0] == -32700


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: re.sub(rb"<EncryptedKey.*</EncryptedKey>", b"", d, flags=re.S),
        lambda d: _replace_cipher_value(d, -1, b"!!!not base64"),
        lambda d: _replace_cipher_value(d, 0, b"!!!not base64"),
        lambda d: _replace_cipher_value(d, -1, base64.b64encode(b"short key")),
        lambda d: _replace_cipher_value(d, -1, base64.b64encode(bytes(1024))),
        lambda d: _replace_cipher_value(d, 0, b""),
        lambda d: d[: len(d) // 2],
        lambda d: d.replace(b"xmlenc#arcfour", b"xmlenc#des-cbc"),
        lambda d: b"<encryptedMessage>nonsense</encryptedMessage>",
    ],
    ids=[
        "no-key",
        "key-not-base64",
        "data-not-base64",
        "short-key",
        "long-key",
        "no-data",
        "truncated-document",
        "unknown-cipher",
        "nonsense",
    ],
)
def test_an_encrypted_message_that_cannot_be_opened_is_7023(site, tamper):
    assert refused(site, tamper(sealed(site, GOOD)))[0] == 7023


def test_truncated_sealed_data_is_711(site):
    document = sealed(site, GOOD)
    data = re.findall(rb"<CipherValue>([^<]*)</CipherValue>", document)[0]
    truncated = _replace_cipher_value(document, 0, base64.b64encode(base64.b64decode(data)[:50]))
    assert refused(site, truncated)[0] == 711


@pytest.mark.parametrize("root", ["http://nobody.test", "h" * 100_000])
def test_an_unknown_wwwroot_is_7020(site, root):
    document = re.sub(rb"<wwwroot>[^<]*</wwwroot>", f"<wwwroot>{root}</wwwroot>".encode(), sealed(site, GOOD))
    assert refused(site, document)[0] == 7020


def test_a_replayed_aes_call_is_7028_and_remembered_once(site):
    body = aes_sealed(site, site.moodle.signed(GOOD))
    assert answered(site, body)["status"] == 200
    assert refused(site, body) == (7028, "This message was already received.")
