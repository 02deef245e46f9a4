"""The one-user shortcut (aula_ws/soap/shortcut.py) answers exactly as Spyne does: the same
status, headers and bytes for every request, the ones it takes and the ones it leaves to Spyne;
on SQLite and PostgreSQL."""

from datetime import date, datetime
from typing import Any

import pytest

from aula_ws.app import create_app, soap_endpoint
from aula_ws.services.runtime import Services
from aula_ws.soap.contract import ContractApplication
from aula_ws.soap.shortcut import plain_query
from tests.builders import PlatformBuilder
from tests.wsgi_calls import XML, post_wsgi

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
AULA = "urn:Educativa/Aula/"
NOW = datetime(2016, 1, 1, 12, 0)


def envelope(
    children: str, *, operation: str = "a:obtener_avance_usuarios", header: str = "", prolog: str = ""
) -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="{ENV}" xmlns:a="{AULA}">{header}<s:Body>'
        f"<{operation}>{children}</{operation}></s:Body></s:Envelope>"
    ).encode()


def params(**given: str) -> str:
    return "".join(f"<a:{name}>{value}</a:{name}>" for name, value in given.items())


ONE = params(id_grupo="64", id_usuario="lovecraft")
CONTRACT_EXAMPLE = f"""<soapenv:Envelope xmlns:soapenv="{ENV}" xmlns:aula="{AULA}">
 <soapenv:Header/>
 <soapenv:Body>
    <aula:obtener_avance_usuarios>
       <aula:id_grupo>64</aula:id_grupo>
       <aula:perfil></aula:perfil>
       <aula:id_usuario>lovecraft</aula:id_usuario>
       <aula:fecha_desde></aula:fecha_desde>
       <aula:fecha_hasta></aula:fecha_hasta>
    </aula:obtener_avance_usuarios>
 </soapenv:Body>
</soapenv:Envelope>""".encode()

# requests the shortcut answers itself
TAKEN = {
    "plain": envelope(ONE),
    "the contract's example": CONTRACT_EXAMPLE,
    "an XML declaration": envelope(ONE, prolog="<?xml version='1.0' encoding='utf-8'?>\n"),
    "a declaration naming another encoding": envelope(
        params(id_grupo="64", id_usuario="josé"), prolog="<?xml version='1.0' encoding='ISO-8859-1'?>"
    ),
    "zeep's shape": (
        f'<soap-env:Envelope xmlns:soap-env="{ENV}"><soap-env:Body><ns0:obtener_avance_usuarios xmlns:ns0="{AULA}">'
        "<ns0:id_grupo>64</ns0:id_grupo><ns0:id_usuario>ashton</ns0:id_usuario>"
        "</ns0:obtener_avance_usuarios></soap-env:Body></soap-env:Envelope>"
    ).encode(),
    "a default namespace": (
        f'<Envelope xmlns="{ENV}"><Body><obtener_avance_usuarios xmlns="{AULA}">'
        "<id_grupo>64</id_grupo><id_usuario>ashton</id_usuario></obtener_avance_usuarios></Body></Envelope>"
    ).encode(),
    "white space around values": envelope(params(id_grupo=" 64\n", id_usuario="\tlovecraft ")),
    "parameters in another order": envelope(params(id_usuario="lovecraft", perfil="A", id_grupo="64")),
    "every parameter": envelope(
        params(id_grupo="64", perfil="A", id_usuario="ashton", fecha_desde="2015-07-01", fecha_hasta="2015-09-30")
    ),
    "perfil D": envelope(params(id_grupo="64", perfil="D", id_usuario="borges")),
    "an inactive member": envelope(params(id_grupo="64", id_usuario="ocampo")),
    "a login that is not ASCII": envelope(params(id_grupo="64", id_usuario="josé")),
    "empty dates": envelope(params(id_grupo="64", id_usuario="ashton", fecha_desde="", fecha_hasta="")),
    "self-closed parameters": envelope(ONE + "<a:perfil/><a:fecha_desde/>"),
    # the contract's faults
    "an unknown group": envelope(params(id_grupo="999", id_usuario="lovecraft")),
    "a group id that is not a number": envelope(params(id_grupo="abc", id_usuario="lovecraft")),
    "no group id": envelope(params(id_usuario="lovecraft")),
    "an unknown user": envelope(params(id_grupo="64", id_usuario="nobody")),
    "a user of no group": envelope(params(id_grupo="64", id_usuario="outsider")),
    "an unknown perfil": envelope(params(id_grupo="64", perfil="Z", id_usuario="lovecraft")),
    "a bad date": envelope(params(id_grupo="64", id_usuario="lovecraft", fecha_desde="2015 07 01")),
    "an impossible date": envelope(params(id_grupo="64", id_usuario="lovecraft", fecha_hasta="2015-02-30")),
    "dates reversed": envelope(
        params(id_grupo="64", id_usuario="lovecraft", fecha_desde="2015-09-01", fecha_hasta="2015-07-01")
    ),
    "only fecha_hasta": envelope(params(id_grupo="64", id_usuario="lovecraft", fecha_hasta="2015-09-01")),
}

