"""Issue 9, items 2 and 8 (SOAP side): every malformed or oversized-in-shape request gets the
endpoint's own Client fault naming the problem (never waitress's plain-text 500), at most one
log line and no traceback, and writes nothing; what reaches Spyne is bounded (attributes,
elements, depth, text); the admin token is checked before the body's parameters are read.
Through `aula-ws serve` on 127.0.0.1."""

import base64
import time

import pytest
import requests

from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.hostile.soap_edge import (
    ADMIN,
    AULA,
    ENV,
    LESSONS_TSV,
    USERS_CSV,
    XML,
    admin_envelope,
    contract_envelope,
    fault_of,
    seed_platform,
    stored_state,
)

OPERATION = "<a:obtener_avance_usuarios><a:id_grupo>64</a:id_grupo></a:obtener_avance_usuarios>"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("malformed")
    return seed_platform(data_dir, fresh_database(request, data_dir, "malformed"))


@pytest.fixture(scope="module")
def server(platform):
    with running_server(aula_env(platform.data_dir, platform.database_url)) as running:
        yield running


def refused(server, platform, path, body, code, *words, headers=XML, status=500):
    """POST `body`: the Client fault `code` whose message holds `words`; nothing stored;
    at most one log line, no traceback."""
    before, log_lines = stored_state(platform), len(server.output)
    response = requests.post(f"{server.base_url}{path}", data=body, headers=headers, timeout=60)
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/xml")
    fault = fault_of(response.content)
    assert fault["faultcode"] == code, fault
    for word in words:
        assert word in fault["error_string"], fault
    time.sleep(0.2)  # let the log reader catch up with the server's output
    new_log = "".join(server.output[log_lines:])
    assert "Traceback" not in new_log and len(new_log.splitlines()) <= 1, new_log
    assert stored_state(platform) == before
    return fault


def envelope(inner: str, ns: str = AULA) -> str:
    return f'<s:Envelope xmlns:s="{ENV}" xmlns:a="{ns}"><s:Body>{inner}</s:Body></s:Envelope>'


# --- item 8: malformed requests ---------------------------------------------------------------


def test_an_empty_post_body(server, platform):
    refused(server, platform, "/soap", b"", "Client.EmptyRequest", "empty")
    refused(server, platform, "/soap/admin", b"", "Client.EmptyRequest", "empty")


def test_an_empty_soap_body(server, platform):
    for body in (f'<s:Envelope xmlns:s="{ENV}"><s:Body/></s:Envelope>', f'<s:Envelope xmlns:s="{ENV}"/>'):
        refused(server, platform, "/soap", body.encode(), "Client.EmptyBody", "Body")
        refused(server, platform, "/soap/admin", body.encode(), "Client.EmptyBody", "Body")


def test_a_root_that_is_no_soap_envelope(server, platform):
    refused(server, platform, "/soap", b"<Envelope><Body/></Envelope>", "Client.SoapError", ENV)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_a_body_in_utf16_or_utf32_sent_as_utf8(server, platform, codec):
    body = envelope(OPERATION).encode(codec)
    refused(server, platform, "/soap", body, "Client.InvalidEncoding", "not valid UTF-8", codec.upper())


def test_a_body_in_utf32_whatever_the_header_says(server, platform):
    body = envelope(OPERATION).encode("utf-32")
    refused(
        server, platform, "/soap", body, "Client.UnsupportedCharset", "UTF-32", headers={"Content-Type": "text/xml"}
    )
    refused(
        server,
        platform,
        "/soap",
        body,
        "Client.UnsupportedCharset",
        "utf-32",
        headers={"Content-Type": "text/xml; charset=utf-32"},
    )


def test_utf16_is_read_when_declared_or_marked(server):
    """WS-I Basic Profile R1012: UTF-8 and UTF-16 are the SOAP encodings every stack reads."""
    body = envelope(OPERATION).encode("utf-16")
    for headers in ({"Content-Type": "text/xml; charset=utf-16"}, {"Content-Type": "text/xml"}):
        response = requests.post(f"{server.base_url}/soap", data=body, headers=headers, timeout=60)
        assert response.status_code == 200 and b"<id_usuario>demo</id_usuario>" in response.content


def test_invalid_utf8_names_the_byte(server, platform):
    body = envelope(OPERATION.replace("64", "6\xff4")).encode("latin-1")
    refused(server, platform, "/soap", body, "Client.InvalidEncoding", "not valid UTF-8", "byte")


@pytest.mark.parametrize("charset", ["klingon", "rot13", "base64_codec", "zlib_codec", "latin-1"])
def test_an_unknown_or_unsupported_charset(server, platform, charset):
    refused(
        server,
        platform,
        "/soap",
        envelope(OPERATION).encode(),
        "Client.UnsupportedCharset",
        charset,
        headers={"Content-Type": f"text/xml; charset={charset}"},
    )


def test_no_content_type_or_a_get_without_wsdl(server, platform):
    refused(
        server,
        platform,
        "/soap",
        envelope(OPERATION).encode(),
        "Client.RequestNotAllowed",
        "POST",
        headers={"Content-Type": ""},
        status=405,
    )
    response = requests.get(f"{server.base_url}/soap", timeout=30)
    assert response.status_code == 405 and fault_of(response.content)["faultcode"] == "Client.RequestNotAllowed"


def test_an_unknown_operation(server, platform):
    refused(server, platform, "/soap", envelope("<a:borrar_todo/>").encode(), "Client.ResourceNotFound")


