"""The console's languages: English (the msgids), French and Spanish catalogues.

The .po files are the source; they are compiled in memory at start (Babel), so no .mo file
is kept in the tree and none can go stale. The language is the `aula_lang` cookie (the
switch on every page) or else the browser's Accept-Language."""

import io
from gettext import NullTranslations
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "fr", "es")
NAMES = {"en": "English", "fr": "Français", "es": "Español"}
COOKIE = "aula_lang"


def load_catalogues() -> dict[str, NullTranslations]:
    found: dict[str, NullTranslations] = {"en": NullTranslations()}
    folder = resources.files("aula_ws.console") / "translations"
    for language in LANGUAGES[1:]:
        po = (folder / language / "LC_MESSAGES" / "messages.po").read_bytes()
        catalog = read_po(io.BytesIO(po), locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        found[language] = Translations(compiled)
    return found


def choose(cookie: str | None, accepted: list[tuple[str, float]]) -> str:
    """The cookie's language, else the first accepted one we have (`fr-FR` is `fr`), else English."""
    if cookie in LANGUAGES:
        return cookie
    for tag, _quality in sorted(accepted, key=lambda pair: -pair[1]):
        base = tag.lower().replace("_", "-").split("-")[0]
        if base in LANGUAGES:
            return base
    return "en"
