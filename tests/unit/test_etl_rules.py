from datetime import date, datetime
from urllib.parse import quote

import pytest
from lxml import etree

from aula_ws.domain.etl import (
    Position,
    acknowledge_xml,
    end_before,
    from_unix,
    masked,
    parse_queryparams,
    parse_request,
    parse_testmode,
    records_xml,
    start_position,
    unix,
    wire_times,
)
from aula_ws.errors import EtlError

T = from_unix(1_700_000_000)


def test_without_from_an_extraction_until_acknowledged_starts_after_the_acknowledged_mark():
    acked, delivered = Position(T, (5,)), Position(from_unix(1_700_000_100), (9,))
    assert start_position(None, delivered, acked, "acknowledged") == acked
    assert start_position(None, delivered, None, "acknowledged") is None


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


def test_records_are_boardzs_numbered_from_0_with_ix_and_fields_in_byte_order():
    xml = records_xml(
        "special_grades",
        ("time", "action", "unit", "active", "day", "Z"),
        [
            (1, "a & <b>", None, True, date(2015, 6, 17), "x"),
            (2, "bell\x07 & co", "U1", False, None, "y"),
        ],
    )
    assert xml.startswith(
        '<?xml version="1.0"  encoding="UTF-8" ?>\n<graderecords>\n\t<graderecord id="0">\n\t\t<ix>0</ix>\n'
        "\t\t<Z>x</Z>\n\t\t<action><![CDATA[ a & <b> ]]></action>\n\t\t<active>1</active>\n"
        "\t\t<day>2015-06-17</day>\n\t\t<time>1</time>\n\t\t<unit></unit>\n\t</graderecord>\n"
    )
    assert xml.endswith("\t</graderecord>\n\n</graderecords>")
    second = etree.fromstring(xml.encode())[1]
    assert second.get("id") == second.findtext("ix") == "1"
    assert (second.findtext("action"), second.findtext("active")) == ("bell\ufffd & co", "")
    assert records_xml("special_documents", (), []) == (
        '<?xml version="1.0"  encoding="UTF-8" ?>\n<documentrecords>\n\n</documentrecords>'
    )
    assert records_xml("special_actions", ("a",), []).startswith('<?xml version="1.0" encoding="UTF-8" ?>\n')


def test_acknowledge_says_the_mark_it_committed_or_that_nothing_changed():
    assert "<nochange>0</nochange>" in acknowledge_xml(None)
    assert acknowledge_xml(1_700_000_000).endswith(
        "\n<acknowledge>\n\t<lastextract>1700000000</lastextract>\n</acknowledge>\n"
    )


def test_without_from_a_boardz_delivery_continues_after_the_last_record_delivered():
    acked, delivered = Position(T, (5,)), Position(from_unix(1_700_000_100), (9,))
    assert start_position(None, delivered, acked, "extraction") == delivered
    assert start_position(None, delivered, acked, "acknowledged") == acked


@pytest.mark.parametrize(
    ("raw", "on"), [(None, False), ("", False), ("0", False), ("1", True), ("1.0", True), ("test", True)]
)
def test_testmode_is_on_for_test_or_what_php_reads_as_1(raw, on):
    assert parse_testmode(raw) is on


def test_queryparams_may_arrive_url_encoded_once_more():
    text = '{"query": "special_actions", "from": 10}'
    assert parse_queryparams(quote(text)) == parse_queryparams(text) == {"query": "special_actions", "from": 10}


@pytest.mark.parametrize("raw", ["", "{", "%7B", "null", '"special_test"', "[1]"])
def test_queryparams_that_are_not_a_json_object_are_refused(raw):
    with pytest.raises(EtlError) as caught:
        parse_queryparams(raw)
    assert caught.value.errorcode == "invalidparameter" and "queryparams" in (caught.value.debuginfo or "")


def test_the_request_is_checked_plugin_then_id_then_queryparams_then_range():
    with pytest.raises(EtlError, match="plugin"):
        parse_request("nope", "0", "{")
    with pytest.raises(EtlError, match="ETL id cannot be null"):
        parse_request("boardz", "0", "{")
    with pytest.raises(EtlError) as caught:
        parse_request("boardz", "3", '{"query": "special_actions", "from": "9", "to": 8}')
    assert caught.value.errorcode == "invalidparameter" and "is after to" in (caught.value.debuginfo or "")
    request = parse_request("progress", " 7 ", '{"query": "special_progress", "from": "9", "id_grupo": 64}')
    assert (request.instance_id, request.query, request.from_s, request.to_s) == (7, "special_progress", 9, None)
    with pytest.raises(EtlError, match="Unix time"):
        parse_request("boardz", "3", '{"query": "special_actions", "from": true}')


def test_masquerade_gives_each_login_a_stable_pseudonym_per_salt():
    assert masked("lovecraft", "s1") == masked("lovecraft", "s1") != masked("lovecraft", "s2")
    assert masked("lovecraft", "s1") != masked("borges", "s1")
