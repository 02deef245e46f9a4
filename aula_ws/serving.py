"""`aula-ws serve`: settings -> (demo data) -> create_app -> waitress on one port."""

import logging

from waitress import create_server

from aula_ws import __version__
from aula_ws.app import create_app
from aula_ws.config import Settings
from aula_ws.services.demo import create_demo_platform
from aula_ws.services.clock import utc_now
from aula_ws.store.database import open_database


def serve(
    settings: Settings, host: str | None, port: int | None, demo: bool, threads: int,
    scheduler: bool = False,
) -> int:
    engine = open_database(settings.database_url)
    if demo:
        summary = create_demo_platform(engine, utc_now())
        state = "created" if summary.created else "already present"
        print(f"demo platform {state}: groups {', '.join(map(str, summary.groups))}")
    app = create_app(settings, engine)
    # waitress warns on every queued request under load: noise, not news
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        threads=threads,
        # waitress buffers bodies before the app sees them: never more than an endpoint accepts
        max_request_body_size=max(settings.contract_max_body, settings.admin_max_body),
    )
    base = f"http://{server.effective_host}:{server.effective_port}"
    print(f"aula-ws {__version__} serving on {base}/ (WSDL: {base}/soap?wsdl)", flush=True)
    if demo:
        print(_demo_examples(base), flush=True)
    sync_scheduler = None
    if scheduler:  # the sync schedule, in-process (CONTRACT.md section 5)
        from aula_ws.services.sync_schedule import Scheduler

        sync_scheduler = Scheduler(engine, settings)
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
    return 0


def _demo_examples(base: str) -> str:
    return f"""
Try it:
  curl -s {base}/soap -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "obtener_avance_usuarios"' \\
    --data '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:aula="urn:Educativa/Aula/"><soapenv:Body><aula:obtener_avance_usuarios><aula:id_grupo>64</aula:id_grupo><aula:id_usuario>lovecraft</aula:id_usuario></aula:obtener_avance_usuarios></soapenv:Body></soapenv:Envelope>'
  python -c "import zeep; c = zeep.Client('{base}/soap?wsdl'); print(c.service.obtener_avance_usuarios(id_grupo=65, perfil='D'))"
  python -c "import zeep; c = zeep.Client('{base}/soap?wsdl'); print(c.service.obtener_avance_usuarios(id_grupo=65, fecha_desde='2026-01-01', fecha_hasta='2026-06-30'))"
Groups: 64 (the contract's example), 65 (300 members), 66 (does not track progress), 67 (no units).
"""
