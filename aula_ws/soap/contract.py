"""The Educativa Aula contract endpoint: obtener_avance_usuarios (CONTRACT.md section 2)."""

from collections.abc import Callable

from spyne import Application, Boolean, ComplexModel, Date, Integer32, ServiceBase, Unicode, rpc
from spyne import Array

from aula_ws.errors import ContractError
from aula_ws.services.progress import MemberProgress, ProgressQuery
from aula_ws.soap import envelopes
from aula_ws.soap.namespaces import AULA
from aula_ws.soap.faults import ContractFault
from aula_ws.soap.protocol import AulaSoap11, lenient, required

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


IdGrupo = lenient(required(Integer32))
OptionalText = lenient(Unicode(min_occurs=0))
OptionalDate = lenient(Date(min_occurs=0))

ProgressReader = Callable[[ProgressQuery], list[MemberProgress]]


class AulaService(ServiceBase):  # type: ignore[misc]
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
        read_progress: ProgressReader = ctx.app.read_progress
        return read_progress(ProgressQuery(id_grupo, perfil, id_usuario, fecha_desde, fecha_hasta))

    @classmethod
    def call_wrapper(cls, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().call_wrapper(ctx)
        except ContractError as error:
            raise ContractFault(error) from None


class ContractApplication(Application):  # type: ignore[misc]
    def __init__(self, read_progress: ProgressReader):
        super().__init__(
            [AulaService],
            tns=AULA,
            name="Aula",
            in_protocol=AulaSoap11(),
            out_protocol=AulaSoap11(text_writers={OPERATION: envelopes.progress_response}),
        )
        self.read_progress = read_progress
