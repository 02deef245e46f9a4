"""use_stats get_stats / get_scores on a known platform (tests/usage_dataset.py), SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from aula_ws.errors import CallerRefused, HostRefused, RecordMissing, StatsForbidden, UseStatsRefused
from aula_ws.rpc import messages
from aula_ws.services import peers, usage
from aula_ws.services.usage import Caller
from tests.mnet_peer import MOODLE, HandMadePeer, moodle_peer
from tests.usage_dataset import NOW, START, build_usage_platform

USER = "<USER><USERNAME>lovecraft</USERNAME><FIRSTNAME>Howard</FIRSTNAME><LASTNAME>Lovecraft</LASTNAME>"
LIT = "<NAME>Literatura &amp; &lt;Arte&gt;</NAME><SHORTNAME>lit</SHORTNAME><IDNUMBER>LIT-1</IDNUMBER>"
MATH = "<NAME>Matemática</NAME><SHORTNAME>math</SHORTNAME><IDNUMBER>MAT-1</IDNUMBER>"


@pytest.fixture
def moodle() -> HandMadePeer:
    return moodle_peer()


@pytest.fixture
def platform(engine, moodle):
    build_usage_platform(engine)
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, NOW)
    return engine


def caller(username: str = "lovecraft") -> Caller:
    return Caller(username, MOODLE, MOODLE)


def stats(engine, scope: int, username: str = "lovecraft", timefrom: int = 0, target: str = "lovecraft"):
    return usage.get_stats(engine, caller(username), target, scope, timefrom, now=lambda: NOW)


def test_scope_1_reports_the_site_time_in_whole_minutes(platform):
    report = stats(platform, 1)
    assert messages.stats_message(report) == (
        f"<USE_STATS>{USER}<FROM>0</FROM><ELAPSED>80</ELAPSED></USER></USE_STATS>"
    )


def test_scope_2_adds_each_course_with_its_imported_lesson_time(platform):
    assert messages.stats_message(stats(platform, 2)) == (
        f"<USE_STATS>{USER}<FROM>0</FROM><ELAPSED>80</ELAPSED></USER>"
        f"<COURSES><COURSE>{LIT}<ELAPSED>65</ELAPSED></COURSE><COURSE>{MATH}<ELAPSED>15</ELAPSED></COURSE></COURSES>"
        "</USE_STATS>"
    )


def test_scope_3_nests_each_courses_units_inside_it_with_their_name_type_and_code(platform):
    assert messages.stats_message(stats(platform, 3)) == (
        f"<USE_STATS>{USER}<FROM>0</FROM><ELAPSED>80</ELAPSED></USER><COURSES>"
        f"<COURSE>{LIT}<ELAPSED>65</ELAPSED><MODULES>"
        "<MODULE><NAME>Unidad 1</NAME><TYPE>L</TYPE><IDNUMBER>U1</IDNUMBER><ELAPSED>30</ELAPSED></MODULE>"
        "<MODULE><NAME>Tarea 2</NAME><TYPE>A</TYPE><IDNUMBER>U2</IDNUMBER><ELAPSED>25</ELAPSED></MODULE>"
        "</MODULES></COURSE>"
        f"<COURSE>{MATH}<ELAPSED>15</ELAPSED><MODULES></MODULES></COURSE>"
        "</COURSES></USE_STATS>"
    )


def test_timefrom_drops_earlier_activity_and_is_echoed_in_from(platform):
    after_first_half_hour = int((START + timedelta(minutes=30)).replace(tzinfo=UTC).timestamp())
    message = messages.stats_message(stats(platform, 2, timefrom=after_first_half_hour))
    # from 0:30: lit 10 + 15 (U2 last) = 25 plus the lesson time dated 1:00 (10) = 35; math 15
    assert f"<FROM>{after_first_half_hour}</FROM><ELAPSED>50</ELAPSED>" in message
    assert f"{LIT}<ELAPSED>35</ELAPSED>" in message


def test_no_activity_since_timefrom_is_the_empty_set(platform):
    later = int(NOW.replace(tzinfo=UTC).timestamp())
    assert messages.stats_message(stats(platform, 3, timefrom=later)) == "<USE_STATS><EMPTYSET/></USE_STATS>"


def test_the_answer_is_a_json_string_or_the_same_struct(platform):
    message = messages.stats_message(stats(platform, 1))
    as_json = messages.success(message, json_response=True)
    assert json.loads(as_json) == {"status": 200, "errors": [], "message": message}
    assert messages.success(message, json_response=False) == {"status": 200, "errors": [], "message": message}


def test_a_teacher_sees_a_student_only_in_the_groups_they_teach(platform):
    message = messages.stats_message(stats(platform, 3, username="borges"))
    assert "<SHORTNAME>math</SHORTNAME>" not in message
    assert f"<ELAPSED>65</ELAPSED></USER><COURSES><COURSE>{LIT}<ELAPSED>65</ELAPSED><MODULES>" in message
    assert message.endswith("</MODULES></COURSE></COURSES></USE_STATS>") and message.count("<COURSE>") == 1


def test_a_site_admin_sees_everything(platform):
    assert "<ELAPSED>80</ELAPSED></USER>" in messages.stats_message(stats(platform, 2, username="root"))


@pytest.mark.parametrize(
    "username, target, refused, status, text",
    [
        ("ashton", "lovecraft", StatsForbidden, 510, "Local user's identity has no capability to run"),
        ("nobody", "lovecraft", CallerRefused, 501, "Calling user has no local account. Register remote user first"),
        ("  ", "lovecraft", CallerRefused, 501, "Empty username."),
        ("lovecraft", "nobody", RecordMissing, 520, "Target user does not exist."),
    ],
)
def test_who_may_see_what(platform, username, target, refused, status, text):
    with pytest.raises(refused) as caught:
        stats(platform, 1, username=username, target=target)
    assert (caught.value.status, caught.value.errors) == (status, [text])


def test_a_calling_host_that_is_not_a_registered_peer_gets_500(platform):
    with pytest.raises(HostRefused) as caught:
        usage.get_stats(platform, Caller("lovecraft", "http://evil.test", "http://evil.test"), "lovecraft", 1, 0)
    assert caught.value.errors == ["Calling host is not registered. Check MNET configuration"]


def test_the_calling_host_must_be_the_host_that_signed(platform):
    with pytest.raises(HostRefused):
        usage.get_stats(platform, caller(), "lovecraft", 1, 0, signing_host="http://other.test")


def test_an_unknown_scope_is_refused(platform):
    with pytest.raises(UseStatsRefused) as caught:
        stats(platform, 4)
    assert caught.value.status == 500


def test_scores_are_the_mean_of_the_best_unit_scores_per_course(platform):
    report = usage.get_scores(platform, caller(), "lovecraft")
    assert messages.scores_message(report) == (
        f"<USE_STATS>{USER}</USER><COURSES>"
        f"<COURSE>{LIT}<SCORE>85.00</SCORE></COURSE><COURSE>{MATH}<SCORE></SCORE></COURSE>"
        "</COURSES></USE_STATS>"
    )


@pytest.mark.parametrize("field, identifier", [("shortname", "lit"), ("idnumber", "LIT-1"), ("id", "64")])
def test_scores_of_one_course_named_by_any_id_field(platform, field, identifier):
    report = usage.get_scores(platform, caller(), "lovecraft", "notes/global", field, identifier)
    assert [(c.shortname, str(c.score)) for c in report.courses] == [("lit", "85.00")]


def test_scores_of_an_unknown_course_are_520(platform):
    with pytest.raises(RecordMissing, match="Unknown course."):
        usage.get_scores(platform, caller(), "lovecraft", "notes/global", "shortname", "nope")


def test_a_teacher_gets_no_scores_of_a_course_they_do_not_teach(platform):
    with pytest.raises(StatsForbidden):
        usage.get_scores(platform, caller("borges"), "lovecraft", "notes/global", "shortname", "math")
    report = usage.get_scores(platform, caller("borges"), "lovecraft")
    assert [c.shortname for c in report.courses] == ["lit"]


def test_the_default_now_is_the_clock(platform):
    report = usage.get_stats(platform, caller(), "lovecraft", 1, 0)
    assert report.elapsed == 80 and datetime.now(UTC).year >= 2026


def test_a_logout_ends_the_session_and_a_grading_is_not_the_users_time(engine, moodle):
    """The engine's sessions read from the activity log's action column (the issue's example)."""
    builder = build_usage_platform(engine)
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, NOW)
    builder.member("poe", 64, "A")
    day = NOW - timedelta(hours=3)
    builder.activity("poe", 64, day, "U1")
    builder.activity("poe", 64, day + timedelta(minutes=5), action="loggedout")
    builder.activity("poe", 64, day + timedelta(minutes=30), action="graded")
    builder.activity("poe", 64, day + timedelta(minutes=55), action="loggedin")
    assert "<ELAPSED>20</ELAPSED></USER>" in messages.stats_message(stats(engine, 1, username="root", target="poe"))


