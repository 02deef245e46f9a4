"""Hostile requests to the ETL REST endpoint through a real server (issue 9, item 8):
each gets Moodle's error shape `{"exception", "errorcode", "message"}` naming the
problem; never waitress's 500, never `internalerror`, never a traceback, at most one
log line, and no mark moved, no lease left behind. SQLite and PostgreSQL."""

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from sqlalchemy import Engine, text

from aula_ws.services import etl, tokens
from aula_ws.services.clock import utc_now
from aula_ws.store import platform
from aula_ws.store.database import create_database_engine
from aula_ws.store.unit_of_work import UnitOfWork
from tests.builders import PlatformBuilder
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.hostile.server_log import logged_during

PATH = "/webservice/rest/server.php"
JSON_PATH = PATH + "?moodlewsrestformat=json"  # issue 13: XML unless JSON is asked
START = datetime(2026, 3, 1, 8)
DEEP = "[" * 5000 + "]" * 5000
ENDPOINT_LOGGERS = re.compile(r"\baula_ws\.(rest|services)\.")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("etl_hostile")
    url = fresh_database(request, data_dir, "etl")
    engine = create_database_engine(url)
    b = PlatformBuilder(engine)
    b.group("literatura", units=["U1"], group_id=64)
    b.member("lovecraft", 64, "A")
    b.user("root")
    tokens.set_site_admin(engine, "root")
    with UnitOfWork(engine) as uow:
        platform.add_rows(
            uow.connection,
            "activity_log",
            [
                dict(user_id=b.user_ids["lovecraft"], group_id=64, time=START + timedelta(seconds=n), action=f"a{n}")
                for n in range(10)
            ],
        )
        uow.commit()
    _, secret = tokens.create_token(engine, "root", "etl", utc_now() - timedelta(days=1), None)
    boardz = etl.add_instance(engine, "boardz", "hostile-boardz", utc_now())
    progress = etl.add_instance(engine, "progress", "hostile-progress", utc_now())
    with running_server(aula_env(data_dir, url, AULA_ETL_MAX_RECORDS="4")) as server:
        found = SimpleNamespace(server=server, engine=engine, token=secret, boardz=boardz, progress=progress)
        # a delivered mark to keep still: one page of actions, and one of progress
        assert get(found, queryparams=json.dumps({"query": "special_actions"})).json()["records"] == 4
        assert (
            get(
                found, plugin="progress", id=str(progress), queryparams=json.dumps({"query": "special_progress"})
            ).json()["records"]
            >= 1
        )
        yield found
    engine.dispose()


# --------------------------------------------------------------------------- helpers


def get(site, **params: str) -> requests.Response:
    values = {
        "wstoken": site.token,
        "wsfunction": "report_etl_get",
        "plugin": "boardz",
        "id": str(site.boardz),
        "moodlewsrestformat": "json",
        **params,
    }
    return requests.get(site.server.base_url + PATH, params=values, timeout=30)


def state(engine: Engine) -> list[tuple[Any, ...]]:
    """Every mark and every lease."""
    with engine.connect() as connection:
        marks = connection.execute(
            text(
                "SELECT instance_id, query, delivered_time, delivered_key, acked_time, acked_key, updated_at "
                "FROM etl_marks ORDER BY instance_id, query"
            )
        ).all()
        leases = connection.execute(text("SELECT id, lease_owner, lease_until FROM etl_instances ORDER BY id")).all()
    return [tuple(row) for row in [*marks, *leases]]


def refused(site, act: Callable[[], requests.Response], status: int = 200) -> dict[str, str]:
    """The Moodle error of a refused request, after checking that it changed nothing and
    logged at most one line and no traceback."""
    before = state(site.engine)
    response, lines = logged_during(site.server, act)
    assert state(site.engine) == before
    assert "Traceback" not in "".join(lines)
    assert len([line for line in lines if ENDPOINT_LOGGERS.search(line)]) <= 1, lines
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["errorcode"] != "internalerror"
    if "debuginfo" not in error:
        assert list(error) == ["exception", "errorcode", "message"], error
        return error
    # issue 13: Moodle's invalidparameter, its generic message, the detail as debuginfo
    assert list(error) == ["exception", "errorcode", "message", "debuginfo"], error
    assert error["errorcode"] == "invalidparameter" and error["message"] == "Invalid parameter value detected"
    return {**{k: v for k, v in error.items() if k != "debuginfo"}, "message": error["debuginfo"]}


