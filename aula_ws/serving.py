"""`aula-ws serve`: services -> (demo data) -> create_app -> waitress on one port.

Workers (`--workers N`, default one per usable CPU): one process is capped by the GIL, so
the parent builds the app once (demo data too), opens the one listening socket, then forks
N workers (aula_ws/workers.py), each a whole waitress server, with every setting below, on
that socket; the connection limit is shared out among them. No pooled database connection
crosses the fork (each worker opens its own), and the sync scheduler (`--scheduler`) runs in
worker 0 only. `--workers 1` serves in the process itself.

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
import signal
import socket
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
from aula_ws.app import BODY_TOO_LARGE, AulaApplication, create_app, settle_memory
from aula_ws.commands.exits import EXIT_OK, EXIT_USAGE
from aula_ws.config import Settings
from aula_ws.services.demo import create_demo_platform
from aula_ws.services.runtime import Services
from aula_ws.workers import interrupt, supervise

LISTEN_BACKLOG = 1024  # waitress's own default
ONE_SEND_MAX = 64 * 1024  # bytes: an answer up to this size is sent with its header (a copy that cheap)


def serve(
    services: Services,
    host: str | None,
    port: int | None,
    demo: bool,
    threads: int,
    scheduler: bool = False,
    workers: int = 1,
) -> int:
    settings = services.settings
    if demo:  # once, before any worker exists
        summary = create_demo_platform(services.engine, services.clock())
        state = "created" if summary.created else "already present"
        print(f"demo platform {state}: groups {', '.join(map(str, summary.groups))}")
    app = create_app(services)
    listen_host, listen_port = host or settings.host, settings.port if port is None else port
    try:
        listening = listening_socket(listen_host, listen_port)
    except OSError as error:  # a busy port, an address not ours, a port below 1024 without the right
        print(f"aula-ws: cannot listen on {listen_host}:{listen_port}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    bound_host, bound_port = listening.getsockname()[:2]
    base = f"http://{bound_host}:{bound_port}"
    print(f"aula-ws {__version__} serving on {base}/ (WSDL: {base}/soap?wsdl)", flush=True)
    if demo:
        print(_demo_examples(base), flush=True)
    if scheduler:
        print(f"sync scheduler running: {settings.sync.schedules or 'no kind scheduled'}", flush=True)
    settle_memory()  # before any fork: the workers share the frozen pages
    with listening:
        if workers == 1:
            return _serve_here(app, services, listening, threads, settings.max_connections, scheduler)
        services.engine.dispose()  # no pooled connection crosses a fork: each worker opens its own
        per_worker = -(-settings.max_connections // workers)  # AULA_MAX_CONNECTIONS is the server's total
        return supervise(
            workers,
            lambda slot: _serve_here(app, services, listening, threads, per_worker, scheduler and slot == 0),
        )


def _serve_here(
    app: AulaApplication,
    services: Services,
    listening: socket.socket,
    threads: int,
    connection_limit: int,
    scheduler: bool,
) -> int:
    """waitress on `listening` in this process until SIGTERM or SIGINT (then EXIT_OK)."""
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    server = create_waitress(app, services.settings, listening, threads, connection_limit)
    sync_scheduler = None
    if scheduler:  # the sync schedule, in-process (CONTRACT.md section 5), in one process only
        from aula_ws.services.sync_schedule import Scheduler

        sync_scheduler = Scheduler(services)
        sync_scheduler.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()  # waitress's run() has already stopped its threads on the interrupt
        if sync_scheduler is not None:
            sync_scheduler.stop()
    return EXIT_OK


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's one listening socket (SO_REUSEADDR), made before any worker: they all accept on it."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listening = socket.socket(family, kind)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listening.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listening.bind(address)
        listening.listen(LISTEN_BACKLOG)
    except OSError:
        listening.close()
        raise
    return listening


def create_waitress(
    app: AulaApplication, settings: Settings, listening: socket.socket, threads: int, connection_limit: int
) -> BaseWSGIServer:
    """The waitress server of `aula-ws serve` on `listening` (see the module docstring)."""
    # waitress warns on every queued request under load: noise, not news
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    _allow_open_files(connection_limit + threads + 64)
    largest = max(settings.contract_max_body, settings.admin_max_body, settings.rpc_max_body, settings.rest_max_body)
    # one listening socket: a BaseWSGIServer (a MultiSocketServer is made for several)
    server = cast(
        "BaseWSGIServer",
        create_server(
            AccessLog(app),  # one line per request (aula_ws/access_log.py)
            sockets=[listening],
            threads=threads,
            backlog=LISTEN_BACKLOG,
            connection_limit=connection_limit,
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


class _OneSendTask(WSGITask):
    """A small answer of known length goes out with its header in one send: waitress sends
    each write at once (TCP_NODELAY), so the header alone would be a packet of its own and
    one more wake-up of the client per call."""

    def write(self, data: bytes) -> None:
        if (
            self.wrote_header
            or not self.complete  # start_response not called yet: waitress's own error
            or not self.has_body
            or self.content_length is None
            or not 0 < len(data) <= min(self.content_length, ONE_SEND_MAX)
        ):
            super().write(data)
            return
        header = self.build_response_header()  # a known length: never chunked
        self.wrote_header = True
        self.content_bytes_written += len(data)
        self.channel.write_soon(header + data)


class _Channel(HTTPChannel):
    task_class = _OneSendTask
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
