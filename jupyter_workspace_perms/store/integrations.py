"""Integrations: a workspace's named bundles of secrets, and the projects they are
connected to.

A value is written once and never read back through any interface: it is stored
encrypted (Fernet: AES-128-CBC with an HMAC) with a key that lives in a file outside
the database (:attr:`Integrations.key_file`, made with mode 0600 on first use), and
decrypted only when a kernel of a connected project starts. Stealing the database
alone gives nothing; losing the key loses the values (the server then refuses to
start rather than run without them, and says how to recover).

Integrations are not policy: no decision reads them, so changing one neither bumps
the policy version nor reloads the snapshot. Every change is an audit event that
names the integration and the variables, never a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from jupyter_core.paths import jupyter_data_dir
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from traitlets import Instance, Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import Conflict, InvalidInput, NotFound, StoreUnavailable, WorkspacePermsError
from . import orm
from .orm import utcnow
from .store import PolicyStore

KEY_FILE_ENV = "WORKSPACE_PERMS_INTEGRATIONS_KEY_FILE"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_VALUE_BYTES = 64 * 1024
#: Variables an integration may not define (compared in upper case): the ones the kernel
#: sandbox sets, and the ones that make a program run code, load libraries, trust other
#: certificates or send traffic elsewhere. Whoever manages integrations would otherwise
#: run code in every connected project's kernels, private ones included.
RESERVED = frozenset(
    {
        *("HOME", "TMPDIR", "PATH", "IPYTHONDIR", "MPLCONFIGDIR", "TERM", "SHELL"),
        *("ENV", "PS4", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND", "CDPATH", "IFS"),
        *("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_OPTIONS", "NODE_PATH"),
        *("RUBYOPT", "RUBYLIB", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH"),
        *("HOSTALIASES", "RES_OPTIONS", "TZDIR", "EDITOR", "VISUAL", "PAGER", "BROWSER"),
        *("R_PROFILE", "R_PROFILE_USER", "R_ENVIRON", "R_ENVIRON_USER", "JAVA_TOOL_OPTIONS"),
    }
)
RESERVED_PREFIXES = (
    *("JPY_", "JUPYTER", "WORKSPACE_PERMS_", "LD_", "DYLD_", "PYTHON", "PIP_", "GIT_"),
    *("BASH_", "SSL_CERT_", "PERL", "MALLOC_", "SSH_", "GPG", "CONDA", "VIRTUAL_ENV"),
    *("MPL", "IPY", "JAVA_", "_JAVA", "JDK_", "OPENSSL_"),
)
RESERVED_SUFFIXES = ("_PROXY",)


class KeyMissing(WorkspacePermsError):
    """Secrets are stored but their key file is gone: nothing can be decrypted."""

    status = 500
    reason = "integration_key_missing"


@dataclass(frozen=True)
class VariableInfo:
    """A variable's name and who set it when; never its value."""

    name: str
    set_by: str | None
    set_at: datetime


@dataclass(frozen=True)
class IntegrationInfo:
    """What anyone allowed to see an integration may see."""

    id: int
    workspace_id: int
    name: str
    created_by: str | None
    created_at: datetime
    variables: tuple[VariableInfo, ...]
    project_ids: tuple[int, ...]  # where it is connected


@dataclass(frozen=True)
class Connection:
    """An integration connected to a project."""

    integration: IntegrationInfo
    connected_by: str | None
    connected_at: datetime


@dataclass
class ProjectSecrets:
    """A project's variables for its kernels, and the integrations they came from."""

    variables: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # variable -> integration name


