"""The file manager: the sync file store (inputs, trybacks, reports/, archives/) and the
statistics imports' journals and rejects; upload, download, delete, run, capture."""

from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Response

from aula_ws.console.web import PREFIX, Console, Page
from aula_ws.domain.sync_files import KINDS
from aula_ws.errors import AulaError, NotFound
from aula_ws.services import console_files as files
from aula_ws.services.sync import sync_file
from aula_ws.services.sync_capture import capture_drop_folder


def listing(console: Console, page: Page, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    settings = page.services.settings
    areas = {area: files.list_area(settings, area) for area in files.AREAS}
    kinds = {f.name: files.kind_of(settings, f.name) for f in areas["inputs"]}
    return console.render(
        page, "files.html", status=status, areas=areas, kinds=kinds, all_kinds=KINDS, errors=errors or {}
    )


def download(console: Console, page: Page, area: str, name: str) -> Response:
    try:
        path = files.file_path(page.services.settings, area, name)
    except (NotFound, AulaError):
        raise HttpNotFound() from None
    # streamed from the file (a report or an archive may be large), never read whole
    return send_file(
        path, page.request.environ, mimetype="application/octet-stream", as_attachment=True, download_name=name
    )


def upload(console: Console, page: Page) -> Response:
    sent = page.request.files.get("file")
    if sent is None or not sent.filename:
        return listing(console, page, {"file": page.gettext("Choose a file to upload.")}, 400)
    name = page.request.form.get("name", "").strip() or sent.filename
    try:
        stored = files.store_input(page.services.settings, name, sent.read())
    except AulaError as error:
        return listing(console, page, {"file": str(error)}, 400)
    page.audit("file uploaded", stored.name)
    return redirect(f"{PREFIX}/files?notice=uploaded", 303)


def delete(console: Console, page: Page) -> Response:
    area, name = page.request.form.get("area", ""), page.request.form.get("name", "")
    try:
        files.delete_file(page.services.settings, area, name)
    except AulaError as error:
        return listing(console, page, {"list": str(error)}, 400)
    page.audit("file deleted", f"{area}/{name}")
    return redirect(f"{PREFIX}/files?notice=deleted", 303)


def run(console: Console, page: Page) -> Response:
    form = page.request.form
    name, kind, simulate = form.get("name", ""), form.get("kind", ""), form.get("mode") != "real"
    services = page.services
    if kind not in KINDS:
        return listing(console, page, {name: page.gettext("Choose the file's kind.")}, 400)
    try:
        path = files.file_path(services.settings, "inputs", name)
        result = sync_file(
            services.engine, services.settings, kind, path, simulate=simulate, now=page.now, want_text=True
        )
    except AulaError as error:
        return listing(console, page, {name: str(error)}, 400)
    page.audit("sync simulated" if simulate else "sync run", f"{kind} {name}")
    return console.render(page, "sync_result.html", result=result, counters=result.counters.lines())


def capture(console: Console, page: Page) -> Response:
    services = page.services
    try:
        result = capture_drop_folder(services.engine, services.settings, page.now)
    except AulaError as error:
        return listing(console, page, {"capture": str(error)}, 400)
    page.audit("drop folder captured", ", ".join(result.lines())[:500])
    return console.render(page, "capture_result.html", lines=result.lines())
