"""The sync planners read like CONTRACT.md section 5: each file's lines, planned against a
Snapshot built in memory (no database), give their actions or the reason they fail.

`run(kind, csv, snap)` reads the file's header and lines with the real readers and plans each
line in order, as a run does: a line's actions, or its error message."""

from collections.abc import Callable
from dataclasses import replace as dc_replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aula_ws.config_sync import SyncSettings
from aula_ws.domain.csv_rows import RowError
from aula_ws.domain.sync_rows import read_header, split_line
from aula_ws.sync import plan_courses as courses
from aula_ws.sync import plan_people as people
from aula_ws.sync.lines import PlanContext
from aula_ws.sync.snapshot import Rows, Snapshot

NOW = datetime(2026, 3, 10, 12, 0)
# tool_sync's defaults, but cohorts naming users and courses as the rest of these tests do
OPTIONS = SyncSettings(cohorts_useridentifier="username", cohorts_courseidentifier="shortname")
CTX = PlanContext(
    now=NOW, zone=ZoneInfo("UTC"), options=OPTIONS, hash_password=lambda password, old: f"hashed:{password}"
)


def with_options(**options):
    return dc_replace(CTX, options=dc_replace(OPTIONS, **options))


# each kind's reader and planner (their row types differ from kind to kind)
READERS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "users": (people.read_user, people.plan_user),
    "enrolments": (people.read_enrolment, people.plan_enrolment),
    "cohorts": (people.read_cohort, people.plan_cohort),
    "cohortscourses": (people.read_binding, people.plan_binding),
    "courses": (courses.read_course, courses.plan_course),
    "lessons": (courses.read_lesson, courses.plan_lesson),
}
ANA, LUIS, GUEST = 1, 2, 3
C1, C2 = 10, 20


def user(username, **fields):
    return {
        "username": username,
        "firstname": username.title(),
        "lastname": "Ruiz",
        "email": "",
        "idnumber": "",
        "suspended": False,
        "password_hash": None,
        "auth": "manual",
        **fields,
    }


def group(shortname, group_id, **fields):
    return {
        "shortname": shortname,
        "fullname": f"Course {shortname}",
        "id": group_id,
        "idnumber": "",
        "tracks_progress": True,
        "startdate": None,
        "visible": True,
        **fields,
    }


def membership(perfil="A", cohort_id=None, estado=True):
    return {
        "perfil": perfil,
        "administrador_grupo": False,
        "responsable_grupo": False,
        "estado": estado,
        "fecha_alta": date(2026, 1, 1),
        "endtime": None,
        "cohort_id": cohort_id,
    }


def platform(memberships=(), cohorts=(), members=(), bindings=()):
    """Ana (E-1) and Luis exist, and the guest (_anonimo); courses C1 (idnumber K-1) and C2; perfiles A, D, T."""
    return Snapshot(
        users=Rows([(ANA, user("ana", idnumber="E-1")), (LUIS, user("luis")), (GUEST, user("_anonimo"))]),
        groups=Rows([(C1, group("C1", C1, idnumber="K-1")), (C2, group("C2", C2))]),
        memberships=Rows(memberships),
        cohorts=Rows(cohorts),
        cohort_members=Rows(members),
        cohort_courses=Rows(bindings),
        profiles=frozenset("ADT"),
    )


def run(kind, csv, snap, ctx=CTX):
    header_line, *lines = csv.strip().splitlines()
    header = read_header(kind, split_line(header_line, ";"))
    read, plan = READERS[kind]
    outcomes = []
    for line in lines:
        try:
            outcomes.append(plan(read(split_line(line, ";"), header, ctx), snap, ctx))
        except RowError as error:
            outcomes.append(str(error))
    return outcomes


# users


def test_a_new_user_is_created_with_the_password_stored_hashed_and_never_shown():
    snap = platform()
    assert run("users", "username;firstname;lastname;password\nmar;Mar;Gil;s3cret", snap) == [
        [("added", 'user "mar" created (password ********)')]
    ]
    created = snap.users.get(("new", "mar"))
    assert created["password_hash"] == "hashed:s3cret" and created["suspended"] is False


