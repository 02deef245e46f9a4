"""Admin operation report_etl_get (CONTRACT.md sections 6 and 7): the REST call's answer over SOAP."""

from spyne import ComplexModel, Integer, Integer32, Unicode, rpc

from aula_ws.services.etl import report_etl_get
from aula_ws.soap.admin_base import AdminService
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import required

InstanceId = required(Integer32)  # xs:int, read as text (lenient): bad text gets invalidparameter
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
    lenient_types = (InstanceId,)

    @rpc(Text, InstanceId, Text, _args=("plugin", "id", "queryparams"), _returns=EtlResult)
    def report_etl_get(ctx, plugin, id, queryparams):  # type: ignore[no-untyped-def]
        services = ctx.app.aula_services
        answer = report_etl_get(services.engine, services.settings, plugin, id, queryparams)
        return EtlResult(
            recordset=answer.recordset,
            records=answer.records,
            firsttime=answer.firsttime,
            lasttime=answer.lasttime,
            xmlcontent=answer.xmlcontent,
        )
