"""`aula-ws import lessons|courses|activity FILE`: the statistics import from the command line."""

import argparse
import gc
import logging
import sys
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from aula_ws.commands.exits import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from aula_ws.commands.progress import ProgressLine
from aula_ws.domain.statistics_rows import ACTIVITY_COLUMNS, COURSE_COLUMNS, LESSON_COLUMNS, TEMPLATES, template
from aula_ws.errors import WriteFailed
from aula_ws.importer.statistics_plan import ON_EXISTING
from aula_ws.services.runtime import Services
from aula_ws.services.statistics_import import KINDS, ImportOptions, import_statistics

log = logging.getLogger(__name__)

COLUMNS = {"lessons": LESSON_COLUMNS, "courses": COURSE_COLUMNS, "activity": ACTIVITY_COLUMNS}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = commands.add_parser(
        "import",
        help="import a statistics file (lesson or course statistics, activity log)",
        description="Import a statistics file. Exit code 0: all lines applied; 1: some lines "
        "rejected (see the journal and the rejects file); 2: bad usage or a refused file; "
        "3: something could not be written (a full disk): nothing was stored.",
        epilog=_columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "kind",
        choices=[*KINDS, "template"],
        help="the file's kind; `template` prints the seed's sample file of the kind given next",
    )
    command.add_argument("file", type=Path, metavar="FILE|KIND", help="the file (for `template`: lessons or courses)")
    command.add_argument(
        "--on-existing",
        choices=ON_EXISTING,
        default="new-session",
        help="when a status already exists for the user and lesson (course)",
    )
    command.add_argument("--enrol", action="store_true", help="enrol users who are not members (perfil A)")
    command.add_argument(
        "--no-header", action="store_true", help="the first line is data, columns in the documented order"
    )
    command.add_argument("--dry-run", action="store_true", help="check the file: the full report, nothing written")
    command.add_argument("--encoding", default="utf-8", help="the file's encoding (default UTF-8, BOM accepted)")
    command.set_defaults(handler=_import)


def _import(args: argparse.Namespace, services: Services) -> int:
    if args.kind == "template":
        return _template(str(args.file))
    if not args.file.is_file():
        print(f"aula-ws: no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    engine = services.engine
    options = ImportOptions(args.on_existing, args.enrol, not args.no_header, args.dry_run, args.encoding)
    # a one-shot process: what exists now lives until exit, so the collector need not
    # rescan it while millions of short-lived line objects come and go (~15% faster)
    gc.freeze()
    progress = ProgressLine(args.file.stat().st_size, "lines")
    started = time.monotonic()
    try:
        with args.file.open("rb") as source:
            progress.source = source
            result = import_statistics(
                engine,
                services.settings.timezone,
                args.kind,
                source,
                args.file.name,
                options,
                services.settings.data_dir / "imports",
                progress=progress.update,
            )
    except WriteFailed:
        progress.done()
        raise  # one line and exit 3 (aula_ws/cli.py)
    except SQLAlchemyError:
        progress.done()
        log.exception("import of %s failed", args.file)
        print(
            f"aula-ws: the database failed during the import; nothing of {args.file} was stored "
            "and it can be imported again",
            file=sys.stderr,
        )
        return EXIT_USAGE
    progress.done()
    if result.refused:
        print(f"aula-ws: {args.file} refused: {result.refused}{encoding_hint(result.refused)}", file=sys.stderr)
    print(f"journal: {result.journal_path}")
    if result.rejects_path:
        print(f"rejects: {result.rejects_path} (fix and import it again)")
    if options.dry_run:
        print("dry run: nothing was written")
    print(f"{time.monotonic() - started:.1f} s")
    for line in result.counters.lines():
        print(line)
    if result.refused:
        return EXIT_USAGE
    return EXIT_REJECTED if result.counters.rejected else EXIT_OK


def encoding_hint(refusal: str, examples: str = "iso-8859-1, utf-16...") -> str:
    """A file refused for its bytes (aula_ws/csvkit/reader.py) was most likely written in another encoding."""
    if "is not valid " not in refusal:
        return ""
    return f" (written in another encoding? say which with --encoding: {examples})"


def _columns_help() -> str:
    """Each kind's columns, from the domain's declaration of them (required ones starred)."""
    lines = ["columns (a header line names them in any order; * required; tab, ; or , separated):"]
    for kind, columns in COLUMNS.items():
        lines.append(f"  {kind}: {' '.join(c.name + ('*' if c.required else '') for c in columns)}")
    return "\n".join(lines)


def _template(kind: str) -> int:
    """`aula-ws import template lessons|courses`: the seed's sample file, ready to fill in."""
    if kind not in TEMPLATES:
        print(f"aula-ws: no template for {kind!r}: one of {', '.join(TEMPLATES)}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(template(kind))
    return EXIT_OK
