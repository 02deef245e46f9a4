"""A boardz ETL job written from the reference alone (report-etl-boardz.md): requests for the
Moodle REST call, lxml for Moodle's XML answer and for boardz's xmlcontent; against a real server."""

import json
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from lxml import etree
from sqlalchemy import text

from aula_ws.services import etl, tokens
from aula_ws.services.clock import utc_now
from aula_ws.store import platform
from aula_ws.store.database import create_database_engine
from aula_ws.store.unit_of_work import UnitOfWork
from tests.builders import PlatformBuilder
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server

ACTIONS = 12_000
START = datetime(2026, 3, 1, 8)
ROOTS = {
    "special_actions": ("logrecords", "logrecord"),
    "special_academics": ("roleassignrecords", "roleassignrecord"),
    "special_grades": ("graderecords", "graderecord"),
    "special_documents": ("documentrecords", "documentrecord"),
    "special_communications": ("communicationrecords", "communicationrecord"),
}


class Consumer:
    """What a warehouse's job does: report_etl_get over REST, in Moodle's default XML format."""

    def __init__(self, url: str, token: str, instance: int):
        self.url, self.token, self.instance = url + "/webservice/rest/server.php", token, instance

    def raw(self, **params: str) -> requests.Response:
        values = {"wstoken": self.token, "wsfunction": "report_etl_get", "plugin": "boardz", "id": self.instance}
        return requests.post(self.url, data={**values, **params}, timeout=60)

    def get(self, query: str, testmode: str = "0", **extra: object) -> dict[str, str | None]:
        response = self.raw(queryparams=json.dumps({"query": query, **extra}), testmode=testmode)
        assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
        document = etree.fromstring(response.content)
        assert document.tag == "RESPONSE", response.text
        (single,) = document
        return {
            str(key.get("name")): None if key[0].get("null") == "null" else (key[0].text or "")
            for key in single.iterchildren("KEY")
        }

    def records(self, answer: dict[str, str | None], query: str) -> list[dict[str, str]]:
        content = answer["xmlcontent"] or ""
        root_name, record_name = ROOTS[query]
        declaration = '<?xml version="1.0" encoding="UTF-8" ?>' if query == "special_actions" else None
        assert content.startswith(declaration or '<?xml version="1.0"  encoding="UTF-8" ?>')
        root = etree.fromstring(content.encode())
        assert root.tag == root_name
        found = []
        for number, record in enumerate(root):
            assert record.tag == record_name and record.get("id") == str(number) and record[0].tag == "ix"
            assert record[0].text == str(number)
            names = [field.tag for field in list(record)[1:]]
            assert names == sorted(names, key=str.encode)
            found.append({field.tag: field.text or "" for field in list(record)[1:]})
        return found


