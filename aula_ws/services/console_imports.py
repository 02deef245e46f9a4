"""Use cases of the console's import wizard (seed 001): stage a statistics file, check it (the
dry run), import it in the background with its progress, read the result.

A wizard is a job folder `<data>/console/imports/<id>/` holding the uploaded file and
`job.json` (its kind, options, state, progress and result), so every step is a plain page
that reads the folder. The import itself is `import_statistics`, the CLI's use case: the same
journal and rejects in `<data>/imports/`, the same six counters, the same refusals. It runs
in a thread of the serving process, named in the job (`runner`: host, pid, process start, as
the sync's runner locks name theirs), so any worker of the server can tell a running import
from one whose process stopped: that import is lost (nothing of it is stored: the file is one
transaction) and the job says "interrupted".
"""

import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.csv_rows import ImportCounters
from aula_ws.errors import AulaError, InvalidRequest, NotFound
from aula_ws.private_files import create_binary, private_dir
from aula_ws.services.clock import utc_now
from aula_ws.services.console_files import imports_dir
from aula_ws.services.statistics_import import ImportOptions, check_options, import_statistics
from aula_ws.store.sync_locks import holder_alive, this_runner

STALE = timedelta(hours=12)  # an import on another host that has said nothing for this long is lost
_JOB_ID = re.compile(r"^[0-9a-f]{16}$")
JOURNAL_LINES = 20
_running: dict[str, threading.Thread] = {}


@dataclass
class Job:
    id: str
    kind: str
    name: str
    header: bool
    encoding: str
    size: int
    lines: int
    state: str = "staged"  # staged, checked, running, done, failed
    on_existing: str = "new-session"
    enrol: bool = False
    processed: int = 0
    check: dict[str, int] = field(default_factory=dict)
    check_lines: list[str] = field(default_factory=list)
    refused: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    journal: str | None = None
    rejects: str | None = None
    error: str | None = None
    runner: str = ""
    started_at: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else min(99, 100 * self.processed // max(1, self.lines))


def _root(settings: Settings) -> Path:
    return settings.data_dir / "console" / "imports"


def _folder(settings: Settings, job_id: str) -> Path:
    if not _JOB_ID.match(job_id) or not (_root(settings) / job_id / "job.json").is_file():
        raise NotFound("import", job_id)
    return _root(settings) / job_id


def load(settings: Settings, job_id: str) -> Job:
    job = Job(**json.loads((_folder(settings, job_id) / "job.json").read_text(encoding="utf-8")))
    if job.state == "running" and job_id not in _running and not _alive(job):
        job.state, job.error = "failed", "interrupted: the server stopped during the import; nothing of it was stored"
    return job


def _alive(job: Job) -> bool:
    started = datetime.fromisoformat(job.started_at) if job.started_at else utc_now()
    return holder_alive(job.runner, started, utc_now(), STALE)


def _save(settings: Settings, job: Job) -> None:
    folder = _root(settings) / job.id
    staged = folder / "job.json.new"
    staged.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(staged, folder / "job.json")  # a page polling it never reads half a file


def stage(settings: Settings, kind: str, name: str, content: bytes, header: bool, encoding: str) -> Job:
    """Step 1: keep the uploaded file for the next steps; InvalidRequest names a bad choice."""
    name = Path(name or "").name or "import.csv"
    check_options(kind, ImportOptions(header=header, encoding=encoding), name)
    if not content:
        raise InvalidRequest("the file is empty")
    job = Job(secrets.token_hex(8), kind, name, header, encoding, len(content), content.count(b"\n") + 1)
    folder = private_dir(_root(settings) / job.id)
    _, output = create_binary(folder, "source")
    with output:
        output.write(content)
    _save(settings, job)
    return job


def check(engine: Engine, settings: Settings, job_id: str) -> Job:
    """Step 2: the dry run (the full report, nothing written): its six counters and first lines."""
    job = load(settings, job_id)
    folder = _folder(settings, job_id)
    for old in folder.glob("*.journal.txt"):
        old.unlink()
    with (folder / "source").open("rb") as source:
        result = import_statistics(
            engine, settings.timezone, job.kind, source, job.name, _options(job, dry_run=True), folder
        )
    job.check = asdict(result.counters)
    job.refused = result.refused
    job.check_lines = result.journal.splitlines()[:JOURNAL_LINES]
    job.state = "checked"
    _save(settings, job)
    return job


def start(engine: Engine, settings: Settings, job_id: str, on_existing: str, enrol: bool) -> Job:
    """Steps 3 and 4: the options chosen, the import started in the background."""
    job = load(settings, job_id)
    if job.state in ("running", "done"):
        return job
    job.on_existing, job.enrol = on_existing, enrol
    check_options(job.kind, _options(job, dry_run=False), job.name)
    job.state, job.processed, job.error = "running", 0, None
    job.runner, job.started_at = this_runner(), utc_now().isoformat()
    _save(settings, job)
    thread = threading.Thread(target=_import, args=(engine, settings, job), name=f"import-{job.id}", daemon=True)
    _running[job.id] = thread
    thread.start()
    return job


def _import(engine: Engine, settings: Settings, job: Job) -> None:
    def progress(processed: int) -> None:
        job.processed = processed
        _save(settings, job)

    try:
        with (_root(settings) / job.id / "source").open("rb") as source:
            result = import_statistics(
                engine,
                settings.timezone,
                job.kind,
                source,
                job.name,
                _options(job, dry_run=False),
                private_dir(imports_dir(settings)),
                progress=progress,
            )
        job.counters = asdict(result.counters)
        job.refused = result.refused
        job.journal = result.journal_path.name
        job.rejects = result.rejects_path.name if result.rejects_path else None
        job.state = "done"
    except AulaError as error:
        job.state, job.error = "failed", str(error)
    except Exception as error:  # the page must say it failed; the log keeps the traceback
        import logging

        logging.getLogger(__name__).exception("console import %s failed", job.id)
        job.state, job.error = "failed", f"the import failed ({type(error).__name__}); nothing of it was stored"
    finally:
        _save(settings, job)
        _running.pop(job.id, None)


def wait(job_id: str, seconds: float) -> None:
    """Tests and the CLI: wait for a background import to end."""
    thread = _running.get(job_id)
    if thread is not None:
        thread.join(seconds)


def _options(job: Job, dry_run: bool) -> ImportOptions:
    return ImportOptions(job.on_existing, job.enrol, job.header, dry_run, job.encoding)


COUNTER_NAMES = tuple(ImportCounters.LABELS)


def status(settings: Settings, job_id: str) -> dict[str, Any]:
    """What the progress page polls."""
    job = load(settings, job_id)
    return {"state": job.state, "processed": job.processed, "lines": job.lines, "percent": job.percent}
