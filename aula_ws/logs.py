"""Logging: the one setup (`configure`), from the settings AULA_LOG_LEVEL and AULA_LOG_FORMAT.

`text` (the default) is one readable line per record; `json` one JSON object per line
(time, level, logger, message and the record's extra fields), for a log collector.
The JSON formatter is a few lines over the standard library's, so no extra dependency.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# the attributes every LogRecord has: what is left are the `extra=` fields
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "info", style: str = "text") -> None:
    """The root logger writes to stderr at `level`, in `style` (text or json); called once per process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # alembic's and spyne's INFO lines (each migration step, "Initializing application") are not news
    for chatty in ("alembic", "spyne"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
