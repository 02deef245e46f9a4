"""obtener_avance_usuarios against a real database (SQLite and PostgreSQL)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from aula_ws import errors
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from tests.builders import PlatformBuilder

UTC = ZoneInfo("UTC")
NOW = datetime(2016, 1, 1, 12, 0)


def call(engine, zone=UTC, **params):
    rows = obtener_avance_usuarios(engine, zone, ProgressQuery(**params), now=lambda: NOW)
    return {row.id_usuario: row.avance for row in rows}, rows


@pytest.fixture
def literature(engine):
    """Group 64 of the contract's example, with five units."""
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1", "U2", "U3", "U4", "U5"], group_id=64)
    b.member("lovecraft", 64, "A", fecha_alta=date(2015, 6, 17))
    b.member("ashton", 64, "A")
    b.member("borges", 64, "D", administrador_grupo=True, responsable_grupo=True)
    b.member("ocampo", 64, "A", estado=False)
    b.user("outsider")
    b.session("lovecraft", 64, "U1", "P", datetime(2015, 7, 1))
    b.session("lovecraft", 64, "U2", "F", datetime(2015, 8, 1))
    b.session("ashton", 64, "U1", "C", datetime(2015, 7, 10))
    b.session("ashton", 64, "U2", "C", datetime(2015, 9, 10))
    b.session("ashton", 64, "U3", "I", datetime(2015, 10, 10))
    b.course_status("ocampo", 64, "C", datetime(2015, 11, 1))
    b.activity("borges", 64, datetime(2015, 6, 20))
    return b


def test_the_contract_example_answers_lovecraft_at_20(engine, literature):
    _, rows = call(engine, id_grupo="64", perfil="", id_usuario="lovecraft", fecha_desde="", fecha_hasta="")
    assert len(rows) == 1
    row = rows[0]
    assert (row.administrador_grupo, row.estado, row.id_grupo, row.perfil) == (False, True, 64, "A")
    assert (row.fecha_alta, row.responsable_grupo, row.avance, row.id_usuario) == (
        "2015-06-17",
        False,
        20,
        "lovecraft",
    )


def test_the_group_alone_returns_every_member_anonimo_included(engine, literature):
    avances, rows = call(engine, id_grupo="64")
    assert avances == {"_anonimo": 0, "ashton": 40, "borges": 0, "lovecraft": 20, "ocampo": 100}
    borges = next(r for r in rows if r.id_usuario == "borges")
    assert borges.administrador_grupo and borges.responsable_grupo and borges.perfil == "D"
    anonimo = next(r for r in rows if r.id_usuario == "_anonimo")
    assert (anonimo.perfil, anonimo.estado, anonimo.fecha_alta) == ("I", True, "2015-06-01")
    assert not next(r for r in rows if r.id_usuario == "ocampo").estado


def test_perfil_keeps_only_members_with_that_perfil(engine, literature):
    avances, _ = call(engine, id_grupo="64", perfil="A")
    assert list(avances) == ["ashton", "lovecraft", "ocampo"]
    assert call(engine, id_grupo="64", perfil="T")[0] == {}


def test_id_usuario_wins_over_perfil_for_filtering(engine, literature):
    avances, _ = call(engine, id_grupo="64", perfil="D", id_usuario="lovecraft")
    assert avances == {"lovecraft": 20}


def test_a_user_of_the_platform_who_is_not_a_member_gets_an_empty_answer(engine, literature):
    assert call(engine, id_grupo="64", id_usuario="outsider")[1] == []


def test_only_fecha_desde_computes_avance_up_to_that_day(engine, literature):
    avances, _ = call(engine, id_grupo="64", fecha_desde="2015-07-10")
    # borges interacted (activity) but completed nothing; ocampo had not interacted yet
    assert avances == {"_anonimo": 0, "ashton": 20, "borges": 0, "lovecraft": 20, "ocampo": 0}


def test_a_date_is_inclusive_of_its_whole_day(engine, literature):
    assert call(engine, id_grupo="64", id_usuario="ashton", fecha_desde="2015-07-09")[0] == {"ashton": 0}
    assert call(engine, id_grupo="64", id_usuario="ashton", fecha_desde="2015 07 10")[0] == {"ashton": 20}


def test_only_fecha_hasta_is_ignored(engine, literature):
    assert call(engine, id_grupo="64", fecha_hasta="2015-07-10")[0] == call(engine, id_grupo="64")[0]


def test_both_dates_give_the_progress_made_between_them(engine, literature):
    avances, _ = call(engine, id_grupo="64", fecha_desde="2015-07-10", fecha_hasta="2015-12-31")
    assert avances == {"_anonimo": 0, "ashton": 20, "borges": 0, "lovecraft": 0, "ocampo": 100}