def check_name(name: str) -> str:
    """An integration name, or :class:`InvalidInput`."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput(
            f"integration names are 1 to 63 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit: {name!r}",
            "invalid_name",
        )
    return name


def check_variable(name: str, value: str | None) -> None:
    """A variable name (and value) an integration may define, or :class:`InvalidInput`."""
    if not isinstance(name, str) or not VARIABLE.fullmatch(name):
        raise InvalidInput(
            f"variable names are letters, digits and '_', not starting with a digit: {name!r}",
            "invalid_variable",
        )
    upper = name.upper()
    if (
        upper in RESERVED
        or upper.startswith(RESERVED_PREFIXES)
        or upper.endswith(RESERVED_SUFFIXES)
    ):
        raise InvalidInput(
            f"{name} is set by the kernel sandbox or changes how programs in the kernel run "
            "(code, libraries, certificates, proxies): choose another name",
            "reserved_variable",
        )
    if value is None:
        return
    if "\0" in value:
        raise InvalidInput(f"the value of {name} holds a NUL character", "invalid_value")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"the value of {name} is not valid Unicode text", "invalid_value"
        ) from None
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise InvalidInput(
            f"the value of {name} is longer than {MAX_VALUE_BYTES // 1024} KiB", "invalid_value"
        )


class Integrations(LoggingConfigurable):
    """Reads and writes integrations; holds the key that encrypts their values."""

    key_file = Unicode(
        config=True,
        help=f"""File holding the key that encrypts integration values (made with mode 0600
        when the first value is stored). Keep it outside root_dir and back it up apart
        from the database: without it the values are lost, and the server refuses to start
        while encrypted values exist. Default: ${KEY_FILE_ENV}, else
        <jupyter data dir>/workspace_perms/integrations.key.""",
    )
    store = Instance(PolicyStore)

    @default("key_file")
    def _default_key_file(self) -> str:
        return os.environ.get(KEY_FILE_ENV) or os.path.join(
            jupyter_data_dir(), "workspace_perms", "integrations.key"
        )

    # -- the key --------------------------------------------------------------------

    def check_key(self) -> None:
        """At start-up: stored values need their key, and the key must open them."""
        with self._session() as session:
            stored = session.scalars(select(orm.IntegrationVariable.ciphertext)).all()
        if not stored:
            return
        fernet = self._fernet(create=False)
        try:
            for ciphertext in stored:
                fernet.decrypt(ciphertext.encode("ascii"))
        except InvalidToken:
            raise KeyMissing(
                f"the integration key in {self.key_file} does not open the stored values "
                "(another key?): restore the key they were written with "
                "(c.Integrations.key_file), or delete the integrations with "
                "`jupyter workspace-perms integration delete`",
            ) from None

    def _fernet(self, *, create: bool) -> Fernet:
        path = self.key_file
        try:
            with open(path, "rb") as f:
                return Fernet(f.read().strip())
        except FileNotFoundError:
            if not create or self._anything_stored():
                raise KeyMissing(
                    f"integration values are stored encrypted with the key in {path}, which "
                    "is missing: restore that file (c.Integrations.key_file or "
                    f"${KEY_FILE_ENV}), or delete the integrations with "
                    "`jupyter workspace-perms integration delete` and set their values again"
                ) from None
        except ValueError:
            raise KeyMissing(f"{path} does not hold an integration key") from None
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return self._fernet(create=False)
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        self.log.info("made a new integration key in %s (back it up)", path)
        return Fernet(key)

    def _anything_stored(self) -> bool:
        """Whether values are stored (then a missing key is lost, never replaced)."""
        with self._session() as session:
            return session.scalar(select(orm.IntegrationVariable.name).limit(1)) is not None

    # -- reading --------------------------------------------------------------------

    def of_workspace(self, workspace_id: int) -> list[IntegrationInfo]:
        """The workspace's integrations, by name."""
        with self._session() as session:
            rows = session.scalars(
                select(orm.Integration)
                .where(orm.Integration.workspace_id == workspace_id)
                .order_by(orm.Integration.name)
            ).all()
            return [self._info(session, row) for row in rows]

    def get(self, workspace_id: int, name: str) -> IntegrationInfo:
        """One integration, or :class:`NotFound`."""
        with self._session() as session:
            return self._info(session, self._row(session, workspace_id, name))

    def connections(self, project_id: int) -> list[Connection]:
        """The integrations connected to a project, by name."""
        with self._session() as session:
            rows = session.execute(
                select(orm.ProjectIntegration, orm.Integration)
                .join(orm.Integration)
                .where(orm.ProjectIntegration.project_id == project_id)
                .order_by(orm.Integration.name)
            ).all()
            return [
                Connection(
                    self._info(session, integration),
                    link.connected_by or None,
                    link.connected_at,
                )
                for link, integration in rows
            ]

    def secrets_for(self, project_id: int) -> ProjectSecrets:
        """The decrypted variables of every integration connected to a project (a name
        defined by two integrations takes the value of the later one by name)."""
        found = ProjectSecrets()
        with self._session() as session:
            rows = session.execute(
                select(orm.Integration.name, orm.IntegrationVariable)
                .join(
                    orm.ProjectIntegration,
                    orm.ProjectIntegration.integration_id == orm.Integration.id,
                )
                .join(
                    orm.IntegrationVariable,
                    orm.IntegrationVariable.integration_id == orm.Integration.id,
                )
                .where(orm.ProjectIntegration.project_id == project_id)
                .order_by(orm.Integration.name, orm.IntegrationVariable.name)
            ).all()
        if not rows:
            return found
        fernet = self._fernet(create=False)
        for integration, variable in rows:
            try:
                value = fernet.decrypt(variable.ciphertext.encode("ascii")).decode("utf-8")
            except InvalidToken:
                raise KeyMissing(
                    f"the integration {integration!r} cannot be opened with the key in "
                    f"{self.key_file}: restore the key it was written with"
                ) from None
            found.variables[variable.name] = value
            found.sources[variable.name] = integration
        return found

    # -- writing --------------------------------------------------------------------

    def create(
        self, workspace_id: int, name: str, variables: Mapping[str, str], actor: str
    ) -> IntegrationInfo:
        """A new integration with its variables (values encrypted)."""
        check_name(name)
        for key, value in variables.items():
            check_variable(key, value)
        fernet = self._fernet(create=True) if variables else None
        with self._transaction() as session:
            row = orm.Integration(workspace_id=workspace_id, name=name, created_by=actor)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise Conflict(
                    f"an integration named {name!r} already exists in this workspace",
                    "integration_exists",
                ) from None
            for key, value in variables.items():
                assert fernet is not None
                session.add(self._variable(fernet, row.id, key, value, actor))
            self._audit(session, actor, "integration.create", workspace_id, name, variables)
            session.flush()
            return self._info(session, row)

    def update(
        self,
        workspace_id: int,
        name: str,
        actor: str,
        *,
        new_name: str | None = None,
        variables: Mapping[str, str | None] | None = None,
    ) -> IntegrationInfo:
        """Rename, set variables (None removes one); variables not named are kept."""
        changes = dict(variables or {})
        for key, value in changes.items():
            check_variable(key, value)
        if new_name is not None:
            check_name(new_name)
        fernet = self._fernet(create=True) if any(v is not None for v in changes.values()) else None
        with self._transaction() as session:
            row = self._row(session, workspace_id, name)
            if new_name is not None and new_name != row.name:
                taken = session.scalar(
                    select(orm.Integration.id).where(
                        orm.Integration.workspace_id == workspace_id,
                        orm.Integration.name == new_name,
                    )
                )
                if taken is not None:
                    raise Conflict(
                        f"an integration named {new_name!r} already exists in this workspace",
                        "integration_exists",
                    )
                self._audit(
                    session, actor, "integration.rename", workspace_id, row.name, {}, new_name
                )
                row.name = new_name
            for key, value in changes.items():
                existing = session.get(orm.IntegrationVariable, (row.id, key))
                if existing is not None:
                    session.delete(existing)
                    session.flush()
                if value is not None:
                    assert fernet is not None
                    session.add(self._variable(fernet, row.id, key, value, actor))
            if changes:
                self._audit(session, actor, "integration.set", workspace_id, row.name, changes)
            session.flush()
            return self._info(session, row)

    def delete(self, workspace_id: int, name: str, actor: str) -> None:
        """Delete an integration: its values and every project connection go with it."""
        with self._transaction() as session:
            row = self._row(session, workspace_id, name)
            projects = session.scalar(
                select(func.count()).where(orm.ProjectIntegration.integration_id == row.id)
            )
            session.execute(
                delete(orm.ProjectIntegration).where(
                    orm.ProjectIntegration.integration_id == row.id
                )
            )
            session.execute(
                delete(orm.IntegrationVariable).where(
                    orm.IntegrationVariable.integration_id == row.id
                )
            )
            session.delete(row)
            self._audit(
                session,
                actor,
                "integration.delete",
                workspace_id,
                name,
                {},
                disconnected=int(projects or 0),
            )

    def connect(self, workspace_id: int, project_id: int, name: str, actor: str) -> bool:
        """Connect an integration to a project; False when it already was."""
        with self._transaction() as session:
            row = self._row(session, workspace_id, name)
            if session.get(orm.ProjectIntegration, (project_id, row.id)) is not None:
                return False
            session.add(
                orm.ProjectIntegration(
                    project_id=project_id,
                    integration_id=row.id,
                    connected_by=actor,
                )
            )
            self._audit(
                session, actor, "integration.connect", workspace_id, name, {}, project=project_id
            )
            return True

    def disconnect(self, workspace_id: int, project_id: int, name: str, actor: str) -> None:
        """Disconnect an integration from a project (:class:`NotFound` if it was not)."""
        with self._transaction() as session:
            row = self._row(session, workspace_id, name)
            link = session.get(orm.ProjectIntegration, (project_id, row.id))
            if link is None:
                raise NotFound(f"{name!r} is not connected to this project", "not_connected")
            session.delete(link)
            self._audit(
                session,
                actor,
                "integration.disconnect",
                workspace_id,
                name,
                {},
                project=project_id,
            )

    # -- helpers --------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        assert self.store is not None
        try:
            with Session(self.store.engine) as session:
                yield session
        except OperationalError as e:
            raise StoreUnavailable(f"the policy database is unavailable: {e.orig}") from e

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._session() as session, session.begin():
                yield session
        except IntegrityError:  # a concurrent change to the same name
            raise Conflict(
                "another change to this integration happened at the same time: try again",
                "concurrent_change",
            ) from None

    @staticmethod
    def _row(session: Session, workspace_id: int, name: str) -> orm.Integration:
        found = session.scalar(
            select(orm.Integration).where(
                orm.Integration.workspace_id == workspace_id, orm.Integration.name == name
            )
        )
        if found is None:
            raise NotFound(f"no integration {name!r} in this workspace", "not_found")
        return found

    @staticmethod
    def _variable(
        fernet: Fernet, integration_id: int, name: str, value: str, actor: str
    ) -> orm.IntegrationVariable:
        token = fernet.encrypt(value.encode("utf-8")).decode("ascii")
        return orm.IntegrationVariable(
            integration_id=integration_id,
            name=name,
            ciphertext=token,
            set_by=actor,
            set_at=utcnow(),
        )

    @staticmethod
    def _info(session: Session, row: orm.Integration) -> IntegrationInfo:
        variables = session.scalars(
            select(orm.IntegrationVariable)
            .where(orm.IntegrationVariable.integration_id == row.id)
            .order_by(orm.IntegrationVariable.name)
        ).all()
        projects = session.scalars(
            select(orm.ProjectIntegration.project_id)
            .where(orm.ProjectIntegration.integration_id == row.id)
            .order_by(orm.ProjectIntegration.project_id)
        ).all()
        return IntegrationInfo(
            id=row.id,
            workspace_id=row.workspace_id,
            name=row.name,
            created_by=row.created_by or None,
            created_at=row.created_at,
            variables=tuple(VariableInfo(v.name, v.set_by or None, v.set_at) for v in variables),
            project_ids=tuple(projects),
        )

    @staticmethod
    def _audit(
        session: Session,
        actor: str,
        action: str,
        workspace_id: int,
        name: str,
        variables: Mapping[str, Any],
        renamed_to: str | None = None,
        **more: Any,
    ) -> None:
        """An audit event naming the variables (set or removed), never their values."""
        details: dict[str, Any] = dict(more)
        if variables:
            details["set"] = sorted(k for k, v in variables.items() if v is not None)
            details["removed"] = sorted(k for k, v in variables.items() if v is None)
        if renamed_to is not None:
            details["renamed_to"] = renamed_to
        session.add(
            orm.AuditEvent(
                actor=actor,
                action=action,
                workspace_id=workspace_id,
                target=name,
                details=details,
            )
        )
