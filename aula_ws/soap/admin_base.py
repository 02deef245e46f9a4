"""What every admin operation group stands on: `AdminService`, and the token check.

Every operation needs a live token of a site admin, given as a SOAP header
element `wstoken` (any namespace) or as the `wstoken` query parameter of the
endpoint URL. Without one the answer is a `Client.Authentication` fault, the
same whatever was wrong with it; the reason goes to the log, the token never.
The token is checked as soon as the operation is known, before Spyne reads
the body's parameters (a hostile body costs a stranger nothing but the parse).
"""

from typing import Any
from urllib.parse import parse_qs

from spyne import Fault

from aula_ws.errors import AuthenticationFailed
from aula_ws.services.runtime import Services
from aula_ws.services.tokens import TokenHolder, authenticate
from aula_ws.soap.faults import AUTHENTICATION_REQUIRED, TranslatingService, fault_for


class AdminService(TranslatingService):
    """Base of the admin operation groups: `token_services` open them, `lenient_types` are
    the parameter types their methods read as the client's text (soap/protocol.py)."""

    token_services: tuple[str, ...] = ("admin",)
    lenient_types: tuple[type, ...] = ()

    @classmethod
    def call_wrapper(cls, ctx: Any) -> Any:  # ctx: spyne's MethodContext
        if not isinstance(ctx.udc, TokenHolder):  # never without admission
            raise Fault("Client.Authentication", AUTHENTICATION_REQUIRED)
        return super().call_wrapper(ctx)


def admit(services: Services, ctx) -> None:  # type: ignore[no-untyped-def]
    """Authenticate the request for its operation's token services, before its body is read."""
    token_services = ctx.descriptor.service_class.token_services
    try:
        ctx.udc = authenticate(services.engine, _token_of(ctx), token_services, services.clock())
    except AuthenticationFailed as failure:
        raise fault_for(failure, ctx.method_request_string) from None


def _token_of(ctx) -> str | None:  # type: ignore[no-untyped-def]
    for header in ctx.in_header_doc or ():  # the Header's child elements
        for element in header.iter():
            if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "wstoken":
                return (element.text or "").strip() or None
    query = parse_qs(ctx.transport.req_env.get("QUERY_STRING", ""))
    values = query.get("wstoken")
    return values[0] if values else None
