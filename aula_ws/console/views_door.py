"""Sign in, sign out, the language switch, the style sheet."""

from importlib import resources

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from aula_ws.console import i18n
from aula_ws.console.web import PREFIX, SESSION_COOKIE, Console, Page, local_target
from aula_ws.errors import AuthenticationFailed, SignInLimited
from aula_ws.services import console as door


def sign_in(console: Console, page: Page) -> Response:
    target = local_target(page.request.values.get("next"))
    if page.request.method == "GET":
        if page.signed is not None:
            return redirect(target, 303)
        return console.render(page, "sign_in.html", csrf=console.pre_token(page), target=target, errors={})
    username = page.request.form.get("username", "").strip()
    password = page.request.form.get("password", "")
    errors = {}
    status = 200
    if not username:
        errors["username"] = page.gettext("Enter your login.")
    if not password:
        errors["password"] = page.gettext("Enter your password.")
    if not errors:
        try:
            signed = door.sign_in(page.services.engine, username, password, page.address, page.now)
        except SignInLimited as limited:
            message = page.gettext("Too many failed attempts: wait %(minutes)s minutes and try again.")
            errors["password"] = message % {"minutes": limited.minutes}
            status = 429
        except AuthenticationFailed:
            errors["password"] = page.gettext("Wrong login or password, or this user is not a site administrator.")
        else:
            response = redirect(target, 303)
            console.cookie(page, SESSION_COOKIE, signed.token, max_age=door.SESSION_HOURS * 3600)
            return response
    return console.render(
        page,
        "sign_in.html",
        status=status,
        csrf=console.pre_token(page),
        target=target,
        errors=errors,
        username=username,
    )


def sign_out(console: Console, page: Page) -> Response:
    if page.signed is not None:
        door.sign_out(page.services.engine, page.signed, page.address, page.now)
    console.cookie(page, SESSION_COOKIE, "", max_age=0)
    return redirect(f"{PREFIX}/sign-in?notice=signed-out", 303)


def language(console: Console, page: Page) -> Response:
    chosen = page.request.args.get("to", "")
    if chosen in i18n.LANGUAGES:
        console.cookie(page, i18n.COOKIE, chosen, max_age=365 * 86400)
    return redirect(local_target(page.request.args.get("next")), 303)


def style(console: Console, page: Page) -> Response:
    css = (resources.files("aula_ws.console") / "static" / "console.css").read_bytes()
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "max-age=3600"
    return response