def test_an_existing_user_is_updated_and_an_empty_optional_cell_keeps_the_stored_value():
    snap = platform()
    outcomes = run("users", "username;firstname;lastname;idnumber\nana;Ana María;Ruiz;\nluis;Luis;Ruiz;", snap)
    assert outcomes == [
        [("updated", 'user "ana" updated')],
        [("unchanged", 'user "luis" unchanged')],
    ]
    assert snap.users.get(ANA)["firstname"] == "Ana María" and snap.users.get(ANA)["idnumber"] == "E-1"


def test_deleted_1_deletes_the_account_and_its_enrolments():
    snap = platform(memberships=[((ANA, C1), membership())])
    assert run("users", "username;firstname;lastname;deleted\nana;;;1\nzoe;;;1", snap) == [
        [("removed", 'user "ana" deleted')],
        [("unchanged", 'no user with username "zoe" to delete')],  # reported, no failure
    ]
    assert snap.users.get(ANA) is None and snap.memberships.get((ANA, C1)) is None


def test_the_platforms_guest_user_cannot_be_changed_or_enrolled():
    guest = "_anonimo is the platform's own guest user and cannot be changed"
    snap = platform()
    assert run("users", "username;firstname;lastname\n_anonimo;Guest;User", snap) == [guest]
    assert run("enrolments", "cid;uid;rolename\nC1;_anonimo;A", snap) == [guest]
    assert snap.memberships.get((GUEST, C1)) is None


def test_with_users_identified_by_idnumber_a_username_held_by_another_user_is_refused():
    ctx = with_options(users_primaryidentity="idnumber")
    snap = platform()
    outcomes = run(
        "users",
        "idnumber;username;firstname;lastname\nE-1;ana2;Ana;Ruiz\nE-1;luis;Ana;Ruiz",
        snap,
        ctx,
    )
    assert outcomes == [
        [("updated", 'user "ana2" updated (was "ana")')],
        'username "luis" belongs to another user',
    ]
    assert snap.users.get(ANA)["username"] == "ana2"


def test_course_and_role_columns_enrol_on_the_fly_and_an_unknown_course_or_role_fails_the_line():
    snap = platform()
    outcomes = run(
        "users",
        "username;firstname;lastname;course1;role1;course2\n"
        "luis;Luis;Ruiz;C1;editingteacher;C2\n"
        "ana;Ana;Ruiz;C9;;\n"
        "ana;Ana;Ruiz;C1;rector;",
        snap,
    )
    assert outcomes == [
        [
            ("unchanged", 'user "luis" unchanged'),
            ("added", 'enrolled in "C1" as D'),
            ("added", 'enrolled in "C2" as A'),
        ],
        'no course with shortname "C9"',
        'role "rector" is neither a perfil of the platform nor a known Moodle role',
    ]
    assert snap.memberships.get((LUIS, C1))["perfil"] == "D" and snap.memberships.get((ANA, C1)) is None


def test_the_cohort_column_adds_the_user_to_the_cohort_creating_it_if_missing():
    snap = platform()
    assert run("users", "username;firstname;lastname;cohort\nluis;Luis;Ruiz;2026A", snap) == [
        [
            ("unchanged", 'user "luis" unchanged'),
            ("added", 'cohort "2026A" created'),
            ("added", '"luis" added to cohort "2026A"'),
        ]
    ]
    assert snap.cohort_members.get((("new", 0), LUIS)) == {}
    assert snap.cohorts.get(("new", 0)) == {"id": None, "idnumber": None, "name": "2026A", "description": ""}


def test_suspending_a_user_marks_their_memberships_for_a_new_estado():
    snap = platform()
    run("users", "username;firstname;lastname;suspended\nana;Ana;Ruiz;1", snap)
    assert snap.users.get(ANA)["suspended"] is True and snap.suspension_changed == {ANA}


# enrolments


def test_add_enrols_with_a_moodle_role_or_a_perfil_and_an_ended_enrolment_is_not_active():
    snap = platform()
    outcomes = run("enrolments", "cid;uid;rolename;endtime\nC1;luis;teacher;\nC2;luis;D;2026-01-31", snap)
    assert outcomes == [
        [("added", '"luis" in "C1" enrolled as T')],
        [("added", '"luis" in "C2" enrolled as D')],
    ]
    assert snap.memberships.get((LUIS, C1))["estado"] is True
    assert snap.memberships.get((LUIS, C2))["estado"] is False  # its endtime has passed