def seed(url: str) -> SimpleNamespace:
    engine = create_database_engine(url)
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1"], group_id=64)
    b.member("lovecraft", 64, "A")
    b.member("poe", 64, "D")
    b.user("root")
    tokens.set_site_admin(engine, "root")
    b.session("lovecraft", 64, "U1", "C", START)
    with UnitOfWork(engine) as uow:  # 300 events a second: pages end mid-second
        platform.add_rows(
            uow.connection,
            "activity_log",
            [
                dict(
                    user_id=b.user_ids["lovecraft" if n % 3 else "poe"],
                    group_id=64,
                    unit_id=b.unit_ids[64, "U1"] if n % 2 else None,
                    time=START + timedelta(seconds=n // 300),
                    action=f"viewed <{n}> & more",
                )
                for n in range(ACTIONS)
            ],
        )
        uow.commit()
    _, secret = tokens.create_token(engine, "root", "etl", utc_now() - timedelta(days=1), None)
    return SimpleNamespace(engine=engine, secret=secret, builder=b)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("boardz")
    url = fresh_database(request, data_dir, "boardz")
    seeded = seed(url)
    with running_server(aula_env(data_dir, url, AULA_WWWROOT="http://aula.example.org")) as server:
        seeded.server = server
        yield seeded
    seeded.engine.dispose()


def consumer(site, **settings) -> Consumer:
    number = etl.add_instance(site.engine, "boardz", f"job-{uuid.uuid4().hex[:8]}", utc_now(), **settings)
    return Consumer(site.server.base_url, site.secret, number)


def test_a_job_that_never_acknowledges_pages_through_12000_actions_getting_each_once(site):
    job = consumer(site)
    ids, counts = [], []
    for _ in range(4):
        answer = job.get("special_actions")
        records = job.records(answer, "special_actions")
        counts.append(answer["records"])
        ids += [record["id"] for record in records]
    assert counts == ["5000", "5000", "2000", "0"]
    assert len(ids) == len(set(ids)) == ACTIONS


def test_the_answer_is_moodles_xml_with_the_keys_in_order(site):
    response = consumer(site).raw(queryparams=json.dumps({"query": "special_actions"}), testmode="")
    document = etree.fromstring(response.content)
    assert [key.get("name") for key in document.iter("KEY")] == [
        "recordset",
        "records",
        "firsttime",
        "lasttime",
        "xmlcontent",
    ]
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n<KEY name=')


def test_json_is_answered_when_asked_with_the_same_keys(site):
    job = consumer(site)
    answer = job.raw(queryparams=json.dumps({"query": "special_test"}), moodlewsrestformat="json").json()
    assert list(answer) == ["recordset", "records", "firsttime", "lasttime", "xmlcontent"]
    assert "<status>success</status>" in answer["xmlcontent"]


def test_an_action_record_carries_boardz_fields_mapped_from_ours(site):
    job = consumer(site)
    first, second = job.records(job.get("special_actions", testmode="1"), "special_actions")[:2]
    assert first["action"] == " viewed <0> & more "  # boardz CDATA: a space inside each end
    assert first["courseid"] == "64" and first["cmid"] == "nc"
    assert first["contextlevel"] == "50" and second["contextlevel"] == "70" and second["cmid"] != "nc"
    assert first["timecreated"] == str(int((START - datetime(1970, 1, 1)).total_seconds()))
    assert first["username"] == "poe" and first["hrole"] == "D" and first["hasdirectroleincourse"] == "yes"
    assert first["gap"] == "0" and first["host"] == "aula.example.org" and first["ip"] == ""
    assert first["instance"].startswith("[64] :: ")


def test_every_query_answers_its_root_and_numbered_records(site):
    job = consumer(site)
    sizes = {}
    for query in ROOTS:
        answer = job.get(query)
        assert answer["recordset"] == query
        sizes[query] = len(job.records(answer, query))
    assert sizes == {
        "special_actions": 5000,
        "special_academics": 3,  # with the group's own guest member (invitado)
        "special_grades": 1,
        "special_documents": 0,
        "special_communications": 0,
    }
    assert "<lastextract>" in (job.get("special_acknowledge")["xmlcontent"] or "")
    assert "<status>success</status>" in (job.get("special_test")["xmlcontent"] or "")


def test_academics_is_a_full_snapshot_showing_a_changed_perfil(site):
    job = consumer(site)
    before = {r["username"]: r for r in job.records(job.get("special_academics"), "special_academics")}
    assert before["lovecraft"]["perfil"] == "A" and before["lovecraft"]["role"] == "alumno"
    with site.engine.begin() as connection:
        connection.execute(text("UPDATE memberships SET perfil = 'T' WHERE group_id = 64 AND perfil = 'A'"))
    try:
        after = {r["username"]: r for r in job.records(job.get("special_academics"), "special_academics")}
    finally:
        with site.engine.begin() as connection:
            connection.execute(text("UPDATE memberships SET perfil = 'A' WHERE group_id = 64 AND perfil = 'T'"))
    assert {"lovecraft", "poe"} <= set(after) and len(after) == 3
    assert after["lovecraft"]["perfil"] == "T" and after["lovecraft"]["role"] == "tutor"
    assert after["lovecraft"]["estado"] == "1" and after["lovecraft"]["courseid"] == "64"


def test_testmode_answers_at_most_30_records_and_moves_no_mark(site):
    job = consumer(site)
    for _ in range(2):
        answer = job.get("special_actions", testmode="test")
        assert answer["records"] == "30"
    ids = [r["id"] for r in job.records(job.get("special_actions"), "special_actions")]
    assert len(ids) == 5000 and ids[:30] == [r["id"] for r in job.records(answer, "special_actions")]


def test_an_instance_delivering_until_acknowledged_repeats_until_then(site):
    job = consumer(site, delivery="acknowledged")
    first = job.get("special_actions")
    assert job.get("special_actions")["firsttime"] == first["firsttime"]
    job.get("special_acknowledge", ackquery="special_actions")
    assert int(job.get("special_actions")["firsttime"] or 0) >= int(first["lasttime"] or 0)


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"queryparams": "not json"}, "queryparams"),
        ({"queryparams": json.dumps({"query": "special_nothing"})}, "special_nothing"),
        ({"queryparams": json.dumps({"query": "special_actions", "from": "yesterday"})}, "from"),
        ({"id": "0", "queryparams": json.dumps({"query": "special_test"})}, "ETL id cannot be null"),
        ({"queryparams": json.dumps({"query": "special_test"}), "testmode": "maybe"}, "testmode"),
    ],
)
def test_bad_parameters_answer_moodles_invalidparameter_naming_the_parameter(site, params, names):
    job = consumer(site)
    response = job.raw(**params)
    document = etree.fromstring(response.content)
    assert response.status_code == 200 and document.tag == "EXCEPTION"
    assert document.get("class") == "invalid_parameter_exception"
    assert document.findtext("ERRORCODE") == "invalidparameter"
    assert document.findtext("MESSAGE") == "Invalid parameter value detected"
    assert names in (document.findtext("DEBUGINFO") or "")
    answer = job.raw(**params, moodlewsrestformat="json").json()
    assert answer["errorcode"] == "invalidparameter" and names in answer["debuginfo"]
