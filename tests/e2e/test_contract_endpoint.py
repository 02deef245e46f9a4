"""The contract endpoint over HTTP: `aula-ws serve` on 127.0.0.1, zeep built from the served WSDL,
and raw envelopes for what generated clients cannot send."""

from datetime import date, datetime
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from aula_ws.store.database import create_database_engine
from tests.builders import PlatformBuilder
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.xml_compare import assert_nodes_equal, parse_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "soap"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
AULA = "urn:Educativa/Aula/"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"obtener_avance_usuarios"'}


def seed(database_url: str) -> None:
    engine = create_database_engine(database_url)
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1", "U2", "U3", "U4", "U5"], group_id=64)
    b.member("lovecraft", 64, "A", fecha_alta=date(2015, 6, 17))
    b.member("ashton", 64, "A")
    b.member("borges", 64, "D", administrador_grupo=True)
    b.session("lovecraft", 64, "U1", "P", datetime(2015, 7, 1))
    b.session("ashton", 64, "U1", "C", datetime(2014, 11, 5, 12))
    b.session("ashton", 64, "U2", "C", datetime(2015, 9, 10))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("server")
    url = fresh_database(request, data_dir, "e2e")
    seed(url)
    with running_server(aula_env(data_dir, url)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return zeep.Client(f"{server.base_url}/soap?wsdl")


def envelope(**params) -> bytes:
    children = "".join(f"<aula:{k}>{v}</aula:{k}>" for k, v in params.items())
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ENV}" xmlns:aula="{AULA}"><soapenv:Body>'
        f"<aula:obtener_avance_usuarios>{children}</aula:obtener_avance_usuarios>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def post(server, body: bytes, **headers) -> requests.Response:
    return requests.post(f"{server.base_url}/soap", data=body, headers={**HEADERS, **headers}, timeout=30)


def fault_of(response: requests.Response) -> dict[str, object]:
    document = etree.fromstring(response.content)
    fault = document.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, response.text
    faultcode = fault.findtext("faultcode")
    assert faultcode is not None, response.text
    prefix, _, local = faultcode.partition(":")
    error = fault.find(f"detail/{{{AULA}}}error")
    assert error is not None, response.text
    return {
        "faultcode": (fault.nsmap.get(prefix), local),
        "faultstring": fault.findtext("faultstring"),
        "error_code": error.findtext(f"{{{AULA}}}error_code"),
        "error_string": error.findtext(f"{{{AULA}}}error_string"),
    }


@pytest.mark.parametrize("path, checked_in", [("/soap", "aula.wsdl"), ("/soap/admin", "aula-admin.wsdl")])
def test_the_served_wsdls_are_the_checked_in_ones(server, path, checked_in):
    served = requests.get(f"{server.base_url}{path}?wsdl", timeout=30)
    assert served.status_code == 200
    expected = parse_file(ROOT / "wsdl" / checked_in)  # regenerate: aula-ws wsdl [admin]
    actual = etree.fromstring(served.content, etree.XMLParser(remove_blank_text=True))
    for document in (expected, actual):
        for address in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
            address.set("location", "ENDPOINT")
    assert_nodes_equal(actual, expected)


def test_the_wsdl_types_follow_the_contract_signature(client):
    operation = client.service._binding._operations["obtener_avance_usuarios"]
    signature = operation.input.signature()
    assert "id_grupo: xsd:int" in signature and "fecha_desde: xsd:date" in signature
    usuario = client.get_type("{urn:Educativa/Aula/}usuario")
    assert [name for name, _ in usuario.elements] == [
        "administrador_grupo",
        "estado",
        "id_grupo",
        "perfil",
        "fecha_alta",
        "responsable_grupo",
        "avance",
        "id_usuario",
    ]
    assert all(element.min_occurs == 1 and not element.nillable for _, element in usuario.elements)


def test_zeep_reads_the_contract_example(client):
    result = client.service.obtener_avance_usuarios(id_grupo=64, id_usuario="lovecraft")
    assert len(result) == 1
    row = result[0]
    assert (row.administrador_grupo, row.estado, row.id_grupo, row.perfil) == (False, True, 64, "A")
    assert (row.fecha_alta, row.responsable_grupo, row.avance, row.id_usuario) == (
        date(2015, 6, 17),
        False,
        20,
        "lovecraft",
    )


def test_zeep_gets_every_member_ordered_by_login(client):
    result = client.service.obtener_avance_usuarios(id_grupo=64)
    assert [(r.id_usuario, r.avance) for r in result] == [
        ("_anonimo", 0),
        ("ashton", 40),
        ("borges", 0),
        ("lovecraft", 20),
    ]


def test_zeep_sends_dates_as_xs_date(client):
    result = client.service.obtener_avance_usuarios(id_grupo=64, fecha_desde=date(2014, 11, 5))
    assert {r.id_usuario: r.avance for r in result}["ashton"] == 20


def test_zeep_reports_a_contract_fault_with_its_name_and_detail(client):
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.obtener_avance_usuarios(id_grupo=99)
    fault = caught.value
    assert fault.message == "Educativa::Aula::Error::GrupoInexistente"
    assert fault.code.endswith(":Client")
    assert fault.detail.findtext(f"{{{AULA}}}error/{{{AULA}}}error_string") == 'No existe el grupo "99"'


