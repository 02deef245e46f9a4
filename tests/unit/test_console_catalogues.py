"""The console speaks English, French and Spanish: every message of its templates and code
is in both catalogues, translated, with the same %(placeholders)s."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from aula_ws.console import i18n

CONSOLE = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(CONSOLE),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        text = message[0] if isinstance(message, tuple) else message
        if text:
            found.add(text)
    return found


def test_the_console_has_messages_to_translate():
    assert {"Sign in", "Records rejected", "Column headers on the first line"} <= used_messages()


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_message_is_translated(language):
    path = CONSOLE / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = sorted(m for m in used_messages() if not ((found := catalog.get(m)) and found.string))
    assert missing == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    for message in catalog:
        if message.id:
            assert set(PLACEHOLDER.findall(str(message.id))) == set(PLACEHOLDER.findall(str(message.string)))


def test_the_catalogues_compile_and_translate():
    catalogues = i18n.load_catalogues()
    assert catalogues["fr"].gettext("Records rejected") == "Enregistrements rejetés"
    assert catalogues["es"].gettext("Sign in") == "Iniciar sesión"
    assert catalogues["en"].gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("cookie", "accepted", "chosen"),
    [
        (None, [("fr-FR", 1.0), ("en", 0.5)], "fr"),
        (None, [("de", 1.0), ("es-MX", 0.8)], "es"),
        (None, [("de", 1.0)], "en"),
        ("es", [("fr", 1.0)], "es"),  # the switch on the page wins over the browser
        ("xx", [("fr", 1.0)], "fr"),
    ],
)
def test_the_language_is_the_cookie_else_the_browsers(cookie, accepted, chosen):
    assert i18n.choose(cookie, accepted) == chosen
