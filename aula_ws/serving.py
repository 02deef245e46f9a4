"""`aula-ws serve`: services -> (demo data) -> create_app -> waitress on one port.

waitress, set deliberately for a hostile network (the production setting puts a
reverse proxy in front as well: README, Production):

- Bodies: each endpoint's own limit is applied while the body arrives (the
  declared Content-Length, or the de-chunked bytes so far), not after waitress
  has buffered it; a body over it is answered by the endpoint's own "too
  large" answer (a SOAP fault, not waitress's plain-text 413), and the
  connection closed. waitress's own cap stays above every limit as a backstop.
- Slow clients: waitress hands a request to a worker thread only once it is
  whole, so clients trickling their headers hold a connection, not a thread.
  The connection limit (`AULA_MAX_CONNECTIONS`, default 1000, waitress's own
  default is 100) and poll() instead of select() (which cannot watch more than
  1024 sockets) keep room for normal calls; an idle connection is closed
  after `AULA_CHANNEL_TIMEOUT` seconds.
"""

import io
import logging
import resource
import sys
from collections.abc import Callable
from typing import Any, cast

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver, FixedStreamReceiver
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import RequestEntityTooLarge

from aula_ws import __version__
from aula_ws.access_log import AccessLog
from aula_ws.app import BODY_TOO_LARGE, AulaApplication, create_app
from aula_ws.commands.exits import EXIT_OK, EXIT_USAGE
from aula_ws.config import Settings
from aula_ws.services.demo import create_demo_platform
from aula_ws.services.runtime import Services