OURS = "http://aula.test"


def test_the_caller_is_username_and_home_as_moodle_matches_it(engine, moodle):
    """A caller is (username, remoteuserhostroot): a local account of the same username is not
    the `admin` of peer X, and a user from a peer is not a local caller."""
    builder = build_usage_platform(engine)  # lovecraft, borges, ashton, root come from moodle.test
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, NOW)
    other = HandMadePeer("http://other.test")
    peers.add_peer(engine, other.wwwroot, other.certificate_pem, NOW)
    builder.user("admin", site_admin=True)  # local: its home is our own root

    def as_caller(username: str, home: str, host: str = MOODLE):
        return usage.get_stats(engine, Caller(username, home, host), "lovecraft", 1, 0, now=lambda: NOW, own_root=OURS)

    refused = "Calling user has no local account. Register remote user first"
    with pytest.raises(CallerRefused, match=refused):
        as_caller("admin", MOODLE)  # moodle.test's admin is not our admin
    with pytest.raises(CallerRefused, match=refused):
        as_caller("admin", "")
    assert as_caller("admin", OURS + "/").elapsed == 80  # our own admin, roaming through moodle.test
    assert as_caller("root", MOODLE).elapsed == 80
    with pytest.raises(CallerRefused, match=refused):
        as_caller("root", other.wwwroot, other.wwwroot)  # moodle.test's root, claimed by other.test
    with pytest.raises(CallerRefused, match=refused):
        as_caller("root", OURS)
