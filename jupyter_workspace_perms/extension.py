"""The Jupyter Server extension application.

Enabling it (``pip install`` does, through ``jupyter_server_config.d``) makes
the server:

- identify every request with :class:`~.identity.provider.WorkspaceIdentityProvider`
  and decide it with :class:`.server.authz.authorizer.WorkspaceAuthorizer` (both installed while
  the extension is *linked*, before the server builds its own);
- refuse unauthenticated access on every route;
- open the policy store, refusing to start on an outdated schema or on a
  SQLite file inside ``root_dir``;
- re-read the policy when another process changes it (every
  ``PolicyStore.refresh_interval`` seconds, in a worker thread);
- record every kernel execution request (:mod:`.kernel.audit`), writing the
  records still queued when it stops, and every refused request, rate-limited
  (:mod:`.store.denials`); delete audit rows past ``AuditLog.retention_days``;
- judge every kernel websocket message against its sender
  (:class:`~.kernel.connection.WorkspaceKernelConnection`), and close the kernel
  sockets of users who lost ``project:execute``;
- test the kernel sandbox (:mod:`.sandbox`) and tell it what the server keeps
  secret (its runtime, config and data folders, the policy database);
- when terminals are on, open them through
  :class:`~.server.terminals.WorkspaceTerminalManager`: a project's terminals run in
  its sandbox and belong to it;
- when jupyter-collaboration runs, serve its room route with
  :class:`~.server.collaboration.handler.GuardedRoomHandler` (every Yjs message judged
  against its sender), close the room sockets of users who lost access, and keep its
  stores (the Yjs update store, the session file, the file id database) outside
  ``root_dir``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_path, jupyter_data_dir
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider
from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Type
from traitlets.utils.importstring import import_item

from ._version import __version__
from .api.handlers import default_handlers
from .demo import landing as demo_landing
from .errors import WorkspacePermsError
from .identity.provider import WorkspaceIdentityProvider
from .kernel.audit import ExecutionAuditor, register_execution_schema
from .kernel.connection import RevocationWatcher, WorkspaceKernelConnection
from .sandbox import SandboxedKernelManager
from .server.authz.authorizer import WorkspaceAuthorizer
from .server.config import WorkspaceConfigManager
from .server.contents import WorkspaceContentsManager
from .server.events import default_handlers as event_handlers
from .server.gates import install as install_gates
from .server.kernels import WorkspaceKernelManager, WorkspaceSessionManager
from .server.resolver import default_handlers as resolver_handlers
from .server.terminals import WorkspaceTerminalManager
from .store import PolicyStore
from .store.access_requests import ACCESS_REQUEST_SCHEMA_ID, ACCESS_REQUEST_SCHEMA_PATH
from .store.audit import AuditLog
from .store.comments import Comments
from .store.database import redact, sqlite_path
from .store.denials import DenialRecorder
from .store.integrations import Integrations


class WorkspacePermsExtension(ExtensionApp):
    """Team workspaces with roles and per-project access, enforced by this server."""

    name = "jupyter_workspace_perms"
    version = __version__
    description = __doc__
    load_other_extensions = True

    store_class = Type(
        default_value=PolicyStore,
        klass=PolicyStore,
        config=True,
        help="""The policy store class (default PolicyStore, SQLAlchemy). Its own
        options live on it, e.g. ``c.PolicyStore.db_url``.""",
    )
    authorizer_class = Type(
        default_value=WorkspaceAuthorizer,
        klass=Authorizer,
        config=True,
        help="""Authorizer installed into the server (default WorkspaceAuthorizer).
        It replaces ``ServerApp.authorizer_class``.""",
    )
    identity_provider_class = Type(
        default_value=WorkspaceIdentityProvider,
        klass=IdentityProvider,
        config=True,
        help="""Identity provider installed into the server (default
        WorkspaceIdentityProvider: personal access tokens, trusted proxy headers).
        It replaces ``ServerApp.identity_provider_class``: the server's own token
        must never stand for a user.""",
    )

    contents_manager_class = Type(
        default_value=WorkspaceContentsManager,
        klass=WorkspaceContentsManager,
        config=True,
        help="""Contents manager installed into the server (default
        WorkspaceContentsManager: per-user listings and ``writable``, projects that
        follow their folders). Subclass it to change storage.""",
    )
    kernel_manager_class = Type(
        default_value=WorkspaceKernelManager,
        klass=WorkspaceKernelManager,
        config=True,
        help="Kernel manager installed into the server: binds kernels to projects.",
    )
    session_manager_class = Type(
        default_value=WorkspaceSessionManager,
        klass=WorkspaceSessionManager,
        config=True,
        help="Session manager installed into the server: lists sessions per user.",
    )
    config_manager_class = Type(
        default_value=WorkspaceConfigManager,
        klass=WorkspaceConfigManager,
        config=True,
        help="""Config manager installed into the server (``/api/config/{section}``):
        the operator's sections with each user's own writes on top, so no user's
        values reach another.""",
    )
    integrations_class = Type(
        default_value=Integrations,
        klass=Integrations,
        config=True,
        help="""Integrations: a workspace's named secrets for kernels (default
        Integrations; values encrypted with ``c.Integrations.key_file``).""",
    )
    auditor_class = Type(
        default_value=ExecutionAuditor,
        klass=ExecutionAuditor,
        config=True,
        help="""The execution auditor class (default ExecutionAuditor): records every
        kernel execution request in the policy database and as a ``jupyter_events``
        event. Its own options live on it, e.g. ``c.ExecutionAuditor.flush_interval``.""",
    )
    kernel_websocket_connection_class = Type(
        default_value=WorkspaceKernelConnection,
        klass=WorkspaceKernelConnection,
        config=True,
        help="""Kernel websocket connection installed into the server (default
        WorkspaceKernelConnection). It replaces
        ``ServerApp.kernel_websocket_connection_class``: every message a client sends
        to a kernel is judged against that client's permissions on the kernel's
        project, so people who may run but not edit run only saved cells. Kernel
        gateways (``ServerApp.gateway_url``) are not supported.""",
    )
    terminals_enabled = Bool(
        False,
        config=True,
        help="""Whether terminals are available (default False). When on, users with
        ``project:write`` (Editors and Admins) open terminals from a project's folder
        (``POST /api/terminals`` with ``{"cwd": "<workspace>/<project>"}``): the shell
        runs in that project's kernel sandbox and the terminal belongs to that project.
        Only server admins (``WorkspaceAuthorizer.server_admins``) open a shell
        elsewhere, or any terminal while the sandbox does not confine: such a shell
        runs as the server's user and reads every workspace.""",
    )
    terminal_manager_class = Type(
        default_value=WorkspaceTerminalManager,
        klass=WorkspaceTerminalManager,
        config=True,
        help="""Terminal manager installed into jupyter_server_terminals when terminals
        are enabled (default WorkspaceTerminalManager: opens a project's terminals in
        its kernel sandbox, binds each to its project, lists them per user). It
        replaces ``TerminalsExtensionApp.terminal_manager_class``.""",
    )
    allow_workspace_creation = Bool(
        False,
        config=True,
        help="""Whether any signed-in user may create a workspace through the REST API
        (default False: operators create workspaces with ``jupyter workspace-perms
        workspace create``). The creator becomes the workspace's owner and Admin; when
        this is on, no workspace Admin is a server admin by default (see
        ``WorkspaceAuthorizer.server_admins``).""",
    )

    demo_mode = Bool(
        False,
        config=True,
        help="""Serve the demo's landing page (``workspace-perms/demo``) and persona
        switcher: whoever opens the landing page with the server's own token may sign in
        as any persona of the demo world (``jupyter workspace-perms demo-world``). For
        the demo and Binder only: never on a server with real people.""",
    )

    store: PolicyStore | None = None
    integrations: Integrations | None = None
    auditor: ExecutionAuditor | None = None
    denials: DenialRecorder | None = None
    audit_log: AuditLog | None = None
    _pruner: PeriodicCallback | None = None
    _refresher: PeriodicCallback | None = None
    _revocations: RevocationWatcher | None = None
    _room_watcher: Any = None

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        """Install our identity provider before the server creates its own."""
        super()._link_jupyter_server_extension(serverapp)
        serverapp.identity_provider_class = self.identity_provider_class
        serverapp.authorizer_class = self.authorizer_class
        serverapp.contents_manager_class = self.contents_manager_class
        serverapp.kernel_manager_class = self.kernel_manager_class
        serverapp.session_manager_class = self.session_manager_class
        serverapp.config_manager_class = self.config_manager_class
        serverapp.kernel_websocket_connection_class = self.kernel_websocket_connection_class
        serverapp.allow_unauthenticated_access = False
        if self.terminals_enabled:
            self._install_terminal_manager(serverapp)
        else:
            serverapp.terminals_enabled = False
        # JupyterLab links after us (alphabetical order) and reads this from the server's
        # config: its extension manager then lists extensions but cannot pip-install.
        serverapp.config.LabApp.extension_manager = "readonly"
        self._place_collaboration_stores(serverapp)

    def _place_collaboration_stores(self, serverapp: Any) -> None:
        """Put jupyter-collaboration's stores in the Jupyter data folder unless configured.

        Upstream keeps its Yjs updates in ``.jupyter_ystore.db`` in the working folder
        and its session file in ``<root_dir>/.jupyter``: both inside ``root_dir`` where
        the server usually starts, readable through file routes. jupyter_server_ydoc
        links before us (alphabetical order) and reads both when it loads, after us.
        """
        app = _collaboration_app(serverapp)
        if app is None:
            return
        data = Path(jupyter_data_dir())
        for config in (serverapp.config, app.config):
            if "db_path" not in config.SQLiteYStore:
                config.SQLiteYStore.db_path = str(data / "workspace_perms_ystore.db")
        if not app.session_store_path:
            app.session_store_path = str(data / "workspace_perms_collaboration_sessions.json")

    def _install_terminal_manager(self, serverapp: Any) -> None:
        """Make jupyter_server_terminals build our terminal manager.

        It links before us (alphabetical order) and reads its class when it loads, so
        its app is told directly; its config covers an app that links later.
        """
        serverapp.config.TerminalsExtensionApp.terminal_manager_class = self.terminal_manager_class
        point = serverapp.extension_manager.extension_points.get("jupyter_server_terminals")
        terminals_app = getattr(point, "app", None)
        if terminals_app is not None:
            terminals_app.terminal_manager_class = self.terminal_manager_class

    def initialize_settings(self) -> None:
        """Open the store (or stop the server) and hand it to the identity provider."""
        serverapp = self.serverapp
        assert serverapp is not None
        self.store = store = self.store_class(parent=self)
        try:
            self._refuse_replaced_parts()
            database = sqlite_path(store.db_url)
            if database is not None:
                self._refuse_inside_root(
                    str(database),
                    "the policy database",
                    "c.PolicyStore.db_url (or $WORKSPACE_PERMS_DB_URL)",
                )
            store.open()
            self.integrations = self.integrations_class(parent=self, store=store)
            self._refuse_inside_root(
                self.integrations.key_file, "the integration key", "c.Integrations.key_file"
            )
            self.integrations.check_key()
            self._refuse_collaboration_stores_inside_root()
        except WorkspacePermsError as e:
            self.log.critical("jupyter-workspace-perms cannot start: %s", e.message)
            serverapp.exit(1)
        identity_provider = serverapp.identity_provider
        if isinstance(identity_provider, WorkspaceIdentityProvider):
            identity_provider.store = store
            identity_provider.hide_server_token()
        serverapp.web_app.settings["token"] = ""  # what Notebook 7 puts in its pages
        self.settings["workspace_perms_store"] = store
        self.settings["workspace_perms_integrations"] = self.integrations
        self.settings["workspace_perms_allow_workspace_creation"] = self.allow_workspace_creation
        self.log.info(
            "workspace policy version %s loaded from %s",
            store.snapshot.version,
            redact(store.db_url),
        )
        self._start_sandbox(store)
        self._start_auditor(store)
        self._start_comments(store)
        self._start_refresher(store)
        self._revocations = RevocationWatcher(self.kernel_websocket_connection_class)
        self._revocations.start()
        self._start_collaboration()

    def _start_collaboration(self) -> None:
        """With jupyter-collaboration, guard its room route and watch its sockets."""
        serverapp = self.serverapp
        assert serverapp is not None
        if _collaboration_app(serverapp) is None:
            return
        from .server.collaboration import handler

        handler.install()
        self._room_watcher = handler.RoomWatcher()
        self._room_watcher.start()

    def _refuse_collaboration_stores_inside_root(self) -> None:
        """jupyter-collaboration's stores hold every document's content and history:
        like the policy database, never where file routes and kernels reach."""
        serverapp = self.serverapp
        assert serverapp is not None
        app = _collaboration_app(serverapp)
        if app is not None:
            if hasattr(app.ystore_class, "db_path"):  # an SQLiteYStore (upstream's default)
                db_path = app.config.SQLiteYStore.get("db_path", ".jupyter_ystore.db")
                self._refuse_inside_root(
                    os.path.abspath(str(db_path)),
                    "the collaboration store",
                    "c.SQLiteYStore.db_path",
                )
            sessions = app.session_store_path
            if sessions:
                self._refuse_inside_root(
                    os.path.abspath(os.path.expanduser(sessions)),
                    "the collaboration session file",
                    "c.YDocExtension.session_store_path",
                )
        file_ids = serverapp.web_app.settings.get("file_id_manager")
        db = getattr(file_ids, "db_path", None)
        if isinstance(db, str) and db != ":memory:":
            self._refuse_inside_root(
                os.path.abspath(db), "the file id database", "c.BaseFileIdManager.db_path"
            )

    def _refuse_replaced_parts(self) -> None:
        """Fail closed when other config replaced a part this extension enforces with.

        Another extension's or the command line's ``ServerApp.*_class`` setting is
        applied after we link, and would silently switch enforcement off.
        """
        serverapp = self.serverapp
        assert serverapp is not None
        parts = {
            "identity_provider": self.identity_provider_class,
            "authorizer": self.authorizer_class,
            "contents_manager": self.contents_manager_class,
            "kernel_manager": self.kernel_manager_class,
            "session_manager": self.session_manager_class,
            "config_manager": self.config_manager_class,
        }
        replaced = [
            f"ServerApp.{name}_class = {type(getattr(serverapp, name)).__name__}"
            for name, ours in parts.items()
            if not isinstance(getattr(serverapp, name), ours)
        ]
        # a class, not an instance: the server builds one per websocket
        connection = serverapp.kernel_websocket_connection_class
        if not (
            isinstance(connection, type)
            and issubclass(connection, self.kernel_websocket_connection_class)
        ):
            name = getattr(connection, "__name__", repr(connection))
            replaced.append(f"ServerApp.kernel_websocket_connection_class = {name}")
        kernel_manager = serverapp.kernel_manager
        if isinstance(kernel_manager, WorkspaceKernelManager):
            # each kernel's own manager, which gives it the sandboxed provisioner
            chosen = import_item(kernel_manager.kernel_manager_class)
            if not (isinstance(chosen, type) and issubclass(chosen, SandboxedKernelManager)):
                replaced.append(f"WorkspaceKernelManager.kernel_manager_class = {chosen.__name__}")
        terminals = serverapp.web_app.settings.get("terminal_manager")
        if terminals is not None and not isinstance(terminals, self.terminal_manager_class):
            replaced.append(
                f"TerminalsExtensionApp.terminal_manager_class = {type(terminals).__name__}"
            )
        if replaced:
            raise WorkspacePermsError(
                "other configuration replaced parts that enforce workspace permissions ("
                + "; ".join(replaced)
                + "): remove those settings, or set the classes on WorkspacePermsExtension "
                "(e.g. c.WorkspacePermsExtension.contents_manager_class) with subclasses of ours"
            )

    def _start_sandbox(self, store: PolicyStore) -> None:
        """Tell the kernel sandbox what the server keeps secret, and run its self-test."""
        serverapp = self.serverapp
        assert serverapp is not None
        kernel_manager = serverapp.kernel_manager
        if not isinstance(kernel_manager, WorkspaceKernelManager):
            return
        sandbox = kernel_manager.sandbox
        secret = [
            serverapp.runtime_dir,
            kernel_manager.connection_dir,
            jupyter_data_dir(),
            serverapp.config_dir,
            *jupyter_config_path(),
            os.path.dirname(serverapp.cookie_secret_file),
            sandbox.environment.homes_dir,  # other projects' homes
        ]
        if self.integrations is not None:
            secret += _hiding(Path(self.integrations.key_file), ("",))
        database = sqlite_path(store.db_url)
        if database is not None:
            secret += _hiding(database, ("", "-wal", "-shm", "-journal"))
        ystore = serverapp.config.SQLiteYStore.get("db_path")
        if isinstance(ystore, str):
            secret += _hiding(Path(os.path.abspath(ystore)), ("", "-wal", "-shm", "-journal"))
        sandbox.start(secret, serverapp.runtime_dir)

    def _refuse_inside_root(self, path: str, what: str, setting: str) -> None:
        """Refuse to start with a secret file (the database, the integration key) where
        file routes and kernels could reach it."""
        assert self.serverapp is not None
        root = Path(self.serverapp.root_dir).resolve()
        if Path(path).resolve().is_relative_to(root):
            raise WorkspacePermsError(
                f"{what} {path} is inside root_dir {root}, where file routes and kernels "
                f"could reach it: set {setting} to a path outside root_dir"
            )

    def initialize_handlers(self) -> None:
        """Add the REST API, replace the event stream and path resolution with per-user
        handlers on the same routes, and gate the routes that never ask the Authorizer;
        in demo mode, add the demo's landing page."""
        self.handlers.extend(default_handlers)
        self.handlers.extend([*event_handlers, *resolver_handlers])
        assert self.serverapp is not None
        if self.demo_mode:
            self.handlers.extend(demo_landing.default_handlers)
            provider = self.serverapp.identity_provider
            token = getattr(provider, "server_token", "")
            if not token:
                shown = "<none: set a token, the page opens with it only>"
            elif getattr(provider, "token_generated", False):
                shown = token  # made up by Jupyter, which no longer prints it: only here
            else:
                shown = "<the server's token>"  # whoever set it knows it (Binder, the demo)
            self.log.warning(
                "demo mode: whoever has this server's token may sign in as any demo persona;"
                " the persona page is %s%s?token=%s",
                self.serverapp.base_url,
                demo_landing.DEMO_PATH,
                shown,
            )
        _install_page_config_hook(self.serverapp.web_app.settings, demo=self.demo_mode)
        install_gates(self.serverapp.web_app)

    def _start_auditor(self, store: PolicyStore) -> None:
        """Register the execution event schema and start recording executions."""
        serverapp = self.serverapp
        assert serverapp is not None
        event_logger = serverapp.event_logger
        if event_logger is not None:
            register_execution_schema(event_logger)
            if ACCESS_REQUEST_SCHEMA_ID not in event_logger.schemas:
                event_logger.register_event_schema(ACCESS_REQUEST_SCHEMA_PATH)
        self.auditor = self.auditor_class(
            parent=self,
            store=store,
            event_logger=event_logger,
            # the loop the server will run (it is not running yet in a plain server)
            loop=getattr(serverapp.io_loop, "asyncio_loop", None),
        )
        self.auditor.start()
        self.settings["workspace_perms_auditor"] = self.auditor
        # denials ride on the auditor's batches (rate-limited, never bumping the version)
        self.denials = DenialRecorder(parent=self)
        self.auditor.sources.append(self.denials.drain)
        self.settings["workspace_perms_denials"] = self.denials
        self._start_pruner()

    def _start_pruner(self) -> None:
        """Delete audit rows past ``AuditLog.retention_days`` now and every
        ``prune_interval`` seconds, in a worker thread."""
        assert self.serverapp is not None
        self.audit_log = AuditLog(parent=self)
        if self.audit_log.retention_days <= 0:
            return
        self.serverapp.io_loop.add_callback(self._prune_in_thread)
        interval_ms = max(self.audit_log.prune_interval, 1.0) * 1000
        self._pruner = PeriodicCallback(self._prune_in_thread, interval_ms)
        self._pruner.start()

    async def _prune_in_thread(self) -> None:
        assert self.store is not None and self.audit_log is not None
        audit_log, engine = self.audit_log, self.store.engine
        try:
            await asyncio.get_running_loop().run_in_executor(None, audit_log.prune, engine)
        except Exception:  # the database may be away: prune next time
            self.log.exception("audit: pruning old rows failed")

    def _start_comments(self, store: PolicyStore) -> None:
        """Comments: their store for the REST API, their event schema, and the contents
        manager, which re-anchors them on every save, rename and delete."""
        serverapp = self.serverapp
        assert serverapp is not None
        comments = Comments(parent=self, store=store, event_logger=serverapp.event_logger)
        comments.register_schema()
        self.settings["workspace_perms_comments"] = comments
        manager = serverapp.contents_manager
        if isinstance(manager, WorkspaceContentsManager):
            manager.comments = comments

    def _start_refresher(self, store: PolicyStore) -> None:
        """Poll for policy changes made by other processes.

        Started here rather than in ``_start_jupyter_server_extension`` so that it
        runs wherever the server's event loop runs, embedded servers included.
        """
        interval_ms = max(store.refresh_interval, 0.05) * 1000
        self._refresher = PeriodicCallback(self._refresh_in_thread, interval_ms)
        self._refresher.start()

    async def _refresh_in_thread(self) -> None:
        # A reload of a large policy takes a while: keep it off the event loop. An
        # unchanged SQLite file needs neither the query nor the thread.
        assert self.store is not None
        if self.store.needs_check():
            await asyncio.get_running_loop().run_in_executor(None, self.store.refresh)

    async def stop_extension(self) -> None:
        """Stop polling, write the queued execution records, close database connections,
        remove the kernel sandbox's filter file."""
        kernel_manager = getattr(self.serverapp, "kernel_manager", None)
        if isinstance(kernel_manager, WorkspaceKernelManager):
            kernel_manager.sandbox.stop()
        if self._refresher is not None:
            self._refresher.stop()
        if self._revocations is not None:
            self._revocations.stop()
        if self._pruner is not None:
            self._pruner.stop()
        if self.denials is not None:
            self.denials.finish()  # the auditor's last write sums up open windows
        if self._room_watcher is not None:
            self._room_watcher.stop()
        if self.auditor is not None:
            # the last write may wait on the database: keep it off the event loop
            await asyncio.get_running_loop().run_in_executor(None, self.auditor.stop)
        if self.store is not None:
            self.store.close()