def test_the_contract_example_is_answered_as_the_contract_writes_it(server):
    response = post(server, (FIXTURES / "contract_example_request.xml").read_bytes())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert (
        '<obtener_avance_usuarios_response xmlns="urn:Educativa/Aula/"><usuarios><administrador_grupo>' in response.text
    )
    body = etree.fromstring(response.content).find(f"{{{ENV}}}Body")
    assert body is not None
    assert_nodes_equal(body[0], parse_file(FIXTURES / "contract_example_response.xml"))


def test_the_contract_date_syntax_with_spaces_is_accepted(server):
    response = post(server, envelope(id_grupo="64", id_usuario="ashton", fecha_desde="2014 11 05"))
    assert response.status_code == 200, response.text
    assert "<avance>20</avance>" in response.text


@pytest.mark.parametrize(
    "params, name, message",
    [
        (dict(id_grupo="abc"), "IdGrupoInvalido", 'El id_grupo "abc" no es un número entero'),
        (dict(perfil="A"), "IdGrupoInvalido", 'Falta el parámetro obligatorio "id_grupo"'),
        (dict(id_grupo="99"), "GrupoInexistente", 'No existe el grupo "99"'),
        (
            dict(id_grupo="64", id_usuario="h p"),
            "IdUsuarioInvalido",
            'El id_usuario "h p" contiene caracteres inválidos',
        ),
        (dict(id_grupo="64", id_usuario="nadie"), "UsuarioInexistente", 'No existe el usuario "nadie"'),
        (dict(id_grupo="64", perfil="X"), "PerfilUsuarioInvalido", 'No existe el perfil "X"'),
        (dict(id_grupo="64", fecha_desde="2014/11/05"), "FechaFormatoInvalido", None),
        (dict(id_grupo="64", fecha_desde="2014-11-31"), "FechaInvalida", 'La fecha "2014-11-31" no existe'),
        (dict(id_grupo="64", fecha_desde="2015-01-02", fecha_hasta="2015-01-01"), "RangoFechaInvalido", None),
    ],
)
def test_each_contract_fault_is_a_client_fault_named_after_the_error(server, params, name, message):
    response = post(server, envelope(**params))
    assert response.status_code == 500
    fault = fault_of(response)
    assert fault["faultcode"] == (ENV, "Client")
    assert fault["faultstring"] == fault["error_code"] == f"Educativa::Aula::Error::{name}"
    if message:
        assert fault["error_string"] == message


HOSTILE = {
    "internal entity": '<!DOCTYPE e [<!ENTITY x "lovecraft">]>',
    "external file entity": '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    "parameter entity": '<!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>',
    "billion laughs": "<!DOCTYPE e ["
    + '<!ENTITY a0 "lol">'
    + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    + "]>",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_doctype_or_entity_is_refused_with_a_client_fault_and_nothing_expanded(server, kind):
    entity = "&a9;" if kind == "billion laughs" else "&x;"
    body = HOSTILE[kind].encode() + envelope(id_grupo="64", id_usuario=entity)
    response = post(server, body)
    assert response.status_code == 500
    fault = fault_of(response)
    # the DOCTYPE is refused where it is read, before any entity of it could be used
    assert fault["faultcode"] == (ENV, "Client.DoctypeForbidden") and fault["faultstring"] == "Client.DoctypeForbidden"
    assert "root:" not in response.text and "lovecraft" not in response.text
    assert "Traceback" not in response.text


def test_malformed_xml_gets_a_client_fault(server):
    response = post(server, b"<soapenv:Envelope xmlns:soapenv='" + ENV.encode() + b"'><oops>")
    assert response.status_code == 500
    assert fault_of(response)["faultcode"] == (ENV, "Client.XMLSyntaxError")


def test_an_unknown_operation_gets_a_client_fault(server):
    body = envelope(id_grupo="64").replace(b"obtener_avance_usuarios", b"borrar_todo")
    response = post(server, body)
    assert fault_of(response)["faultcode"] == (ENV, "Client.ResourceNotFound")


def test_an_oversized_body_is_refused_unread_with_a_client_fault(server):
    body = envelope(id_grupo="64", id_usuario="x" * (1024 * 1024 + 1))
    response = post(server, body)
    assert response.status_code == 413
    fault = fault_of(response)
    assert fault["faultcode"] == (ENV, "Client.RequestTooLarge")
    assert fault["faultstring"] == "Client.RequestTooLarge"


def test_the_home_page_links_the_wsdl_and_shows_the_version(server):
    response = requests.get(f"{server.base_url}/", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    # relative links: they stay right behind a proxy that mounts us under a prefix
    assert 'href="soap?wsdl"' in response.text and 'href="soap/admin?wsdl"' in response.text
    assert "http://" not in response.text  # no address of ours written from a request
    from aula_ws import __version__

    assert __version__ in response.text


def test_an_unknown_path_is_a_404(server):
    assert requests.get(f"{server.base_url}/nowhere", timeout=30).status_code == 404
