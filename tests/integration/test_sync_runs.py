"""Sync runs around the files: the drop folder and its locks, alarm mails over real SMTP,
runner locks, killed runs set aside, the schedule, avatar archives; SQLite and PostgreSQL."""

import io
import os
import socket
import time
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from PIL import Image
from sqlalchemy import insert, select

from aula_ws.config_sync import SmtpSettings
from aula_ws.errors import InvalidRequest
from aula_ws.services.sync import sync_file
from aula_ws.services.sync_capture import capture_drop_folder
from aula_ws.services.sync_schedule import run_due
from aula_ws.store.sync_locks import runner_lock
from aula_ws.store.tables import sync_runs, user_pictures, users
from tests.builders import PlatformBuilder

NOW = datetime(2026, 3, 10, 12, 0)
HOUR = 3600


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its port by connecting: pick a free one first
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def drop(settings):
    folder = settings.data_dir / "sync"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def store_names(settings):
    return sorted(p.name for p in (settings.data_dir / "syncfiles").iterdir() if p.is_file())


def test_the_capture_takes_settled_files_and_leaves_hidden_omitted_recent_and_lock_files(engine, settings, drop):
    for name in ("userimport.csv", ".hidden.csv", "_omitted.csv", "recent.csv"):
        (drop / name).write_text("x\n")
    age(drop / "userimport.csv", 60)
    (drop / "folder").mkdir()
    result = capture_drop_folder(engine, settings)
    assert result.captured == ["userimport.csv"] and result.waiting == ["recent.csv"]
    assert store_names(settings) == ["userimport.csv"]
    assert sorted(p.name for p in drop.iterdir()) == [".hidden.csv", "_omitted.csv", "folder", "recent.csv"]
    assert not (drop / "lock.txt").exists()


def test_with_alock_present_nothing_is_captured(engine, settings, drop):
    (drop / "alock.txt").write_text("")
    (drop / "enrols.csv").write_text("x\n")
    age(drop / "enrols.csv", 60)
    result = capture_drop_folder(engine, settings)
    assert (
        result.captured == [] and result.stopped is not None and "alock.txt" in result.stopped and result.alarms == []
    )
    assert (drop / "enrols.csv").exists()


def test_a_fresh_lock_txt_means_another_capture_runs_and_a_stale_one_is_taken_over(engine, settings, drop):
    (drop / "lock.txt").write_text("")
    (drop / "enrols.csv").write_text("x\n")
    age(drop / "enrols.csv", 60)
    assert capture_drop_folder(engine, settings).stopped is not None
    age(drop / "lock.txt", 4 * HOUR)
    result = capture_drop_folder(engine, settings)
    assert result.captured == ["enrols.csv"] and not (drop / "lock.txt").exists()


def test_stale_locks_send_one_alarm_mail_each_over_smtp(engine, settings, drop, smtp):
    port, mailbox = smtp
    settings = replace(
        settings,
        smtp=SmtpSettings(
            host="127.0.0.1", port=port, sender="aula@example.org", admin_email="admin@example.org", password="hunter2"
        ),
    )
    (drop / "alock.txt").write_text("")
    age(drop / "alock.txt", 4 * HOUR)
    for _ in range(3):
        assert capture_drop_folder(engine, settings).stopped is not None
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert (mail.mail_from, mail.rcpt_tos) == ("aula@example.org", ["admin@example.org"])
    text = mail.content.decode()
    assert "Too old write lock file." in text and "Possible remote writer process issue." in text
    (drop / "alock.txt").unlink()
    (drop / "lock.txt").write_text("")
    age(drop / "lock.txt", 4 * HOUR)
    capture_drop_folder(engine, settings)
    capture_drop_folder(engine, settings)
    assert len(mailbox.messages) == 2
    assert "Possible local sync process issue." in mailbox.messages[1].content.decode()
    # a new stale lock (another time) is another alarm
    (drop / "alock.txt").write_text("")
    age(drop / "alock.txt", 5 * HOUR)
    capture_drop_folder(engine, settings)
    assert len(mailbox.messages) == 3


def test_a_failed_alarm_mail_is_tried_again_at_the_next_capture(engine, settings, drop, smtp):
    port, mailbox = smtp
    (drop / "alock.txt").write_text("")
    age(drop / "alock.txt", 4 * HOUR)
    broken = replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=1, admin_email="admin@example.org", timeout=2))
    assert capture_drop_folder(engine, broken).alarms == []
    working = replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=port, admin_email="admin@example.org"))
    assert capture_drop_folder(engine, working).alarms == ["Too old write lock file."]
    assert len(mailbox.messages) == 1


