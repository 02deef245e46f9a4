"""report_etl_get and the instances, on SQLite and PostgreSQL."""

import json
import threading
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import insert

from aula_ws.domain.etl import unix
from aula_ws.errors import EtlBusy, EtlError, NotAllowed, NotFound
from aula_ws.services import etl
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from aula_ws.store import etl as etl_store
from aula_ws.store import platform
from aula_ws.store.tables import course_group_members, course_groups
from aula_ws.store.unit_of_work import UnitOfWork
from tests.builders import PlatformBuilder

NOW = datetime(2026, 11, 25, 12, 0, 0)
START = datetime(2026, 1, 1)


def at_now():
    return NOW


def get(engine, settings, instance_id, plugin="boardz", now=at_now, testmode=None, **params):
    return etl.report_etl_get(engine, settings, plugin, str(instance_id), json.dumps(params), now, testmode)


def records(answer) -> list[dict[str, str]]:
    document = etree.fromstring(answer.xmlcontent.encode())
    numbers = [int(r.attrib["id"]) for r in document]
    assert numbers == list(range(len(numbers))) == [int(r.findtext("ix") or "") for r in document]
    return [{field.tag: field.text or "" for field in list(record)[1:]} for record in document]


def add_activity(engine, user_id, group_id, times, action="viewed"):
    with UnitOfWork(engine) as uow:
        platform.add_rows(
            uow.connection,
            "activity_log",
            [dict(user_id=user_id, group_id=group_id, time=t, action=action) for t in times],
        )
        uow.commit()


@pytest.fixture
def site(engine):
    builder = PlatformBuilder(engine)
    group = builder.group("literatura", units=["U1", "U2"], group_id=64)
    builder.member("lovecraft", group, "A", fecha_alta=date(2015, 6, 17))
    builder.member("borges", group, "D", fecha_alta=date(2015, 6, 1), administrador_grupo=True)
    return builder


