"""Properties of the XML-RPC (MNET) and REST (ETL) entry points (issue 9): whatever arrives,
arbitrary bytes, arbitrary well-formed XML, arbitrary XML-RPC calls with arbitrary
parameters (plain, signed, sealed), arbitrary query strings, form bodies and JSON, the
answer is one of the documented faults or errors (or an answer), never a 500 without a
fault body, never a generic internal error, never a logged traceback.

The WSGI applications are driven in-process on one SQLite database (the real-server tests
beside this file cover both databases); example counts are bounded so this runs in seconds.
"""

import base64
import io
import json
import logging
import xmlrpc.client
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aula_ws.config import Settings
from aula_ws.rest.etl import ANSWER_KEYS, etl_endpoint
from aula_ws.rpc import server
from aula_ws.services import etl, peers, tokens
from aula_ws.services.clock import utc_now
from aula_ws.services.runtime import Services
from aula_ws.store.database import create_database_engine
from tests.databases import migrated_sqlite
from tests.mnet_peer import MOODLE, HandMadePeer, moodle_peer
from tests.usage_dataset import build_usage_platform

TRUSTED = "http://trusted.test"
TRUSTED_ADDRESS, STRANGER_ADDRESS = "10.9.0.1", "192.0.2.1"
STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"
SCORES = "blocks/use_stats/rpclib.php/use_stats_rpc_get_scores"

# the faults the endpoint documents (rpc/gate.py, rpc/codec.py, rpc/methods.py, rpc/server.py); never 712
MNET_FAULTS = {-32700, -32701, -32600, -32602, -32300, 413, 710, 711, 713, 7020, 7021, 7023, 7025, 7027, 7028}
MNET_STATUSES = {200, 500, 501, 510, 520}
ETL_ERRORS = {
    "invalidtoken",
    "invalidfunction",
    "invalidparameter",
    "invalidqueryparams",
    "unknownplugin",
    "unknownquery",
    "unknowninstance",
    "invalidrange",
    "invalidmethod",
    "ETLBUSY",
}
BOUNDED = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Iterator[SimpleNamespace]:
    directory = tmp_path_factory.mktemp("properties")
    url = migrated_sqlite(directory)
    engine = create_database_engine(url)
    services = Services(Settings(data_dir=directory, database_url=url, timezone=ZoneInfo("UTC")), engine)
    build_usage_platform(engine, start=utc_now() - timedelta(hours=5))
    moodle, trusted = moodle_peer(), HandMadePeer(TRUSTED)
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, utc_now())
    peers.add_peer(engine, TRUSTED, trusted.certificate_pem, utc_now(), trusted_ips=["10.9.0.0/16"])
    tokens.set_site_admin(engine, "root")
    _, token = tokens.create_token(engine, "root", "etl", utc_now() - timedelta(days=1), None)
    instances = [etl.add_instance(engine, plugin, f"p-{plugin}", utc_now()) for plugin in ("boardz", "progress")]
    records = Records()
    logging.getLogger().addHandler(records)
    try:
        yield SimpleNamespace(
            rpc=server.create_rpc_app(services),
            rest=etl_endpoint(services),
            certificate=peers.current_key(engine, services.key_policy, utc_now()).certificate_pem,
            moodle=moodle,
            trusted=trusted,
            token=token,
            instances=instances,
            records=records,
        )
    finally:
        logging.getLogger().removeHandler(records)
        engine.dispose()


def call_wsgi(app, records: Records, method: str, body: bytes = b"", query: str = "", **environ: str):
    records.records.clear()
    captured: list[tuple[str, list[tuple[str, str]]]] = []
    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/",
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": STRANGER_ADDRESS,
    }
    answer = b"".join(app({**base, **environ}, lambda status, headers: captured.append((status, headers))))
    status, headers = captured[0]
    assert not [r for r in records.records if r.exc_info or r.levelno >= logging.ERROR], records.records
    assert len([r for r in records.records if r.name.startswith(("aula_ws.rpc", "aula_ws.rest"))]) <= 1
    return int(status.split()[0]), dict(headers), answer


# --------------------------------------------------------------------------- XML-RPC


def assert_mnet_answer(apps, status: int, answer: bytes) -> Any:
    """The answer is an XML-RPC document (opened when signed or sealed): a documented fault, or a value."""
    assert status in (200, 405, 413)
    if b"<encryptedMessage>" in answer[:100] or b"<signedMessage>" in answer[:100]:
        opener = apps.moodle if b"<encryptedMessage>" in answer[:100] else apps.trusted
        answer = opener.open_answer(answer, apps.certificate)
    try:
        value = xmlrpc.client.loads(answer, use_builtin_types=True)[0][0]
    except xmlrpc.client.Fault as fault:
        assert fault.faultCode in MNET_FAULTS, (fault.faultCode, fault.faultString)
        return fault
    assert status == 200
    return value