def test_a_sync_run_captures_the_drop_folder_first(engine, settings, drop):
    PlatformBuilder(engine)
    (drop / "userimport.csv").write_text("username;firstname;lastname\ndropped;D;R\n")
    age(drop / "userimport.csv", 60)
    other = settings.data_dir / "other.csv"
    other.write_text("username;firstname;lastname\n")
    sync_file(engine, settings, "users", other, now=NOW)
    assert (settings.data_dir / "syncfiles" / "userimport.csv").exists()


def test_two_runners_never_hold_the_same_kind(engine, settings):
    stale = timedelta(hours=3)
    with runner_lock(engine, "sync:users", NOW, stale) as first:
        with (
            runner_lock(engine, "sync:users", NOW, stale) as second,
            runner_lock(engine, "sync:courses", NOW, stale) as other_kind,
        ):
            assert (first, second, other_kind) == (True, False, True)
        path = settings.data_dir / "u.csv"
        path.write_text("username;firstname;lastname\n")
        with pytest.raises(InvalidRequest, match="another runner"):
            sync_file(engine, settings, "users", path, now=NOW)
    with runner_lock(engine, "sync:users", NOW, stale) as again:
        assert again


def test_the_file_of_a_killed_run_is_set_aside_and_not_applied(engine, settings):
    path = settings.data_dir / "syncfiles" / "userimport.csv"
    path.parent.mkdir(parents=True)
    path.write_text("username;firstname;lastname\nhalf;H;F\n")
    with engine.begin() as connection:
        connection.execute(
            insert(sync_runs).values(
                kind="users", file_path=str(path), state="running", holder="gone:1:1", started_at=NOW
            )
        )
    result = sync_file(engine, settings, "users", path, now=NOW)
    assert result.skipped and result.set_aside == [path.parent / "userimport-tryback-failed.csv"]
    assert not path.exists() and (path.parent / "userimport-tryback-failed.csv").exists()
    with engine.connect() as connection:
        assert connection.scalars(select(users.c.username)).all() == ["_anonimo"]
        assert connection.scalars(select(sync_runs.c.state)).all() == ["crashed"]


def test_run_captures_refreshes_and_runs_each_due_kind_once_per_slot(engine, settings, drop):
    PlatformBuilder(engine).group("C1")
    settings = replace(settings, sync=replace(settings.sync, schedules={"courses": "0 * * * *", "users": "30 2 * * *"}))
    (drop / "uploadcourses.csv").write_text("shortname;fullname\nC2;Two\n")
    age(drop / "uploadcourses.csv", 60)
    first = run_due(engine, settings, NOW)
    assert [r.kind for r in first.results] == ["courses"] and first.absent == ["users"]
    assert first.results[0].archive_path is not None
    (settings.data_dir / "syncfiles" / "uploadcourses.csv").write_text("shortname;fullname\nC3;Three\n")
    assert run_due(engine, settings, NOW + timedelta(minutes=30)).results == []  # same slot
    later = run_due(engine, settings, NOW + timedelta(minutes=61))
    assert [r.input_name for r in later.results] == ["uploadcourses.csv"]


def test_a_wildcard_file_name_runs_every_match_in_name_order_and_old_outputs_are_cleaned(engine, settings):
    schedules = {"users": "* * * * *"}
    settings = replace(settings, sync=replace(settings.sync, schedules=schedules, file_names={"users": "users*.csv"}))
    store = settings.data_dir / "syncfiles"
    (store / "reports").mkdir(parents=True)
    (store / "archives").mkdir()
    old = [store / "reports" / "20250101-0000_report_x.csv", store / "archives" / "20250101-0000_x.csv"]
    old.append(store / "x_tryback_20250101-0000.csv")
    fresh = store / "reports" / "20260309-0000_report_y.csv"
    for path in (*old, fresh):
        path.write_text("x\n")
    for path in old:  # past tool_sync's default delay, 90 days
        os.utime(path, ((NOW - timedelta(days=91)).timestamp(),) * 2)
    os.utime(fresh, ((NOW - timedelta(days=1)).timestamp(),) * 2)
    (store / "users_b.csv").write_text("username;firstname;lastname\nbob;B;B\n")
    (store / "users_a.csv").write_text("username;firstname;lastname\nann;A;A\nx y;X;Y\n")
    (store / "enrols.csv").write_text("cid;uid;rolename\n")
    ran = run_due(engine, settings, NOW)
    assert [r.input_name for r in ran.results] == ["users_a.csv", "users_b.csv"]
    assert sorted(ran.cleaned) == sorted(old) and fresh.exists() and not any(p.exists() for p in old)
    # the tryback the run just wrote matches users*.csv's folder but is never an input
    assert [p.name for p in store.glob("users_a_tryback_*.csv")] and run_due(
        engine, settings, NOW + timedelta(minutes=1)
    ).absent == ["users"]


