from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from aula_ws.domain.contract_dates import ProgressWindow, end_of_day, progress_window
from aula_ws.errors import FechaFormatoInvalido, FechaInvalida, RangoFechaInvalido

UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    "text, day",
    [
        ("2014-11-05", date(2014, 11, 5)),
        ("2014 11 05", date(2014, 11, 5)),
        ("2014-1-5", date(2014, 1, 5)),
        ("2014 - 01 -  5", date(2014, 1, 5)),
        ("2014--11  05", date(2014, 11, 5)),
        ("2016-02-29", date(2016, 2, 29)),
        ("1000-01-01", date(1000, 1, 1)),
        ("  2014-11-05\n ", date(2014, 11, 5)),
    ],
)
def test_dates_separated_by_dashes_or_spaces_are_read(text, day):
    assert progress_window(text, None, UTC) == ProgressWindow(upper=end_of_day(day, UTC))


@pytest.mark.parametrize(
    "text",
    [
        "2014/11/05",
        "20141105",
        "2014-11-05T00:00",
        "abc",
        "2014.11.05",
        "2014-11",
        "2014_11_05",
        "٢٠١٤-١١-٠٥",
        "-2014-11-05",
        "2014-11-05 10:00",
    ],
)
def test_dates_without_valid_separators_are_a_format_error(text):
    with pytest.raises(FechaFormatoInvalido) as caught:
        progress_window(text, None, UTC)
    assert text.strip()[:20] in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "14-11-05",
        "0999-12-31",
        "10000-01-01",
        "2014-13-01",
        "2014-00-10",
        "2014-11-32",
        "2014-11-00",
        "2014-011-05",
        "2014-11-005",
        "2014-11-31",
        "2015-02-29",
        "1900-02-29",
    ],
)
def test_impossible_dates_are_invalid(text):
    with pytest.raises(FechaInvalida):
        progress_window(text, None, UTC)


def test_a_format_error_in_either_date_comes_before_an_invalid_date():
    with pytest.raises(FechaFormatoInvalido):
        progress_window("2014-11-31", "2014/12/01", UTC)


def test_an_invalid_date_comes_before_a_reversed_range():
    with pytest.raises(FechaInvalida):
        progress_window("2015-01-01", "2014-02-30", UTC)


def test_fecha_hasta_before_fecha_desde_is_a_range_error():
    with pytest.raises(RangoFechaInvalido):
        progress_window("2015-01-02", "2015-01-01", UTC)


def test_the_same_day_twice_is_a_valid_range():
    window = progress_window("2015-01-01", "2015 01 01", UTC)
    assert window.upper == window.lower == end_of_day(date(2015, 1, 1), UTC)


def test_only_fecha_desde_acts_as_an_upper_bound():
    window = progress_window("2015-06-17", None, UTC)
    assert window == ProgressWindow(upper=datetime(2015, 6, 17, 23, 59, 59, 999999))
    assert window.dated


def test_only_fecha_hasta_is_ignored():
    assert progress_window(None, "2015-06-17", UTC) == ProgressWindow()
    assert progress_window("", "2015-06-17", UTC) == ProgressWindow()
    assert not ProgressWindow().dated


def test_only_fecha_hasta_is_still_checked():
    with pytest.raises(FechaFormatoInvalido):
        progress_window(None, "17/06/2015", UTC)


def test_both_dates_compute_between_their_ends_of_day():
    window = progress_window("2015-01-01", "2015-12-31", UTC)
    assert window.lower == datetime(2015, 1, 1, 23, 59, 59, 999999)
    assert window.upper == datetime(2015, 12, 31, 23, 59, 59, 999999)


def test_the_end_of_a_day_is_taken_in_the_service_time_zone():
    buenos_aires = ZoneInfo("America/Argentina/Buenos_Aires")  # UTC-3
    assert end_of_day(date(2015, 6, 17), buenos_aires) == datetime(2015, 6, 18, 2, 59, 59, 999999)


def test_the_last_day_of_year_9999_does_not_overflow_west_of_utc():
    assert end_of_day(date(9999, 12, 31), ZoneInfo("America/New_York")) == datetime.max
