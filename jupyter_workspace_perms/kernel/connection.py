"""The kernel websocket hook: every message judged against the user who sent it.

A kernel websocket is authorized once, when it opens; Jupyter Server then passes
every message straight to the kernel. :class:`WorkspaceKernelConnection`
(installed as ``ServerApp.kernel_websocket_connection_class``) instead:

- parses each incoming message, in the v1 binary subprotocol
  (``v1.kernel.websocket.jupyter.org``) and in the legacy JSON protocol, on every
  channel, and asks :func:`.judge.judge` with this connection's user's access to
  the kernel's bound project *at that moment*; malformed messages are dropped;
- forwards what is allowed and answers what is not (an error reply, the iopub
  ``error`` and ``idle``), so the cell shows "PermissionError: …" instead of hanging;
- binds each websocket ``session_id`` to the first user who used it on the kernel:
  a second user reusing it would otherwise replace the first one's socket and
  receive their replies;
- is watched by :class:`RevocationWatcher`, which closes the sockets of users who
  lost ``project:execute`` within a fraction of a second of the policy change;
- reports every ``execute_request`` to the execution audit, if one is installed.

What a message costs
--------------------
Every message a client sends passes here, on the server's event loop
(``benchmarks/kernel_hook.py``, section ``filter``). So what cannot change while a
socket is open (settings, kernel id, protocol, session, packer) is read once; the
policy snapshot once per message, with the access decision cached per snapshot;
each JSON part the judge needs is parsed once (:mod:`.frames`); a session notebook
costs one ``stat`` (:meth:`.notebooks.ConnectionNotebooks.find`); and only
judged parts are packed again (:meth:`WorkspaceKernelConnection._forward`).
"""

from __future__ import annotations

import contextlib
import json
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado import web
from tornado.websocket import WebSocketClosedError

from ..identity.provider import WorkspaceUser
from ..paths import served_root
from ..policy import PolicySnapshot, check_project
from ..policy.lifecycle import check_kernel_shutdown
from ..watching import SocketWatcher
from .frames import Incoming, Malformed, Outgoing, one_reading, packer_for
from .judge import Access, Verdict, answers, judge
from .notebooks import ConnectionNotebooks, MessageNotebooks
from .widgets import CONTROL, CONTROL_TARGETS, WidgetRegistry

V1 = "v1.kernel.websocket.jupyter.org"
EXECUTE = "project:execute"
WRITE = "project:write"
NOT_BOUND = "this kernel is not bound to a project"
NO_POLICY = "the workspace policy is not loaded"
TOKEN_GONE = "your sign-in token was revoked or has expired"
SESSION_TAKEN = "this kernel session belongs to another user; open the notebook again"
CLOSE_POLICY_VIOLATION = 1008  # RFC 6455: the endpoint's policy forbids the connection


@dataclass(frozen=True, slots=True)
class _Fixed:
    """What a connection reads once and keeps: none of it changes while it is open."""

    settings: dict[str, Any]  # the server's
    root_dir: str
    kernel_id: str
    kernels: Any  # the multi-kernel manager
    binder: Callable[[str], Any] | None  # its ``project_of``
    session: Session
    pack: Callable[[Any], bytes]

    def project_id(self) -> int | None:
        """The project the kernel is bound to now."""
        project_id = None if self.binder is None else self.binder(self.kernel_id)
        return None if project_id is None else int(project_id)

    def snapshot(self) -> PolicySnapshot | None:
        """The policy in force now."""
        store = self.settings.get("workspace_perms_store")
        return None if store is None else store.snapshot


