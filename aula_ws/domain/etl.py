"""The rules of report_etl_get (CONTRACT.md section 6): parameters, positions, the XML.

Records are read in (time, key) order, the key breaking ties between records of
one time (the record's id, or its group and user). A **position** is "strictly
after (time, key)"; its key is None for "after every record of that time".
Times on the wire are Unix seconds; a record's wire time is its time floored.

Where an extraction starts:
- without `from`: after the last record delivered (the instance's `delivery`
  is `extraction`, as boardz moves its marks: consumers never acknowledge), or
  after the acknowledged mark (`delivery` `acknowledged`: "until acknowledged");
  the beginning when there is none;
- with `from` equal to the wire time of the last record delivered (the
  `lasttime` of the previous answer): right after that record, so records
  sharing that second are neither repeated nor lost;
- with any other `from`: after every record of second `from`.
It ends at `to` inclusive (default now), after at most `max_records` records.
`from` and `to` are Unix seconds from 0 to the last second of year 9999.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

from aula_ws.errors import EtlError

EPOCH = datetime(1970, 1, 1)
ONE_SECOND = timedelta(seconds=1)
LAST_MICROSECOND = timedelta(seconds=1) - timedelta(microseconds=1)
MAX_UNIX = 253402300799  # 9999-12-31 23:59:59, the last second a datetime holds

TEST, ACKNOWLEDGE = "special_test", "special_acknowledge"
PLUGINS: Mapping[str, tuple[str, ...]] = {
    "boardz": (
        TEST,
        "special_actions",
        "special_grades",
        "special_academics",
        "special_documents",
        "special_communications",
        ACKNOWLEDGE,
    ),
    "progress": (TEST, "special_progress"),
}
DELIVERIES = ("extraction", "acknowledged")  # the first is the default, boardz's
TEST_LIMIT = 30  # boardz testmode: at most this many records
EXTRACTIONS = frozenset(q for queries in PLUGINS.values() for q in queries) - {TEST, ACKNOWLEDGE}

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    """Strictly after (time, key) in reading order; key None: after all of `time`."""

    time: datetime
    key: Key | None = None


@dataclass(frozen=True)
class Request:
    plugin: str
    instance_id: int
    query: str
    params: Mapping[str, Any]
    from_s: int | None
    to_s: int | None
    testmode: bool = False


def unix(moment: datetime) -> int:
    """Unix seconds of a naive UTC time, floored."""
    return (moment - EPOCH) // ONE_SECOND


def from_unix(seconds: int) -> datetime:
    return EPOCH + seconds * ONE_SECOND


def invalid(debuginfo: str) -> EtlError:
    """Moodle's `invalidparameter`: the generic message, the detail as debuginfo."""
    return EtlError("invalidparameter", "Invalid parameter value detected", debuginfo=debuginfo)


def parse_request(
    plugin: str | None, instance_id: str | int | None, queryparams: str | None, testmode: str | None = None
) -> Request:
    """The parameters of report_etl_get, checked in this order: plugin, id, queryparams
    (a JSON object with `query`), the query among the plugin's, `from` and `to`, testmode.
    Every refusal is Moodle's `invalidparameter`, the debuginfo naming the parameter."""
    if not plugin:
        raise invalid("Missing required key in single structure: plugin")
    if plugin not in PLUGINS:
        raise invalid(f"Unknown ETL plugin {_shown(plugin)}: one of {', '.join(PLUGINS)}")
    number = parse_instance_id(instance_id)
    params = parse_queryparams(queryparams)
    query = params.get("query")
    if not isinstance(query, str) or not query:
        raise invalid('queryparams needs a "query", such as "special_test"')
    if query not in PLUGINS[plugin]:
        raise invalid(f"Unknown query {_shown(query)} for the {plugin} plugin: one of {', '.join(PLUGINS[plugin])}")
    from_s, to_s = _unix_param(params, "from"), _unix_param(params, "to")
    if from_s is not None and to_s is not None and from_s > to_s:
        raise invalid(f"from ({from_s}) is after to ({to_s})")
    return Request(plugin, number, query, params, from_s, to_s, parse_testmode(testmode))


