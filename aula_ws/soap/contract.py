"""The Educativa Aula contract endpoint: obtener_avance_usuarios (CONTRACT.md section 2)."""

from spyne import Application, Array, Boolean, ComplexModel, Date, Integer32, Unicode, rpc

from aula_ws.services.progress import ProgressQuery, ProgressRows, progress_rows
from aula_ws.services.runtime import Services
from aula_ws.soap import envelopes
from aula_ws.soap.faults import TranslatingService
from aula_ws.soap.namespaces import AULA
from aula_ws.soap.protocol import AulaSoap11, required

OPERATION = "obtener_avance_usuarios"


class Usuario(ComplexModel):  # type: ignore[misc]
    """One membership; every field required and not nillable, so generated
    clients get plain fields (wsimport: String/boolean/int, not JAXBElement)."""

    __namespace__ = AULA
    __type_name__ = "usuario"
    _type_info = [
        ("administrador_grupo", required(Boolean)),
        ("estado", required(Boolean)),
        ("id_grupo", required(Integer32)),
        ("perfil", required(Unicode)),
        ("fecha_alta", required(Date)),
        ("responsable_grupo", required(Boolean)),
        ("avance", required(Integer32)),
        ("id_usuario", required(Unicode)),
    ]


# the parameters keep their WSDL types but reach the service as the client's text (lenient):
# `abc` or `2014 11 05` get the contract's own errors, never a schema fault
IdGrupo = required(Integer32)
OptionalText = Unicode(min_occurs=0)
OptionalDate = Date(min_occurs=0)
LENIENT = (IdGrupo, OptionalText, OptionalDate)


class AulaService(TranslatingService):
    @rpc(
        IdGrupo,
        OptionalText,
        OptionalText,
        OptionalDate,
        OptionalDate,
        _args=("id_grupo", "perfil", "id_usuario", "fecha_desde", "fecha_hasta"),
        _returns=Array(Usuario.customize(nillable=False), wrapped=False),
        _out_message_name="obtener_avance_usuarios_response",
        _out_variable_name="usuarios",
    )
    def obtener_avance_usuarios(ctx, id_grupo, perfil, id_usuario, fecha_desde, fecha_hasta):  # type: ignore[no-untyped-def]
        query = ProgressQuery(id_grupo, perfil, id_usuario, fecha_desde, fecha_hasta)
        return progress(ctx.app.aula_services, query)


def progress(services: Services, query: ProgressQuery) -> ProgressRows:
    """The operation itself: for the Spyne method and the one-user shortcut (soap/shortcut.py) alike."""
    return progress_rows(services.engine, services.settings.timezone, query, services.clock)


def write_answer(rows: ProgressRows) -> bytes:
    """The answer's text, for both paths alike."""
    return envelopes.progress_response(rows, rows.free_text())


class ContractApplication(Application):  # type: ignore[misc]
    def __init__(self, services: Services):
        super().__init__(
            [AulaService],
            tns=AULA,
            name="Aula",
            in_protocol=AulaSoap11(lenient=LENIENT),
            out_protocol=AulaSoap11(text_writers={OPERATION: write_answer}),
        )
        self.aula_services = services  # (Spyne's own `services` is the list of service classes)
