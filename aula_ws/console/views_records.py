"""The control screens: users, courses (groups), units, enrolments, cohorts, avatars."""

from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.wrappers import Response

from aula_ws.console.web import N_, Console, Page
from aula_ws.errors import NotFound
from aula_ws.services import console_records as records

TITLES = {
    "users": N_("Users"),
    "groups": N_("Courses"),
    "units": N_("Units"),
    "memberships": N_("Enrolments"),
    "cohorts": N_("Cohorts"),
    "avatars": N_("Avatars"),
}
COLUMN_TITLES = {
    "id": N_("Id"),
    "username": N_("Login"),
    "firstname": N_("First name"),
    "lastname": N_("Last name"),
    "email": N_("E-mail"),
    "suspended": N_("Suspended"),
    "shortname": N_("Course"),
    "fullname": N_("Full name"),
    "idnumber": N_("Id number"),
    "visible": N_("Visible"),
    "code": N_("Code"),
    "name": N_("Name"),
    "type": N_("Type"),
    "perfil": N_("Profile"),
    "estado": N_("Active"),
    "fecha_alta": N_("Enrolled on"),
    "members": N_("Members"),
    "updated_at": N_("Updated"),
}
DETAIL = {
    "users": "users",
    "groups": "groups",
    "units": "groups",
    "memberships": "users",
    "cohorts": "cohorts",
    "avatars": "users",
}


def listing(console: Console, page: Page, kind: str) -> Response:
    if kind not in TITLES:
        raise HttpNotFound()
    text = page.request.args.get("q", "")
    number = page.request.args.get("page", "1")
    current = int(number) if number.isdigit() and 0 < int(number) < 1_000_000 else 1
    found = records.page_of(page.services.engine, kind, text, current - 1)
    pages = max(1, -(-found.total // records.PAGE))
    return console.render(
        page,
        "records.html",
        kind=kind,
        title=page.gettext(TITLES[kind]),
        titles=TITLES,
        columns=[page.gettext(COLUMN_TITLES.get(c, c)) for c in found.columns[1:]],
        found=found,
        q=text,
        current=current,
        pages=pages,
        detail=DETAIL[kind],
    )


def record(console: Console, page: Page, kind: str, record_id: int) -> Response:
    try:
        found = records.record(page.services.engine, page.services.settings, kind, record_id)
    except NotFound:
        raise HttpNotFound() from None
    return console.render(page, "record.html", r=found, titles=TITLES, labels=COLUMN_TITLES)


def picture(console: Console, page: Page, user_id: int) -> Response:
    try:
        png = records.picture(page.services.engine, user_id, large=page.request.args.get("size") == "large")
    except NotFound:
        raise HttpNotFound() from None
    return Response(png, mimetype="image/png")
