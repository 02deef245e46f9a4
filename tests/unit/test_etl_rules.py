from datetime import date, datetime
from urllib.parse import quote

import pytest
from lxml import etree

from aula_ws.domain.etl import (
    Position,
    acknowledge_xml,
    end_before,
    from_unix,
    logrecords,
    masked,
    parse_queryparams,
    parse_request,
    start_position,
    unix,
    wire_times,
)
from aula_ws.errors import EtlError

T = from_unix(1_700_000_000)


def test_without_from_an_extraction_starts_after_the_acknowledged_mark():
    acked, delivered = Position(T, (5,)), Position(from_unix(1_700_000_100), (9,))
    assert start_position(None, delivered, acked) == acked
    assert start_position(None, delivered, None) is None


def test_from_equal_to_the_last_delivered_second_continues_right_after_that_record():
    delivered = Position(T.replace(microsecond=250), (42,))
    assert start_position(1_700_000_000, delivered, None) == delivered


def test_any_other_from_starts_after_every_record_of_that_second():
    start = start_position(1_699_999_000, Position(T, (42,)), None)
    assert start is not None
    assert start.key is None
    assert unix(start.time) == 1_699_999_000 and start.time.microsecond == 999_999


def test_to_is_inclusive_of_its_whole_second_and_defaults_to_now():
    assert end_before(1_700_000_000, datetime(2030, 1, 1)) == from_unix(1_700_000_001)
    assert end_before(None, T.replace(microsecond=7)) == from_unix(1_700_000_001)


def test_unix_time_floors_including_before_1970():
    assert unix(datetime(1970, 1, 1, 0, 0, 1, 999_999)) == 1
    assert unix(datetime(1969, 12, 31, 23, 59, 59, 500_000)) == -1


def test_an_empty_page_answers_its_start_so_that_continuing_stays_put():
    assert wire_times([], None) == (0, 0)
    assert wire_times([], Position(T, (3,))) == (1_700_000_000, 1_700_000_000)
    assert wire_times([T, T.replace(second=T.second + 5)], None) == (1_700_000_000, 1_700_000_005)


def test_logrecords_number_the_records_and_write_fields_in_name_order_escaped():
    xml = logrecords(
        ("time", "action", "unit", "active", "day"),
        [
            (1, "a & <b>", None, True, date(2015, 6, 17)),
            (2, "bell\x07", "U1", False, None),
        ],
    )
    assert xml.startswith(
        '<logrecords><logrecord id="1"><action>a &amp; &lt;b&gt;</action><active>true</active>'
        "<day>2015-06-17</day><time>1</time><unit></unit></logrecord>"
    )
    second = etree.fromstring(xml)[1]
    assert second.get("id") == "2"
    assert (second.findtext("action"), second.findtext("active")) == ("bell\ufffd", "false")
    assert logrecords(("a",), []) == "<logrecords></logrecords>"


def test_acknowledge_lists_the_committed_marks_or_says_nothing_changed():
    assert acknowledge_xml({}) == "<acknowledge><nochange/></acknowledge>"
    assert acknowledge_xml({"special_actions": Position(T, (1,))}) == (
        '<acknowledge><lastextract query="special_actions">1700000000</lastextract></acknowledge>'
    )


def test_queryparams_may_arrive_url_encoded_once_more():
    text = '{"query": "special_actions", "from": 10}'
    assert parse_queryparams(quote(text)) == parse_queryparams(text) == {"query": "special_actions", "from": 10}


@pytest.mark.parametrize("raw", ["", "{", "%7B", "null", '"special_test"', "[1]"])
def test_queryparams_that_are_not_a_json_object_are_refused(raw):
    with pytest.raises(EtlError) as caught:
        parse_queryparams(raw)
    assert caught.value.errorcode in ("invalidparameter", "invalidqueryparams")


def test_the_request_is_checked_plugin_then_id_then_queryparams_then_range():
    with pytest.raises(EtlError, match="plugin"):
        parse_request("nope", "0", "{")
    with pytest.raises(EtlError, match="ETL id cannot be null"):
        parse_request("boardz", "0", "{")
    with pytest.raises(EtlError) as caught:
        parse_request("boardz", "3", '{"query": "special_actions", "from": "9", "to": 8}')
    assert caught.value.errorcode == "invalidrange"
    request = parse_request("progress", " 7 ", '{"query": "special_progress", "from": "9", "id_grupo": 64}')
    assert (request.instance_id, request.query, request.from_s, request.to_s) == (7, "special_progress", 9, None)
    with pytest.raises(EtlError, match="Unix time"):
        parse_request("boardz", "3", '{"query": "special_actions", "from": true}')


def test_masquerade_gives_each_login_a_stable_pseudonym_per_salt():
    assert masked("lovecraft", "s1") == masked("lovecraft", "s1") != masked("lovecraft", "s2")
    assert masked("lovecraft", "s1") != masked("borges", "s1")