def parse_testmode(raw: str | None) -> bool:
    """boardz's testmode: `test`, or a value PHP reads as 1 (`1`, `1.0`); absent, empty, `0`: off."""
    text = (raw or "").strip()
    if text == "test":
        return True
    try:
        return float(text or "0") == 1
    except ValueError:
        raise invalid(f"testmode: {_shown(text)} is not test, 1 or 0") from None


def parse_instance_id(raw: str | int | None) -> int:
    text = str(raw).strip() if raw is not None else ""
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise invalid(f"the id {_shown(text)} is not an instance id")
    if int(text) == 0:
        raise invalid("ETL id cannot be null")
    return int(text)


def parse_queryparams(raw: str | None) -> dict[str, Any]:
    """A JSON object; text still URL-encoded once more (some clients do) is decoded first."""
    if raw is None or not raw.strip():
        raise invalid("Missing required key in single structure: queryparams")
    try:
        value = _json(raw)
    except EtlError:
        decoded = unquote_plus(raw)
        if decoded == raw:
            raise
        value = _json(decoded)
    if not isinstance(value, dict):
        raise invalid('queryparams must be a JSON object, e.g. {"query": "special_test"}')
    return value


MAX_JSON_DEPTH = 100  # queryparams is a flat object; nesting is refused alike on every Python


def _json(text: str) -> Any:
    if _nested_deeper_than(text, MAX_JSON_DEPTH):
        # Python 3.12+ parses nesting that 3.11 refuses with RecursionError: one rule for all
        raise invalid("queryparams is not valid JSON: nested too deeply")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid(f"queryparams is not valid JSON: {error}") from None
    except ValueError:  # a number of more digits than int() reads (4300)
        raise invalid("queryparams is not valid JSON: a number is too long") from None
    except RecursionError:  # arrays or objects nested deeper than the parser goes
        raise invalid("queryparams is not valid JSON: nested too deeply") from None


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays/objects in `text` nest deeper than `limit` (brackets inside strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def text_param(params: Mapping[str, Any], name: str) -> str | None:
    """An optional parameter of a query that is text: a JSON string or number (as its text)."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid(f"{name} must be a string or a number")
    return str(value)


def _unix_param(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if number is None or not 0 <= number <= MAX_UNIX:
        raise invalid(f"{name} must be a Unix time in seconds from 0 to {MAX_UNIX}, not {_shown(value)}")
    return number


def _shown(value: object) -> str:
    if isinstance(value, (list, dict)):  # never str(): a deeply nested one would overflow the stack
        return "a JSON array" if isinstance(value, list) else "a JSON object"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def start_position(
    from_s: int | None, delivered: Position | None, acked: Position | None, delivery: str = DELIVERIES[0]
) -> Position | None:
    """Where an extraction starts (None: the beginning); see the module's docstring."""
    if from_s is None:
        return delivered if delivery == "extraction" else acked
    if delivered is not None and unix(delivered.time) == from_s:
        return delivered
    return Position(from_unix(from_s) + LAST_MICROSECOND)


def end_before(to_s: int | None, now: datetime) -> datetime:
    """The exclusive upper time: records of second `to` (default now's) are in."""
    last = unix(now) if to_s is None else to_s
    return datetime.max if last >= MAX_UNIX else from_unix(last + 1)


def wire_times(times: Sequence[datetime], start: Position | None) -> tuple[int, int]:
    """(firsttime, lasttime) of a page; an empty page answers its start, so that
    continuing from `lasttime` stays where it is."""
    if times:
        return unix(times[0]), unix(times[-1])
    at = 0 if start is None else unix(start.time)
    return at, at


def encode_key(key: Key | None) -> str | None:
    return None if key is None else json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str | None) -> Key | None:
    return None if text is None else tuple(json.loads(text))


