"""Use case: obtener_avance_usuarios (CONTRACT.md section 2)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from aula_ws.domain.contract_dates import progress_window
from aula_ws.domain.contract_params import echo, given, parse_group_id, parse_login
from aula_ws.domain.progress import AvanceOfStates, GroupShape
from aula_ws.errors import GrupoInexistente, PerfilUsuarioInvalido, UsuarioInexistente
from aula_ws.services.clock import utc_now
from aula_ws.store import platform
from aula_ws.store.progress import MemberFacts, count_member_rows, member_facts, refresh
from aula_ws.store.unit_of_work import Reading, UnitOfWork
from aula_ws.store.users import find_user


@dataclass(frozen=True)
class ProgressQuery:
    """The five parameters as the client sent them: text, or None when absent."""

    id_grupo: str | None
    perfil: str | None = None
    id_usuario: str | None = None
    fecha_desde: str | None = None
    fecha_hasta: str | None = None


class MemberProgress(NamedTuple):
    """One `<usuarios>` block of the answer (a named tuple: a large group builds 100,000 of them)."""

    administrador_grupo: bool
    estado: bool
    id_grupo: int
    perfil: str
    fecha_alta: str  # YYYY-MM-DD, as the answer writes it
    responsable_grupo: bool
    avance: int
    id_usuario: str


_AS_BOOL = (False, True)  # a 0/1 (or bool) flag of the database as a bool, by indexing: no call per value

# One `<usuarios>` block as a plain tuple, in MemberProgress's order; flags 0/1 (or bool)
ProgressRow = tuple[int | bool, int | bool, int, str, str, int | bool, int, str]


class ProgressRows:
    """A group's answer, each row worked out as it is iterated: a writer goes from the database's
    tuples to its text in one pass (building 100,000 MemberProgress first was a quarter of the
    whole-group call). Iterable again; the rule is memoised by states."""

    __slots__ = ("_dated", "_facts", "_group_id", "_rule")

    def __init__(self, group_id: int, facts: list[MemberFacts], rule: AvanceOfStates, dated: bool):
        self._group_id, self._facts, self._rule, self._dated = group_id, facts, rule, dated

    def __len__(self) -> int:
        return len(self._facts)

    def __iter__(self) -> Iterator[ProgressRow]:
        group_id, rule = self._group_id, self._rule
        if self._dated:
            return (
                (
                    administrador, estado, group_id, member_perfil, fecha_alta, responsable,
                    rule[i_up, c_up, n_up, i_low, c_low, n_low],
                    username,
                )
                for (
                    username, administrador, estado, member_perfil, fecha_alta, responsable,
                    i_up, c_up, n_up, i_low, c_low, n_low,
                ) in self._facts
            )  # fmt: skip
        # undated: one state, at now (the rule reads it as both instants)
        return (
            (
                administrador, estado, group_id, member_perfil, fecha_alta, responsable,
                rule[i_now, c_now, n_now, i_now, c_now, n_now],
                username,
            )
            for (username, administrador, estado, member_perfil, fecha_alta, responsable, i_now, c_now, n_now)
            in self._facts
        )  # fmt: skip

    def free_text(self) -> tuple[str, str]:
        """Every perfil, then every login, each joined: the only values not written from numbers,
        flags and dates (one scan of them is what a writer checks for characters it cannot carry)."""
        return "".join(map(_PERFIL, self._facts)), "".join(map(_LOGIN, self._facts))


_LOGIN, _PERFIL = itemgetter(0), itemgetter(3)  # in MemberFacts


def obtener_avance_usuarios(
    engine: Engine,
    zone: ZoneInfo,
    query: ProgressQuery,
    now: Callable[[], datetime] = utc_now,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[MemberProgress]:
    """`progress_rows` as MemberProgress, flags as bools (the ETL's pages, the tests)."""
    as_bool = _AS_BOOL
    return [
        MemberProgress(as_bool[a], as_bool[e], group_id, perfil, fecha_alta, as_bool[r], avance, login)
        for a, e, group_id, perfil, fecha_alta, r, avance, login in progress_rows(
            engine, zone, query, now, after=after, limit=limit
        )
    ]


def progress_rows(
    engine: Engine,
    zone: ZoneInfo,
    query: ProgressQuery,
    now: Callable[[], datetime] = utc_now,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> ProgressRows:
    """The memberships of a group with their avance, ordered by login.

    Parameters are checked in the contract's order, the first failure raised here (not when the
    rows are iterated): IdGrupoInvalido, GrupoInexistente, IdUsuarioInvalido, UsuarioInexistente,
    PerfilUsuarioInvalido, FechaFormatoInvalido, FechaInvalida, RangoFechaInvalido.
    With `id_usuario` only that user's membership is returned and `perfil` is
    only checked, not applied; dates never remove rows. With `limit` (the ETL's
    pages), only the next `limit` members after the login `after`.
    """
    group_id = parse_group_id(query.id_grupo)
    with Reading(engine) as uow:
        group = platform.find_group(uow.connection, group_id)
        if group is None:
            raise GrupoInexistente(f'No existe el grupo "{group_id}"', group_id)
        login = parse_login(query.id_usuario)
        user_id = None
        if login is not None:
            user = find_user(uow.connection, login)
            if user is None:
                raise UsuarioInexistente(f'No existe el usuario "{login}"', login)
            user_id = user.id
        perfil = given(query.perfil)
        if perfil is not None and not platform.profile_exists(uow.connection, perfil):
            raise PerfilUsuarioInvalido(f'No existe el perfil "{echo(perfil)}"', perfil)
        window = progress_window(query.fecha_desde, query.fecha_hasta, zone)

        current = now()
        upper = window.upper or current
        lower = window.lower or upper
        dated = window.upper is not None
        facts = member_facts(
            uow.connection,
            group_id,
            upper=upper,
            lower=lower,
            dated=dated,
            user_id=user_id,
            perfil=perfil if login is None else None,
            after=after,
            limit=limit,
        )
    rule = AvanceOfStates(GroupShape(unit_count=group.unit_count, tracks_progress=group.tracks_progress), window)
    return ProgressRows(group_id, facts, rule, dated)


def rebuild_progress(engine: Engine) -> int:
    """`aula-ws progress rebuild`: the maintained progress recomputed from the statistics tables,
    in one transaction (readers see the old or the new); the number of (user, group) rows."""
    with UnitOfWork(engine) as uow:
        refresh(uow.connection)
        count = count_member_rows(uow.connection)
        uow.commit()
    return count