def refused_get(site, **params: str) -> dict[str, str]:
    return refused(site, lambda: get(site, **params))


def raw_get(site, query: str) -> requests.Response:
    return requests.get(f"{site.server.base_url}{PATH}?{query}", timeout=30)


def base_query(site, **params: str) -> str:
    values = {
        "wstoken": site.token,
        "wsfunction": "report_etl_get",
        "plugin": "boardz",
        "id": str(site.boardz),
        "moodlewsrestformat": "json",
        **params,
    }
    return urlencode(values)


# --------------------------------------------------------------------------- queryparams


@pytest.mark.parametrize(
    "queryparams",
    [
        DEEP,
        '{"query": "special_actions", "x": ' + DEEP + "}",
        '{"a":' * 5000 + "1" + "}" * 5000,
    ],
)
def test_queryparams_nested_5000_deep_is_invalidqueryparams(site, queryparams):
    error = refused_get(site, queryparams=queryparams)
    assert error == {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "queryparams is not valid JSON: nested too deeply",
    }


def test_queryparams_url_encoded_again_and_again_is_not_decoded_without_end(site):
    error = refused_get(site, queryparams="%25" * 3000 + "7B")
    assert error["errorcode"] == "invalidparameter"
    nested = json.dumps({"query": "special_test"})
    for _ in range(3000):
        nested = quote(nested)
    assert refused_get(site, queryparams=nested)["errorcode"] == "invalidparameter"


def test_a_number_longer_than_python_reads_is_invalidqueryparams_without_internals(site):
    error = refused_get(site, queryparams='{"query": "special_actions", "from": ' + "9" * 5000 + "}")
    assert error["errorcode"] == "invalidparameter"
    assert error["message"] == "queryparams is not valid JSON: a number is too long"


@pytest.mark.parametrize("queryparams", ["hello", "{", "[1, 2]", "5", '"special_test"', "null", "true"])
def test_queryparams_that_are_not_a_json_object_are_invalidqueryparams(site, queryparams):
    assert refused_get(site, queryparams=queryparams)["errorcode"] == "invalidparameter"


@pytest.mark.parametrize("query", ['["special_actions"]', '{"a": 1}', "null", "5", '""'])
def test_a_query_that_is_not_a_string_is_invalidparameter(site, query):
    error = refused_get(site, queryparams='{"query": ' + query + "}")
    assert error["errorcode"] == "invalidparameter" and '"query"' in error["message"]


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize(
    "value",
    [
        "999999999999",
        "-999999999999",
        "253402300800",
        "-1",
        '"99999999999999999999"',
        "1.5",
        "1e999",
        "NaN",
        "Infinity",
        "true",
        "[1]",
        "{}",
        '"yesterday"',
    ],
)
def test_a_from_or_to_that_is_no_unix_time_of_years_1970_to_9999_is_invalidparameter(site, name, value):
    error = refused_get(site, queryparams='{"query": "special_actions", "' + name + '": ' + value + "}")
    assert error["errorcode"] == "invalidparameter"
    assert error["message"].startswith(f"{name} must be a Unix time in seconds from 0 to 253402300799, not ")


def test_the_last_second_of_year_9999_is_a_valid_to(site):
    before = state(site.engine)
    answer = get(site, queryparams=json.dumps({"query": "special_actions", "from": 0, "to": 253402300799})).json()
    assert answer["records"] == 4 and answer["recordset"] == "special_actions"
    assert state(site.engine) != before  # an answered extraction moves its delivered mark


@pytest.mark.parametrize("ackquery", ['["special_actions"]', '{"a": 1}', "true"])
def test_an_ackquery_that_is_not_text_is_invalidparameter(site, ackquery):
    error = refused_get(site, queryparams='{"query": "special_acknowledge", "ackquery": ' + ackquery + "}")
    assert error == {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "ackquery must be a string or a number",
    }


@pytest.mark.parametrize("name", ["id_grupo", "perfil", "id_usuario", "fecha_desde", "fecha_hasta"])
@pytest.mark.parametrize("value", ["[1]", '{"a": [[[]]]}', "false"])
def test_a_progress_parameter_that_is_not_text_is_invalidparameter(site, name, value):
    error = refused_get(
        site,
        plugin="progress",
        id=str(site.progress),
        queryparams='{"query": "special_progress", "' + name + '": ' + value + "}",
    )
    assert error["errorcode"] == "invalidparameter"
    assert error["message"] == f"{name} must be a string or a number"


