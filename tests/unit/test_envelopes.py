import pytest
from lxml import etree

from aula_ws.services.progress import MemberProgress
from aula_ws.soap.envelopes import fault, progress_response

ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"


def test_the_response_uses_a_default_namespace_and_unprefixed_children():
    row = MemberProgress(False, True, 64, "A", "2015-06-17", False, 20, "lovecraft")
    text = progress_response([row], [row.perfil, row.id_usuario]).decode()
    assert '<obtener_avance_usuarios_response xmlns="urn:Educativa/Aula/"><usuarios>' in text
    assert "<avance>20</avance><id_usuario>lovecraft</id_usuario></usuarios>" in text


def test_text_values_are_escaped():
    row = MemberProgress(True, False, 1, "R&D<>", "2015-01-01", True, 0, "a&b")
    document = etree.fromstring(progress_response([row], [row.perfil, row.id_usuario]))
    usuario = document.find(
        f"{ENV}Body/{{urn:Educativa/Aula/}}obtener_avance_usuarios_response/{{urn:Educativa/Aula/}}usuarios"
    )
    assert usuario is not None
    assert [child.text for child in usuario] == ["true", "false", "1", "R&D<>", "2015-01-01", "true", "0", "a&b"]


def test_flags_read_as_0_or_1_are_written_as_booleans():
    document = etree.fromstring(progress_response([(1, 0, 7, "A", "2015-01-01", 1, 50, "x")], ["A", "x"]))
    usuario = next(document.iter("{urn:Educativa/Aula/}usuarios"))
    assert [child.text for child in usuario][:2] + [usuario[5].text] == ["true", "false", "true"]


def test_a_login_xml_cannot_carry_refuses_the_answer():
    row = MemberProgress(True, False, 1, "A", "2015-01-01", True, 0, "bad\x01login")
    with pytest.raises(ValueError, match="XML 1.0"):
        progress_response([row], [row.perfil, row.id_usuario])


def test_a_fault_has_a_qname_faultcode_and_the_educativa_detail():
    document = etree.fromstring(fault("Client", "X::Y", "X::Y", 'No existe el grupo "<64>"'))
    body_fault = document.find(f"{ENV}Body/{ENV}Fault")
    assert body_fault is not None
    code = body_fault.findtext("faultcode")
    assert code is not None
    prefix, local = code.split(":")
    assert body_fault.nsmap[prefix] == ENV.strip("{}") and local == "Client"
    assert (
        body_fault.findtext("detail/{urn:Educativa/Aula/}error/{urn:Educativa/Aula/}error_string")
        == 'No existe el grupo "<64>"'
    )
