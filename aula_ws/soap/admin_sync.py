"""Admin operations of the CSV synchronisation (CONTRACT.md sections 5 and 7):
sync_users, sync_courses, sync_deletecourses, sync_lessons, sync_enrolments, sync_cohorts,
sync_cohortscourses, sync_avatars (file content as base64, an optional file name, `simulate`,
`encoding` (utf-8 or iso-8859-1; empty: the setting);
the answer: counters, the report and the tryback file) and sync_capture."""

from spyne import Array, ByteArray, ComplexModel, Integer, Unicode, rpc

from aula_ws.services.sync import SyncResult, sync_upload
from aula_ws.services.sync_capture import capture_drop_folder
from aula_ws.soap.admin_base import AdminService
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import Flag, Upload, required, xs_base64, xs_boolean

Count = required(Integer)


class SyncReport(ComplexModel):  # type: ignore[misc]
    """The run's counters, its report (lines prefixed `SIMULATION : ` in a simulation) and the
    tryback file (the header, then the failed lines as they were; absent when none failed)."""

    __namespace__ = AULA_ADMIN
    _type_info = [
        ("processed", Count),
        ("added", Count),
        ("updated", Count),
        ("removed", Count),
        ("unchanged", Count),
        ("failed", Count),
        ("warnings", Count),
        ("refused", Unicode(min_occurs=0)),
        ("skipped", Unicode(min_occurs=0)),
        ("report", required(Unicode)),
        ("tryback", ByteArray(min_occurs=0)),
    ]


class CaptureReport(ComplexModel):  # type: ignore[misc]
    __namespace__ = AULA_ADMIN
    _type_info = [
        ("captured", Array(Unicode, min_occurs=1, nillable=False)),
        ("waiting", Array(Unicode, min_occurs=1, nillable=False)),
        ("alarms", Array(Unicode, min_occurs=1, nillable=False)),
        ("stopped", Unicode(min_occurs=0)),
        ("left", Array(Unicode, min_occurs=1, nillable=False)),  # "<name>: <why>": links, FIFOs... left in place
    ]


SYNC_ARGUMENTS = dict(_args=("content", "file_name", "simulate", "encoding"), _returns=SyncReport)


def _run(ctx, kind: str, content, file_name, simulate, encoding) -> SyncReport:  # type: ignore[no-untyped-def]
    data, simulate = xs_base64(content, "content"), xs_boolean(simulate, "simulate", False)
    services = ctx.app.aula_services
    return _report(sync_upload(services.engine, services.settings, kind, data, file_name, simulate, encoding=encoding))


def _report(result: SyncResult) -> SyncReport:
    c = result.counters
    return SyncReport(
        processed=c.processed,
        added=c.added,
        updated=c.updated,
        removed=c.removed,
        unchanged=c.unchanged,
        failed=c.failed,
        warnings=c.warnings,
        refused=result.refused,
        skipped=result.skipped,
        report=result.report_text,
        tryback=[result.tryback] if result.tryback else None,
    )


def _operation(kind: str):  # type: ignore[no-untyped-def]
    def operation(ctx, content, file_name, simulate, encoding):  # type: ignore[no-untyped-def]
        return _run(ctx, kind, content, file_name, simulate, encoding)

    operation.__name__ = f"sync_{kind}"
    return rpc(Upload, Unicode, Flag, Unicode, **SYNC_ARGUMENTS)(operation)


class SyncService(AdminService):
    lenient_types = (Upload, Flag)

    sync_users = _operation("users")
    sync_courses = _operation("courses")
    sync_deletecourses = _operation("deletecourses")
    sync_lessons = _operation("lessons")
    sync_enrolments = _operation("enrolments")
    sync_cohorts = _operation("cohorts")
    sync_cohortscourses = _operation("cohortscourses")
    sync_avatars = _operation("avatars")

    @rpc(_returns=CaptureReport)
    def sync_capture(ctx):  # type: ignore[no-untyped-def]
        services = ctx.app.aula_services
        result = capture_drop_folder(services.engine, services.settings)
        return CaptureReport(
            captured=result.captured,
            waiting=result.waiting,
            alarms=result.alarms,
            stopped=result.stopped,
            left=result.left,
        )
