"""An administrator who has never used a terminal, in a real browser: signs in, reads the
synthesis, uploads a tool_sync file and a statistics file, reads what happened, fixes a
rejected line; in English, French and Spanish. And the door holds: no session, no CSRF token,
too many wrong passwords."""

import re

import pytest
import requests
from sqlalchemy import func, select

from aula_ws.store.tables import audit_log, lesson_sessions, users
from tests.browser.conftest import MAX_BODY, PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.browser

USERS_FILE = "username;firstname;lastname\ncarla;Carla;Diaz\nbad name;Bad;Name\n"
LESSONS_FILE = (
    "user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score\tlesson_time\tilt_status\n"
    "ann\tC1\tU1\tL\tP\t2024/03/22\t90\t1800\t\n"
    "nobody\tC1\tU1\tL\tP\t2024/03/22\t80\t600\t\n"
    "bob\tC1\tU2\tL\tC\t2024/03/23\t70\t300\t\n"
)


def count(console, table, *where):
    with console.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table).where(*where))


def test_a_page_without_a_session_is_redirected_to_sign_in(console, page):
    page.goto(console.url("/files"))
    assert page.url.startswith(console.url("/sign-in"))
    assert "next=/admin/files" in page.url
    screenshot(page, "01_sign_in")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == console.url("/files")  # back where the admin was going


