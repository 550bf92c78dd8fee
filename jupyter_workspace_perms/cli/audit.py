"""``audit export|prune``: the audit log for operators.

``export`` writes a workspace's rows to standard output as it reads them (the same
:class:`~..store.audit.AuditExport` as the REST route), so it can be piped to a file
or another program whatever the log's length; its output is the export itself, in
JSON lines or CSV, with or without ``--json``. ``prune`` deletes rows older than
``AuditLog.retention_days`` now, as the server does every ``prune_interval``.
"""

from __future__ import annotations

import sys

from traitlets import Int, Unicode
from traitlets.config.application import ClassesType, StrDict

from ..errors import NotFound
from ..store.audit import AuditExport, AuditLog, parse_format, parse_time
from .base import PROG, Command, Result


class AuditExportCommand(Command):
    """``audit export SLUG [--since ISO8601] [--until ISO8601] [--format jsonl|csv]``."""

    name = f"{PROG} audit export"
    description = (
        "Write a workspace's audit log to standard output, oldest first: policy changes, "
        "denials, kernel executions and access requests, as JSON lines (one event per "
        "line) or CSV (a header row; the details column holds JSON). --since includes, "
        "--until excludes. The output is the export whether or not --json is given."
    )
    arguments = ("SLUG",)
    writes = False

    since = Unicode("", config=True, help="Only rows at or after this ISO 8601 time.")
    until = Unicode("", config=True, help="Only rows before this ISO 8601 time.")
    format = Unicode("jsonl", config=True, help="jsonl (default) or csv.")
    aliases: StrDict = {
        **Command.aliases,
        "since": "AuditExportCommand.since",
        "until": "AuditExportCommand.until",
        "format": "AuditExportCommand.format",
    }

    def run(self) -> Result:
        (slug,) = self.args
        fmt = parse_format(self.format)
        since, until = parse_time(self.since, "since"), parse_time(self.until, "until")
        ws_id = self.store.snapshot.workspaces_by_slug.get(slug)
        if ws_id is None:
            raise NotFound(f"no workspace {slug!r}")
        export = AuditExport(self.store.engine, ws_id, slug, fmt, since, until)
        out = sys.stdout
        for text in export:
            out.write(text)
        out.flush()
        return {"workspace": slug, "format": fmt, "rows": export.rows}

    def emit(self, result: Result) -> None:
        """Nothing more: the rows were the output."""


class AuditPrune(Command):
    """``audit prune [--retention-days N]``."""

    name = f"{PROG} audit prune"
    description = (
        "Delete audit rows older than AuditLog.retention_days (default 365; 0 keeps "
        "everything), in every workspace, as the server does every "
        "AuditLog.prune_interval seconds."
    )
    classes: ClassesType = [*Command.classes, AuditLog]
    retention_days = Int(
        -1,
        config=True,
        help="Days to keep for this run (default: AuditLog.retention_days).",
    )
    aliases: StrDict = {**Command.aliases, "retention-days": "AuditPrune.retention_days"}

    def run(self) -> Result:
        audit_log = AuditLog(parent=self)
        if self.retention_days >= 0:
            audit_log.retention_days = self.retention_days
        cutoff = audit_log.cutoff()
        deleted = audit_log.prune(self.store.engine)
        return {
            "retention_days": audit_log.retention_days,
            "before": None if cutoff is None else cutoff.isoformat(),
            "deleted": deleted,
        }

    def render(self, result: Result) -> str:
        if result["before"] is None:
            return "retention is 0 days: audit rows are kept forever, nothing deleted"
        return f"deleted {result['deleted']} audit rows older than {result['before']}"