def test_a_5000_digit_id_grupo_is_idgrupoinvalido(site):
    error = refused_get(
        site,
        plugin="progress",
        id=str(site.progress),
        queryparams=json.dumps({"query": "special_progress", "id_grupo": "9" * 5000}),
    )
    assert error["errorcode"] == "invalidparameter"
    assert error["message"].startswith("Educativa::Aula::Error::IdGrupoInvalido: ")


# --------------------------------------------------------------------------- the other parameters


@pytest.mark.parametrize("instance_id", ["9" * 40, "-1", "1.5", "abc", "\u0661", "", "0x1"])
def test_an_id_that_is_not_an_instance_id_is_invalidparameter(site, instance_id):
    error = refused_get(site, id=instance_id, queryparams='{"query": "special_test"}')
    assert error["errorcode"] == "invalidparameter" and " id " in error["message"]


def test_an_unknown_plugin_and_an_unknown_instance_are_named(site):
    assert (
        refused_get(site, plugin="evil" * 10_000, queryparams='{"query": "special_test"}')["errorcode"]
        == "invalidparameter"
    )
    assert refused_get(site, id="999999999", queryparams='{"query": "special_test"}')["errorcode"] == "invalidparameter"


def test_missing_parameters_are_named(site):
    assert refused_get(site, plugin="", queryparams='{"query": "special_test"}')["message"] == (
        "Missing required key in single structure: plugin"
    )
    assert refused_get(site)["message"] == "Missing required key in single structure: queryparams"
    missing_token = refused(site, lambda: requests.get(site.server.base_url + JSON_PATH, timeout=30))
    assert missing_token["errorcode"] == "invalidtoken"


def test_a_repeated_parameter_counts_its_last_value_as_php_does(site):
    query = base_query(site, queryparams='{"query": "special_test"}') + "&id=abc"
    assert refused(site, lambda: raw_get(site, query))["message"].endswith("id 'abc' is not an instance id")


@pytest.mark.parametrize(
    "where, query",
    [
        ("the query string", "&plugin=%FF%FE"),
        ("the query string", "&queryparams=%7B%22query%22%3A%22%ED%A0%80%22%7D"),  # a UTF-8-encoded surrogate
    ],
)
def test_parameters_that_are_not_utf8_are_invalidparameter(site, where, query):
    error = refused(site, lambda: raw_get(site, base_query(site) + query))
    assert error == {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": f"{where} is not UTF-8 text",
    }


def test_a_post_body_that_is_not_utf8_is_invalidparameter(site):
    body = base_query(site, queryparams='{"query": "special_test"}').encode() + b"&plugin=\xff"
    error = refused(
        site,
        lambda: requests.post(
            site.server.base_url + JSON_PATH,
            data=body,
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    )
    assert error["message"] == "the POST body is not UTF-8 text"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x"])
def test_a_post_body_that_is_not_a_form_is_invalidparameter_naming_its_type(site, content_type):
    body = base_query(site, queryparams='{"query": "special_test"}').encode()
    error = refused(
        site,
        lambda: requests.post(
            site.server.base_url + JSON_PATH, data=body, headers={"Content-Type": content_type}, timeout=30
        ),
    )
    assert error["errorcode"] == "invalidparameter"
    assert error["message"].endswith(f"must be application/x-www-form-urlencoded, not {content_type.split(';')[0]}")


def test_a_form_post_and_a_get_with_the_same_parameters_answer_alike(site):
    query = {
        "wstoken": site.token,
        "wsfunction": "report_etl_get",
        "plugin": "boardz",
        "id": str(site.boardz),
        "queryparams": '{"query": "special_test"}',
        "moodlewsrestformat": "json",
    }
    posted = requests.post(site.server.base_url + PATH, data=query, timeout=30).json()
    fetched = requests.get(site.server.base_url + PATH, params=query, timeout=30).json()
    assert posted["recordset"] == fetched["recordset"] == "special_test"
    bad = {**query, "queryparams": DEEP}
    assert refused(site, lambda: requests.post(site.server.base_url + PATH, data=bad, timeout=30))["errorcode"] == (
        "invalidparameter"
    )


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_another_http_method_is_405_with_moodles_error_shape(site, method):
    error = refused(site, lambda: requests.request(method, site.server.base_url + JSON_PATH, timeout=30), status=405)
    assert error == {
        "exception": "moodle_exception",
        "errorcode": "invalidmethod",
        "message": f"report_etl_get is called with GET or POST, not {method}",
    }
