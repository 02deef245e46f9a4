"""The one way into the services: `Services`, built once at start-up from the settings.

Every edge (the SOAP applications, the XML-RPC and REST endpoints, the CLI
commands, the scheduler) is handed the same `Services` and calls the service
functions with what it holds: the settings, the engine, the clock, and the
service values that follow from the settings (our MNET key policy, the
elapsed-time engine's settings). No edge turns settings into service values
itself, and none opens the database.

The engine is opened on first use (a command that needs no database, such as
`aula-ws wsdl`, never opens one) and refused when the schema is not at the
migrations' head (SchemaOutdated).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.elapsed import EngineSettings
from aula_ws.services.clock import utc_now
from aula_ws.services.peers import KeyPolicy
from aula_ws.store.database import create_database_engine, require_current_schema


class Services:
    def __init__(self, settings: Settings, engine: Engine | None = None, clock: Callable[[], datetime] = utc_now):
        """`engine`: one already open on the settings' database (tests, benches); its schema is checked too."""
        self.settings = settings
        self.clock = clock
        self._given_engine = engine

    @cached_property
    def engine(self) -> Engine:
        engine = self._given_engine or create_database_engine(self.settings.database_url)
        require_current_schema(engine)
        return engine

    @cached_property
    def key_policy(self) -> KeyPolicy:
        """Our MNET identity: the root URL our certificate names, how often the key pair rotates."""
        return KeyPolicy(
            wwwroot=self.settings.wwwroot,
            rotation=timedelta(days=self.settings.mnet_key_rotation_days),
            generations=self.settings.mnet_key_generations,
        )

    @cached_property
    def elapsed_settings(self) -> EngineSettings:
        """The elapsed-time engine's settings (use_stats, CONTRACT.md section 3)."""
        return EngineSettings(
            threshold=timedelta(minutes=self.settings.use_stats_threshold),
            last_ping_credit=timedelta(minutes=self.settings.use_stats_lastpingcredit),
        )

    @property
    def mnet_drift(self) -> timedelta:
        """The clock drift allowed on a signed MNET message."""
        return timedelta(seconds=self.settings.mnet_drift)
