"""The console over WSGI (Werkzeug's test client on create_app): the cookie's flags, the
redirects that stay on the site, the security headers, a form without its token."""

import re
from dataclasses import replace

import pytest
from werkzeug.test import Client

from aula_ws.app import create_app
from aula_ws.console.web import local_target
from aula_ws.services import console
from aula_ws.services.runtime import Services
from tests.builders import PlatformBuilder

PASSWORD = "a long enough password"


def signed_in_client(settings, engine) -> Client:
    PlatformBuilder(engine).user("admin", site_admin=True)
    services = Services(settings, engine)
    console.set_password(engine, "admin", PASSWORD, services.clock())
    client = Client(create_app(services))
    page = client.get("/admin/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = client.post(
        "/admin/sign-in", data={"csrf": csrf.group(1), "username": "admin", "password": PASSWORD, "next": "/admin/"}
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.mark.parametrize(
    ("public_url", "secure"), [(None, False), ("https://aula.example.org", True), ("http://aula.example.org", False)]
)
def test_the_session_cookie_is_secure_when_the_public_url_is_https(settings, engine, public_url, secure):
    client = signed_in_client(replace(settings, public_url=public_url), engine)
    cookie = client.get_cookie("aula_session", path="/admin")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert cookie.secure is secure


def test_pages_carry_security_headers_and_are_not_cached(settings, engine):
    client = signed_in_client(settings, engine)
    answer = client.get("/admin/")
    assert answer.status_code == 200
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"


def test_a_sign_in_form_without_its_token_is_refused(settings, engine):
    PlatformBuilder(engine).user("admin", site_admin=True)
    services = Services(settings, engine)
    console.set_password(engine, "admin", PASSWORD, services.clock())
    client = Client(create_app(services))
    answer = client.post("/admin/sign-in", data={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 403 and client.get_cookie("aula_session", path="/admin") is None


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/admin/files", "/admin/files"),
        ("https://evil.example/admin", "/admin/"),
        ("//evil.example/admin", "/admin/"),
        ("/admin\\\\evil", "/admin/"),
        ("/soap", "/admin/"),
        (None, "/admin/"),
    ],
)
def test_redirects_after_sign_in_stay_in_the_console(target, kept):
    assert local_target(target) == kept


def test_an_unknown_console_page_is_404_and_other_paths_are_not_the_console(settings, engine):
    client = signed_in_client(settings, engine)
    assert client.get("/admin/nothing-here").status_code == 404
    assert client.get("/administrator").status_code == 404
