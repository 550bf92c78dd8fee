"""Building blocks of ``jupyter workspace-perms``: strict parsing, one error path, output.

Every node of the command tree is a traitlets :class:`~traitlets.config.Application`;
options are traits with help text, declared (as aliases and flags) on the class
that uses them. Leaf commands take their positional arguments from ``extra_args``.

Errors reach the operator as one line on stderr: exit status 2 when the command
line itself is malformed (:class:`UsageError`), 1 when an operation is refused
(any other :class:`~..errors.WorkspacePermsError`). A refused operation changes
nothing: writes happen in one transaction that the error rolls back.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from jupyter_core.paths import jupyter_config_path
from sqlalchemy.exc import OperationalError
from traitlets import Bool, Unicode
from traitlets.config import Application
from traitlets.config.application import ArgvType, ClassesType, StrDict

# traitlets documents overriding its loader to refuse mistyped options; the parser
# class it uses is private, so we subclass it by name.
from traitlets.config.loader import KVArgParseConfigLoader, _KVArgParser

from ..errors import StoreUnavailable, WorkspacePermsError
from ..folders import make_folders
from ..store import PolicyStore, PolicyWriter, database

PROG = "jupyter workspace-perms"
EXIT_REFUSED = 1
EXIT_USAGE = 2
# The server reads PolicyStore settings from jupyter_server_config; reading the same
# files lets the CLI find the server's policy database without repeating --db-url.
CONFIG_FILES = ("jupyter_server_config", "jupyter_workspace_perms_config")

Result = dict[str, Any]


class UsageError(WorkspacePermsError):
    """The command line itself is malformed (missing or extra argument, unknown option)."""

    reason = "usage"


class _Parser(_KVArgParser):
    """argparse without its usage dump and exit: every parse error is one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _Loader(KVArgParseConfigLoader):
    """Refuse a mistyped option instead of warning that it has no effect.

    A typo like ``--expire`` would otherwise create a grant that never expires.
    """

    parser_class = _Parser

    def _handle_unrecognized_alias(self, arg: str) -> None:
        raise UsageError(f"unknown option '--{arg}' (see --help)")


class CLIApp(Application):
    """A node of the command tree: strict options and the one place errors are reported."""

    def _create_loader(
        self,
        argv: list[str] | None,
        aliases: StrDict,
        flags: StrDict,
        classes: ClassesType | None,
    ) -> KVArgParseConfigLoader:
        return _Loader(
            argv, aliases, flags, classes=classes, log=self.log, subcommands=self.subcommands
        )

    @contextmanager
    def reporting_errors(self) -> Iterator[None]:
        """Turn a refused operation into one ``error:`` line on stderr and an exit status."""
        try:
            yield
        except WorkspacePermsError as e:
            # one line even when a database driver's message spans several
            message = " ".join(line.strip() for line in e.message.splitlines() if line.strip())
            print(f"error: {message}", file=sys.stderr)
            self.exit(EXIT_USAGE if isinstance(e, UsageError) else EXIT_REFUSED)

    def initialize(self, argv: ArgvType = None) -> None:
        """Parse the command line; a node without a subcommand then checks what is left."""
        with self.reporting_errors():
            super().initialize(argv)
            if self.subapp is None:
                self.configure()

    def configure(self) -> None:
        """Check the parsed command line (called when no subcommand took over)."""

    def usage(self) -> str:
        """The one-line usage shown in errors and at the top of ``--help``."""
        return f"{self.name} [options]"

    def emit_description(self) -> Generator[str, None, None]:
        """Start ``--help`` with the usage line."""
        yield f"Usage: {self.usage()}"
        yield ""
        yield from super().emit_description()


class Group(CLIApp):
    """A node that only dispatches (``member``, ``project``...): running it alone is an error."""

    def parse_command_line(self, argv: ArgvType = None) -> None:
        """Refuse an unknown command before its options are mistaken for ours."""
        args = sys.argv[1:] if argv is None else argv
        if args and not args[0].startswith("-") and args[0] not in {*self.subcommands, "help"}:
            raise UsageError(
                f"unknown command '{args[0]}' for {self.name}: use one of {self.choices()}"
            )
        super().parse_command_line(argv)

    def configure(self) -> None:
        """Only options were given: say which commands there are."""
        raise UsageError(f"{self.name} needs a command: one of {self.choices()} (see --help)")

    def choices(self) -> str:
        """The subcommand names, for messages."""
        return ", ".join(self.subcommands)

    def usage(self) -> str:
        """``jupyter workspace-perms member <command> ...``."""
        return f"{self.name} <command> [arguments] [options]"