def masked(username: str, salt: str) -> str:
    """A stable pseudonym for `username` (boardz `masquerade`): same salt, same pseudonym."""
    return hashlib.sha256(f"{salt}:{username}".encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- the XML

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # lone surrogates too
_SPECIALS = frozenset("&<>")
_NOT_PLAIN = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """A value as XML text: escaped, booleans true/false, dates ISO, None empty;
    characters XML 1.0 cannot carry become U+FFFD."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if _SPECIALS.intersection(text):
        text = escape(text)
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return text


DECLARATION = '<?xml version="1.0"  encoding="UTF-8" ?>'  # boardz: two spaces, every query but actions
ACTIONS_DECLARATION = '<?xml version="1.0" encoding="UTF-8" ?>'
ROOTS: Mapping[str, tuple[str, str]] = {  # query -> (root, record) elements
    "special_actions": ("logrecords", "logrecord"),
    "special_academics": ("roleassignrecords", "roleassignrecord"),
    "special_grades": ("graderecords", "graderecord"),
    "special_documents": ("documentrecords", "documentrecord"),
    "special_communications": ("communicationrecords", "communicationrecord"),
    "special_progress": ("logrecords", "logrecord"),
}


def boardz_value(value: object) -> str:
    """A field's text as boardz writes it: None and false empty, true `1`; text holding `<`
    or `>` in CDATA with a space inside each end; anything else XML-escaped (boardz leaves
    some `&` raw: not well-formed, not copied)."""
    if isinstance(value, str):  # most values, most of them plain: a page of 5,000 records writes 200,000
        text = value
        if not _NOT_PLAIN.search(text):
            return text
    elif value is None or value is False:
        return ""
    elif value is True:
        return "1"
    elif isinstance(value, (int, float)):
        return str(value)
    elif isinstance(value, (date, datetime)):
        return value.isoformat()
    else:
        text = str(value)
        if not _NOT_PLAIN.search(text):
            return text
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    if ("<" in text or ">" in text) and "]]>" not in text:
        return f"<![CDATA[ {text} ]]>"
    return escape(text) if _SPECIALS.intersection(text) else text


def records_xml(query: str, fields: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """boardz's xmlcontent: the declaration, `<root>`, each record numbered from 0 with its
    number as `id` and as a first `<ix>` child, then every field in byte order of its name,
    tab-indented one per line; `</root>` after a blank line, no final newline."""
    root, record = ROOTS[query]
    order = sorted(range(len(fields)), key=lambda i: fields[i].encode())
    # one format per record, its field elements written once (a page of actions has 43 fields)
    template = (
        f'\t<{record} id="{{0}}">\n\t\t<ix>{{0}}</ix>\n'
        + "".join(f"\t\t<{fields[i]}>{{{slot}}}</{fields[i]}>\n" for slot, i in enumerate(order, 1))
        + f"\t</{record}>\n"
    )
    parts = [ACTIONS_DECLARATION if query == "special_actions" else DECLARATION, f"\n<{root}>\n"]
    parts.extend(template.format(number, *[boardz_value(row[i]) for i in order]) for number, row in enumerate(rows))
    parts.append(f"\n</{root}>")
    return "".join(parts)


def connection_xml(now: datetime, version: str) -> str:
    """special_test's answer, boardz's shape; `version` is boardz's plugin version."""
    return (
        f"{DECLARATION}\n<connection>\n\t<status>success</status>\n\t<time>{unix(now)}</time>\n"
        f"\t<version>{xml_text(version)}</version>\n</connection>\n"
    )


def acknowledge_xml(lastextract: int | None) -> str:
    """special_acknowledge's answer: the mark it committed (Unix s), or `<nochange>` with 0."""
    inner = "\t<nochange>0</nochange>" if lastextract is None else f"\t<lastextract>{lastextract}</lastextract>"
    return f"{DECLARATION}\n<acknowledge>\n{inner}\n</acknowledge>\n"