def test_malformed_xml(server, platform):
    refused(server, platform, "/soap", b"<s:Envelope xmlns:s='" + ENV.encode() + b"'><oops>", "Client.XMLSyntaxError")
    refused(server, platform, "/soap/admin", b"\x00\x01garbage", "Client.XMLSyntaxError")


def test_a_5000_digit_id_grupo_is_the_contracts_id_grupo_invalido(server, platform):
    fault = refused(server, platform, "/soap", contract_envelope(id_grupo="9" * 5000), "Client")
    assert fault["faultstring"] == "Educativa::Aula::Error::IdGrupoInvalido"
    zeros = refused(server, platform, "/soap", contract_envelope(id_grupo="0" * 5000 + "64x"), "Client")
    assert zeros["faultstring"] == "Educativa::Aula::Error::IdGrupoInvalido"


def test_leading_zeros_still_make_an_xs_int(server):
    response = requests.post(
        f"{server.base_url}/soap", data=contract_envelope(id_grupo="0" * 5000 + "64"), headers=XML, timeout=60
    )
    assert response.status_code == 200 and b"<id_usuario>demo</id_usuario>" in response.content


@pytest.mark.parametrize("operation", ["import_lesson_stats", "sync_users"])
def test_content_that_is_not_base64(server, platform, operation):
    body = admin_envelope(operation, platform.token, content="!!!not base64!!!")
    refused(server, platform, "/soap/admin", body, "Client.InvalidRequest", "content", "base64")


def test_base64_with_line_breaks_is_base64(server, platform):
    encoded = base64.encodebytes(LESSONS_TSV).decode()  # MIME style: a line break every 76 characters
    body = admin_envelope("import_lesson_stats", platform.token, content=encoded, dry_run="true")
    response = requests.post(f"{server.base_url}/soap/admin", data=body, headers=XML, timeout=60)
    assert response.status_code == 200 and b"<tns:processed>1</tns:processed>" in response.content


@pytest.mark.parametrize("file_name", ["x" * 300, "/", "."])
def test_a_refused_file_name_reaches_the_client_as_a_client_fault(server, platform, file_name):
    """The file name's rules are the services'; the edge only carries their refusal."""
    body = admin_envelope("sync_users", platform.token, content=USERS_CSV, file_name=file_name)
    response = requests.post(f"{server.base_url}/soap/admin", data=body, headers=XML, timeout=60)
    assert response.status_code == 500 and "Traceback" not in response.text
    assert fault_of(response.content)["faultcode"].startswith("Client")


# --- item 2: what reaches Spyne is bounded; the token comes first ------------------------------


def many_attributes(count: int) -> str:
    names = (f"a{n:x}" for n in range(count))
    return " ".join(f"{name}=''" for name in names)


def test_an_element_with_thousands_of_attributes_is_refused_by_the_limit(server, platform):
    attributes = many_attributes(100_000)  # about 1 MB: the contract endpoint's default body limit
    body = envelope(f"<a:obtener_avance_usuarios {attributes}><a:id_grupo>64</a:id_grupo></a:obtener_avance_usuarios>")
    assert len(body) <= 1024 * 1024
    refused(server, platform, "/soap", body.encode(), "Client.RequestTooComplex", "attributes", "at most 32")
    admin = envelope(f"<a:sync_users {many_attributes(143_000)}><a:content>eA==</a:content></a:sync_users>", ADMIN)
    refused(server, platform, "/soap/admin", admin.encode(), "Client.RequestTooComplex", "attributes")


def test_deep_nesting_many_elements_long_text_and_many_namespaces_are_refused(server, platform):
    deep = envelope("<a:obtener_avance_usuarios>" + "<x>" * 100_000 + "</x>" * 100_000 + "</a:obtener_avance_usuarios>")
    refused(server, platform, "/soap", deep.encode(), "Client.RequestTooComplex", "nested too deep", "at most 20")
    many = envelope("<a:obtener_avance_usuarios>" + "<x/>" * 200_000 + "</a:obtener_avance_usuarios>")
    refused(server, platform, "/soap", many.encode(), "Client.RequestTooComplex", "too many elements")
    long_text = envelope(f"<a:obtener_avance_usuarios><a:perfil>{'A' * 900_000}</a:perfil></a:obtener_avance_usuarios>")
    refused(server, platform, "/soap", long_text.encode(), "Client.RequestTooComplex", "text is too long")
    declarations = " ".join(f'xmlns:p{n}="urn:{n}"' for n in range(200))
    spaced = envelope(f"<a:obtener_avance_usuarios {declarations}/>")
    refused(server, platform, "/soap", spaced.encode(), "Client.RequestTooComplex", "namespace declarations")


def test_the_admin_token_is_checked_before_the_parameters_are_read(server, platform):
    """Without a token, a body whose parameters are wrong gets Client.Authentication, not the
    parameters' faults: nothing of it was read."""
    for token in (None, "wrong"):
        for params in ({"content": "!!!", "simulate": "yes"}, {"content": USERS_CSV, "simulate": "maybe"}):
            refused(
                server,
                platform,
                "/soap/admin",
                admin_envelope("sync_users", token, **params),
                "Client.Authentication",
                "wstoken",
            )
    with_token = admin_envelope("sync_users", platform.token, content="!!!")
    refused(server, platform, "/soap/admin", with_token, "Client.InvalidRequest", "base64")