def test_shift_replaces_the_perfil_and_needs_an_enrolment():
    snap = platform(memberships=[((ANA, C1), membership("A"))])
    assert run("enrolments", "cmd;cid;uid;rolename\nshift;C1;ana;D\nshift;C1;ana;D\nshift;C2;ana;D", snap) == [
        [("updated", '"ana" in "C1" now D')],
        [("unchanged", '"ana" in "C1" already D')],
        [("added", '"ana" in "C2" enrolled as D')],  # shift enrols a non-member (tool_sync)
    ]


def test_del_unenrols_and_an_unknown_user_or_course_fails_the_line():
    snap = platform(memberships=[((ANA, C1), membership())])
    assert run(
        "enrolments",
        "cmd;cid;uid;rolename\ndel;C1;ana;\ndel;C1;ana;\nadd;C1;zoe;A\nadd;C9;ana;A",
        snap,
    ) == [
        [("removed", '"ana" in "C1" unenrolled')],
        [("unchanged", '"ana" in "C1": not enrolled, nothing to unenrol')],
        'no user with username "zoe"',
        'no course with shortname "C9"',
    ]
    assert snap.memberships.get((ANA, C1)) is None


def test_a_manual_enrolment_takes_over_an_enrolment_made_by_a_cohort():
    snap = platform(memberships=[((ANA, C1), membership(cohort_id=5))])
    assert run("enrolments", "cid;uid;rolename\nC1;ana;A", snap) == [[("updated", '"ana" in "C1" updated (A)')]]
    assert snap.memberships.get((ANA, C1))["cohort_id"] is None


def test_with_courses_identified_by_idnumber_the_cid_is_the_idnumber():
    ctx = with_options(enrols_courseidentifier="idnumber")
    snap = platform()
    assert run("enrolments", "cid;uid;rolename\nK-1;luis;A\nC1;luis;A", snap, ctx) == [
        [("added", '"luis" in "C1" enrolled as A')],
        'no course with idnumber "C1"',
    ]


# cohorts and bindings

COHORT_2026 = (5, {"id": 5, "idnumber": "2026A", "name": "2026A", "description": ""})


def test_cohort_add_creates_the_cohort_and_adds_the_member_who_gets_its_bound_courses():
    snap = platform(cohorts=[COHORT_2026], bindings=[((5, C1), {"perfil": "A"})])
    assert run("cohorts", "cidnumber;userid\n2026A;luis\n2026B;luis", snap) == [
        [
            ("added", '"luis" added to cohort "2026A"'),
            ("added", '"luis" enrolled in "C1" by cohort "2026A"'),
        ],
        [("added", 'cohort "2026B" created'), ("added", '"luis" added to cohort "2026B"')],
    ]
    assert snap.memberships.get((LUIS, C1))["cohort_id"] == 5


def test_cohort_del_removes_the_member_and_only_the_enrolments_the_binding_made():
    snap = platform(
        cohorts=[COHORT_2026],
        members=[((5, ANA), {}), ((5, LUIS), {})],
        bindings=[((5, C1), {"perfil": "A"})],
        memberships=[
            ((ANA, C1), membership(cohort_id=5)),
            ((LUIS, C1), membership(cohort_id=None)),
        ],
    )
    assert run("cohorts", "cmd;cidnumber;userid\ndel;2026A;ana\ndel;2026A;ana\nfree;2026A;", snap) == [
        [
            ("removed", '"ana" removed from cohort "2026A"'),
            ("removed", '"ana" unenrolled from "C1" (cohort "2026A")'),
        ],
        [("unchanged", '"ana" is not a member of cohort "2026A"')],
        [("removed", '"luis" removed from cohort "2026A"')],
    ]
    assert snap.memberships.get((ANA, C1)) is None and snap.memberships.get((LUIS, C1)) is not None


@pytest.mark.parametrize(
    "line, message",
    [
        (";;luis", "cidnumber is required"),
        ("del;2026Z;", 'no cohort with idnumber "2026Z"'),
    ],
)
def test_a_cohort_line_needs_its_cohort_and_a_member_to_remove(line, message):
    assert run("cohorts", f"cmd;cidnumber;userid\n{line}", platform(cohorts=[COHORT_2026])) == [message]


