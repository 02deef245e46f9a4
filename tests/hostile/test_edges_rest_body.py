"""Issue 10: the REST endpoint reads its body through the one limit (aula_ws/wsgi.py), so
AULA_REST_MAX_BODY governs it for real: a form body over 1 MiB (the fixed limit the endpoint
used to apply on top of the setting) but under the setting is served; over the setting it is
refused with Moodle's invalidparameter and nothing is written. Through the real server."""

from datetime import datetime

import pytest
import requests

from aula_ws.services import etl
from aula_ws.store.database import create_database_engine
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.hostile.soap_edge import seed_platform, stored_state

MIB = 1024 * 1024
LIMIT = 3 * MIB
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("rest-body")
    platform = seed_platform(data_dir, fresh_database(request, data_dir, "rest_body"))
    engine = create_database_engine(platform.database_url)
    instance = etl.add_instance(engine, "boardz", "rest-body", datetime.now())
    engine.dispose()
    with running_server(aula_env(data_dir, platform.database_url, AULA_REST_MAX_BODY=str(LIMIT))) as server:
        yield platform, instance, server


def form(platform, instance: int, size: int) -> bytes:
    """A report_etl_get call padded with an extra parameter to exactly `size` bytes."""
    body = (
        f"wstoken={platform.token}&wsfunction=report_etl_get&plugin=boardz&id={instance}&moodlewsrestformat=json"
        "&queryparams=%7B%22query%22%3A%22special_actions%22%7D&pad="
    ).encode()
    return body + b"x" * (size - len(body))


def test_a_form_body_over_one_mib_but_under_the_setting_is_served(site):
    platform, instance, server = site
    response = requests.post(
        f"{server.base_url}/webservice/rest/server.php",
        data=form(platform, instance, 2 * MIB),
        headers=FORM,
        timeout=60,
    )
    assert response.status_code == 200
    answer = response.json()
    assert "exception" not in answer, answer
    assert answer["recordset"] and answer["records"] == 0  # an empty platform: served, no records


def test_a_form_body_over_the_setting_is_refused_naming_it_and_nothing_is_written(site):
    platform, instance, server = site
    before = stored_state(platform)
    response = requests.post(
        f"{server.base_url}/webservice/rest/server.php?moodlewsrestformat=json",  # the body is not read
        data=form(platform, instance, LIMIT + 1),
        headers=FORM,
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json() == {
        "exception": "invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
        "debuginfo": f"The request is larger than {LIMIT} bytes",
    }
    assert stored_state(platform) == before