def png(size=(40, 20), color="red"):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def archive(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return out.getvalue()


def run_avatars(engine, settings, data, **sync):
    sync.setdefault("userpictures_userfield", "username")  # tool_sync's default is idnumber
    settings = replace(settings, sync=replace(settings.sync, **sync))
    path = settings.data_dir / "userpictures.zip"
    path.write_bytes(data)
    return sync_file(engine, settings, "avatars", path, now=NOW, want_text=True)


def pictures(engine):
    with engine.connect() as connection:
        return {
            name: (large, small)
            for name, large, small in connection.execute(
                select(users.c.username, user_pictures.c.large_png, user_pictures.c.small_png).join(user_pictures)
            )
        }


def test_avatars_are_checked_normalised_and_stored_and_bad_entries_reported(engine, settings):
    builder = PlatformBuilder(engine)
    for login in ("ann", "bob", "cid", "dan"):
        builder.user(login)
    gif = io.BytesIO()
    Image.new("P", (10, 10)).save(gif, format="GIF")
    result = run_avatars(
        engine,
        settings,
        archive(
            {
                "ann.png": png(),
                "bob.GIF": gif.getvalue(),
                "cid.jpg": b"not an image at all",
                "../ann.png": png(),
                "photos/2026/dan.png": png(),  # sub-folders are walked (tool_sync)
                "__MACOSX/photos/._dan.png": b"resource fork",  # skipped, not reported
                ".DS_Store": b"x",
                "ghost.png": png(),
                "ann.bmp": png(),
                "notes.txt": b"x",
            }
        ),
    )
    assert (result.counters.processed, result.counters.added, result.counters.failed) == (8, 3, 5)
    for entry in ("cid.jpg", "../ann.png", "ghost.png", "ann.bmp", "notes.txt"):
        assert f"{entry}: error:" in result.report_text
    assert "MACOSX" not in result.report_text and "DS_Store" not in result.report_text
    stored = pictures(engine)
    assert sorted(stored) == ["ann", "bob", "dan"]
    large, small = (Image.open(io.BytesIO(data)) for data in stored["ann"])
    assert (large.format, large.size, small.size) == ("PNG", (100, 100), (35, 35))
    assert result.tryback is None and not (settings.data_dir / "syncfiles" / "photos").exists()


def test_an_archive_that_expands_past_the_limit_is_refused_and_nothing_written(engine, settings):
    PlatformBuilder(engine).user("ann")
    bomb = archive({"ann.png": png(), "zeros.png": b"\0" * 3_000_000})
    result = run_avatars(engine, settings, bomb, avatars_max_bytes=1_000_000)
    assert "past the limit" in result.refused and pictures(engine) == {}
    forged = bytearray(archive({"ann.png": png(), "big.png": b"\0" * 3_000_000}))
    # an entry lying about its expanded size is never read past it: refused, never written
    marker = forged.rfind(b"PK\x01\x02")
    forged[marker + 24 : marker + 28] = (10).to_bytes(4, "little")
    result = run_avatars(engine, settings, bytes(forged), avatars_max_bytes=1_000_000)
    assert "big.png: error: cannot be read" in result.report_text and sorted(pictures(engine)) == ["ann"]


def test_a_decompression_bomb_image_and_a_broken_zip_are_refused(engine, settings):
    PlatformBuilder(engine).user("ann")
    huge = png(size=(6000, 6000), color="white")
    result = run_avatars(engine, settings, archive({"ann.png": huge}), avatar_max_pixels=1_000_000)
    assert result.counters.failed == 1 and "pixels" in result.report_text
    assert "not a ZIP" in run_avatars(engine, settings, b"PK\x03\x04 junk").refused
    assert pictures(engine) == {}


def test_pictures_named_by_the_user_field_setting_and_kept_when_overwrite_is_off(engine, settings):
    PlatformBuilder(engine).user("ann", idnumber="E-1", email="ann@x.org")
    first = run_avatars(engine, settings, archive({"E-1.png": png(color="red")}), userpictures_userfield="idnumber")
    assert first.counters.added == 1 and 'picture of idnumber "E-1" stored' in first.report_text
    stored = pictures(engine)["ann"]
    kept = run_avatars(
        engine,
        settings,
        archive({"ann@x.org.png": png(color="blue")}),
        userpictures_userfield="email",
        userpictures_overwrite=False,
    )
    assert kept.counters.unchanged == 1 and 'email "ann@x.org" has a picture, kept' in kept.report_text
    assert pictures(engine)["ann"] == stored
    replaced = run_avatars(engine, settings, archive({"ann.png": png(color="blue")}))
    assert replaced.counters.updated == 1 and pictures(engine)["ann"] != stored