def test_binding_a_cohort_enrols_its_members_and_unbinding_unenrols_them():
    snap = platform(cohorts=[COHORT_2026], members=[((5, ANA), {})])
    assert run("cohortscourses", "cohort;course;cmd\n2026A;C2;add\n2026A;C2;del\n2026B;C2;add", snap) == [
        [
            ("added", 'cohort "2026A" -> "C2" bound as A'),
            ("added", '"ana" enrolled in "C2" by cohort "2026A"'),
        ],
        [
            ("removed", 'cohort "2026A" -> "C2" unbound'),
            ("removed", '"ana" unenrolled from "C2" (cohort "2026A")'),
        ],
        'no cohort with idnumber "2026B"',
    ]
    assert snap.memberships.get((ANA, C2)) is None


# courses and lessons


def test_a_new_course_keeps_the_id_it_is_given_and_an_existing_courses_id_never_changes():
    snap = platform()
    assert run(
        "courses",
        "shortname;fullname;id\nC3;Course three;77\nC1;Course one;99\nC4;Course four;20",
        snap,
        with_options(courses_forceupdate=True),
    ) == [
        [("added", 'course "C3" created with id 77')],
        'course "C1" has id 10, not 99: ids are kept',
        "id 20 belongs to another course",
    ]
    assert snap.groups.get(("new", "C3"))["id"] == 77


def test_a_course_is_updated_or_unchanged():
    snap, ctx = platform(), with_options(courses_forceupdate=True)
    assert run("courses", "shortname;fullname;visible\nC1;New name;\nC2;Course C2;1", snap, ctx) == [
        [("updated", 'course "C1" updated')],
        [("unchanged", 'course "C2" unchanged')],
    ]
    assert run("courses", "shortname;fullname\nC1;Newer name", snap) == [
        [("unchanged", 'course "C1" already exists (courses_forceupdate is off)')]
    ]
    assert snap.groups.get(C1)["fullname"] == "New name"


def test_with_courses_identified_by_idnumber_a_shortname_held_by_another_course_is_refused():
    ctx = with_options(courses_fileuploadidentifier="idnumber", courses_forceupdate=True)
    assert run("courses", "idnumber;shortname;fullname\nK-1;C2;Renamed", platform(), ctx) == [
        'shortname "C2" belongs to another course'
    ]


def test_deleting_a_course_deletes_its_lessons_and_enrolments():
    snap = platform(memberships=[((ANA, C1), membership())])
    snap.units = Rows([((C1, "U1"), {"name": "Intro", "type": "L", "position": 1})])
    header = read_header("courses", ["shortname", "fullname"])  # the deletion file has no header
    assert courses.plan_deletion(courses.read_deletion(["C1"], header, CTX), snap, CTX) == [
        ("removed", 'course "C1" deleted')
    ]
    assert snap.groups.get(C1) is None and snap.units.get((C1, "U1")) is None
    assert snap.memberships.get((ANA, C1)) is None
    with pytest.raises(RowError, match='no course with shortname "C9"'):
        courses.plan_deletion("C9", snap, CTX)


def test_lessons_are_added_with_a_type_updated_and_deleted():
    snap = platform()
    assert run(
        "lessons",
        "crsvname;lsnvname;name;lnk_type;cmd\n"
        "C1;U1;Intro;;\nC1;U1;Intro;L;\nC1;U1;Intro;;\nC1;U1;Welcome;;\nC1;U1;;;del\nC1;U1;;;del",
        snap,
    ) == [
        "lnk_type is required to create a lesson",
        [("added", 'lesson "U1" of "C1" created (L)')],
        [("unchanged", 'lesson "U1" of "C1" unchanged')],
        [("updated", 'lesson "U1" of "C1" updated')],
        [("removed", 'lesson "U1" of "C1" deleted')],
        'lesson "U1" of "C1": no such lesson',
    ]


# tool_sync's settings (reference/tool-sync-files.md)


def test_oldusername_renames_only_with_users_allowrename():
    snap = platform()
    csv = "username;oldusername;firstname;lastname\nANA.R;ana;Ana;Ruiz\nneo;ghost;N;O"
    assert run("users", csv, snap, with_options(users_allowrename=True)) == [
        [("updated", 'user "ana.r" updated (was "ana")')],
        'no user "ghost" to rename to "neo"',
    ]
    assert snap.users.get(ANA)["username"] == "ana.r"
    snap = platform()
    assert run("users", csv, snap)[0] == [("added", 'user "ana.r" created')]  # off: a new account