def test_twelve_thousand_records_sharing_timestamps_come_in_three_calls_each_exactly_once(engine, settings, site):
    # 40 seconds of 300 events each, some with sub-second times: pages end mid-second
    times = [START + timedelta(seconds=n // 300, microseconds=(n % 3) * 1000) for n in range(12_000)]
    add_activity(engine, site.user_ids["lovecraft"], 64, times)
    instance = etl.add_instance(engine, "boardz", "bi", NOW)

    answers = [get(engine, settings, instance, query="special_actions")]
    while answers[-1].records == settings.etl_max_records:
        answers.append(get(engine, settings, instance, query="special_actions", **{"from": answers[-1].lasttime}))

    assert [a.records for a in answers] == [5000, 5000, 2000]
    ids = [int(r["id"]) for a in answers for r in records(a)]
    assert len(ids) == len(set(ids)) == 12_000
    assert answers[0].firsttime == unix(START) and answers[-1].lasttime == unix(START) + 39
    assert answers[0].lasttime == unix(START) + 5000 // 300  # the page ended inside that second
    times_seen = [int(r["timecreated"]) for a in answers for r in records(a)]
    assert times_seen == sorted(times_seen)
    again = get(engine, settings, instance, query="special_actions", **{"from": answers[-1].lasttime})
    assert (again.records, again.lasttime) == (0, answers[-1].lasttime)


def test_until_acknowledged_the_same_records_come_again_and_after_it_only_newer_ones(engine, settings, site):
    user = site.user_ids["lovecraft"]
    add_activity(engine, user, 64, [START + timedelta(minutes=n) for n in range(10)])
    instance = etl.add_instance(engine, "boardz", "bi", NOW, delivery="acknowledged")

    first = get(engine, settings, instance, query="special_actions")
    assert get(engine, settings, instance, query="special_actions").records == first.records == 10
    ack = get(engine, settings, instance, query="special_acknowledge", ackquery="special_actions")
    assert (ack.records, ack.lasttime) == (1, first.lasttime)
    assert f"<lastextract>{first.lasttime}</lastextract>" in ack.xmlcontent
    assert get(engine, settings, instance, query="special_actions").records == 0

    add_activity(engine, user, 64, [START + timedelta(days=1, minutes=n) for n in range(3)], action="newer")
    newer = get(engine, settings, instance, query="special_actions")
    assert [r["action"] for r in records(newer)] == ["newer"] * 3
    nothing = get(engine, settings, instance, query="special_acknowledge", ackquery="special_grades")
    assert nothing.records == 0 and "<nochange>0</nochange>" in nothing.xmlcontent


def test_by_default_an_extraction_moves_the_mark_as_boardz_does(engine, settings, site):
    add_activity(engine, site.user_ids["lovecraft"], 64, [START + timedelta(minutes=n) for n in range(10)])
    instance = etl.add_instance(engine, "boardz", "bi", NOW)
    assert get(engine, settings, instance, query="special_actions").records == 10
    assert get(engine, settings, instance, query="special_actions").records == 0
    assert get(engine, settings, instance, query="special_actions", testmode="1").records == 0
    etl.set_delivery(engine, instance, "acknowledged")
    assert get(engine, settings, instance, query="special_actions").records == 10
    with pytest.raises(NotAllowed):
        etl.set_delivery(engine, instance, "sometimes")


def test_two_instances_keep_their_own_marks(engine, settings, site):
    add_activity(engine, site.user_ids["lovecraft"], 64, [START + timedelta(minutes=n) for n in range(4)])
    one, two = (etl.add_instance(engine, "boardz", name, NOW, delivery="acknowledged") for name in ("one", "two"))
    get(engine, settings, one, query="special_actions")
    get(engine, settings, one, query="special_acknowledge")
    assert get(engine, settings, one, query="special_actions").records == 0
    assert get(engine, settings, two, query="special_actions").records == 4
    assert etl.reset_marks(engine, one) == 1
    assert get(engine, settings, one, query="special_actions").records == 4


def test_to_and_an_explicit_from_bound_the_records_by_second(engine, settings, site):
    add_activity(
        engine, site.user_ids["lovecraft"], 64, [START + timedelta(seconds=n, microseconds=500) for n in range(10)]
    )
    instance = etl.add_instance(engine, "boardz", "bi", NOW)
    answer = get(
        engine, settings, instance, query="special_actions", **{"from": unix(START) + 2, "to": unix(START) + 5}
    )
    assert [int(r["timecreated"]) - unix(START) for r in records(answer)] == [3, 4, 5]
    assert (answer.firsttime, answer.lasttime) == (unix(START) + 3, unix(START) + 5)


def test_records_after_now_wait_for_their_time(engine, settings, site):
    add_activity(engine, site.user_ids["lovecraft"], 64, [NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)])
    instance = etl.add_instance(engine, "boardz", "bi", NOW)
    assert get(engine, settings, instance, query="special_actions").records == 1


def test_a_concurrent_extraction_on_the_same_instance_gets_etlbusy(engine, settings, site, monkeypatch):
    add_activity(engine, site.user_ids["lovecraft"], 64, [START])
    instance = etl.add_instance(engine, "boardz", "bi", NOW, delivery="acknowledged")
    inside, go = threading.Event(), threading.Event()
    read, build, fields = source = etl.INCREMENTAL["special_actions"]

    def held_read(*args):
        inside.set()
        assert go.wait(30)
        return read(*args)

    monkeypatch.setitem(etl.INCREMENTAL, "special_actions", (held_read, build, fields))
    results = []
    first = threading.Thread(target=lambda: results.append(get(engine, settings, instance, query="special_actions")))
    first.start()
    assert inside.wait(30)
    with pytest.raises(EtlBusy) as busy:
        get(engine, settings, instance, query="special_actions")
    assert busy.value.errorcode == "ETLBUSY"
    go.set()
    first.join(30)
    assert results[0].records == 1
    # the lease was given back: the next extraction runs
    monkeypatch.setitem(etl.INCREMENTAL, "special_actions", source)
    assert get(engine, settings, instance, query="special_actions").records == 1


def test_a_crashed_extractions_lease_expires_and_a_live_one_blocks(engine, settings):
    instance = etl.add_instance(engine, "boardz", "bi", NOW)
    with UnitOfWork(engine) as uow:
        assert etl_store.acquire_lease(
            uow.connection, instance, "crashed", NOW - timedelta(hours=1), NOW - timedelta(seconds=1)
        )
        uow.commit()
    assert get(engine, settings, instance, query="special_actions").records == 0
    with UnitOfWork(engine) as uow:
        assert etl_store.acquire_lease(uow.connection, instance, "other", NOW, NOW + timedelta(minutes=5))
        uow.commit()
    with pytest.raises(EtlBusy):
        get(engine, settings, instance, query="special_actions")
    assert get(engine, settings, instance, query="special_test").records == 0  # the test query reads nothing


def test_grades_and_academics_carry_their_records_and_masquerade_hides_logins(engine, settings, site):
    site.session("lovecraft", 64, "U1", "P", datetime(2015, 7, 1, 10))
    with UnitOfWork(engine) as uow:  # groups inside the course (issue 11's sync makes them)
        uow.connection.execute(
            insert(course_groups),
            [dict(id=n, group_id=64, name=name, created_at=NOW) for n, name in ((1, "B"), (2, "A"))],
        )
        uow.connection.execute(
            insert(course_group_members), [dict(course_group_id=n, user_id=site.user_ids["lovecraft"]) for n in (1, 2)]
        )
        uow.commit()
    plain = etl.add_instance(engine, "boardz", "plain", NOW)
    hidden = etl.add_instance(engine, "boardz", "hidden", NOW, masquerade=True)

    [grade] = records(get(engine, settings, plain, query="special_grades"))
    assert (grade["status"], grade["iteminstance"], grade["itemmodule"], grade["courseid"], grade["username"]) == (
        "P",
        str(site.unit_ids[64, "U1"]),
        "L",
        "64",
        "lovecraft",
    )
    assert int(grade["timecreated"]) == unix(datetime(2015, 7, 1, 10))
    academics = records(get(engine, settings, plain, query="special_academics"))
    assert sorted((r["username"], r["perfil"], r["fecha_alta"], r["administrador_grupo"]) for r in academics) == [
        ("_anonimo", "I", str(unix(datetime(2015, 6, 1))), "0"),
        ("borges", "D", str(unix(datetime(2015, 6, 1))), "1"),
        ("lovecraft", "A", str(unix(datetime(2015, 6, 17))), "0"),
    ]
    assert list(academics[0]) == sorted(academics[0])
    assert {r["username"]: r["groups"] for r in academics} == {"_anonimo": "", "borges": "", "lovecraft": "A,B"}
    masked = records(get(engine, settings, hidden, query="special_academics"))
    assert {r["username"] for r in masked}.isdisjoint({"_anonimo", "borges", "lovecraft"})
    assert len({r["username"] for r in masked}) == 3


def test_academics_is_a_full_snapshot_paged_without_repeating_a_member_then_starts_again(engine, settings, site):
    for n in range(7):
        site.member(f"user{n}", 64, "A", fecha_alta=date(2016, 1, 1))
    instance = etl.add_instance(engine, "boardz", "bi", NOW)
    small = replace(settings, etl_max_records=4)
    pages = [get(engine, small, instance, query="special_academics") for _ in range(3)]
    assert [p.records for p in pages] == [4, 4, 2]
    names = [r["username"] for p in pages for r in records(p)]
    assert len(names) == len(set(names)) == 10
    again = get(engine, small, instance, query="special_academics")
    assert [r["username"] for r in records(again)] == names[:4]


def test_progress_is_what_obtener_avance_usuarios_answers_paged_across_groups(engine, settings, site):
    site.session("lovecraft", 64, "U1", "C", datetime(2015, 7, 1))
    other = site.group("filosofia", units=["F1"], group_id=70)
    for n in range(5):
        site.member(f"alumno{n}", other, "A")
    site.session("alumno3", other, "F1", "P", datetime(2016, 1, 1))
    instance = etl.add_instance(engine, "progress", "avance", NOW)
    small = replace(settings, etl_max_records=3)

    pages = [get(engine, small, instance, plugin="progress", query="special_progress")]
    while pages[-1].records == 3:
        pages.append(
            get(engine, small, instance, plugin="progress", query="special_progress", **{"from": pages[-1].lasttime})
        )
    got = [(int(r["id_grupo"]), r["id_usuario"], int(r["avance"])) for p in pages for r in records(p)]
    expected = [
        (m.id_grupo, m.id_usuario, m.avance)
        for g in (64, 70)
        for m in obtener_avance_usuarios(engine, settings.timezone, ProgressQuery(str(g)), now=at_now)
    ]
    assert got == expected and len(got) == 9
    assert ("lovecraft", 50) in [(name, a) for _, name, a in got]
    assert {p.lasttime for p in pages} == {unix(NOW)}

    dated = get(
        engine,
        settings,
        instance,
        plugin="progress",
        query="special_progress",
        id_grupo=64,
        fecha_desde="2015-06-30",
        fecha_hasta="2015-07-02",
    )
    assert {r["id_usuario"]: r["avance"] for r in records(dated)}["lovecraft"] == "50"
    with pytest.raises(EtlError, match="GrupoInexistente") as caught:
        get(engine, settings, instance, plugin="progress", query="special_progress", id_grupo=99)
    assert caught.value.errorcode == "invalidparameter"


@pytest.mark.parametrize(
    "plugin, instance_id, queryparams, errorcode",
    [
        (None, "1", '{"query": "special_test"}', "invalidparameter"),
        ("toamoodle", "1", '{"query": "special_test"}', "invalidparameter"),
        ("boardz", "0", '{"query": "special_test"}', "invalidparameter"),
        ("boardz", "one", '{"query": "special_test"}', "invalidparameter"),
        ("boardz", "999", '{"query": "special_test"}', "invalidparameter"),
        ("progress", "1", '{"query": "special_test"}', "invalidparameter"),  # instance 1 is boardz
        ("boardz", "1", '{"query": "special_test"', "invalidparameter"),
        ("boardz", "1", '["special_test"]', "invalidparameter"),
        ("boardz", "1", None, "invalidparameter"),
        ("boardz", "1", '{"from": 1}', "invalidparameter"),
        ("boardz", "1", '{"query": "special_nothing"}', "invalidparameter"),
        ("boardz", "1", '{"query": "special_actions", "from": 200, "to": 100}', "invalidparameter"),
        ("boardz", "1", '{"query": "special_actions", "from": "yesterday"}', "invalidparameter"),
        ("boardz", "1", '{"query": "special_acknowledge", "ackquery": "special_test"}', "invalidparameter"),
    ],
)
def test_a_bad_request_is_refused_with_a_clear_errorcode(engine, settings, plugin, instance_id, queryparams, errorcode):
    assert etl.add_instance(engine, "boardz", "bi", NOW) == 1
    with pytest.raises(EtlError) as caught:
        etl.report_etl_get(engine, settings, plugin, instance_id, queryparams, at_now)
    assert caught.value.errorcode == errorcode
    assert caught.value.message and caught.value.debuginfo


def test_instances_are_listed_removed_and_names_are_unique(engine):
    first = etl.add_instance(engine, "boardz", "bi", NOW)
    etl.add_instance(engine, "progress", "avance", NOW)
    with pytest.raises(NotAllowed):
        etl.add_instance(engine, "boardz", "bi", NOW)
    with pytest.raises(NotAllowed):
        etl.add_instance(engine, "moodle", "x", NOW)
    assert [(s.instance.plugin, s.instance.name) for s in etl.list_instances(engine)] == [
        ("boardz", "bi"),
        ("progress", "avance"),
    ]
    etl.remove_instance(engine, first)
    with pytest.raises(NotFound):
        etl.remove_instance(engine, first)
    with pytest.raises(NotFound):
        etl.reset_marks(engine, first)
    assert [s.instance.name for s in etl.list_instances(engine)] == ["avance"]
