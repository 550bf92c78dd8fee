"""Engines, URLs and schema migrations of the policy database.

SQLite by default, in the Jupyter data directory (never inside ``root_dir``,
where kernels and file routes could reach it); PostgreSQL by URL. A server
refuses to run on a schema older than this package's and names
``jupyter workspace-perms upgrade-db``; an empty database is created at head.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from ..errors import SchemaOutdated

DB_URL_ENV = "WORKSPACE_PERMS_DB_URL"
MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_HINT = "run `jupyter workspace-perms upgrade-db` (back up the database first)"


def default_db_url() -> str:
    """``$WORKSPACE_PERMS_DB_URL`` or a SQLite file in the Jupyter data directory."""
    from_env = os.environ.get(DB_URL_ENV)
    if from_env:
        return normalize_db_url(from_env)
    from jupyter_core.paths import jupyter_data_dir

    return f"sqlite:///{Path(jupyter_data_dir()) / 'workspace_perms' / 'policy.sqlite'}"


def normalize_db_url(url: str) -> str:
    """Turn a bare file name into a ``sqlite:///`` URL; leave real URLs alone."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().absolute()}"
    return url


def redact(url: str) -> str:
    """The URL with any password hidden, for logs and status output."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases or in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).absolute()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings the policy store relies on.

    SQLite gets foreign keys, WAL (readers never block the writer) and a busy
    timeout so the CLI and a server can write to one file. Connections are pooled
    for every database: the server checks the policy version twice a second, and
    opening a SQLite connection (with its pragmas) costs 30 times the query.
    """
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        kwargs.setdefault("pool_pre_ping", True)
    # errors and logs never show a statement's parameters (tokens' hashes, encrypted values)
    kwargs.setdefault("hide_parameters", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser syntax
    return config


def head_revision() -> str:
    """The newest schema revision this package knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None when it has none yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """Whether the database holds no tables at all."""
    return not inspect(engine).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision``; returns (from, to) revisions."""
    before = current_revision(engine)
    with engine.begin() as connection:
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: Engine, *, create_if_empty: bool = True) -> str:
    """Make sure the schema is at head; create it in an empty database.

    Raises :class:`SchemaOutdated` naming ``upgrade-db`` when the database has
    an older revision (or one this package does not know).
    """
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return head
    if current is None and create_if_empty and is_empty(engine):
        upgrade(engine)
        return head
    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if current in known or current is None:
        raise SchemaOutdated(
            f"the policy database {redact(str(engine.url))} has schema {current or 'none'}, "
            f"this version needs {head}: {UPGRADE_HINT}"
        )
    raise SchemaOutdated(
        f"the policy database {redact(str(engine.url))} has schema {current}, which is newer "
        "than this version of jupyter-workspace-perms knows: upgrade the package"
    )
