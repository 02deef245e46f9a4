"""Admin operation report_etl_get (CONTRACT.md sections 6 and 7): the REST call's answer over SOAP."""

from spyne import ComplexModel, Fault, Integer, Integer32, Unicode, rpc

from aula_ws.errors import EtlError
from aula_ws.services.etl import report_etl_get
from aula_ws.soap.admin import AdminService
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import lenient, required

InstanceId = lenient(required(Integer32))  # xs:int; bad text gets invalidparameter
Text = required(Unicode)


class EtlResult(ComplexModel):  # type: ignore[misc]
    """Moodle's answer: the query, the record count, the first and last record times
    (Unix seconds; continue from `lasttime`) and the records as `<logrecords>` XML."""

    __namespace__ = AULA_ADMIN
    _type_info = [
        ("recordset", required(Unicode)),
        ("records", required(Integer)),
        ("firsttime", required(Integer)),
        ("lasttime", required(Integer)),
        ("xmlcontent", required(Unicode)),
    ]


class EtlService(AdminService):
    token_services = ("etl", "admin")

    @rpc(Text, InstanceId, Text, _args=("plugin", "id", "queryparams"), _returns=EtlResult)
    def report_etl_get(ctx, plugin, id, queryparams):  # type: ignore[no-untyped-def]
        app = ctx.app
        try:
            answer = report_etl_get(app.engine, app.settings, plugin, id, queryparams)
        except EtlError as error:  # Client.ETLBUSY, Client.invalidparameter, ...
            raise Fault(f"Client.{error.errorcode}", error.message) from None
        return EtlResult(
            recordset=answer.recordset, records=answer.records, firsttime=answer.firsttime,
            lasttime=answer.lasttime, xmlcontent=answer.xmlcontent,
        )
