"""Use case: obtener_avance_usuarios (CONTRACT.md section 2)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from aula_ws.domain.contract_dates import progress_window
from aula_ws.domain.contract_params import echo, given, parse_group_id, parse_login
from aula_ws.domain.progress import AvanceOfStates, GroupShape
from aula_ws.errors import GrupoInexistente, PerfilUsuarioInvalido, UsuarioInexistente
from aula_ws.services.clock import utc_now
from aula_ws.store import platform
from aula_ws.store.progress import count_member_rows, member_facts, refresh
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


def obtener_avance_usuarios(
    engine: Engine,
    zone: ZoneInfo,
    query: ProgressQuery,
    now: Callable[[], datetime] = utc_now,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[MemberProgress]:
    """The memberships of a group with their avance, ordered by login.

    Parameters are checked in the contract's order, the first failure raised:
    IdGrupoInvalido, GrupoInexistente, IdUsuarioInvalido, UsuarioInexistente,
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
    as_bool = _AS_BOOL
    if dated:
        return [
            MemberProgress(
                as_bool[administrador], as_bool[estado], group_id, member_perfil, fecha_alta, as_bool[responsable],
                rule[i_up, c_up, n_up, i_low, c_low, n_low],
                username,
            )
            for (
                username, administrador, estado, member_perfil, fecha_alta, responsable,
                i_up, c_up, n_up, i_low, c_low, n_low,
            ) in facts
        ]  # fmt: skip
    # undated: one state, at now (the rule reads it as both instants)
    return [
        MemberProgress(
            as_bool[administrador], as_bool[estado], group_id, member_perfil, fecha_alta, as_bool[responsable],
            rule[i_now, c_now, n_now, i_now, c_now, n_now],
            username,
        )
        for (username, administrador, estado, member_perfil, fecha_alta, responsable, i_now, c_now, n_now) in facts
    ]  # fmt: skip


def rebuild_progress(engine: Engine) -> int:
    """`aula-ws progress rebuild`: the maintained progress recomputed from the statistics tables,
    in one transaction (readers see the old or the new); the number of (user, group) rows."""
    with UnitOfWork(engine) as uow:
        refresh(uow.connection)
        count = count_member_rows(uow.connection)
        uow.commit()
    return count