def test_an_admin_signs_in_and_reads_the_synthesis(console, page):
    sign_in(page, console)
    assert page.inner_text("h1") == "Synthesis"
    counts = page.inner_text("#counts")
    assert "Users" in counts and "Courses" in counts
    assert re.search(rf"\b{count(console, users)}\s+Users", counts)
    screenshot(page, "02_synthesis")
    cookie = next(c for c in page.context.cookies() if c["name"] == "aula_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"
    page.click("text=Sign out")
    assert page.url.startswith(console.url("/sign-in"))
    page.goto(console.url("/"))
    assert page.url.startswith(console.url("/sign-in"))  # the session is gone


def test_a_sync_file_uploaded_is_simulated_then_run(console, page, tmp_path):
    source = tmp_path / "userimport.csv"
    source.write_text(USERS_FILE)
    sign_in(page, console)
    page.click("nav >> text=Files")
    page.set_input_files("#file", str(source))
    page.click("button:has-text('Upload')")
    assert "The file was uploaded." in page.inner_text(".notice")
    row = page.locator("#area-inputs tr", has_text="userimport.csv")
    assert row.locator("select[name=kind]").input_value() == "users"  # its kind, from the configured name
    screenshot(page, "03_files")

    row.locator("button[value=simulate]").click()
    assert "Simulation of userimport.csv" in page.inner_text("h1")
    assert "bad name" in page.inner_text("#report")
    screenshot(page, "04_sync_simulated")
    assert count(console, users, users.c.username == "carla") == 0  # a simulation writes nothing

    page.click("text=Back to the files")
    page.locator("#area-inputs tr", has_text="userimport.csv").locator("button[value=real]").click()
    assert "Run of userimport.csv" in page.inner_text("h1")
    screenshot(page, "05_sync_run")
    assert count(console, users, users.c.username == "carla") == 1
    tryback = page.get_attribute("text=Tryback file", "href")
    assert tryback is not None
    with page.expect_download() as download:
        page.click("text=Tryback file")
    assert download.value.path().read_text() == "username;firstname;lastname\nbad name;Bad;Name\n"

    page.click("nav >> text=Synthesis")
    runs = page.inner_text("#runs")
    assert "users" in runs and "userimport.csv" in runs and "done" in runs
    page.click("nav >> text=Users")
    page.fill("input[name=q]", "carla")
    page.press("input[name=q]", "Enter")
    page.click("#records >> text=carla")
    assert "carla" in page.inner_text("#sync-lines")  # the last sync lines that touched her
    screenshot(page, "06_user_record")


def test_the_wizard_imports_a_file_with_rejected_lines_then_the_fixed_rejects(console, page, tmp_path):
    source = tmp_path / "lessons.csv"
    source.write_text(LESSONS_FILE)
    sign_in(page, console)
    page.click("nav >> text=Import statistics")
    screenshot(page, "07_wizard_1_choose")
    with page.expect_download() as sample:
        page.click("a[href$='/import/sample/lessons']")
    assert sample.value.path().read_text().startswith("user_loginid")
    page.set_input_files("#file", str(source))
    page.click("button:has-text('Next'), a:has-text('Next')")

    assert page.url.endswith("/check")
    check = page.locator("#check")
    assert check.locator("[data-counter=processed]").inner_text() == "3"
    assert check.locator("[data-counter=rejected]").inner_text() == "1"
    assert "nobody" in page.inner_text("#journal")
    screenshot(page, "08_wizard_2_check")
    assert count(console, lesson_sessions) == 0  # the check is a dry run

    page.click("button:has-text('Next'), a:has-text('Next')")
    screenshot(page, "09_wizard_3_options")
    page.check("input[value=reject]")
    page.click("button:has-text('Import')")
    page.wait_for_selector("#import[data-state=done]")
    result = page.locator("#result")
    assert result.locator("[data-counter=processed]").inner_text() == "3"
    assert result.locator("[data-counter=rejected]").inner_text() == "1"
    assert result.locator("[data-counter=added]").inner_text() == "2"
    screenshot(page, "10_wizard_4_result")
    assert count(console, lesson_sessions) == 2

    with page.expect_download() as journal:
        page.click("#journal-link")
    assert "nobody" in journal.value.path().read_text()
    with page.expect_download() as rejects:
        page.click("#rejects-link")
    rejected = rejects.value.path().read_text()
    assert "nobody" in rejected and "ann" not in rejected

    # the administrator fixes the rejected line (the learner's real login) and imports it again
    fixed = tmp_path / "lessons-fixed.csv"
    fixed.write_text(rejected.replace("nobody", "ann").replace("\tU1\t", "\tU2\t"))
    page.click("text=Import another file")
    page.set_input_files("#file", str(fixed))
    page.click("button:has-text('Next'), a:has-text('Next')")
    assert page.locator("#check [data-counter=rejected]").inner_text() == "0"
    page.click("button:has-text('Next'), a:has-text('Next')")
    page.click("button:has-text('Import')")
    page.wait_for_selector("#import[data-state=done]")
    assert page.locator("#result [data-counter=added]").inner_text() == "1"
    assert page.locator("#rejects-link").count() == 0
    assert count(console, lesson_sessions) == 3


def test_a_refused_file_gets_the_cli_answer_and_an_oversize_upload_is_refused(console, page, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user_loginid\tcrsvname\tcourse_status\nJosé\tC1\tI\n".encode("latin-1"))
    sign_in(page, console)
    page.click("nav >> text=Import statistics")
    page.check("input[value=courses]")
    page.set_input_files("#file", str(latin))
    page.click("button:has-text('Next'), a:has-text('Next')")
    refused = page.inner_text("#refused")
    assert "UTF-8" in refused or "utf-8" in refused  # the CLI's words: the file is not in its encoding
    assert page.locator("text=Next").count() == 0  # no way forward with a refused file

    page.click("nav >> text=Import statistics")
    page.click("button:has-text('Next'), a:has-text('Next')")  # nothing chosen: a message next to the field
    assert page.inner_text("#error-file") == "Choose a file to import."

    big = tmp_path / "big.csv"
    big.write_bytes(b"username;firstname;lastname\n" + b"x;y;z\n" * (MAX_BODY // 6 + 10))
    page.click("nav >> text=Files")
    page.set_input_files("#file", str(big))
    page.click("button:has-text('Upload')")
    assert f"larger than the {MAX_BODY} bytes" in page.inner_text("body")
    page.goto(console.url("/files"))
    assert "big.csv" not in page.inner_text("main")  # nothing half-stored


@pytest.mark.parametrize("page", ["fr-FR"], indirect=True)
def test_the_pages_in_french_then_spanish(console, page):
    page.goto(console.url("/"))
    assert page.inner_text("h1") == "Se connecter"
    sign_in(page, console)
    assert page.inner_text("h1") == "Synthèse"
    assert "Utilisateurs" in page.inner_text("#counts")
    screenshot(page, "11_synthesis_fr")
    page.click("nav >> text=Import de statistiques")
    assert "1 Sélection du fichier à importer" in page.inner_text(".steps")
    page.click("text=Español")
    assert "Importar estadísticas" in page.inner_text("h1")
    assert "1 Selección del archivo" in page.inner_text(".steps")
    screenshot(page, "12_wizard_es")
    page.click("nav >> text=Síntesis")
    assert page.inner_text("h1") == "Síntesis"


def test_a_post_without_the_csrf_token_is_refused(console, page):
    sign_in(page, console)
    before = count(console, audit_log, audit_log.c.action == "token created")
    answer = page.request.post(console.url("/tokens/create"), form={"user": "admin", "service": "admin"})
    assert answer.status == 403
    forged = page.request.post(
        console.url("/tokens/create"), form={"user": "admin", "service": "admin", "csrf": "0" * 64}
    )
    assert forged.status == 403
    assert count(console, audit_log, audit_log.c.action == "token created") == before  # nothing done
    # without the session cookie at all (another site's form): sent to sign in, nothing done
    bare = requests.post(
        console.url("/tokens/create"), data={"user": "admin", "service": "admin"}, allow_redirects=False
    )
    assert bare.status_code == 303 and "/admin/sign-in" in bare.headers["Location"]


def test_a_wrong_password_is_limited(console, page):
    for _ in range(5):
        sign_in(page, console, "target", "wrong password")
        assert "Wrong login or password" in page.inner_text("#error-password")
    sign_in(page, console, "target", PASSWORD)  # even the right one, now
    assert "Too many failed attempts" in page.inner_text("#error-password")
    screenshot(page, "13_sign_in_limited")
    with console.engine.connect() as connection:
        details = connection.scalars(select(audit_log.c.detail).where(audit_log.c.username == "target")).all()
    assert all(PASSWORD not in detail and "wrong password" not in detail for detail in details)


def test_control_screens_tokens_peers_and_etl(console, page):
    sign_in(page, console)
    for kind, title, name in [
        ("groups", "Courses", "14_courses"),
        ("units", "Units", "15_units"),
        ("memberships", "Enrolments", "16_enrolments"),
        ("cohorts", "Cohorts", "17_cohorts"),
        ("avatars", "Avatars", "18_avatars"),
    ]:
        page.click(f"nav >> text={title}")
        assert page.inner_text("h1") == title and page.url.endswith(f"/records/{kind}")
        screenshot(page, name)
    avatar = page.locator("#records img.avatar").first
    assert avatar.evaluate("image => image.naturalWidth") == 35  # the stored picture, shown
    page.click("#records >> text=ann")
    assert page.locator("img[src*='size=large']").evaluate("image => image.naturalWidth") == 100
    page.click("nav >> text=Courses")
    page.click("#records >> text=C1")
    assert "ann" in page.inner_text("#memberships") and "bob" in page.inner_text("#memberships")
    screenshot(page, "19_course_record")

    page.click("nav >> text=Tokens")
    page.fill("#user", "admin")
    page.click("button:has-text('Create')")
    secret = page.inner_text("#secret")
    assert len(secret) > 20
    screenshot(page, "20_tokens")
    page.goto(console.url("/tokens"))
    assert secret not in page.content()  # shown once
    page.locator("#tokens button:has-text('Revoke')").first.click()
    assert "The token was revoked." in page.inner_text(".notice")

    page.click("nav >> text=ETL")
    page.click("button:has-text('Add')")
    assert page.inner_text("#error-name") == "Enter a name."
    page.fill("#name", "dashboard")
    page.click("button:has-text('Add')")
    assert "dashboard" in page.inner_text("#instances")
    page.locator("#instances button:has-text('Reset marks')").first.click()
    assert "reset" in page.inner_text(".notice")
    screenshot(page, "21_etl")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#instances tr", has_text="dashboard").locator("button:has-text('Remove')").click()
    assert "The ETL instance was removed." in page.inner_text(".notice")
    assert "dashboard" not in page.inner_text("#instances")

    page.click("nav >> text=MNET peers")
    before = page.inner_text("main")
    page.click("text=Rotate our key now")
    assert "A new MNET key pair was made." in page.inner_text(".notice")
    assert page.inner_text("main") != before
    page.fill("#url", "http://127.0.0.1:9")  # nothing listens there: the error next to the field
    page.click("text=Fetch its certificate")
    assert "no certificate from" in page.inner_text("#error-url")
    screenshot(page, "22_peers")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Remove this peer?" - no: nothing removed
    page.locator("#peers tr", has_text="moodle.test").locator("button:has-text('Remove')").click()
    assert "moodle.test" in page.inner_text("#peers")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#peers tr", has_text="moodle.test").locator("button:has-text('Remove')").click()
    assert "The peer was removed." in page.inner_text(".notice")
    assert "moodle.test" not in page.inner_text("#peers")

    page.click("nav >> text=Audit log")
    audit = page.inner_text("#audit")
    for action in (
        "sign-in",
        "token created",
        "token revoked",
        "ETL instance added",
        "ETL instance removed",
        "MNET key rotated",
        "peer removed",
    ):
        assert action in audit
    assert secret not in audit
    screenshot(page, "23_audit")
