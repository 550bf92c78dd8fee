"""Building blocks of ``jupyter workspace-perms``: strict parsing, one error path, output.

Every node of the command tree is a traitlets :class:`~traitlets.config.Application`;
options are traits with help text, declared (as aliases and flags) on the class
that uses them. Leaf commands take their positional arguments from ``extra_args``.

Errors reach the operator as one line on stderr, or with ``--json`` as one JSON
document ``{"error": ..., "reason": ...}`` on stdout (so a script reads every
answer from one place): exit status 2 when the command line itself is malformed
(:class:`UsageError`), 1 when an operation is refused (any other
:class:`~..errors.WorkspacePermsError`). A refused operation changes nothing:
writes happen in one transaction that the error rolls back, folders made for it
are removed, and a schema created for it in an empty database is dropped again.

A database with no schema yet (a new SQLite file, an empty PostgreSQL database)
gets it from the first command that writes, as from the server's first start;
commands that only read (``status``, the ``list`` commands) never create
anything and answer as for an empty policy.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from jupyter_core.paths import jupyter_config_path
from sqlalchemy import MetaData
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from traitlets import Bool, TraitError, Unicode
from traitlets.config import Application, Config
from traitlets.config.application import ArgvType, ClassesType, StrDict

# traitlets documents overriding its loader to refuse mistyped options; the parser
# class it uses is private, so we subclass it by name.
from traitlets.config.loader import KVArgParseConfigLoader, _KVArgParser

from ..errors import InvalidInput, NotFound, StoreUnavailable, WorkspacePermsError
from ..folders import make_folders
from ..policy import PolicySnapshot, UserFacts
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

    #: ``--json`` was on the command line (known before parsing, for parse errors too).
    json_requested = False

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

    def update_config(self, config: Config) -> None:
        """Report an option value of the wrong type (``--port abc``) as a usage error.

        traitlets would log it and exit 1 with no ``error:`` line and no JSON.
        """
        try:
            super().update_config(config)
        except TraitError as e:
            raise UsageError(f"invalid option value: {e}") from None

    def wants_json(self) -> bool:
        """Whether errors (and results) are printed as JSON."""
        return self.json_requested

    def report(self, error: WorkspacePermsError) -> None:
        """Print a refused operation: one ``error:`` line on stderr, or JSON on stdout."""
        if self.wants_json():
            print(json.dumps({"error": one_line(error), "reason": error.reason}, indent=2))
        else:
            print(f"error: {one_line(error)}", file=sys.stderr)

    @contextmanager
    def reporting_errors(self) -> Iterator[None]:
        """Turn a refused operation into its report and an exit status (2 usage, 1 refused)."""
        try:
            yield
        except WorkspacePermsError as e:
            self.report(e)
            sys.stdout.flush()
            self.exit(EXIT_USAGE if isinstance(e, UsageError) else EXIT_REFUSED)

    def initialize(self, argv: ArgvType = None) -> None:
        """Parse the command line; a node without a subcommand then checks what is left."""
        args = list(sys.argv[1:] if argv is None else argv)
        options = args[: args.index("--")] if "--" in args else args
        self.json_requested = "--json" in options
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
    #: The name of the further positional arguments a command takes (e.g. "VARIABLE"),
    #: if it takes any: they follow the fixed ones, in :attr:`more_args`.
    more_arguments: ClassVar[str | None] = None
    #: Whether :meth:`start` opens the store (refusing an outdated schema) before :meth:`run`.
    opens_store: ClassVar[bool] = True
    #: Whether the command changes the policy (and so may create the schema of an empty
    #: database); commands that only read never create anything.
    writes: ClassVar[bool] = True

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
    more_args: tuple[str, ...] = ()
    store: PolicyStore
    #: What a refused command could still tell (``status`` of an outdated database).
    partial: Result | None = None

    def wants_json(self) -> bool:
        """``--json`` as parsed, or as seen on the command line before parsing failed."""
        return self.json_output or self.json_requested

    def report(self, error: WorkspacePermsError) -> None:
        """With a partial result, print it along with the error (in JSON: one document)."""
        if self.partial is None:
            super().report(error)
        elif self.wants_json():
            answer = {**self.partial, "error": one_line(error), "reason": error.reason}
            print(json.dumps(answer, indent=2))
        else:
            print(self.render(self.partial))
            super().report(error)

    def usage(self) -> str:
        """``jupyter workspace-perms member set SLUG EMAIL ROLE [options]``."""
        more = [f"[{self.more_arguments} ...]"] if self.more_arguments else []
        return " ".join([self.name, *self.arguments, *more, "[options]"])

    def configure(self) -> None:
        """Check the positional arguments, then read config files (the command line wins)."""
        given = list(self.extra_args)
        if len(given) < len(self.arguments):
            missing = " ".join(self.arguments[len(given) :])
            raise UsageError(f"missing {missing}: usage: {self.usage()}")
        if len(given) > len(self.arguments) and self.more_arguments is None:
            extra = given[len(self.arguments)]
            raise UsageError(f"unexpected argument '{extra}': usage: {self.usage()}")
        self.args = tuple(given[: len(self.arguments)])
        self.more_args = tuple(given[len(self.arguments) :])
        for name in CONFIG_FILES:
            try:
                self.load_config_file(name, path=jupyter_config_path())
            except UsageError as e:  # a wrong value in a file, not on the command line
                raise InvalidInput(f"{name}: {e.message}") from None

    def start(self) -> None:
        """Open the store, run, print the result; errors become one line and an exit status."""
        with self.reporting_errors():
            self.store = PolicyStore(parent=self)
            try:
                result = self._run_on_store()
            except OperationalError as e:
                where = database.redact(self.store.db_url)
                raise StoreUnavailable(f"cannot use the policy database {where}: {e.orig}") from e
            except (ArgumentError, ModuleNotFoundError) as e:  # a bad URL, a missing driver
                raise InvalidInput(f"cannot use the policy database URL: {e}") from e
            finally:
                self.store.close()
            self.emit(result)

    def _run_on_store(self) -> Result:
        if not self.opens_store:
            return self.run()
        if not self.writes:
            if self.schema_exists():
                self.store.open(create_if_empty=False)
            return self.run()  # no schema: the empty snapshot, nothing created
        with schema_dropped_on_error(self.store):
            self.store.open(create_if_empty=True)
            return self.run()

    def schema_exists(self) -> bool:
        """Whether the database has any schema (current or not); asks without creating anything.

        A SQLite file that does not exist is not created (nor its folder).
        """
        path = database.sqlite_path(self.store.db_url)
        if path is not None and not path.exists():
            return False
        engine = self.store.engine
        return database.current_revision(engine) is not None or not database.is_empty(engine)

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

    def known_or_new_user(self, writer: PolicyWriter, who: str, provider: str = "") -> str:
        """An existing user as they are, or a new one from the email ``who`` with ``provider``.

        Unlike :meth:`user_arg`, an existing user's login provider is left alone.
        """
        try:
            return writer.user(who).username
        except NotFound:
            if "@" not in who:
                raise NotFound(f"no user {who!r}: give an email to create a new user") from None
        return writer.ensure_user(who, provider or None).username

    def username_of(self, user_id: int | None) -> str | None:
        """A user's name from the snapshot (None for no user)."""
        return None if user_id is None else self.store.snapshot.users[user_id].username