def test_dates_never_remove_rows(engine, literature):
    assert len(call(engine, id_grupo="64", fecha_desde="1990-01-01")[1]) == 5


def test_dates_are_days_in_the_service_time_zone(engine, literature):
    literature.session("lovecraft", 64, "U3", "C", datetime(2015, 12, 1, 2, 0))  # Nov 30th, 23:00 in UTC-3
    buenos_aires = ZoneInfo("America/Argentina/Buenos_Aires")
    assert call(engine, buenos_aires, id_grupo="64", id_usuario="lovecraft", fecha_desde="2015-11-30")[0] == {
        "lovecraft": 40
    }
    assert call(engine, UTC, id_grupo="64", id_usuario="lovecraft", fecha_desde="2015-11-30")[0] == {"lovecraft": 20}


def test_a_group_that_does_not_track_progress_gives_100(engine):
    b = PlatformBuilder(engine)
    gid = b.group("induccion", units=["U1"], tracks_progress=False)
    b.member("a1", gid)
    assert call(engine, id_grupo=str(gid))[0] == {"_anonimo": 100, "a1": 100}
    assert call(engine, id_grupo=str(gid), fecha_desde="2015-12-31")[0] == {"_anonimo": 0, "a1": 0}


def test_a_group_without_units_gives_0_unless_the_course_is_completed(engine):
    b = PlatformBuilder(engine)
    gid = b.group("foro")
    b.member("a1", gid)
    b.member("a2", gid)
    b.course_status("a2", gid, "C", datetime(2015, 8, 1))
    assert call(engine, id_grupo=str(gid))[0] == {"_anonimo": 0, "a1": 0, "a2": 100}


def test_future_dated_statuses_do_not_count_now(engine, literature):
    literature.session("lovecraft", 64, "U5", "C", datetime(2030, 1, 1))
    assert call(engine, id_grupo="64", id_usuario="lovecraft")[0] == {"lovecraft": 20}


def test_members_are_ordered_by_login_in_code_point_order(engine):
    b = PlatformBuilder(engine)
    gid = b.group("orden")
    for login in ["b", "Z", "_x", "a", "B", "a.b", "a-b", "9"]:
        b.member(login, gid)
    logins = [row.id_usuario for row in call(engine, id_grupo=str(gid))[1]]
    assert logins == sorted(logins) == ["9", "B", "Z", "_anonimo", "_x", "a", "a-b", "a.b", "b"]


@pytest.mark.parametrize("dates", [{}, dict(fecha_desde="2015-07-05", fecha_hasta="2015-09-30")])
def test_pages_after_a_login_are_slices_of_the_whole_answer(engine, literature, dates):
    """The ETL's keyset pages: the next `limit` members after a login, perfil applied, avance unchanged."""
    whole = call(engine, id_grupo="64", **dates)[1]
    query = ProgressQuery("64", **dates)
    pages, after = [], None
    while True:
        page = obtener_avance_usuarios(engine, UTC, query, now=lambda: NOW, after=after, limit=2)
        pages.append(page)
        if len(page) < 2:
            break
        after = page[-1].id_usuario
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [row for page in pages for row in page] == whole
    assert obtener_avance_usuarios(
        engine, UTC, ProgressQuery("64", perfil="A", **dates), now=lambda: NOW, after="ashton", limit=9
    ) == [row for row in whole if row.perfil == "A" and row.id_usuario > "ashton"]


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(id_grupo=""), errors.IdGrupoInvalido),
        (dict(id_grupo="abc", id_usuario="no such"), errors.IdGrupoInvalido),
        (dict(id_grupo="99", id_usuario="bad login!"), errors.GrupoInexistente),
        (dict(id_grupo="64", id_usuario="bad login!", perfil="Z"), errors.IdUsuarioInvalido),
        (dict(id_grupo="64", id_usuario="nobody", perfil="Z"), errors.UsuarioInexistente),
        (dict(id_grupo="64", id_usuario="lovecraft", perfil="Z", fecha_desde="x"), errors.PerfilUsuarioInvalido),
        (dict(id_grupo="64", perfil="a"), errors.PerfilUsuarioInvalido),
        (dict(id_grupo="64", fecha_desde="2015-02-30", fecha_hasta="2015/03/01"), errors.FechaFormatoInvalido),
        (dict(id_grupo="64", fecha_desde="2015-03-01", fecha_hasta="2015-02-30"), errors.FechaInvalida),
        (dict(id_grupo="64", fecha_desde="2015-03-01", fecha_hasta="2015-02-28"), errors.RangoFechaInvalido),
    ],
)
def test_parameters_are_checked_in_the_contract_order(engine, literature, params, error):
    with pytest.raises(error) as caught:
        call(engine, **params)
    assert caught.value.name == f"Educativa::Aula::Error::{error.__name__}"
