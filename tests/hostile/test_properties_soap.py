"""Issue 9 (how to test it): arbitrary bytes and arbitrary well-formed XML thrown at /soap and
/soap/admin never give anything but a SOAP answer or a SOAP fault: no exception out of the
WSGI application, no 500 without a fault body, and no Server fault (every such input is the
client's mistake). In process (the WSGI application the servers run), a bounded example count."""

import string
from collections.abc import Iterator
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aula_ws.app import AulaApplication, create_app
from aula_ws.config import Settings
from aula_ws.services.runtime import Services
from aula_ws.store.database import create_database_engine
from tests.databases import migrated_sqlite
from tests.hostile.soap_edge import ADMIN, AULA, ENV, Platform, fault_of, seed_platform, soap_body_of
from tests.wsgi_calls import post_wsgi

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[AulaApplication, Platform]]:
    data_dir = tmp_path_factory.mktemp("properties")
    platform = seed_platform(data_dir, migrated_sqlite(data_dir))
    engine = create_database_engine(platform.database_url)
    settings = Settings(data_dir=data_dir, database_url=platform.database_url, timezone=ZoneInfo("UTC"))
    yield create_app(Services(settings, engine)), platform
    engine.dispose()


def post(app, path: str, body: bytes, content_type: str = "text/xml; charset=utf-8") -> tuple[str, bytes]:
    status, _, answer = post_wsgi(app, path, body, content_type)
    return status, answer


def assert_soap_answer_or_client_fault(status: str, answer: bytes) -> None:
    soap_body_of(answer)  # parses, and the Body holds exactly one element
    if status.startswith("200"):
        assert etree.fromstring(answer).find(f"{{{ENV}}}Body/{{{ENV}}}Fault") is None
        return
    assert status[:3] in ("500", "405", "413"), status
    assert fault_of(answer)["faultcode"].startswith("Client"), answer[:300]


names = st.sampled_from(
    [
        "obtener_avance_usuarios",
        "id_grupo",
        "perfil",
        "id_usuario",
        "fecha_desde",
        "fecha_hasta",
        "sync_users",
        "import_lesson_stats",
        "content",
        "simulate",
        "dry_run",
        "wstoken",
        "x",
    ]
)
namespaces = st.sampled_from([AULA, ADMIN, ENV, "", "urn:other"])
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40).filter(
    lambda t: all(c in "\t\n\r" or ord(c) >= 0x20 for c in t) and "\ufffe" not in t and "\uffff" not in t
)


@st.composite
def elements(draw, depth: int = 0) -> etree._Element:
    namespace, name = draw(namespaces), draw(names)
    element = etree.Element(f"{{{namespace}}}{name}" if namespace else name)
    element.text = draw(texts) or None
    for attribute in draw(st.lists(st.sampled_from(["id", "href", "nil", "type"]), max_size=3, unique=True)):
        element.set(attribute, draw(st.sampled_from(["", "#x", "true", "1", "xs:int"])))
    if depth < 4:
        for child in draw(st.lists(elements(depth=depth + 1), max_size=4)):
            element.append(child)
    return element


@st.composite
def envelopes(draw) -> bytes:
    """Mostly SOAP envelopes (with or without a Header and a token), sometimes any element."""
    body = draw(st.lists(elements(), max_size=2))
    if draw(st.integers(0, 9)) == 0 and body:
        return etree.tostring(body[0])
    envelope = etree.Element(f"{{{ENV}}}Envelope")
    if draw(st.booleans()):
        header = etree.SubElement(envelope, f"{{{ENV}}}Header")
        token = etree.SubElement(header, f"{{{ADMIN}}}wstoken")
        token.text = draw(st.sampled_from(["", "nope", "TOKEN"]))
    soap_body = etree.SubElement(envelope, f"{{{ENV}}}Body")
    for element in body:
        soap_body.append(element)
    return etree.tostring(envelope, encoding=draw(st.sampled_from(["utf-8", "utf-16"])), xml_declaration=True)


@EXAMPLES
@given(body=st.binary(max_size=600), path=st.sampled_from(["/soap", "/soap/admin"]))
def test_arbitrary_bytes_get_a_client_fault(app, body, path):
    status, answer = post(app[0], path, body)
    assert_soap_answer_or_client_fault(status, answer)


@EXAMPLES
@given(
    body=envelopes(),
    path=st.sampled_from(["/soap", "/soap/admin"]),
    charset=st.sampled_from(["", "; charset=utf-8", "; charset=utf-16", "; charset=klingon"]),
)
def test_arbitrary_well_formed_xml_gets_an_answer_or_a_client_fault(app, body, path, charset):
    application, platform = app
    body = body.replace(b"TOKEN", platform.token.encode()) if b"TOKEN" in body else body
    status, answer = post(application, path, body, "text/xml" + charset)
    assert_soap_answer_or_client_fault(status, answer)


@EXAMPLES
@given(
    junk=st.text(alphabet=string.printable.replace("\x0b", "").replace("\x0c", ""), max_size=60),
    flag=st.sampled_from(["simulate", "dry_run"]),
)
def test_any_admin_flag_value_is_a_boolean_or_a_client_fault_naming_it(app, junk, flag):
    application, platform = app
    operation = "sync_users" if flag == "simulate" else "import_lesson_stats"
    escaped = escape(junk).replace("\r", "&#13;")  # a raw CR would be normalised away by the parser
    body = (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:a="{ADMIN}"><s:Header><a:wstoken>{platform.token}</a:wstoken>'
        f"</s:Header><s:Body><a:{operation}><a:content>eA==</a:content><a:{flag}>{escaped}</a:{flag}>"
        f"<a:file_name>x.csv</a:file_name></a:{operation}></s:Body></s:Envelope>"
    ).encode()
    status, answer = post(application, "/soap/admin", body)
    assert_soap_answer_or_client_fault(status, answer)
    if junk.strip(" \t\r\n") not in ("", "true", "false", "1", "0"):
        fault = fault_of(answer)
        assert fault["faultcode"] == "Client.InvalidRequest" and flag in fault["error_string"]
