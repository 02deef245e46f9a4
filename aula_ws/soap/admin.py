"""The administrative SOAP endpoint `/soap/admin` (CONTRACT.md section 7), assembled.

Each feature module defines its operations on a subclass of `AdminService`
(soap/admin_base.py, with the token check) and is listed in `ADMIN_SERVICES`
below; the application reads their lenient parameter types from them.
"""

from functools import partial

from spyne import Application

from aula_ws.services.runtime import Services
from aula_ws.soap.admin_base import AdminService, admit
from aula_ws.soap.admin_etl import EtlService
from aula_ws.soap.admin_import import ImportService
from aula_ws.soap.admin_sync import SyncService
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import AulaSoap11
from aula_ws.soap.reading import XmlLimits

# every admin operation group; a feature adds its service class here
ADMIN_SERVICES: tuple[type[AdminService], ...] = (ImportService, EtlService, SyncService)

# uploads carry a whole file as the base64 text of one element: only the body limit bounds it
ADMIN_LIMITS = XmlLimits(max_text=None)


class AdminApplication(Application):  # type: ignore[misc]
    def __init__(self, services: Services, service_classes: tuple[type[AdminService], ...] = ADMIN_SERVICES):
        lenient = {spyne_type for group in service_classes for spyne_type in group.lenient_types}
        super().__init__(
            list(service_classes),
            tns=AULA_ADMIN,
            name="AulaAdmin",
            in_protocol=AulaSoap11(limits=ADMIN_LIMITS, admit=partial(admit, services), lenient=lenient),
            out_protocol=AulaSoap11(),
        )
        self.aula_services = services  # (Spyne's own `services` is the list of service classes)
