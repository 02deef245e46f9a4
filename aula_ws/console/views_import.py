"""The import wizard (seed 001): 1 choose the file, 2 check it, 3 options, 4 import and result."""

import json

from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from aula_ws.console.web import N_, PREFIX, Console, Page
from aula_ws.domain.csv_rows import ImportCounters
from aula_ws.domain.statistics_rows import TEMPLATES, template
from aula_ws.errors import AulaError, NotFound
from aula_ws.importer.statistics_plan import ON_EXISTING
from aula_ws.services import console_imports as imports

KINDS = {
    "lessons": N_("Lesson statistics (recommended)"),
    "courses": N_("Course statistics"),
    "activity": N_("Activity log"),
}
COUNTERS = {
    "processed": N_("Records processed"),
    "rejected": N_("Records rejected"),
    "added": N_("Statistics added"),
    "updated": N_("Statistics updated"),
    "errors": N_("Errors"),
    "warnings": N_("Warnings"),
}
EXISTING = {
    "new-session": N_("Create a new session if a status already exists"),
    "reject": N_("Reject the line if a status already exists"),
    "update": N_("Update the existing status"),
}
ENCODINGS = ("utf-8", "iso-8859-1")
assert tuple(COUNTERS) == tuple(ImportCounters.LABELS) and tuple(EXISTING) == ON_EXISTING


def _job(page: Page, job_id: str) -> imports.Job:
    try:
        return imports.load(page.services.settings, job_id)
    except NotFound:
        raise HttpNotFound() from None


def _render(console: Console, page: Page, template_name: str, status: int = 200, **values: object) -> Response:
    return console.render(
        page, template_name, status=status, kinds=KINDS, counter_titles=COUNTERS, existing=EXISTING, **values
    )


def choose(console: Console, page: Page) -> Response:
    """Step 1: the kind, the file, whether its first line is a header."""
    if page.request.method == "GET":
        return _render(console, page, "import_choose.html", errors={}, form={"kind": "lessons", "header": True})
    form = page.request.form
    kind, header, encoding = form.get("kind", ""), form.get("header") == "on", form.get("encoding", "utf-8")
    sent = page.request.files.get("file")
    errors = {}
    if kind not in KINDS:
        errors["kind"] = page.gettext("Choose what the file holds.")
    if encoding not in ENCODINGS:
        errors["encoding"] = page.gettext("Choose the file's encoding.")
    if sent is None or not sent.filename:
        errors["file"] = page.gettext("Choose a file to import.")
    if not errors and sent is not None:
        try:
            job = imports.stage(page.services.settings, kind, sent.filename or "", sent.read(), header, encoding)
        except AulaError as error:
            errors["file"] = str(error)
        else:
            page.audit("import staged", f"{kind} {job.name}")
            return redirect(f"{PREFIX}/import/{job.id}/check", 303)
    values = {"kind": kind, "header": header, "encoding": encoding}
    return _render(console, page, "import_choose.html", status=400, errors=errors, form=values)


def check(console: Console, page: Page, job_id: str) -> Response:
    """Step 2: the dry run's six counters and first journal lines."""
    job = _job(page, job_id)
    if job.state == "staged":
        try:
            job = imports.check(page.services.engine, page.services.settings, job_id)
        except AulaError as error:  # the journal could not be written (a full disk...): nothing stored
            return console.render(page, "error.html", status=500, message=str(error))
    return _render(console, page, "import_check.html", job=job)


def options(console: Console, page: Page, job_id: str) -> Response:
    """Step 3: what to do with existing statistics, whether to enrol; then start step 4."""
    job = _job(page, job_id)
    if job.refused:
        return redirect(f"{PREFIX}/import/{job.id}/check", 303)
    if page.request.method == "GET":
        return _render(console, page, "import_options.html", job=job, errors={})
    on_existing, enrol = page.request.form.get("on_existing", ""), page.request.form.get("enrol") == "on"
    if on_existing not in EXISTING:
        errors = {"on_existing": page.gettext("Choose what to do with existing statistics.")}
        return _render(console, page, "import_options.html", status=400, job=job, errors=errors)
    try:
        imports.start(page.services.engine, page.services.settings, job.id, on_existing, enrol)
    except AulaError as error:
        return _render(console, page, "import_options.html", status=400, job=job, errors={"on_existing": str(error)})
    page.audit("import started", f"{job.kind} {job.name} {on_existing}{' enrol' if enrol else ''}")
    return redirect(f"{PREFIX}/import/{job.id}", 303)


def progress(console: Console, page: Page, job_id: str) -> Response:
    """Step 4: the progress (the page polls status.json; without JavaScript it refreshes),
    then the six counters with the journal and the rejects."""
    job = _job(page, job_id)
    return _render(console, page, "import_result.html", job=job)


def status(console: Console, page: Page, job_id: str) -> Response:
    _job(page, job_id)
    return Response(json.dumps(imports.status(page.services.settings, job_id)), mimetype="application/json")


def sample(console: Console, page: Page, kind: str) -> Response:
    if kind not in TEMPLATES:
        raise HttpNotFound()
    response = Response(template(kind).encode("utf-8"), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=f"sample_{kind}.csv")
    return response
