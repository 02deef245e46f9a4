"""Issue 9 item 12: `token create --days` takes 1 to 3650 days; anything else is refused by the
command line in one usage error (exit 2), and no token is made."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from aula_ws.errors import InvalidRequest
from aula_ws.services.tokens import create_token
from aula_ws.store.tables import tokens
from tests.builders import PlatformBuilder
from tests.hostile.files_platform import platform  # noqa: F401 (fixture)


@pytest.mark.parametrize("days", ["0", "-1", "3651", "99999999", "1e3", "ten", ""])
def test_a_dead_or_absurd_lifetime_is_refused_and_no_token_is_made(platform, days):  # noqa: F811
    refused = platform.cli("token", "create", "--user", "admin", "--service", "admin", "--days", days)

    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    error = refused.stderr.strip().splitlines()[-1]
    assert error.startswith("aula-ws token create: error: argument --days:"), refused.stderr
    assert refused.stdout == ""
    assert platform.count(tokens) == 0


@pytest.mark.parametrize("days", ["1", "3650"])
def test_the_bounds_make_live_tokens(platform, days):  # noqa: F811
    created = platform.cli("token", "create", "--user", "admin", "--service", "admin", "--days", days)

    assert created.returncode == 0, created.stderr
    assert platform.count(tokens) == 1
    assert "\tactive" in platform.cli("token", "list").stdout


def test_the_service_refuses_a_token_dead_when_made(engine):
    PlatformBuilder(engine).user("admin", site_admin=True)
    now = datetime(2026, 3, 10, 12, 0)
    for expires in (now, now - timedelta(seconds=1)):
        with pytest.raises(InvalidRequest, match="dead token"):
            create_token(engine, "admin", "admin", now, expires)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(tokens)) == 0