class WorkspaceKernelConnection(ZMQChannelsWebsocketConnection):
    """A kernel websocket that lets each user send only what their permissions allow."""

    # "kernel_id:session_id" -> id of the user who first used it (survives reconnects)
    _session_owners: ClassVar[dict[str, int]] = {}
    # kernel id -> the widgets it made (comm id -> model), learned from what it sends
    _widget_registries: ClassVar[dict[str, WidgetRegistry]] = {}
    # open connections, re-checked by RevocationWatcher
    _watched: ClassVar[weakref.WeakSet[WorkspaceKernelConnection]] = weakref.WeakSet()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._user: WorkspaceUser | None = None
        self._access: tuple[PolicySnapshot | None, float, Access] | None = None
        self._fixed_parts: _Fixed | None = None
        self._is_v1: bool | None = None
        self._notebooks = ConnectionNotebooks()
        self._pending_input: str | None = None  # msg_id of the input_request sent to us
        self._own_comms: set[str] = set()  # control comms this socket opened

    # -- opening -----------------------------------------------------------------------

    async def prepare(self) -> None:
        """Bind the session id to this user before the stock code may replace a socket."""
        user = self.websocket_handler.current_user
        if not isinstance(user, WorkspaceUser):
            raise web.HTTPError(403, "unknown user")
        self._user = user
        self._bind_session(user)
        await super().prepare()  # type: ignore[no-untyped-call]

    def _bind_session(self, user: WorkspaceUser) -> None:
        owners = self._session_owners
        running = self.multi_kernel_manager
        for key in [k for k in owners if k.split(":", 1)[0] not in running]:
            del owners[key]  # the kernel is gone: its sessions are free again
        for kernel_id in [k for k in self._widget_registries if k not in running]:
            del self._widget_registries[kernel_id]  # and its widgets with it
        key = f"{self.kernel_id}:{self.session.session}"
        if owners.setdefault(key, user.user_id) != user.user_id:
            self.log.warning("refused user %s reusing session %s", user.username, key)
            raise web.HTTPError(403, SESSION_TAKEN, reason="session_taken")

    def connect(self) -> Any:
        """Connect, and be watched for revocation."""
        connected = super().connect()
        self._watched.add(self)
        return connected

    def disconnect(self) -> None:  # type: ignore[override]
        """Stop being watched."""
        self._watched.discard(self)
        super().disconnect()  # type: ignore[no-untyped-call]

    @property
    def _fixed(self) -> _Fixed:
        fixed = self._fixed_parts
        if fixed is None:
            settings = self.websocket_handler.settings
            kernels = self.multi_kernel_manager
            session = self.session
            fixed = self._fixed_parts = _Fixed(
                settings=settings,
                root_dir=served_root(settings),
                kernel_id=str(self.kernel_id),
                kernels=kernels,
                binder=getattr(kernels, "project_of", None),
                session=session,
                pack=packer_for(session),
            )
        return fixed

    # -- access ------------------------------------------------------------------------

    @property
    def project_id(self) -> int | None:
        """The project the kernel was bound to when it started."""
        return self._fixed.project_id()

    def access(self) -> Access:
        """This user's access to the kernel's project under the policy in force now.

        Cached per snapshot, until the earliest grant or token expiry that matters.
        """
        return self._access_under(self._fixed.snapshot())

    def _access_under(self, snap: PolicySnapshot | None) -> Access:
        now = time.time()
        cached = self._access
        if cached is not None and cached[0] is snap and now < cached[1]:
            return cached[2]
        until, access = self._decide(snap, now)
        self._access = (snap, until, access)
        return access

    def _decide(self, snap: PolicySnapshot | None, now: float) -> tuple[float, Access]:
        user, project_id = self._user, self.project_id
        if snap is None or user is None:
            return float("inf"), Access(False, False, NO_POLICY)
        if project_id is None or project_id not in snap.projects:
            return float("inf"), Access(False, False, NOT_BOUND)
        until = float("inf")
        if user.token_id is not None:
            token = snap.tokens_by_id.get(user.token_id)
            if token is None or token.user_id != user.user_id or not token.usable(now):
                return float("inf"), Access(False, False, TOKEN_GONE)
            until = min(until, token.expires_at or until)
        grant = snap.grants.get((project_id, user.user_id))
        if grant is not None and grant.expires_at is not None and grant.expires_at > now:
            until = min(until, grant.expires_at)
        execute = check_project(snap, user.subject, project_id, EXECUTE, now)
        if not execute.allowed:
            return until, Access(False, False, execute.reason)
        write = check_project(snap, user.subject, project_id, WRITE, now)
        # shutting the kernel down: the same rule as DELETE /api/kernels/{id}
        fixed = self._fixed
        starter_of = getattr(fixed.kernels, "starter_of", None)
        starter = None if starter_of is None else starter_of(fixed.kernel_id)
        shutdown = check_kernel_shutdown(snap, user.subject, project_id, starter, now)
        return until, Access(write.allowed, True, can_shut_down=shutdown.allowed)

    def revoke_if_lost(self) -> bool:
        """Close the socket when the user may no longer run code here; True if closed."""
        access = self.access()
        if access.can_execute:
            return False
        self._watched.discard(self)
        self.log.info("closing kernel socket of %s: %s", self._who, access.refusal)
        reason = access.refusal.encode()[:120].decode(errors="ignore")
        self.websocket_handler.close(CLOSE_POLICY_VIOLATION, reason)
        return True

    # -- messages ----------------------------------------------------------------------

    @property
    def _v1(self) -> bool:
        """Whether the client speaks v1 (chosen in the handshake, before any message)."""
        v1 = self._is_v1
        if v1 is None:
            v1 = self._is_v1 = bool(self.subprotocol == V1)
        return v1

    def handle_incoming_message(self, incoming_msg: str | bytes) -> None:
        """Judge one message from the client; forward it, or answer it ourselves."""
        channels = self.channels
        if not channels:
            return  # already closed
        try:
            incoming = Incoming.parse(incoming_msg, self._v1)
            msg_type = incoming.msg_type
            self._handle(incoming, msg_type, channels)
        except Malformed as e:
            self.log.warning("dropped a malformed kernel message from %s: %s", self._who, e)

    @property
    def _who(self) -> str:
        return self._user.username if self._user is not None else "?"

    def _handle(self, incoming: Incoming, msg_type: str, channels: dict[str, Any]) -> None:
        stream = channels.get(incoming.channel)
        if stream is None:
            self.log.warning("No such channel: %r", incoming.channel)
            return
        fixed = self._fixed
        allowed_types = fixed.kernels.allowed_message_types
        if allowed_types and msg_type not in allowed_types:
            self.log.warning('Received message of type "%s", which is not allowed.', msg_type)
            return
        snap = fixed.snapshot()  # one policy for the whole message
        access = self._access_under(snap)
        execute = msg_type == "execute_request"
        content: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        if not access.can_write or execute:
            content = incoming.part(3, "content")
        if execute:
            metadata = incoming.part(2, "metadata")
        notebooks = MessageNotebooks(self._notebooks, fixed, snap)
        verdict = judge(
            incoming.channel, msg_type, content, metadata, access, notebooks, self._comm_kind
        )
        if verdict.allowed and msg_type == "comm_open" and content:
            self._note_own_comm(content)
        if execute:
            self._record_execution(verdict, content, metadata, notebooks)
        if verdict.allowed and incoming.channel == "stdin":
            refusal = self._answers_own_input(incoming, msg_type)
            if refusal is not None:
                self.log.info("dropped %s on stdin from %s: %s", msg_type, self._who, refusal)
                return
        if verdict.allowed:
            self._forward(incoming, stream, access, content, metadata)
        else:
            self._refuse(incoming, msg_type, verdict, content)

    # -- stdin ---------------------------------------------------------------------------

    def _answers_own_input(self, incoming: Incoming, msg_type: str) -> str | None:
        """None when this socket may answer the kernel's pending ``input()``, else why not.

        The kernel sends ``input_request`` only to the socket whose ``execute_request``
        is waiting (its zmq identity), but takes the next stdin message from any socket
        as the answer. So an ``input_reply`` goes through only from the socket that
        received the request, once, and (when it names one) to that request.
        """
        pending = self._pending_input
        if msg_type != "input_reply":
            return "only input replies are sent on stdin"
        if pending is None:
            return "the kernel asked this socket for no input"
        parent = incoming.parent_header().get("msg_id")
        if parent is not None and parent != pending:
            return "the reply answers another input request"
        self._pending_input = None
        return None

    def handle_outgoing_message(self, stream: str, outgoing_msg: list[Any]) -> None:
        """Note an ``input_request`` sent to this socket and the widgets the kernel
        makes (:mod:`.widgets`), then send as usual."""
        channel = stream if isinstance(stream, str) else getattr(stream, "channel", None)
        if channel in ("stdin", "iopub"):
            self._note_outgoing(channel, Outgoing.read(self._fixed.session, outgoing_msg))
        super().handle_outgoing_message(stream, outgoing_msg)

    def _note_outgoing(self, channel: str, sent: Outgoing | None) -> None:
        msg_type = None if sent is None else sent.msg_type
        if channel == "stdin":
            msg_id = None if sent is None else sent.header.get("msg_id")
            is_request = msg_type == "input_request" and isinstance(msg_id, str)
            self._pending_input = msg_id if is_request else None
        elif sent is not None and msg_type in ("comm_open", "comm_msg", "comm_close"):
            # unreadable content teaches nothing: the widget stays unknown (refused)
            with contextlib.suppress(Malformed):
                self._widgets.learn(msg_type, sent.content())

    # -- widgets -------------------------------------------------------------------------

    @property
    def _widgets(self) -> WidgetRegistry:
        """The widgets of this connection's kernel, shared by all its connections."""
        registries = self._widget_registries
        kernel_id = self._fixed.kernel_id
        found = registries.get(kernel_id)
        if found is None:
            found = registries[kernel_id] = WidgetRegistry()
        return found

    def _comm_kind(self, comm_id: str) -> str | None:
        """What a comm is, for the judge: this socket's control comm, or a kernel widget."""
        return CONTROL if comm_id in self._own_comms else self._widgets.kind(comm_id)

    def _note_own_comm(self, content: dict[str, Any]) -> None:
        comm_id = content.get("comm_id")
        if isinstance(comm_id, str) and content.get("target_name") in CONTROL_TARGETS:
            self._own_comms.add(comm_id)

    def _forward(
        self,
        incoming: Incoming,
        stream: Any,
        access: Access,
        content: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """Send an allowed message to the kernel.

        The kernel must read what was judged: a JSON parser that keeps the first
        of two duplicate keys (ours keeps the last) must not find another
        ``msg_type`` or other code. So, for a user without write, the v1 parts the
        judge read go to the kernel as it read them:

        - the content (code, comm target, restart flag) is always packed again
          from the parsed object;
        - the header, of which only ``msg_type`` is judged, and an
          ``execute_request``'s metadata, of which only ``cellId`` is, are packed
          again unless their bytes can be read one way only (:func:`.frames.one_reading`).
          Packing costs more than parsing, and JupyterLab's headers and metadata
          have no escapes: they go as they came.

        The parent header and binary buffers are never judged and go as they came.
        Users with write may send anything, so their parts go as they came. Legacy
        messages are always serialized again, from the parsed message.
        """
        fixed = self._fixed
        if incoming.msg is not None:
            fixed.session.send(stream, incoming.msg)
            return
        parts = incoming.parts
        assert parts is not None
        if not access.can_write:
            pack = fixed.pack
            try:
                header = parts[0]
                if not one_reading(header, b'"msg_type"'):
                    header = pack(incoming.header)
                parts = [header, parts[1], parts[2], pack(content), *parts[4:]]
                if metadata and not one_reading(parts[2], b'"cellId"'):
                    parts[2] = pack(metadata)
            except (TypeError, ValueError, RecursionError) as e:  # e.g. a lone surrogate
                raise Malformed("a judged part cannot be packed again") from e
        fixed.session.send_raw(stream, parts)

    def _refuse(
        self, incoming: Incoming, msg_type: str, verdict: Verdict, content: dict[str, Any]
    ) -> None:
        if not verdict.harmless:
            self.log.info(
                "refused %s on %s from %s: %s",
                msg_type,
                incoming.channel,
                self._who,
                verdict.reason,
            )
        session = self._fixed.session
        for answer in answers(verdict, msg_type, content):
            msg = session.msg(answer.msg_type, content=answer.content, parent=incoming.header)
            self._write_to_client(msg, answer.channel)

    def _write_to_client(self, msg: dict[str, Any], channel: str) -> None:
        """Send a message of ours to this client only, in its protocol (as ``write_stderr``)."""
        try:
            if self._v1:
                data = serialize_msg_to_ws_v1(  # type: ignore[no-untyped-call]
                    msg, channel, self._fixed.session.pack
                )
                self.write_message(data, binary=True)
            else:
                msg["channel"] = channel
                self.write_message(json.dumps(msg, default=json_default))
        except WebSocketClosedError:
            pass

    # -- audit -------------------------------------------------------------------------

    def _record_execution(
        self,
        verdict: Verdict,
        content: dict[str, Any],
        metadata: dict[str, Any],
        notebooks: MessageNotebooks,
    ) -> None:
        """Hand one execution request to the audit (``workspace_perms_auditor``), if any.

        The auditor's ``record`` must return at once (it queues); its failures are
        logged and never reach the socket.
        """
        fixed = self._fixed
        auditor = fixed.settings.get("workspace_perms_auditor")
        if auditor is None:
            return
        code = content.get("code")
        cell_id = metadata.get("cellId")
        project_id, project = notebooks.project()
        try:
            auditor.record(
                username=self._who,
                workspace_id=0 if project is None else project.workspace_id,
                project_id=0 if project_id is None else project_id,
                notebook=notebooks.path_of(verdict.notebook),
                cell_id=cell_id if isinstance(cell_id, str) else None,
                code=code if isinstance(code, str) else "",
                allowed=verdict.allowed,
                reason=verdict.reason,
                kernel_id=fixed.kernel_id,
            )
        except Exception:
            self.log.exception("the execution audit failed")


class RevocationWatcher(SocketWatcher):
    """Closes the kernel sockets of users who lost ``project:execute`` (see
    :class:`~..watching.SocketWatcher`)."""

    def __init__(
        self,
        connection_class: type[WorkspaceKernelConnection] = WorkspaceKernelConnection,
        interval: float = 0.25,
    ) -> None:
        super().__init__(lambda: connection_class._watched, "a kernel socket", interval)
        self.connection_class = connection_class
