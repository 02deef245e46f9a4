"""Admin operations of the statistics import: import_lesson_stats, import_course_stats, import_activity,
and import_template (the seed's sample file of a kind, lessons or courses)."""

import io

from spyne import ByteArray, ComplexModel, Integer, Unicode, rpc

from aula_ws.domain.statistics_rows import TEMPLATES, template
from aula_ws.errors import InvalidRequest
from aula_ws.services.statistics_import import ImportOptions, ImportResult, import_statistics
from aula_ws.soap.admin_base import AdminService
from aula_ws.soap.namespaces import AULA_ADMIN
from aula_ws.soap.protocol import Flag, Upload, required, xs_base64, xs_boolean


class ImportReport(ComplexModel):  # type: ignore[misc]
    """The seed's six counters, the journal and the rejects file (the header, then the
    rejected lines as they were, in the file's encoding; absent when nothing was rejected)."""

    __namespace__ = AULA_ADMIN
    _type_info = [
        ("processed", required(Integer)),
        ("rejected", required(Integer)),
        ("added", required(Integer)),
        ("updated", required(Integer)),
        ("errors", required(Integer)),
        ("warnings", required(Integer)),
        ("refused", Unicode(min_occurs=0)),
        ("journal", required(Unicode)),
        ("rejects", ByteArray(min_occurs=0)),
    ]


IMPORT_ARGUMENTS = dict(
    _args=("content", "file_name", "on_existing", "enrol", "header", "dry_run", "encoding"),
    _returns=ImportReport,
)


def _run(ctx, kind, content, file_name, on_existing, enrol, header, dry_run, encoding) -> ImportReport:  # type: ignore[no-untyped-def]
    options = ImportOptions(
        on_existing=on_existing or "new-session",
        enrol=xs_boolean(enrol, "enrol", False),
        header=xs_boolean(header, "header", True),
        dry_run=xs_boolean(dry_run, "dry_run", False),
        encoding=encoding or "utf-8",
    )
    data = xs_base64(content, "content")
    services = ctx.app.aula_services
    result = import_statistics(
        services.engine,
        services.settings.timezone,
        kind,
        io.BytesIO(data),
        file_name or f"{kind}.csv",
        options,
        services.settings.data_dir / "imports",
    )
    return _report(result)


def _report(result: ImportResult) -> ImportReport:
    c = result.counters
    return ImportReport(
        processed=c.processed,
        rejected=c.rejected,
        added=c.added,
        updated=c.updated,
        errors=c.errors,
        warnings=c.warnings,
        refused=result.refused,
        journal=result.journal,
        rejects=[result.rejects_path.read_bytes()] if result.rejects_path else None,
    )


class ImportService(AdminService):
    lenient_types = (Upload, Flag)

    @rpc(Upload, Unicode, Unicode, Flag, Flag, Flag, Unicode, **IMPORT_ARGUMENTS)
    def import_lesson_stats(ctx, content, file_name, on_existing, enrol, header, dry_run, encoding):  # type: ignore[no-untyped-def]
        return _run(ctx, "lessons", content, file_name, on_existing, enrol, header, dry_run, encoding)

    @rpc(Upload, Unicode, Unicode, Flag, Flag, Flag, Unicode, **IMPORT_ARGUMENTS)
    def import_course_stats(ctx, content, file_name, on_existing, enrol, header, dry_run, encoding):  # type: ignore[no-untyped-def]
        return _run(ctx, "courses", content, file_name, on_existing, enrol, header, dry_run, encoding)

    @rpc(Upload, Unicode, Unicode, Flag, Flag, Flag, Unicode, **IMPORT_ARGUMENTS)
    def import_activity(ctx, content, file_name, on_existing, enrol, header, dry_run, encoding):  # type: ignore[no-untyped-def]
        return _run(ctx, "activity", content, file_name, on_existing, enrol, header, dry_run, encoding)

    @rpc(Unicode, _args=("kind",), _returns=required(Unicode))
    def import_template(ctx, kind):  # type: ignore[no-untyped-def]
        """The seed's sample file of `kind` (lessons or courses): its header, with the asterisks
        of the required columns, and its example row, tab separated."""
        if kind not in TEMPLATES:
            raise InvalidRequest(f"no template for {str(kind)[:40]!r}: one of {', '.join(TEMPLATES)}")
        return template(kind)
