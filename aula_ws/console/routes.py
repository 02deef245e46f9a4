"""The console's pages, under /admin: create_console(services) -> the WSGI application."""

from aula_ws.console import views_door, views_files, views_home, views_import, views_keys, views_records
from aula_ws.console.web import Console, View
from aula_ws.services.runtime import Services
from aula_ws.wsgi import Endpoint, limited_endpoint

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]

ROUTES: list[tuple[str, str, View, list[str]]] = [
    ("/", "home", views_home.home, GET),
    ("/sign-in", "sign_in", views_door.sign_in, BOTH),
    ("/sign-out", "sign_out", views_door.sign_out, POST),
    ("/language", "language", views_door.language, GET),
    ("/console.css", "style", views_door.style, GET),
    ("/audit", "audit", views_home.audit, GET),
    ("/files", "files", views_files.listing, GET),
    ("/files/upload", "files_upload", views_files.upload, POST),
    ("/files/delete", "files_delete", views_files.delete, POST),
    ("/files/run", "files_run", views_files.run, POST),
    ("/files/capture", "files_capture", views_files.capture, POST),
    ("/files/<any(inputs,reports,archives,imports):area>/<name>", "files_download", views_files.download, GET),
    ("/records/<kind>", "records", views_records.listing, GET),
    ("/records/<kind>/<int:record_id>", "record", views_records.record, GET),
    ("/pictures/<int:user_id>.png", "picture", views_records.picture, GET),
    ("/import", "import_choose", views_import.choose, BOTH),
    ("/import/sample/<kind>", "import_sample", views_import.sample, GET),
    ("/import/<job_id>/check", "import_check", views_import.check, GET),
    ("/import/<job_id>/options", "import_options", views_import.options, BOTH),
    ("/import/<job_id>", "import_result", views_import.progress, GET),
    ("/import/<job_id>/status.json", "import_status", views_import.status, GET),
    ("/tokens", "tokens", views_keys.token_list, GET),
    ("/tokens/create", "token_create", views_keys.token_create, POST),
    ("/tokens/revoke", "token_revoke", views_keys.token_revoke, POST),
    ("/peers", "peers", views_keys.peer_list, GET),
    ("/peers/add", "peer_add", views_keys.peer_add, POST),
    ("/peers/rotate", "key_rotate", views_keys.key_rotate, POST),
    ("/peers/remove", "peer_remove", views_keys.peer_remove, POST),
    ("/etl", "etl", views_keys.etl_list, GET),
    ("/etl/add", "etl_add", views_keys.etl_add, POST),
    ("/etl/reset", "etl_reset", views_keys.etl_reset, POST),
    ("/etl/remove", "etl_remove", views_keys.etl_remove, POST),
]


def create_console(services: Services) -> Console:
    return Console(services, ROUTES)


def console_endpoint(services: Services) -> Endpoint:
    """The console behind the admin body limit (uploads); a larger body gets a page that says so."""
    console = create_console(services)
    return limited_endpoint(console, services.settings.admin_max_body, console.too_large)