def assert_use_stats_answer(value: Any) -> None:
    answer = json.loads(value) if isinstance(value, str) and value.startswith("{") else value
    if isinstance(answer, dict):
        assert answer["status"] in MNET_STATUSES, answer
        assert answer["status"] != 500 or all(isinstance(e, str) and e for e in answer["errors"])


xml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n\r"), max_size=40
)
xml_names = st.sampled_from(
    [
        "methodCall",
        "methodName",
        "params",
        "param",
        "value",
        "struct",
        "member",
        "name",
        "array",
        "data",
        "int",
        "i4",
        "i8",
        "string",
        "double",
        "boolean",
        "base64",
        "nil",
        "dateTime.iso8601",
        "methodResponse",
        "fault",
        "signedMessage",
        "encryptedMessage",
        "object",
        "wwwroot",
        "timestamp",
    ]
) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)


def _element(tag: str, text: str, children: list[ElementTree.Element]) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    element.text = text
    element.extend(children)
    return element


xml_trees = st.recursive(
    st.builds(_element, xml_names, xml_text, st.just([])),
    lambda children: st.builds(_element, xml_names, xml_text, st.lists(children, max_size=4)),
    max_leaves=25,
)
declarations = st.sampled_from(["", "<?xml version='1.0'?>", "<?xml version='1.0' encoding='utf-8'?>"]) | st.builds(
    "<?xml version='1.0' encoding='{}'?>".format,
    st.sampled_from(["iso-8859-1", "utf-16", "klingon", "rot13", "base64_codec", "zlib_codec", "cp037", "utf-7"])
    | st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
)
xml_documents = (
    st.builds(
        lambda declaration, tree: declaration.encode() + ElementTree.tostring(tree, encoding="unicode").encode(),
        declarations,
        xml_trees,
    )
    | st.builds(
        lambda code, text: xmlrpc.client.dumps(xmlrpc.client.Fault(code, text)).encode(),
        st.integers(-(2**31), 2**31 - 1),
        xml_text,
    )
    | st.builds(lambda value: xmlrpc.client.dumps((value,), methodresponse=True).encode(), xml_text)
)

rpc_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**31), 2**31 - 1)
    | st.floats()
    | xml_text
    | st.binary(max_size=16)
    | st.datetimes()
    | st.sampled_from(
        [
            "",
            "lovecraft",
            "borges",
            "nobody",
            "9" * 31,
            "1",
            "2",
            "3",
            "id",
            "shortname",
            "notes/global",
            "http://evil.test",
        ]
    )
)
rpc_values = st.recursive(
    rpc_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(xml_text, inner, max_size=4),
    max_leaves=12,
)
callers = st.fixed_dictionaries(
    {
        "username": st.sampled_from(["lovecraft", "borges", "root", "nobody", ""]) | xml_text,
        "remoteuserhostroot": st.sampled_from([MOODLE, TRUSTED, ""]),
        "remotehostroot": st.sampled_from([MOODLE, TRUSTED, ""]),
    }
)
methods = (
    st.sampled_from(
        [
            "system.listMethods",
            "system/listMethods",
            "system.methodSignature",
            "system.methodHelp",
            "system/keyswap",
            "system/listServices",
            "",
        ]
    )
    | xml_text
)


def to_xmlrpc(value: Any) -> str:
    """An XML-RPC <value>, written by hand: xmlrpc.client refuses what a hostile peer may send
    (ints past 32 bits)."""
    if value is None:
        return "<value><nil/></value>"
    if isinstance(value, bool):
        return f"<value><boolean>{int(value)}</boolean></value>"
    if isinstance(value, int):
        return f"<value><int>{value}</int></value>"
    if isinstance(value, float):
        return f"<value><double>{value!r}</double></value>"
    if isinstance(value, bytes):
        return f"<value><base64>{base64.b64encode(value).decode()}</base64></value>"
    if isinstance(value, datetime):
        return f"<value><dateTime.iso8601>{value.year:04d}{value.strftime('%m%dT%H:%M:%S')}</dateTime.iso8601></value>"
    if isinstance(value, list):
        return "<value><array><data>" + "".join(map(to_xmlrpc, value)) + "</data></array></value>"
    if isinstance(value, dict):
        members = "".join(f"<member><name>{escape(k)}</name>{to_xmlrpc(v)}</member>" for k, v in value.items())
        return f"<value><struct>{members}</struct></value>"
    return f"<value><string>{escape(value)}</string></value>"