def _collaboration_app(serverapp: Any) -> Any:
    """jupyter_server_ydoc's extension app when it is enabled, else None."""
    manager = getattr(serverapp, "extension_manager", None)
    point = None if manager is None else manager.extension_points.get("jupyter_server_ydoc")
    return getattr(point, "app", None)


def _hiding(path: Path, companions: tuple[str, ...]) -> list[str]:
    """What hides a secret file from kernels: its folder when it is one of its own (deeper
    than /var/lib), so files made there later are hidden too; else the file and its
    ``companions`` (``path`` + each suffix), one by one."""
    folder = path.resolve().parent
    if len(folder.parts) > 3:
        return [str(folder)]
    return [f"{path}{end}" for end in companions]


def _install_page_config_hook(settings: dict[str, Any], *, demo: bool) -> None:
    """Edit the page config of every JupyterLab and Notebook 7 page, per request.

    The pages never carry the server's token (JupyterLab and Notebook put it there for
    their own requests; here it identifies nobody, and in demo mode it opens the persona
    page, so a person signed in with a personal token must not read it from the page).
    In demo mode they say so, for the lab extension's persona switcher. The hook
    (``page_config_hook``, read by jupyterlab_server and notebook) runs after the
    applications filled the config in, whatever order the extensions loaded in.
    """
    previous = settings.get("page_config_hook")

    def hook(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        if previous is not None:
            page_config = previous(handler, page_config)
        page_config["token"] = ""
        if demo:
            demo_landing.page_config(page_config)
        return page_config

    settings["page_config_hook"] = hook
