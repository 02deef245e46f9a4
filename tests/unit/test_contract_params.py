import pytest

from aula_ws.domain.contract_params import given, parse_group_id, parse_login
from aula_ws.errors import IdGrupoInvalido, IdUsuarioInvalido


@pytest.mark.parametrize("raw, expected", [("64", 64), (" 64\n", 64), ("+7", 7), ("-3", -3), ("007", 7)])
def test_group_ids_are_xs_int_text(raw, expected):
    assert parse_group_id(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "abc", "6a4", "64.0", "1e3", "2147483648", "٦٤"])
def test_missing_empty_or_non_integer_group_ids_are_invalid(raw):
    with pytest.raises(IdGrupoInvalido) as caught:
        parse_group_id(raw)
    assert caught.value.name == "Educativa::Aula::Error::IdGrupoInvalido"


@pytest.mark.parametrize("raw", ["lovecraft", "h.p.lovecraft@arkham-u.edu", "_anonimo", "A" * 100])
def test_logins_of_the_platform_pattern_are_accepted(raw):
    assert parse_login(raw) == raw


@pytest.mark.parametrize("raw", ["love craft", "lovecraft!", "A" * 101, "ñandú", "a/b", "<x>"])
def test_logins_with_other_characters_are_invalid(raw):
    with pytest.raises(IdUsuarioInvalido):
        parse_login(raw)


def test_an_empty_or_blank_element_means_not_given():
    assert given(None) is None
    assert given("") is None
    assert given(" \n\t") is None
    assert parse_login("") is None
    assert given(" A ") == "A"


def test_long_values_are_cut_when_echoed_in_errors():
    with pytest.raises(IdGrupoInvalido) as caught:
        parse_group_id("x" * 10_000)
    assert len(caught.value.message) < 200