def method_call(method: str, params: list[Any]) -> bytes:
    values = "".join(f"<param>{to_xmlrpc(value)}</param>" for value in params)
    return f"<?xml version='1.0'?><methodCall><methodName>{escape(method)}</methodName><params>{values}</params></methodCall>".encode()


@st.composite
def use_stats_calls(draw, caller: dict[str, str]) -> bytes:
    """A use_stats call of a valid arity whose parameters are each plausible or anything at all."""
    scores = draw(st.booleans())
    chance = draw(st.randoms(use_true_random=False))
    plausible: list[st.SearchStrategy[object]] = [
        st.just(caller),
        st.sampled_from(["lovecraft", "borges", "nobody"]),
        st.sampled_from(["", "/", MOODLE + "x"]),
    ]
    if scores:
        plausible += [
            st.just("notes/global"),
            st.sampled_from(["id", "shortname", "idnumber", "name"]),
            st.sampled_from(["", "lit", "LIT-1", "64", "9" * 40]),
            st.booleans(),
        ]
    else:
        plausible += [
            st.integers(1, 3) | st.integers(-1, 4),
            st.integers(-(2**31), 2**31 - 1) | st.integers(2**31, 10**40) | st.integers(),
            st.booleans(),
        ]
    # each parameter plausible 4 times in 5, so that calls get past the first checks
    params = [draw(choice if chance.random() < 0.8 else callers | rpc_values) for choice in plausible]
    if chance.random() < 0.25:
        params = params[: draw(st.integers(3, len(plausible)))]
    name = draw(st.sampled_from(["use_stats_rpc_get_scores", SCORES] if scores else ["use_stats_rpc_get_stats", STATS]))
    return method_call(name, params)


other_calls = st.builds(method_call, methods, st.lists(rpc_values, max_size=8))


@BOUNDED
@given(
    body=st.binary(max_size=2000) | st.builds(bytes.__add__, declarations.map(str.encode), st.binary(max_size=200)),
    trusted=st.booleans(),
)
def test_arbitrary_bytes_get_a_documented_fault(apps, body, trusted):
    address = TRUSTED_ADDRESS if trusted else STRANGER_ADDRESS
    status, headers, answer = call_wsgi(apps.rpc, apps.records, "POST", body, REMOTE_ADDR=address)
    assert headers["Content-Type"].startswith("text/xml")
    assert_mnet_answer(apps, status, answer)


@BOUNDED
@given(document=xml_documents, wrapping=st.sampled_from(["plain", "signed", "sealed"]))
def test_arbitrary_well_formed_xml_gets_a_documented_fault(apps, document, wrapping):
    if wrapping == "signed":
        document = apps.trusted.signed(document)
    elif wrapping == "sealed":
        document = apps.moodle.sealed(apps.moodle.signed(document), apps.certificate)
    status, _headers, answer = call_wsgi(apps.rpc, apps.records, "POST", document, REMOTE_ADDR=TRUSTED_ADDRESS)
    assert_mnet_answer(apps, status, answer)


@BOUNDED
@given(data=st.data())
def test_use_stats_calls_with_arbitrary_parameters_get_a_use_stats_status(apps, data):
    payload = data.draw(use_stats_calls(apps.moodle.caller("lovecraft")))
    body = apps.moodle.sealed(apps.moodle.signed(payload), apps.certificate)
    status, _headers, answer = call_wsgi(apps.rpc, apps.records, "POST", body, REMOTE_ADDR=STRANGER_ADDRESS)
    value = assert_mnet_answer(apps, status, answer)
    assert not isinstance(value, xmlrpc.client.Fault) or value.faultCode == 7028  # the same call twice
    assert_use_stats_answer(value)


@BOUNDED
@given(data=st.data(), wrapping=st.sampled_from(["sealed", "signed", "plain"]), other=st.booleans())
def test_arbitrary_xmlrpc_calls_get_a_documented_fault_or_a_use_stats_status(apps, data, wrapping, other):
    peer = apps.trusted if wrapping == "signed" else apps.moodle
    payload = data.draw(other_calls if other else use_stats_calls(peer.caller("lovecraft")))
    if wrapping == "signed":
        body = apps.trusted.signed(payload)
    elif wrapping == "sealed":
        body = apps.moodle.sealed(apps.moodle.signed(payload), apps.certificate)
    else:
        body = payload
    status, _headers, answer = call_wsgi(apps.rpc, apps.records, "POST", body, REMOTE_ADDR=TRUSTED_ADDRESS)
    value = assert_mnet_answer(apps, status, answer)
    if not isinstance(value, xmlrpc.client.Fault):
        assert_use_stats_answer(value)