# requests left to Spyne
LEFT = {
    "the whole group": envelope(params(id_grupo="64")),
    "a blank id_usuario": envelope(params(id_grupo="64", id_usuario="  ")),
    "an empty id_usuario": envelope(params(id_grupo="64", id_usuario="")),
    "an entity": envelope(params(id_grupo="64", id_usuario="love&amp;craft")),
    "a character reference": envelope(params(id_grupo="64", id_usuario="&#108;ovecraft")),
    "CDATA": envelope(params(id_grupo="64", id_usuario="<![CDATA[lovecraft]]>")),
    "a comment": envelope(ONE + "<!-- hi -->"),
    "a DOCTYPE": envelope(ONE, prolog='<!DOCTYPE x [<!ENTITY e "lovecraft">]>'),
    "a processing instruction": envelope(ONE + "<?pi x?>"),
    "a byte-order mark": b"\xef\xbb\xbf" + envelope(ONE),
    "a duplicated parameter": envelope(ONE + params(id_usuario="ashton")),
    "an unknown parameter": envelope(ONE + params(other="1")),
    "an unqualified parameter": envelope(params(id_grupo="64") + "<id_usuario>lovecraft</id_usuario>"),
    "an attribute": envelope(
        params(id_grupo="64", id_usuario="lovecraft")
        + '<a:perfil xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>'
    ),
    "a nested element": envelope(params(id_grupo="64", id_usuario="<a:x>lovecraft</a:x>")),
    "a header with a child": envelope(ONE, header="<s:Header><a:wstoken>x</a:wstoken></s:Header>"),
    "text in the Body": envelope(ONE).replace(b"<s:Body>", b"<s:Body>text"),
    "text after the operation": envelope(ONE).replace(b"</s:Body>", b"tail</s:Body>"),
    "two operations": envelope(ONE).replace(b"</s:Body>", b"<a:obtener_avance_usuarios/></s:Body>"),
    "another operation": envelope(ONE, operation="a:other"),
    "SOAP 1.2": envelope(ONE).replace(ENV.encode(), b"http://www.w3.org/2003/05/soap-envelope"),
    "another namespace": envelope(ONE).replace(AULA.encode(), b"urn:other"),
    "not well-formed": envelope(ONE)[:-5],
    "not UTF-8": envelope(params(id_grupo="64", id_usuario="jos\xe9")).replace("josé".encode(), b"jos\xe9"),
    "a large body": envelope(ONE + " " * 5000),
    "empty": b"",
}

CONTENT_TYPES = {
    "another charset": "text/xml; charset=iso-8859-1",
    "SOAP 1.2's type": "application/soap+xml; charset=utf-8",
    "no type": "",
    "UTF-16": "text/xml; charset=utf-16",
}


@pytest.fixture
def apps(engine, settings):
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1", "U2", "U3", "U4", "U5"], group_id=64)
    b.member("lovecraft", 64, "A", fecha_alta=date(2015, 6, 17))
    b.member("ashton", 64, "A")
    b.member("josé", 64, "A")
    b.member("borges", 64, "D", administrador_grupo=True, responsable_grupo=True)
    b.member("ocampo", 64, "A", estado=False)
    b.user("outsider")
    b.session("lovecraft", 64, "U1", "P", datetime(2015, 7, 1))
    b.session("ashton", 64, "U1", "C", datetime(2015, 7, 10))
    b.session("ashton", 64, "U2", "C", datetime(2015, 9, 10))
    b.session("josé", 64, "U3", "C", datetime(2015, 9, 10))
    b.course_status("ocampo", 64, "C", datetime(2015, 11, 1))
    services = Services(settings, engine, clock=lambda: NOW)
    spyne_only = soap_endpoint(
        ContractApplication(services), "contract", settings.contract_max_body, settings.public_url
    )
    return create_app(services), spyne_only


def call(app: Any, body: bytes, content_type: str = XML, query: str = "") -> tuple[str, list[Any], bytes]:
    return post_wsgi(app, "/soap", body, content_type, query)


def environ_of(content_type: str = XML, query: str = "") -> dict[str, str]:
    """What plain_query reads of the environ besides the body."""
    return {"CONTENT_TYPE": content_type, "QUERY_STRING": query}


@pytest.mark.parametrize("name", TAKEN)
def test_a_plain_one_user_request_is_answered_as_spyne_answers_it(apps, name):
    assert plain_query(environ_of(), TAKEN[name]) is not None
    app, spyne_only = apps
    assert call(app, TAKEN[name]) == call(spyne_only, TAKEN[name])


@pytest.mark.parametrize("name", LEFT)
def test_any_other_request_is_left_to_spyne(apps, name):
    assert plain_query(environ_of(), LEFT[name]) is None
    app, spyne_only = apps
    assert call(app, LEFT[name]) == call(spyne_only, LEFT[name])


@pytest.mark.parametrize("name", CONTENT_TYPES)
def test_another_content_type_is_left_to_spyne(apps, name):
    body = envelope(ONE)
    assert plain_query(environ_of(CONTENT_TYPES[name]), body) is None
    app, spyne_only = apps
    assert call(app, body, CONTENT_TYPES[name]) == call(spyne_only, body, CONTENT_TYPES[name])


def test_a_query_string_is_left_to_spyne(apps):
    body = envelope(ONE)
    assert plain_query(environ_of(query="wsdl"), body) is None
    app, spyne_only = apps
    assert call(app, body, query="wsdl") == call(spyne_only, body, query="wsdl")


def test_a_failure_not_the_contracts_is_answered_by_spyne(apps, engine, caplog):
    """A database that fails: the generic Server fault, its traceback logged, as before."""
    app, spyne_only = apps
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TABLE memberships" + (" CASCADE" if engine.dialect.name == "postgresql" else "")
        )
    ours, theirs = call(app, envelope(ONE)), call(spyne_only, envelope(ONE))
    assert ours == theirs
    assert ours[0].startswith("500") and b"Server.InternalError" in ours[2]
