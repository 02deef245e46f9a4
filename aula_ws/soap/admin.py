"""The administrative SOAP endpoint `/soap/admin` (CONTRACT.md section 7).

Every operation needs a live token of a site admin, given as a SOAP header
element `wstoken` (any namespace) or as the `wstoken` query parameter of the
endpoint URL. Without one the answer is a `Client.Authentication` fault, the
same whatever was wrong with it; the reason goes to the log, the token never.
The token is checked as soon as the operation is known, before Spyne reads
the body's parameters (a hostile body costs a stranger nothing but the parse).

Feature modules define their operations on subclasses of `AdminService` and
list them in `ADMIN_SERVICES` below.
"""

import logging
from collections.abc import Collection
from functools import partial
from urllib.parse import parse_qs

from spyne import Application, Fault, ServiceBase
from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.errors import AuthenticationFailed, InvalidRequest, WriteFailed
from aula_ws.services.clock import utc_now
from aula_ws.services.tokens import TokenHolder, authenticate
from aula_ws.soap.faults import ServerRefusal
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import AulaSoap11
from aula_ws.soap.reading import XmlLimits

# uploads carry a whole file as the base64 text of one element: only the body limit bounds it
ADMIN_LIMITS = XmlLimits(max_text=None)

log = logging.getLogger(__name__)


class AdminService(ServiceBase):  # type: ignore[misc]
    """Base of the admin operations: translates our errors (the token was checked by `admit`)."""

    token_services: Collection[str] = ("admin",)

    @classmethod
    def call_wrapper(cls, ctx):  # type: ignore[no-untyped-def]
        if not isinstance(ctx.udc, TokenHolder):  # never without admission
            raise Fault("Client.Authentication", "A valid admin token is required (wstoken)")
        try:
            return super().call_wrapper(ctx)
        except InvalidRequest as error:
            raise Fault("Client.InvalidRequest", str(error)) from None
        except WriteFailed as error:  # a full disk: one line, no traceback, the caller told what
            log.error("admin call %s: %s", ctx.method_request_string, error)
            raise ServerRefusal("Server.WriteFailed", str(error)) from None


def admit(engine: Engine, ctx) -> None:  # type: ignore[no-untyped-def]
    """Authenticate the request for its operation's token services, before its body is read."""
    services = ctx.descriptor.service_class.token_services
    try:
        ctx.udc = authenticate(engine, _token_of(ctx), services, utc_now())
    except AuthenticationFailed as failure:
        log.warning("admin call %s refused: %s", ctx.method_request_string, failure.reason)
        raise Fault("Client.Authentication", "A valid admin token is required (wstoken)") from None


def token_holder(ctx) -> TokenHolder:  # type: ignore[no-untyped-def]
    return ctx.udc  # type: ignore[no-any-return]


def _token_of(ctx) -> str | None:  # type: ignore[no-untyped-def]
    for header in ctx.in_header_doc or ():  # the Header's child elements
        for element in header.iter():
            if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "wstoken":
                return (element.text or "").strip() or None
    query = parse_qs(ctx.transport.req_env.get("QUERY_STRING", ""))
    values = query.get("wstoken")
    return values[0] if values else None


class AdminApplication(Application):  # type: ignore[misc]
    def __init__(self, engine: Engine, settings: Settings, services: list[type] | None = None):
        super().__init__(
            services or admin_services(),
            tns=AULA_ADMIN,
            name="AulaAdmin",
            in_protocol=AulaSoap11(limits=ADMIN_LIMITS, admit=partial(admit, engine)),
            out_protocol=AulaSoap11(),
        )
        self.engine = engine
        self.settings = settings


def admin_services() -> list[type]:
    """Every admin operation group; a feature adds its module's service class here."""
    from aula_ws.soap.admin_etl import EtlService
    from aula_ws.soap.admin_import import ImportService
    from aula_ws.soap.admin_sync import SyncService

    return [ImportService, EtlService, SyncService]