def serve(
    services: Services,
    host: str | None,
    port: int | None,
    demo: bool,
    threads: int,
    scheduler: bool = False,
) -> int:
    settings = services.settings
    if demo:
        summary = create_demo_platform(services.engine, services.clock())
        state = "created" if summary.created else "already present"
        print(f"demo platform {state}: groups {', '.join(map(str, summary.groups))}")
    app = create_app(services)
    listen_host, listen_port = host or settings.host, settings.port if port is None else port
    try:
        server = create_waitress(app, settings, listen_host, listen_port, threads)
    except OSError as error:  # a busy port, an address not ours, a port below 1024 without the right
        print(f"aula-ws: cannot listen on {listen_host}:{listen_port}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    # effective_host and effective_port are set by BaseWSGIServer.__init__; types-waitress leaves them out
    base = f"http://{server.effective_host}:{server.effective_port}"  # type: ignore[attr-defined]
    print(f"aula-ws {__version__} serving on {base}/ (WSDL: {base}/soap?wsdl)", flush=True)
    if demo:
        print(_demo_examples(base), flush=True)
    sync_scheduler = None
    if scheduler:  # the sync schedule, in-process (CONTRACT.md section 5)
        from aula_ws.services.sync_schedule import Scheduler

        sync_scheduler = Scheduler(services)
        sync_scheduler.start()
        print(f"sync scheduler running: {settings.sync.schedules or 'no kind scheduled'}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if sync_scheduler is not None:
            sync_scheduler.stop()
    return EXIT_OK


def create_waitress(app: AulaApplication, settings: Settings, host: str, port: int, threads: int) -> BaseWSGIServer:
    """The waitress server of `aula-ws serve` (see the module docstring)."""
    # waitress warns on every queued request under load: noise, not news
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    _allow_open_files(settings.max_connections + threads + 64)
    largest = max(settings.contract_max_body, settings.admin_max_body, settings.rpc_max_body, settings.rest_max_body)
    # one listening socket, host and port: a BaseWSGIServer (a MultiSocketServer is made for several)
    server = cast(
        "BaseWSGIServer",
        create_server(
            AccessLog(app),  # one line per request (aula_ws/access_log.py)
            host=host,
            port=port,
            threads=threads,
            connection_limit=settings.max_connections,
            asyncore_use_poll=True,
            channel_timeout=settings.channel_timeout,
            cleanup_interval=max(1, min(30, settings.channel_timeout // 2)),
            # a backstop only (the endpoints' limits are applied by _LimitedParser): it counts the
            # chunked framing too, and refuses a body of exactly its size (`>=`)
            max_request_body_size=2 * largest + 65536,
        ),
    )
    server.channel_class = type(
        "AulaChannel",
        (_Channel,),
        {
            "parser_class": type("AulaParser", (_LimitedParser,), {"body_limit": staticmethod(app.body_limit)}),
        },
    )
    return server


class _LimitedParser(HTTPRequestParser):
    """Applies the endpoint's body limit as the body arrives. A body over it is still read to
    its end, into nothing, when that end is near (up to the limit again, at least 1 MiB more):
    a client, or a proxy such as nginx, that is still sending when the connection closes gets
    a reset instead of the answer (nginx: 502). A body further over is answered at once."""

    body_limit: Callable[[str], int | None]
    path: str  # set by waitress's parse_header (types-waitress leaves it out)
    _refusal: RequestEntityTooLarge | None = None
    _drain_cap: int  # set with _refusal

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        if self.error is not None or not self.headers_finished or self.empty:
            return consumed
        if self._refusal is not None:  # draining
            # the body's receiver was there when _refusal was set
            receiver = cast("ChunkedReceiver | FixedStreamReceiver", self.body_rcv)
            if self.completed or len(receiver) > self._drain_cap:
                self.error, self.completed = self._refusal, True
            return consumed
        limit = self.body_limit(self.path)
        if limit is None:
            return consumed
        arrived = len(self.body_rcv) if self.chunked and self.body_rcv is not None else self.content_length
        if arrived > limit:
            self._refusal = RequestEntityTooLarge(f"exceeds the endpoint's {limit} bytes")
            self._drain_cap = limit + max(limit, 1 << 20)
            if self.completed or self.body_rcv is None or (not self.chunked and self.content_length > self._drain_cap):
                self.error, self.completed = self._refusal, True
            else:
                self.completed = False
                kept = self.body_rcv.buf
                # the receivers only append to it and measure it (types-waitress names the class)
                self.body_rcv.buf = _Discarded(len(kept))  # type: ignore[assignment]
                kept.close()
        return consumed


class _Discarded:
    """A body buffer that keeps only the count of what it was given."""

    def __init__(self, size: int = 0):
        self.size = size

    def append(self, data: bytes) -> None:
        self.size += len(data)

    def __len__(self) -> int:
        return self.size

    def getfile(self) -> io.BytesIO:
        return io.BytesIO()

    def close(self) -> None:
        pass


class _TooLargeTask(WSGITask):
    """A body refused by _LimitedParser (or waitress's own cap): the endpoint answers it,
    in its own terms, without the body; the connection is closed (its rest is unread)."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ[BODY_TOO_LARGE] = True
        environ["wsgi.input"] = io.BytesIO()
        return environ

    def execute(self) -> None:
        self.set_close_on_finish()
        super().execute()


def _error_task(channel: HTTPChannel, request: HTTPRequestParser) -> Any:
    if isinstance(request.error, RequestEntityTooLarge):
        # waitress passes the parser as the task's request; types-waitress says an Error
        return _TooLargeTask(channel, request)  # type: ignore[arg-type]
    return ErrorTask(channel, request)  # type: ignore[arg-type]


class _Channel(HTTPChannel):
    # waitress only calls it, as error_task_class(channel, request); the stubs want a class
    error_task_class = staticmethod(_error_task)  # type: ignore[assignment]


def _allow_open_files(needed: int) -> None:
    """Raise the soft limit of open files to `needed` when the hard limit allows it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _demo_examples(base: str) -> str:
    return f"""
Try it:
  curl -s {base}/soap -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "obtener_avance_usuarios"' \\
    --data '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:aula="urn:Educativa/Aula/"><soapenv:Body><aula:obtener_avance_usuarios><aula:id_grupo>64</aula:id_grupo><aula:id_usuario>lovecraft</aula:id_usuario></aula:obtener_avance_usuarios></soapenv:Body></soapenv:Envelope>'
  python -c "import zeep; c = zeep.Client('{base}/soap?wsdl'); print(c.service.obtener_avance_usuarios(id_grupo=65, perfil='D'))"
  python -c "import zeep; c = zeep.Client('{base}/soap?wsdl'); print(c.service.obtener_avance_usuarios(id_grupo=65, fecha_desde='2026-01-01', fecha_hasta='2026-06-30'))"
Groups: 64 (the contract's example), 65 (300 members), 66 (does not track progress), 67 (no units).
Users: lovecraft (group 64's learner), admin (site admin), ana (group 64's teacher), bi-robot (for ETL tokens).
Health: curl -s {base}/health
"""
