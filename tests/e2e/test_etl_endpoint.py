"""report_etl_get over HTTP: a real server on 127.0.0.1, requests for REST, zeep for SOAP."""

import json
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
import zeep
from lxml import etree

from aula_ws.services import etl, tokens
from aula_ws.services.clock import utc_now
from aula_ws.store import etl as etl_store
from aula_ws.store import platform
from aula_ws.store.database import create_database_engine
from aula_ws.store.unit_of_work import UnitOfWork
from tests.builders import PlatformBuilder
from tests.databases import fresh_database
from tests.e2e.server_process import ROOT, aula_env, running_server

PATHS = ("/webservice/rest/server.php", "/service/rest/server.php")
PAGE = 50
START = datetime(2026, 3, 1, 8)


def seed(url: str) -> SimpleNamespace:
    engine = create_database_engine(url)
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1"], group_id=64)
    b.member("lovecraft", 64, "A")
    b.user("root")
    b.user("former")
    b.user("plain")
    tokens.set_site_admin(engine, "root")
    tokens.set_site_admin(engine, "former")
    now = utc_now()
    with UnitOfWork(engine) as uow:  # 120 events, 4 per second: pages end mid-second
        platform.add_rows(
            uow.connection,
            "activity_log",
            [
                dict(
                    user_id=b.user_ids["lovecraft"],
                    group_id=64,
                    time=START + timedelta(seconds=n // 4),
                    action=f"a<{n}>",
                )
                for n in range(120)
            ],
        )
        uow.commit()
    secrets = {}
    for name, user, service, expires in [
        ("etl", "root", "etl", None),
        ("admin", "root", "admin", None),
        ("expired", "root", "etl", now - timedelta(seconds=1)),
        ("revoked", "root", "etl", None),
        ("former", "former", "etl", None),
    ]:
        token_id, secrets[name] = tokens.create_token(engine, user, service, now - timedelta(days=1), expires)
        if name == "revoked":
            tokens.revoke_token(engine, token_id, now)
    tokens.set_site_admin(engine, "former", on=False)
    return SimpleNamespace(engine=engine, url=url, secrets=secrets)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("etl")
    url = fresh_database(request, data_dir, "etl")
    seeded = seed(url)
    env = aula_env(data_dir, url, AULA_ETL_MAX_RECORDS=str(PAGE))
    with running_server(env) as server:
        seeded.server, seeded.env = server, env
        yield seeded
    seeded.engine.dispose()


def instance(site, plugin="boardz", delivery=None) -> int:
    return etl.add_instance(site.engine, plugin, f"consumer-{uuid.uuid4().hex[:8]}", utc_now(), delivery=delivery)


def call(site, method="GET", path=PATHS[0], token="etl", **params) -> requests.Response:
    values = {
        "wstoken": site.secrets.get(token, token),
        "wsfunction": "report_etl_get",
        "plugin": "boardz",
        "moodlewsrestformat": "json",
        **params,
    }
    values = {k: v for k, v in values.items() if v is not None}
    url = site.server.base_url + path
    if method == "GET":
        return requests.get(url, params=values, timeout=30)
    return requests.post(url, data=values, timeout=30)


def queryparams(**values) -> str:
    return json.dumps(values)


def logrecord_ids(xmlcontent: str) -> list[str | None]:
    return [r.findtext("id") for r in etree.fromstring(xmlcontent.encode())]


def test_get_and_post_on_both_paths_page_through_the_log_each_record_once(site):
    number = instance(site)
    ids, answers, params = [], [], {"query": "special_actions"}
    for turn in range(4):
        response = call(
            site, "GET" if turn % 2 else "POST", PATHS[turn % 2], id=number, queryparams=queryparams(**params)
        )
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
        answer = response.json()
        assert list(answer) == ["recordset", "records", "firsttime", "lasttime", "xmlcontent"]
        answers.append(answer)
        ids += logrecord_ids(answer["xmlcontent"])
        params["from"] = answer["lasttime"]
    assert [a["records"] for a in answers] == [50, 50, 20, 0]
    assert len(ids) == len(set(ids)) == 120
    first = etree.fromstring(answers[0]["xmlcontent"].encode())[0]
    assert [f.tag for f in first][1:] == sorted(f.tag for f in list(first)[1:])
    assert first.findtext("action") == " a<0> " and "<![CDATA[ a<0> ]]>" in answers[0]["xmlcontent"]


def test_acknowledge_commits_the_marks_for_the_next_extraction(site):
    number = instance(site, delivery="acknowledged")
    for _ in range(3):
        answer = call(site, id=number, queryparams=queryparams(query="special_actions")).json()
    assert answer["records"] == 50  # not acknowledged: the same first page again
    ack = call(site, id=number, queryparams=queryparams(query="special_acknowledge")).json()
    assert ack["records"] == 1
    assert (
        call(site, id=number, queryparams=queryparams(query="special_actions")).json()["firsttime"]
        > answer["firsttime"]
    )


def test_the_xml_format_wraps_the_same_answer_the_moodle_way(site):
    number = instance(site)
    response = call(site, id=number, queryparams=queryparams(query="special_actions"), moodlewsrestformat="xml")
    assert response.headers["Content-Type"].startswith("application/xml")
    document = etree.fromstring(response.content)
    assert document.tag == "RESPONSE"
    single = document.find("SINGLE")
    assert single is not None
    values = {key.get("name"): key.findtext("VALUE") for key in single}
    assert list(values) == ["recordset", "records", "firsttime", "lasttime", "xmlcontent"]
    xmlcontent = values["xmlcontent"]
    assert values["records"] == "50" and xmlcontent is not None and len(logrecord_ids(xmlcontent)) == 50


def test_the_admin_token_and_the_seeds_test_query_answer_too(site):
    number = instance(site, "progress")
    answer = call(
        site, token="admin", plugin="progress", id=number, queryparams=queryparams(query="special_test")
    ).json()
    assert answer["recordset"] == "special_test" and "<status>success</status>" in answer["xmlcontent"]
    progress = call(
        site, plugin="progress", id=number, queryparams=queryparams(query="special_progress", id_grupo=64)
    ).json()
    assert progress["records"] == 2  # _anonimo and lovecraft


@pytest.mark.parametrize(
    "change, exception, errorcode",
    [
        (dict(token=None), "moodle_exception", "invalidtoken"),
        (dict(token="not-a-token"), "moodle_exception", "invalidtoken"),
        (dict(token="revoked"), "moodle_exception", "invalidtoken"),
        (dict(token="expired"), "moodle_exception", "invalidtoken"),
        (dict(token="former"), "moodle_exception", "invalidtoken"),
        (dict(wsfunction="core_user_get_users"), "moodle_exception", "invalidfunction"),
        (dict(plugin="toamoodle"), "invalid_parameter_exception", "invalidparameter"),
        (dict(id="424242"), "invalid_parameter_exception", "invalidparameter"),
        (dict(queryparams='{"query": "special_actions"'), "invalid_parameter_exception", "invalidparameter"),
        (
            dict(queryparams='{"query": "special_actions", "from": 20, "to": 10}'),
            "invalid_parameter_exception",
            "invalidparameter",
        ),
    ],
)
@pytest.mark.parametrize("restformat", ["json", "xml"])
def test_each_refusal_has_moodles_shape_and_no_data(site, change, exception, errorcode, restformat):
    params = dict(id=instance(site), queryparams=queryparams(query="special_actions"), moodlewsrestformat=restformat)
    response = call(site, **{**params, **change})
    assert response.status_code == 200  # as Moodle sends its errors
    if restformat == "json":
        body = response.json()
        assert list(body)[:3] == ["exception", "errorcode", "message"]
        assert (body["exception"], body["errorcode"]) == (exception, errorcode) and body["message"]
    else:
        document = etree.fromstring(response.content)
        assert (document.tag, document.get("class"), document.findtext("ERRORCODE")) == (
            "EXCEPTION",
            exception,
            errorcode,
        )
    assert "logrecord" not in response.text


def test_an_extraction_running_in_another_process_makes_the_server_answer_etlbusy(site):
    number = instance(site)
    now = utc_now()
    with UnitOfWork(site.engine) as uow:
        assert etl_store.acquire_lease(uow.connection, number, "elsewhere", now, now + timedelta(minutes=5))
        uow.commit()
    busy = call(site, id=number, queryparams=queryparams(query="special_actions")).json()
    assert busy["errorcode"] == "ETLBUSY" and "only one extraction" in busy["message"].lower()
    client = admin_client(site)
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client.service.report_etl_get(
            plugin="boardz",
            id=number,
            queryparams=queryparams(query="special_actions"),
            _soapheaders=[token_header(site.secrets["etl"])],
        )
    assert fault.value.code.endswith("Client.ETLBUSY")
    with UnitOfWork(site.engine) as uow:
        etl_store.release_lease(uow.connection, number, "elsewhere")
        uow.commit()
    assert call(site, id=number, queryparams=queryparams(query="special_actions")).json()["records"] == PAGE


def admin_client(site) -> zeep.Client:
    return zeep.Client(f"{site.server.base_url}/soap/admin?wsdl")


def token_header(secret: str):
    element = etree.Element("wstoken")
    element.text = secret
    return element


TO = re.compile(r"<to>(\d+)</to>")


def test_soap_report_etl_get_answers_the_same_as_rest_with_an_etl_or_admin_token(site):
    number = instance(site)
    client = admin_client(site)
    params = queryparams(query="special_actions", **{"from": 0})
    asked_at = int(time.time())
    answer = client.service.report_etl_get(
        plugin="boardz", id=number, queryparams=params, _soapheaders=[token_header(site.secrets["etl"])]
    )
    rest = call(site, id=number, queryparams=params).json()
    answered_at = int(time.time())
    assert (answer.recordset, answer.records, answer.firsttime, answer.lasttime) == (
        rest["recordset"],
        rest["records"],
        rest["firsttime"],
        rest["lasttime"],
    )
    # each record's <to> is its extraction's end, the second the call ran: the two calls may fall
    # on either side of a second; everything else is the same text
    [soap_to], [rest_to] = set(TO.findall(answer.xmlcontent)), set(TO.findall(rest["xmlcontent"]))
    assert asked_at <= int(soap_to) <= int(rest_to) <= answered_at
    assert answer.xmlcontent == rest["xmlcontent"].replace(f"<to>{rest_to}</to>", f"<to>{soap_to}</to>")
    admin = client.service.report_etl_get(
        plugin="boardz",
        id=number,
        queryparams=queryparams(query="special_test"),
        _soapheaders=[token_header(site.secrets["admin"])],
    )
    assert admin.recordset == "special_test"
    for secret in (None, site.secrets["expired"], site.secrets["former"]):
        with pytest.raises(zeep.exceptions.Fault) as fault:
            client.service.report_etl_get(
                plugin="boardz", id=number, queryparams=params, _soapheaders=[token_header(secret)] if secret else None
            )
        assert fault.value.code.endswith("Client.Authentication")
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client.service.report_etl_get(
            plugin="boardz", id=number, queryparams="{nope", _soapheaders=[token_header(site.secrets["etl"])]
        )
    assert fault.value.code.endswith("Client.invalidparameter")


def test_tokens_never_reach_the_server_log(site):
    number = instance(site)
    for name in site.secrets:
        call(site, token=name, id=number, queryparams=queryparams(query="special_test"))
    call(site, token="not-a-token-but-secret", id=number, queryparams=queryparams(query="special_test"))
    log = site.server.log
    assert "report_etl_get refused" in log
    assert not any(secret in log for secret in site.secrets.values())
    assert "not-a-token-but-secret" not in log


def aula_ws(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_etl_commands_add_list_extract_reset_and_remove_instances(site):
    added = aula_ws(site.env, "etl", "add", "boardz", "--name", "cli-consumer")
    assert added.returncode == 0, added.stderr
    number = added.stdout.strip()
    assert number.isdigit()
    got = aula_ws(site.env, "etl", "get", number, '{"query": "special_actions"}')
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["records"] == PAGE
    listed = aula_ws(site.env, "etl", "list")
    assert f"{number}\tboardz\tcli-consumer\t" in listed.stdout and "special_actions: 2026-03-01" in listed.stdout
    changed = aula_ws(site.env, "etl", "set", number, "--delivery", "acknowledged")
    assert changed.returncode == 0, changed.stderr
    assert f"{number}\tboardz delivery=acknowledged\tcli-consumer" in aula_ws(site.env, "etl", "list").stdout
    assert aula_ws(site.env, "etl", "set", number, "--delivery", "never").returncode == 2
    assert aula_ws(site.env, "etl", "reset-marks", number).returncode == 0
    assert (
        "special_actions"
        not in [
            line for line in aula_ws(site.env, "etl", "list").stdout.splitlines() if line.startswith(f"{number}\t")
        ][0]
    )
    duplicate = aula_ws(site.env, "etl", "add", "boardz", "--name", "cli-consumer")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    bad = aula_ws(site.env, "etl", "get", number, '{"query": "special_actions", "from": 5, "to": 1}')
    assert bad.returncode == 2 and "after to" in bad.stderr
    assert aula_ws(site.env, "etl", "remove", number).returncode == 0
    assert aula_ws(site.env, "etl", "remove", number).returncode == 2


@pytest.mark.parametrize(
    "token, says", [("expired", "token expired"), ("former", "no right"), ("not-a-token", "not found")]
)
def test_every_token_failure_is_invalidtoken_with_a_message_saying_which(site, token, says):
    answer = call(site, token=token, id=instance(site), queryparams=queryparams(query="special_actions")).json()
    assert answer["errorcode"] == "invalidtoken" and says in answer["message"]
