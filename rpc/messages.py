"""use_stats answers: the `<USE_STATS>` message (well-formed, values escaped) and the
`{status, errors, message}` envelope, as a JSON string or an XML-RPC struct."""

import json
from typing import Any
from xml.sax.saxutils import escape

from aula_ws.errors import UseStatsRefused
from aula_ws.services.usage import Person, ScoresReport, StatsReport

from .codec import xml_text

SUCCESS = 200


def stats_message(report: StatsReport) -> str:
    if report.empty:
        return "<USE_STATS><EMPTYSET/></USE_STATS>"
    parts = ["<USE_STATS>", _user(report.user, FROM=report.timefrom, ELAPSED=report.elapsed)]
    if report.scope >= 2:
        parts.append("<COURSES>")
        parts += [
            _element("COURSE", NAME=c.name, SHORTNAME=c.shortname, IDNUMBER=c.idnumber, ELAPSED=c.elapsed)
            for c in report.courses
        ]
        parts.append("</COURSES>")
    if report.scope >= 3:
        parts.append("<MODULES>")
        parts += [
            _element("MODULE", NAME=m.name, TYPE=m.type, IDNUMBER=m.idnumber, ELAPSED=m.elapsed) for m in report.modules
        ]
        parts.append("</MODULES>")
    parts.append("</USE_STATS>")
    return "".join(parts)


def scores_message(report: ScoresReport) -> str:
    courses = "".join(
        _element(
            "COURSE",
            NAME=c.name,
            SHORTNAME=c.shortname,
            IDNUMBER=c.idnumber,
            SCORE="" if c.score is None else f"{c.score:.2f}",
        )
        for c in report.courses
    )
    return f"<USE_STATS>{_user(report.user)}<COURSES>{courses}</COURSES></USE_STATS>"


def success(message: str, json_response: bool) -> Any:
    return _answer({"status": SUCCESS, "errors": [], "message": message}, json_response)


def refusal(error: UseStatsRefused, json_response: bool) -> Any:
    return _answer({"status": error.status, "errors": [xml_text(e) for e in error.errors]}, json_response)


def _answer(answer: dict[str, Any], json_response: bool) -> Any:
    return json.dumps(answer) if json_response else answer


def _user(person: Person, **extra: object) -> str:
    return _element("USER", USERNAME=person.username, FIRSTNAME=person.firstname, LASTNAME=person.lastname, **extra)


def _element(name: str, **children: object) -> str:
    inner = "".join(f"<{tag}>{escape(xml_text(str(value)))}</{tag}>" for tag, value in children.items())
    return f"<{name}>{inner}</{name}>"
