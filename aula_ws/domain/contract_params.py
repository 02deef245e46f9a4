"""How `obtener_avance_usuarios` reads its parameters.

Every parameter arrives as text (a hand-written client may send `abc`); an
empty or blank element means "not given". Surrounding white space is dropped,
as an XML schema processor would for xs:int and xs:date.
"""

import re

from aula_ws.errors import IdGrupoInvalido, IdUsuarioInvalido

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
ANONYMOUS_LOGIN = "_anonimo"

# an xs:int has at most 10 digits after any leading zeros (`007`); int() only ever sees
# those, never a text of thousands of digits (Python refuses more than 4300)
_INTEGER = re.compile(r"([+-]?)0*([0-9]{1,10})")
_XS_INT_RANGE = range(-(2**31), 2**31)
_ECHO_LIMIT = 80  # longest client value echoed back in an error message


def given(raw: str | None) -> str | None:
    """The parameter's text, or None when the element was absent, empty or blank."""
    if raw is None:
        return None
    text = raw.strip()
    return text or None


def echo(raw: str) -> str:
    """A client's value as quoted in an error message, cut to a sane length."""
    return raw if len(raw) <= _ECHO_LIMIT else raw[:_ECHO_LIMIT] + "…"


def parse_group_id(raw: str | None) -> int:
    """`id_grupo` is required and an xs:int: IdGrupoInvalido when missing, empty or not one."""
    text = given(raw)
    if text is None:
        raise IdGrupoInvalido('Falta el parámetro obligatorio "id_grupo"', raw)
    number = _INTEGER.fullmatch(text)
    if not number or int(number[1] + number[2]) not in _XS_INT_RANGE:
        raise IdGrupoInvalido(f'El id_grupo "{echo(text)}" no es un número entero', raw)
    return int(number[1] + number[2])


def parse_login(raw: str | None) -> str | None:
    """`id_usuario`, when given, must match the platform's login pattern."""
    text = given(raw)
    if text is not None and not LOGIN_PATTERN.fullmatch(text):
        raise IdUsuarioInvalido(f'El id_usuario "{echo(text)}" contiene caracteres inválidos', raw)
    return text