def one_line(error: WorkspacePermsError) -> str:
    """The error's message on one line, even when a database driver's spans several."""
    return " ".join(line.strip() for line in error.message.splitlines() if line.strip())


def find_user(snap: PolicySnapshot, who: str) -> UserFacts:
    """The user named ``who`` (emails match case-insensitively, as the writer's) or NotFound."""
    user = snap.user_named(who.strip().lower() if "@" in who else who)
    if user is None:
        raise NotFound(f"no user {who!r}")
    return user


@contextmanager
def schema_dropped_on_error(store: PolicyStore) -> Iterator[None]:
    """Undo the schema that opening ``store`` creates, if the command then fails.

    A refused command changes nothing, including a database it found empty: a
    SQLite file that did not exist is removed (with the folders made for it), the
    tables created in an empty database are dropped. Only while no policy row was
    written: a database someone else started using in the meantime is left alone.
    """
    path = database.sqlite_path(store.db_url)
    new_file = path is not None and not path.exists()
    new_folders = [f for f in path.parents if not f.exists()] if path and new_file else []
    fresh = new_file or (
        database.current_revision(store.engine) is None and database.is_empty(store.engine)
    )
    try:
        yield
    except BaseException:
        # best effort: a failure here must not hide the error being reported
        with suppress(SQLAlchemyError, OSError):
            if fresh and _untouched(store):
                _remove_schema(store, new_folders if new_file else None)
        raise


def _untouched(store: PolicyStore) -> bool:
    """Whether the store holds no policy row and no audit event (any write adds one)."""
    try:
        return not any(store.status()["counts"].values())
    except SQLAlchemyError:
        return database.is_empty(store.engine)  # the schema was never created


def _remove_schema(store: PolicyStore, new_folders: list[Path] | None) -> None:
    """Delete the new SQLite file (``new_folders`` given) or drop every table."""
    path = database.sqlite_path(store.db_url)
    if path is not None and new_folders is not None:
        store.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for folder in new_folders:  # the deepest first
            try:
                folder.rmdir()
            except OSError:  # someone else put something there: keep it
                break
        return
    with store.engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)
        tables.drop_all(connection)


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