def test_emails_are_protected_unless_users_protectemails_is_off_and_a_new_one_may_not_collide():
    snap = platform()
    snap.put_user(LUIS, {**snap.users.get(LUIS), "email": "luis@x.org"})
    csv = "username;firstname;lastname;email\nana;Ana;Ruiz;ana@x.org\nmar;Mar;Gil;luis@x.org"
    assert run("users", csv, snap) == [
        [("unchanged", 'user "ana" unchanged')],
        'email "luis@x.org" belongs to another user',
    ]
    assert run("users", csv, snap, with_options(users_protectemails=False))[0] == [("updated", 'user "ana" updated')]
    assert snap.users.get(ANA)["email"] == "ana@x.org"


def test_profile_fields_auth_start_end_and_group_columns_of_the_users_file():
    snap = platform()
    csv = (
        "username;firstname;lastname;auth;profile_field_dni;course1;start1;end1;group1\n"
        "luis;Luis;Ruiz;cas;X-1;C1;1767225600;2026-01-31;G1"
    )
    assert run("users", csv, snap) == [
        [
            ("updated", 'user "luis" updated'),
            ("added", 'enrolled in "C1" as A'),
            ("added", '"luis" added to group "G1" of "C1" (created)'),
        ]
    ]
    assert snap.users.get(LUIS)["auth"] == "cas" and snap.profile_fields.get((LUIS, "dni")) == {"value": "X-1"}
    enrolled = snap.memberships.get((LUIS, C1))
    assert (enrolled["fecha_alta"], enrolled["estado"]) == (date(2026, 1, 1), False)  # ended on Jan 31


def test_enrols_protectgroups_leaves_groups_the_sync_did_not_make():
    snap = platform(memberships=[((ANA, C1), membership())])
    snap.course_groups = Rows([((C1, "Manual"), {}), ((C1, "Synced"), {})])
    snap.course_group_members = Rows(
        [(((C1, "Manual"), ANA), {"protected": False}), (((C1, "Synced"), ANA), {"protected": True})]
    )
    ctx = with_options(enrols_protectgroups=True)
    assert run("enrolments", "cid;uid;rolename;gcmd;g1\nC1;ana;A;greplace;Other", snap, ctx) == [
        [
            ("unchanged", '"ana" in "C1" unchanged'),
            ("removed", '"ana" removed from group "Synced" of "C1"'),
            ("unchanged", 'group "Other" of "C1" not known, cannot be created'),
        ]
    ]
    assert snap.course_group_members.get(((C1, "Manual"), ANA)) is not None


def test_cohorts_autocreate_off_and_conflicting_names_or_idnumbers_fail_the_line():
    snap = platform(cohorts=[COHORT_2026])
    assert run("cohorts", "cidnumber;cname\nNEW;x", snap, with_options(cohorts_autocreate=False)) == [
        'no cohort with idnumber "NEW" (cohorts_autocreate is off)'
    ]
    assert run("cohorts", "cidnumber;cname\nNEW;2026A", snap) == ['conflict: another cohort has the name "2026A"']
    by_name = with_options(cohorts_cohortidentifier="name")
    assert run("cohorts", "cname;cidnumber\nFresh;2026A", snap, by_name) == [
        'conflict: another cohort has the idnumber "2026A"'
    ]


def test_bindings_take_an_enrolment_window_and_role_star_unbinds_whatever_the_role():
    snap = platform(cohorts=[COHORT_2026], members=[((5, ANA), {})])
    csv = "cohort;course;role;enrolstart;enrolend\n2026A;C2;teacher;2026-02-01;2027-01-01\n2026A;C1;*;;"
    assert run("cohortscourses", csv, snap) == [
        [
            ("added", 'cohort "2026A" -> "C2" bound as T'),
            ("added", '"ana" enrolled in "C2" by cohort "2026A"'),
        ],
        "role * (every role) is only for del",
    ]
    enrolled = snap.memberships.get((ANA, C2))
    assert (enrolled["fecha_alta"], enrolled["endtime"]) == (date(2026, 2, 1), datetime(2027, 1, 1))
    assert run("cohortscourses", "cmd;cohort;course;role\nfulldel;2026A;C2;*", snap)[0][0] == (
        "removed",
        'cohort "2026A" -> "C2" unbound',
    )
