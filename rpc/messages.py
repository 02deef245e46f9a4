"""use_stats answers: the `<USE_STATS>` message (well-formed, values escaped) and the
`{status, errors, message}` envelope, as a JSON string or an XML-RPC struct."""

import json
from typing import Any
from xml.sax.saxutils import escape

from aula_ws.errors import UseStatsRefused
from aula_ws.services.usage import CourseLine, Person, ScoresReport, StatsReport

from .codec import xml_text

SUCCESS = 200


def stats_message(report: StatsReport) -> str:
    if report.empty:
        return "<USE_STATS><EMPTYSET/></USE_STATS>"
    parts = ["<USE_STATS>", _user(report.user, FROM=report.timefrom, ELAPSED=report.elapsed)]
    if report.scope >= 2:
        parts.append("<COURSES>")
        parts += [_course(course, with_modules=report.scope >= 3) for course in report.courses]
        parts.append("</COURSES>")
    parts.append("</USE_STATS>")
    return "".join(parts)


def _course(course: CourseLine, with_modules: bool) -> str:
    """A `<COURSE>`; with scope 3 its units in `<MODULES>` after its `<ELAPSED>`, as the plugin nests them."""
    inner = _children(NAME=course.name, SHORTNAME=course.shortname, IDNUMBER=course.idnumber, ELAPSED=course.elapsed)
    if with_modules:
        modules = "".join(
            _element("MODULE", NAME=m.name, TYPE=m.type, IDNUMBER=m.idnumber, ELAPSED=m.elapsed) for m in course.modules
        )
        inner += f"<MODULES>{modules}</MODULES>"
    return f"<COURSE>{inner}</COURSE>"


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
    return f"<{name}>{_children(**children)}</{name}>"


def _children(**children: object) -> str:
    return "".join(f"<{tag}>{escape(xml_text(str(value)))}</{tag}>" for tag, value in children.items())