class Command(CLIApp):
    """A leaf command: fixed positional arguments, a policy store, text or JSON output.

    Subclasses set ``arguments`` (names shown in usage) and implement :meth:`run`,
    returning a JSON-able dict, and :meth:`render` for people.
    """

    arguments: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`start` opens the store (refusing an outdated schema) before :meth:`run`.
    opens_store: ClassVar[bool] = True

    json_output = Bool(
        False,
        config=True,
        help="Print one JSON document on stdout instead of text (default: text).",
    )

    classes: ClassesType = [PolicyStore]
    aliases: StrDict = {
        **Application.aliases,
        "db-url": "PolicyStore.db_url",
    }
    flags: StrDict = {
        **Application.flags,
        "json": ({"Command": {"json_output": True}}, json_output.help),
    }

    args: tuple[str, ...] = ()
    store: PolicyStore

    def usage(self) -> str:
        """``jupyter workspace-perms member set SLUG EMAIL ROLE [options]``."""
        return " ".join([self.name, *self.arguments, "[options]"])

    def configure(self) -> None:
        """Check the positional arguments, then read config files (the command line wins)."""
        given = list(self.extra_args)
        if len(given) < len(self.arguments):
            missing = " ".join(self.arguments[len(given) :])
            raise UsageError(f"missing {missing}: usage: {self.usage()}")
        if len(given) > len(self.arguments):
            extra = given[len(self.arguments)]
            raise UsageError(f"unexpected argument '{extra}': usage: {self.usage()}")
        self.args = tuple(given)
        for name in CONFIG_FILES:
            self.load_config_file(name, path=jupyter_config_path())

    def start(self) -> None:
        """Open the store, run, print the result; errors become one line and an exit status."""
        with self.reporting_errors():
            self.store = PolicyStore(parent=self)
            try:
                if self.opens_store:
                    self.store.open(create_if_empty=True)
                result = self.run()
            except OperationalError as e:
                where = database.redact(self.store.db_url)
                raise StoreUnavailable(f"cannot use the policy database {where}: {e.orig}") from e
            finally:
                self.store.close()
            self.emit(result)

    def run(self) -> Result:
        """Do the work; return the machine-readable result."""
        raise NotImplementedError

    def render(self, result: Result) -> str:
        """The result as text for people (override for tables)."""
        return "\n".join(f"{key}: {value}" for key, value in result.items())

    def emit(self, result: Result) -> None:
        """Print ``result`` as JSON (``--json``) or as text."""
        if self.json_output:
            print(json.dumps(result, indent=2))
        else:
            print(self.render(result))

    def writing(self) -> AbstractContextManager[PolicyWriter]:
        """One transaction of changes, recorded in the audit log as made by this CLI user."""
        return self.store.write(cli_actor())

    def user_arg(self, writer: PolicyWriter, who: str, provider: str = "") -> str:
        """The username for ``who``: an existing user, or one created from the email ``who``.

        Users that signed in elsewhere (e.g. JupyterHub) may have a username that
        is not an email; those are used as they are.
        """
        if "@" not in who and self.store.snapshot.user_named(who) is not None:
            return who
        return writer.ensure_user(who, provider or None).username

    def username_of(self, user_id: int | None) -> str | None:
        """A user's name from the snapshot (None for no user)."""
        return None if user_id is None else self.store.snapshot.users[user_id].username


class FolderCommand(Command):
    """A command that also creates folders under ``--root-dir``."""

    root_dir = Unicode(
        "",
        config=True,
        help="""Folder that holds the workspace folders, normally the server's
        ``root_dir`` (default: the current directory).""",
    )
    aliases: StrDict = {**Command.aliases, "root-dir": "FolderCommand.root_dir"}

    def create_folders(self, *parts: str) -> tuple[Path, list[Path]]:
        """Create ``ROOT/part/...``: see :func:`make_folders`."""
        return make_folders(self.root_dir or os.getcwd(), parts)


def cli_actor() -> str:
    """Who the audit log names for changes made here: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "cli:unknown"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces; ``-`` for empty cells."""
    cells = [[str(h) for h in headers]]
    cells += [["-" if c is None or c == "" else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)
