"""The audit log export: ``GET /workspaces/{ws}/audit?format=jsonl|csv&since=&until=``.

Streamed: each chunk of rows is read in a worker thread (:class:`...store.audit.AuditExport`)
and written and flushed before the next is read, so a log of millions of rows never sits
in memory and the event loop never waits on the database. ``workspace:audit`` is checked
by the operation's row before this runs.
"""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError

from ...store.audit import AuditExport, parse_format, parse_time
from .base import Call, WorkspacePermsHandler, api, route


class AuditHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/audit``."""

    @api("audit.export")
    async def get(self, call: Call) -> None:
        """The workspace's audit rows, oldest first, as JSON lines or CSV."""
        ws = call.workspace
        assert ws is not None
        fmt = parse_format(self.get_query_argument("format", None))
        since = parse_time(self.get_query_argument("since", None), "since")
        until = parse_time(self.get_query_argument("until", None), "until")
        export = AuditExport(self.store.engine, ws.id, ws.slug, fmt, since, until)
        self.set_header("Content-Type", f"{export.content_type}; charset=utf-8")
        filename = f"{ws.slug}-audit.{fmt}"
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        head = export.header()
        if head:
            self.write(head)
        loop = asyncio.get_running_loop()
        try:
            while (text := await loop.run_in_executor(None, export.next_chunk)) is not None:
                self.write(text)
                await self.flush()
        except StreamClosedError:  # the client went away: stop reading
            self.log.info("audit export of %s stopped after %d rows", ws.slug, export.rows)
            return
        self.finish()


default_handlers = [(route("/workspaces/{ws}/audit"), AuditHandler)]