@settings(max_examples=20, deadline=None, database=None)
@given(method=st.sampled_from(["GET", "PUT", "HEAD", "DELETE", "OPTIONS"]), query=st.text(max_size=50))
def test_other_http_methods_get_a_fault_too(apps, method, query):
    status, _headers, answer = call_wsgi(apps.rpc, apps.records, method, b"", query.encode().decode("latin-1"))
    assert status == 405
    assert_mnet_answer(apps, status, answer)


# --------------------------------------------------------------------------- REST


def assert_rest_answer(status: int, headers: dict[str, str], answer: bytes) -> None:
    assert status in (200, 405, 413)
    if headers["Content-Type"].startswith("application/xml"):
        root = ElementTree.fromstring(answer)
        if root.tag == "EXCEPTION":
            assert root.findtext("ERRORCODE") in ETL_ERRORS, answer
        else:
            assert root.tag == "RESPONSE" and status == 200
        return
    assert headers["Content-Type"].startswith("application/json")
    body = json.loads(answer)
    if "exception" in body:
        assert list(body) in (["exception", "errorcode", "message"], ["exception", "errorcode", "message", "debuginfo"])
        assert body["errorcode"] in ETL_ERRORS, body
    else:
        assert tuple(body) == ANSWER_KEYS and status == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
queries = st.sampled_from(
    [
        "special_test",
        "special_actions",
        "special_grades",
        "special_academics",
        "special_acknowledge",
        "special_documents",
        "special_communications",
        "special_progress",
        "special_evil",
    ]
)
queryparams = st.one_of(
    st.fixed_dictionaries(
        {"query": queries | json_values},
        optional={
            name: st.integers(-(10**13), 10**13) | json_values | st.text(max_size=12)
            for name in ("from", "to", "ackquery", "id_grupo", "perfil", "id_usuario", "fecha_desde", "fecha_hasta")
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=60),
    st.integers(1, 6000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 6000).map(lambda depth: '{"query": "special_test", "x": ' + "[" * depth + "]" * depth + "}"),
)


@st.composite
def rest_parameters(draw, apps) -> dict[str, str]:
    chance = draw(st.randoms(use_true_random=False))

    def mostly(plausible: st.SearchStrategy[str]) -> str:  # plausible 5 times in 6, so calls get deep
        return draw(plausible if chance.random() < 5 / 6 else st.text(max_size=12))

    values = {
        "wstoken": mostly(st.just(apps.token)),
        "wsfunction": mostly(st.just("report_etl_get")),
        "plugin": mostly(st.sampled_from(["boardz", "progress"])),
        "id": mostly(st.sampled_from([str(i) for i in apps.instances])),
        "queryparams": draw(queryparams),
        "moodlewsrestformat": mostly(st.sampled_from(["json", "json", "xml"])),
    }
    return {name: value for name, value in values.items() if value}  # an empty value: the parameter is missing


@BOUNDED
@given(
    data=st.data(),
    method=st.sampled_from(["GET", "POST"]),
    content_type=st.sampled_from(["", "application/x-www-form-urlencoded", "application/json", "text/plain"]),
)
def test_arbitrary_parameters_and_json_get_an_answer_or_a_moodle_error(apps, data, method, content_type):
    params = data.draw(rest_parameters(apps))
    encoded = urlencode(params)
    if method == "GET":
        status, headers, answer = call_wsgi(apps.rest, apps.records, "GET", query=encoded)
    else:
        status, headers, answer = call_wsgi(
            apps.rest, apps.records, "POST", encoded.encode(), CONTENT_TYPE=content_type
        )
    assert_rest_answer(status, headers, answer)


@BOUNDED
@given(query=st.binary(max_size=300), body=st.binary(max_size=300), method=st.sampled_from(["GET", "POST", "PUT"]))
def test_arbitrary_query_strings_and_bodies_get_a_moodle_error(apps, query, body, method):
    status, headers, answer = call_wsgi(
        apps.rest, apps.records, method, body, query.decode("latin-1"), CONTENT_TYPE="application/x-www-form-urlencoded"
    )
    assert_rest_answer(status, headers, answer)
