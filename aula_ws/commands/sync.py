"""`aula-ws sync KIND FILE [--simulate]`, `aula-ws sync capture`, `aula-ws sync run`."""

import argparse
import sys
from pathlib import Path

from aula_ws.commands.exits import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from aula_ws.commands.imports import encoding_hint
from aula_ws.commands.progress import ProgressLine
from aula_ws.config_sync import ENCODINGS
from aula_ws.domain.sync_files import KINDS
from aula_ws.domain.sync_rows import LAYOUTS
from aula_ws.services.runtime import Services
from aula_ws.services.sync import SyncResult, sync_file
from aula_ws.services.sync_capture import capture_drop_folder
from aula_ws.services.sync_schedule import run_due
from aula_ws.sync.filestore import FileStore


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sync = commands.add_parser(
        "sync",
        help="the CSV synchronisation tool (users, courses, enrolments, cohorts, avatars...)",
        description="Exit code 0: every line applied; 1: some lines failed (see the report and the "
        "tryback file); 2: bad usage, a refused file, or another runner busy with this kind.",
    )
    actions = sync.add_subparsers(dest="sync_command", required=True, metavar="KIND|capture|run")
    for kind in KINDS:
        command = actions.add_parser(
            kind,
            help=f"run a {kind} file",
            epilog=_columns_help(kind),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("file", type=Path, help="a path, or a file name of the sync file store")
        command.add_argument("--simulate", action="store_true", help="do everything but write (the report only)")
        command.add_argument(
            "--encoding",
            choices=ENCODINGS,
            type=str.lower,
            help="the file's encoding for this run (default: the encoding setting, AULA_SYNC_ENCODING)",
        )
        command.set_defaults(handler=_run_file, kind=kind)
    actions.add_parser("capture", help="capture the drop folder <data>/sync/ into the file store").set_defaults(
        handler=_capture
    )
    actions.add_parser("run", help="run the file kinds due on their schedule (for the system's cron)").set_defaults(
        handler=_run_due
    )


def _columns_help(kind: str) -> str:
    """The file's columns, from the domain's declaration of them (aula_ws/domain/sync_rows.py)."""
    layout = LAYOUTS.get(kind)
    if layout is None:  # avatars
        return "the file: a ZIP of pictures named after their users (README, CSV synchronisation)"
    lines = [
        "columns (a header line names them, in any order; separator ; or ,):",
        f"  required: {' '.join(layout.required) or '(none)'}",
        f"  optional: {' '.join(layout.optional)}",
    ]
    if layout.indexed:
        lines.append(
            f"  numbered: {layout.indexed} (e.g. course1, role1)"
            if kind == "users"
            else f"  numbered: {layout.indexed}"
        )
    if layout.prefixed:
        lines.append(f"  any {layout.prefixed}<name>")
    return "\n".join(lines)


def _run_file(args: argparse.Namespace, services: Services) -> int:
    files = FileStore(services.settings.data_dir)
    path = files.resolve(str(args.file))
    if not path.is_file() and args.file.name == str(args.file):
        # maybe in the drop folder: sync_file captures it first, as tool_sync before any action
        path = files.root / args.file.name
    progress = ProgressLine(path.stat().st_size if path.is_file() else 0, "lines")
    result = sync_file(
        services.engine,
        services.settings,
        args.kind,
        path,
        args.simulate,
        progress=progress.update,
        encoding=args.encoding,
    )
    progress.done()
    return _print_result(result)


def _print_result(result: SyncResult) -> int:
    if result.skipped:
        print(f"aula-ws: {result.skipped}", file=sys.stderr)
    for path in result.set_aside:
        print(f"set aside (its run was killed part-way): {path}")
    if result.refused:
        print(
            f"aula-ws: {result.input_name} refused: {result.refused}{encoding_hint(result.refused, ', '.join(ENCODINGS))}",
            file=sys.stderr,
        )
    for label, written in (
        ("report", result.report_path),
        ("tryback", result.tryback_path),
        ("archived", result.archive_path),
    ):
        if written is not None:
            print(f"{label}: {written}")
    if result.simulate:
        print("simulation: nothing was written but the report")
    for line in result.counters.lines():
        print(line)
    if result.refused or result.skipped:
        return EXIT_USAGE
    return EXIT_REJECTED if result.counters.failed else EXIT_OK


def _capture(args: argparse.Namespace, services: Services) -> int:
    result = capture_drop_folder(services.engine, services.settings)
    for line in result.lines():
        print(line)
    print(f"files captured: {len(result.captured)}")
    return EXIT_OK


def _run_due(args: argparse.Namespace, services: Services) -> int:
    ran = run_due(services.engine, services.settings)
    for line in ran.capture.lines():
        print(line)
    worst = EXIT_OK
    for path in ran.cleaned:
        print(f"cleaned up (older than {services.settings.sync.fileareacleanupdelay} days): {path}")
    for kind in ran.absent:
        print(f"{kind}: due, but no {services.settings.sync.file_names[kind]} in the file store")
    for kind in ran.busy:
        print(f"{kind}: another runner has it")
    for result in ran.results:
        print(f"--- {result.kind} {result.input_name}")
        worst = max(worst, _print_result(result))
    print(f"files run: {len(ran.results)}")
    return worst
