"""Benchmark the policy core and store: decision latency, snapshot reload time, memory.

Run from the repository root (see ``benchmarks/README.md`` for the targets)::

    python benchmarks/policy.py [--sizes 100,10000,100000] [--quick] [--json PATH] [--strict]

For each size (number of collaborator grants) it generates one realistic world with
a fixed seed, writes it to a fresh SQLite file through the ORM tables, then measures

1. ``check_project`` / ``check_workspace`` latency on the loaded snapshot,
2. ``PolicyStore.reload()`` time (and on PostgreSQL when ``$WORKSPACE_PERMS_BENCH_PG_URL``
   is set, inside a throw-away schema),
3. the snapshot's memory, in a fresh subprocess so earlier sizes cannot hide it.

Progress goes to stderr; the Markdown tables and target lines go to stdout.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from jupyter_workspace_perms.policy import (
    Decision,
    PolicySnapshot,
    Subject,
    check_project,
    check_workspace,
)
from jupyter_workspace_perms.policy.permissions import PROJECT_PERMISSIONS, WORKSPACE_PERMISSIONS
from jupyter_workspace_perms.store import PolicyStore, orm
from jupyter_workspace_perms.store.database import redact

SEED = 20261127
NOW = 1_750_000_000.0  # the decision time; expiries are placed around it
NOW_DT = datetime.fromtimestamp(NOW, timezone.utc)
PG_ENV = "WORKSPACE_PERMS_BENCH_PG_URL"
DEFAULT_SIZES = (100, 10_000, 100_000)
MIN_SIZE = 100
PROVIDERS = ("token", "github", "google")
SSO_PROVIDER = "github"
MEMBER_ROLES = {"viewer": 40, "contributor": 30, "editor": 20, "admin": 10}
GRANT_ROLES = {"viewer": 35, "contributor": 30, "editor": 25, "admin": 10}
ACCESS_LEVELS = {"full": 70, "view": 20, "none": 10}
BATCH = 100  # calls per timed batch: far above perf_counter_ns resolution
HOT_REPEAT = 20  # the same call repeated: the cost with every fact already in CPU cache
HOT_CALLS = 2_000  # how many of the sampled calls get the hot treatment
# check_workspace takes ``now`` once guest status depends on grant expiry; pass it if asked.
WORKSPACE_NOW = (NOW,) if "now" in inspect.signature(check_workspace).parameters else ()

TARGET_FLAT_RATIO = 1.5
TARGET_SIZE = 100_000
TARGET_RELOAD_S = 1.0
TARGET_MEMORY_MB = 200.0

Row = dict[str, Any]
Call = tuple[Any, ...]


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    """One key of ``weights`` drawn with its weight (keeps the role/access mixes readable)."""
    return rng.choices(list(weights), list(weights.values()))[0]


# -- the world ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """How many of each thing a world of ``grants`` grants holds.

    The top size is 100k grants, 10k members, 10k projects; smaller sizes shrink
    proportionally, but never below 100 members/projects so tiny worlds stay varied.
    """

    grants: int
    members: int
    projects: int
    workspaces: int
    guests: int  # users with grants but no membership anywhere
    outsiders: int  # users with neither (non-members asking)

    @classmethod
    def for_size(cls, grants: int) -> Shape:
        """The proportional world for ``grants`` grants."""
        members = max(100, grants // 10)
        return cls(
            grants=grants,
            members=members,
            projects=members,
            workspaces=min(20, max(4, members // 500)),
            guests=max(20, members // 5),
            outsiders=max(10, members // 20),
        )

    @property
    def users(self) -> int:
        """Every user id in the world."""
        return self.members + self.guests + self.outsiders


@dataclass
class World:
    """Rows for every table, plus the id groupings the call sampler draws from."""

    shape: Shape
    tables: list[tuple[type[orm.Base], list[Row]]] = field(default_factory=list)
    memberships: list[tuple[int, int]] = field(default_factory=list)  # (workspace, user)
    grants: list[tuple[int, int]] = field(default_factory=list)  # (project, user)
    guest_of: list[tuple[int, int]] = field(default_factory=list)  # (workspace, user)
    projects_in: dict[int, list[int]] = field(default_factory=dict)
    provider_of: dict[int, str] = field(default_factory=dict)

    @property
    def members(self) -> range:
        """User ids of members (each has at least one membership)."""
        return range(1, self.shape.members + 1)

    @property
    def guests(self) -> range:
        """User ids of guests (grants only)."""
        return range(self.shape.members + 1, self.shape.members + self.shape.guests + 1)

    @property
    def outsiders(self) -> range:
        """User ids with no membership and no grant."""
        return range(self.shape.members + self.shape.guests + 1, self.shape.users + 1)

    def rows(self, model: type[orm.Base]) -> list[Row]:
        """The generated rows of one table."""
        return next(rows for m, rows in self.tables if m is model)


def build_world(size: int, seed: int = SEED) -> World:
    """Generate the world of ``size`` grants; the same seed always gives the same world."""
    rng = random.Random(seed + size)
    world = World(Shape.for_size(size))
    memberships = _memberships(world, rng)
    workspaces, settings = _workspaces(world)
    users = _users(world, rng)
    projects = _projects(world, rng)
    grants = _grants(world, rng)
    world.tables = [
        (orm.User, users),
        (orm.Workspace, workspaces),
        (orm.WorkspaceSettings, settings),
        (orm.Membership, memberships),
        (orm.Project, projects),
        (orm.Grant, grants),
        (orm.Token, _tokens(world, rng)),
    ]
    return world


def _memberships(world: World, rng: random.Random) -> list[Row]:
    """Workspace i is owned (as admin) by member i; every member joins 1, 10% join 2."""
    roles: dict[tuple[int, int], str] = {}
    ws_ids = range(1, world.shape.workspaces + 1)
    for ws in ws_ids:
        roles[(ws, ws)] = "admin"
    for user in world.members:
        count = 2 if rng.random() < 0.1 else 1
        for ws in rng.sample(ws_ids, count):
            roles.setdefault((ws, user), weighted(rng, MEMBER_ROLES))
    world.memberships = list(roles)
    return [
        {"workspace_id": ws, "user_id": u, "role": r, "created_at": NOW_DT}
        for (ws, u), r in roles.items()
    ]


def _workspaces(world: World) -> tuple[list[Row], list[Row]]:
    """Workspace 1 enforces SSO; every third lets viewers execute."""
    workspaces, settings = [], []
    for ws in range(1, world.shape.workspaces + 1):
        workspaces.append(
            {
                "id": ws,
                "slug": f"team-{ws:02d}",
                "name": f"Team {ws}",
                "owner_id": ws,
                "created_at": NOW_DT,
            }
        )
        settings.append(
            {
                "workspace_id": ws,
                "domain_invites": ws % 4 == 0,
                "enforced_sso_provider": SSO_PROVIDER if ws == 1 else None,
                "viewers_can_execute": ws % 3 == 0,
            }
        )
    return workspaces, settings


def _users(world: World, rng: random.Random) -> list[Row]:
    """Members of the SSO workspace mostly sign in with it; the rest use a provider mix."""
    in_sso = {u for ws, u in world.memberships if ws == 1}
    rows = []
    for user in range(1, world.shape.users + 1):
        if user in in_sso:
            provider = SSO_PROVIDER if rng.random() < 0.8 else "token"
        else:
            provider = rng.choices(PROVIDERS, (50, 35, 15))[0]
        world.provider_of[user] = provider
        rows.append(
            {
                "id": user,
                "username": f"user{user:06d}",
                "email": f"user{user}@example.org",
                "email_verified": user % 2 == 0,
                "login_provider": provider,
                "display_name": f"User {user}",
                "created_at": NOW_DT,
            }
        )
    return rows


def _projects(world: World, rng: random.Random) -> list[Row]:
    """Projects spread evenly over workspaces with a full/view/none access mix."""
    members_of: dict[int, list[int]] = {}
    for ws, user in world.memberships:
        members_of.setdefault(ws, []).append(user)
    rows = []
    for pid in range(1, world.shape.projects + 1):
        ws = rng.randint(1, world.shape.workspaces)
        world.projects_in.setdefault(ws, []).append(pid)
        rows.append(
            {
                "id": pid,
                "workspace_id": ws,
                "name": f"project-{pid:05d}",
                "access": weighted(rng, ACCESS_LEVELS),
                "creator_id": rng.choice(members_of[ws]),
                "created_at": NOW_DT,
            }
        )
    return rows


def _grants(world: World, rng: random.Random) -> list[Row]:
    """60% to members, 40% to guests; 20% expire, a third of those already have."""
    members, guests = world.members, world.guests
    seen: set[tuple[int, int]] = set()
    rows: list[Row] = []
    while len(rows) < world.shape.grants:
        project = rng.randint(1, world.shape.projects)
        user = rng.choice(members) if rng.random() < 0.6 else rng.choice(guests)
        if (project, user) in seen:
            continue
        seen.add((project, user))
        rows.append(
            {
                "project_id": project,
                "user_id": user,
                "role": weighted(rng, GRANT_ROLES),
                "expires_at": _expiry(rng),
                "granted_by": None,
                "created_at": NOW_DT,
            }
        )
    world.grants = list(seen)
    _find_guests(world)
    return rows


def _expiry(rng: random.Random) -> datetime | None:
    """None for 80% of grants; else 1-90 days ago (30%) or 1-180 days ahead."""
    if rng.random() >= 0.2:
        return None
    if rng.random() < 0.3:
        return NOW_DT - timedelta(days=rng.uniform(1, 90))
    return NOW_DT + timedelta(days=rng.uniform(1, 180))


def _find_guests(world: World) -> None:
    """(workspace, user) pairs where the user holds a grant but no membership."""
    ws_of = {p: ws for ws, projects in world.projects_in.items() for p in projects}
    member = set(world.memberships)
    pairs = {(ws_of[p], u) for p, u in world.grants} - member
    world.guest_of = sorted(pairs)


def _tokens(world: World, rng: random.Random) -> list[Row]:
    """One personal access token per ten users (the loader reads them too)."""
    rows = []
    for tid in range(1, world.shape.users // 10 + 1):
        user = rng.randint(1, world.shape.users)
        hashed = hashlib.sha256(f"token-{tid}".encode()).hexdigest()
        rows.append(
            {
                "id": tid,
                "user_id": user,
                "hashed": hashed,
                "prefix": hashed[:8],
                "login_provider": world.provider_of[user],
                "note": "",
                "created_at": NOW_DT,
                "expires_at": None,
                "revoked_at": None,
            }
        )
    return rows


# -- populating a database -------------------------------------------------------------


def populate(store: PolicyStore, world: World) -> float:
    """Bulk-insert the world into an opened (schema-created) store; returns seconds."""
    start = time.perf_counter()
    with Session(store.engine) as session, session.begin():
        for model, rows in world.tables:
            if rows:
                session.execute(insert(model), rows)
        session.execute(
            update(orm.PolicyVersion)
            .where(orm.PolicyVersion.id == 1)
            .values(version=orm.PolicyVersion.version + 1)
        )
    return time.perf_counter() - start


def time_reloads(store: PolicyStore, repeats: int) -> tuple[float, list[float]]:
    """The first (cold) reload and ``repeats`` warm ones, each swapping a full snapshot."""
    start = time.perf_counter()
    store.reload()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        store.reload()
        warm.append(time.perf_counter() - start)
    return cold, warm


@contextmanager
def pg_schema(url: str) -> Iterator[dict[str, Any]]:
    """A throw-away schema on the PostgreSQL server; yields ``db_kwargs`` that use it.

    Nothing outside the schema is touched, and it is dropped even on failure.
    """
    schema = f"wsperms_bench_{os.getpid()}_{random.randrange(1 << 30):x}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {"connect_args": {"options": f"-csearch_path={schema}"}}
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pg_url() -> str | None:
    """``$WORKSPACE_PERMS_BENCH_PG_URL`` with the psycopg 3 driver if none is named."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


# -- decision latency ------------------------------------------------------------------


@dataclass
class Latency:
    """Per-call latency of one decision function over a fixed sample of calls."""

    calls: int
    allowed_pct: float
    median_us: float  # median of per-call means of BATCH-call batches (fastest of the rounds)
    p99_us: float  # p99 of the same batch means
    single_median_us: float  # one perf_counter_ns pair around every single call, one round
    single_p99_us: float
    hot_median_us: float  # the same call repeated HOT_REPEAT times: no CPU-cache misses
    codes: dict[str, int]  # how many calls ended with each Decision.code


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _one_round(fn: Callable[..., Decision], calls: Sequence[Call]) -> list[float]:
    """Mean ns per call of each BATCH-call batch (~300 µs each, far above timer resolution)."""
    means = []
    clock = time.perf_counter_ns
    for start in range(0, len(calls), BATCH):
        batch = calls[start : start + BATCH]
        begin = clock()
        for args in batch:
            fn(*args)
        means.append((clock() - begin) / len(batch))
    return means


@dataclass
class Sample:
    """The fixed calls of one decision function on one world, and their best timings."""

    fn: Callable[..., Decision]
    calls: list[Call]
    best: list[float] = field(default_factory=list)  # ns per call of each batch
    hot_best: list[float] = field(default_factory=list)  # ns per call, one call repeated

    def time_round(self) -> None:
        """Bring this world back into cache untimed, then time every batch once more.

        Each batch (and hot call) keeps its fastest round: another process preempting us
        only ever adds time, so the minimum keeps the median and p99 about our code.
        """
        for args in self.calls:
            self.fn(*args)
        self.best = _fastest(self.best, _one_round(self.fn, self.calls))
        self.hot_best = _fastest(self.hot_best, hot_times(self.fn, self.calls))


def _fastest(best: list[float], new: list[float]) -> list[float]:
    return [min(a, b) for a, b in zip(best, new, strict=True)] if best else new


def time_interleaved(samples: Sequence[Sample], rounds: int) -> None:
    """Time every size in turn, ``rounds`` times over.

    Interleaving spreads slow phases of a busy machine over all sizes instead of
    charging them to one, which is what the size ratio needs.
    """
    gc.collect()
    for _ in range(rounds):
        for sample in samples:
            sample.time_round()


def single_times(fn: Callable[..., Decision], calls: Sequence[Call]) -> list[float]:
    """Ns of every call timed alone (includes the ~50-100 ns cost of reading the clock)."""
    times: list[float] = []
    clock = time.perf_counter_ns
    for args in calls:
        begin = clock()
        fn(*args)
        times.append(clock() - begin)
    return times


def hot_times(fn: Callable[..., Decision], calls: Sequence[Call]) -> list[float]:
    """Ns per call when one call is repeated: its facts stay in CPU cache.

    Flat hot numbers with growing batch numbers mean the growth is cache misses on a
    bigger snapshot, not more work per decision.
    """
    times: list[float] = []
    clock = time.perf_counter_ns
    for args in calls[:HOT_CALLS]:
        begin = clock()
        for _ in range(HOT_REPEAT):
            fn(*args)
        times.append((clock() - begin) / HOT_REPEAT)
    return times


def summarize(sample: Sample) -> Latency:
    """Batch percentiles of a timed sample, plus single-call and hot-repeat timings."""
    fn, calls = sample.fn, sample.calls
    codes = Counter(fn(*args).code for args in calls)
    singles = single_times(fn, calls)
    return Latency(
        calls=len(calls),
        allowed_pct=100 * codes.get("allowed", 0) / len(calls),
        median_us=percentile(sample.best, 50) / 1000,
        p99_us=percentile(sample.best, 99) / 1000,
        single_median_us=percentile(singles, 50) / 1000,
        single_p99_us=percentile(singles, 99) / 1000,
        hot_median_us=percentile(sample.hot_best, 50) / 1000,
        codes=dict(sorted(codes.items())),
    )


def _subject(world: World, user: int, rng: random.Random) -> Subject:
    """The user signed in with their usual provider (90%) or any provider."""
    provider = world.provider_of[user] if rng.random() < 0.9 else rng.choice(PROVIDERS)
    return Subject(user, provider)


def _project_target(world: World, rng: random.Random) -> tuple[int, int]:
    """A (user, project) pair from a mix of grantees, members, guests and outsiders."""
    kind = rng.choices(range(6), (35, 35, 10, 10, 5, 5))[0]
    projects = world.shape.projects
    if kind == 0:  # a grantee on their project (active or expired grant)
        project, user = rng.choice(world.grants)
        return user, project
    if kind == 1:  # a member on a project of their workspace
        ws, user = rng.choice(world.memberships)
        return user, rng.choice(world.projects_in.get(ws, [1]))
    if kind == 2:  # a member on any project
        return rng.choice(world.members), rng.randint(1, projects)
    if kind == 3:  # a guest on a project of a workspace they are a guest of
        ws, user = rng.choice(world.guest_of)
        return user, rng.choice(world.projects_in[ws])
    if kind == 4:  # a non-member, non-guest
        return rng.choice(world.outsiders), rng.randint(1, projects)
    return rng.choice(world.members), projects + 1 + rng.randrange(1000)  # not found


def _workspace_target(world: World, rng: random.Random) -> tuple[int, int]:
    """A (user, workspace) pair: members, guests, non-members, outsiders, unknown ids."""
    kind = rng.choices(range(5), (50, 15, 25, 5, 5))[0]
    count = world.shape.workspaces
    if kind == 0:
        ws, user = rng.choice(world.memberships)
        return user, ws
    if kind == 1:
        ws, user = rng.choice(world.guest_of)
        return user, ws
    if kind == 2:
        return rng.choice(world.members), rng.randint(1, count)
    if kind == 3:
        return rng.choice(world.outsiders), rng.randint(1, count)
    return rng.choice(world.members), count + 1 + rng.randrange(100)


def project_calls(world: World, snap: PolicySnapshot, n: int) -> list[Call]:
    """``n`` argument tuples for ``check_project``, drawn with a fixed seed."""
    rng = random.Random(SEED)
    calls = []
    for _ in range(n):
        user, project = _project_target(world, rng)
        permission = rng.choice(PROJECT_PERMISSIONS)
        calls.append((snap, _subject(world, user, rng), project, permission, NOW))
    return calls


def workspace_calls(world: World, snap: PolicySnapshot, n: int) -> list[Call]:
    """``n`` argument tuples for ``check_workspace``, drawn with a fixed seed."""
    rng = random.Random(SEED + 1)
    calls = []
    for _ in range(n):
        user, ws = _workspace_target(world, rng)
        permission = rng.choice(WORKSPACE_PERMISSIONS)
        calls.append((snap, _subject(world, user, rng), ws, permission, *WORKSPACE_NOW))
    return calls


# -- memory (in a fresh subprocess) ----------------------------------------------------


def rss_mb() -> float:
    """This process's resident set size now (Linux ``/proc``; else peak RSS)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def memory_probe(db_url: str) -> dict[str, float]:
    """RSS growth and tracemalloc peak/retained of one reload of ``db_url``.

    Runs in a fresh process: memory freed by earlier sizes would otherwise be reused
    and hide the snapshot from the RSS delta.
    """
    rss_delta = _rss_growth(db_url)
    gc.collect()
    peak, retained = _traced(db_url)
    return {"rss_delta_mb": rss_delta, "traced_peak_mb": peak, "traced_retained_mb": retained}


def _rss_growth(db_url: str) -> float:
    """MB the resident set grows by over the first reload (no tracemalloc overhead)."""
    store = PolicyStore(db_url=db_url)
    store.stored_version()  # connect and initialise the dialect outside the measurement
    gc.collect()
    before = rss_mb()
    store.reload()
    gc.collect()
    after = rss_mb()
    store.close()
    return after - before


def _traced(db_url: str) -> tuple[float, float]:
    """MB tracemalloc sees at the peak of a reload and still held after it."""
    tracemalloc.start()
    try:
        store = PolicyStore(db_url=db_url)
        store.stored_version()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        store.reload()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        store.close()
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20, (current - base) / 2**20


def run_memory_probe(db_url: str) -> dict[str, float]:
    """Run :func:`memory_probe` in a new interpreter and read its JSON answer."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-probe", db_url],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- one size --------------------------------------------------------------------------


@dataclass
class StoreResult:
    """What one world size measured in the store: populate, reload, memory."""

    size: int
    shape: Shape
    populate_s: float
    reload_cold_s: float
    reload_s: float  # median of the warm reloads
    reload_runs_s: list[float]
    memory: dict[str, float]
    pg_populate_s: float | None = None
    pg_reload_s: float | None = None
    pg_reload_runs_s: list[float] | None = None


@dataclass
class SizeResult:
    """Everything measured for one world size."""

    store: StoreResult
    check_project: Latency
    check_workspace: Latency

    @property
    def size(self) -> int:
        """Number of grants of the world."""
        return self.store.size


@dataclass(frozen=True)
class Settings:
    """Sample counts: the full run and the ``--quick`` smoke run."""

    samples: int
    rounds: int
    reload_repeats: int

    @classmethod
    def choose(cls, quick: bool) -> Settings:
        """Small samples for a smoke run; 20k calls, 5 rounds and 5 reloads otherwise."""
        return cls(2_000, 2, 3) if quick else cls(20_000, 5, 5)


def run_store(
    size: int, settings: Settings, workdir: Path, pg: str | None
) -> tuple[StoreResult, list[Sample]]:
    """Generate, store and reload one world; its decision samples are timed later."""
    world = build_world(size)
    url = f"sqlite:///{workdir / f'policy-{size}.sqlite'}"
    store = PolicyStore(db_url=url).open()
    populate_s = populate(store, world)
    log(f"[{size}] populated SQLite in {populate_s:.2f} s")
    cold, warm = time_reloads(store, settings.reload_repeats)
    log(f"[{size}] reload cold {cold:.3f} s, warm {[round(t, 3) for t in warm]}")
    snap = store.snapshot
    store.close()
    samples = [
        Sample(check_project, project_calls(world, snap, settings.samples)),
        Sample(check_workspace, workspace_calls(world, snap, settings.samples)),
    ]
    memory = run_memory_probe(url)
    log(f"[{size}] memory {memory}")
    result = StoreResult(size, world.shape, populate_s, cold, percentile(warm, 50), warm, memory)
    if pg is not None:
        _run_pg(result, world, pg, settings)
    return result, samples


def _run_pg(result: StoreResult, world: World, url: str, settings: Settings) -> None:
    """Populate a throw-away PostgreSQL schema and time reloads there too."""
    with pg_schema(url) as db_kwargs:
        store = PolicyStore(db_url=url, db_kwargs=db_kwargs).open()
        try:
            result.pg_populate_s = populate(store, world)
            _, warm = time_reloads(store, settings.reload_repeats)
        finally:
            store.close()
    result.pg_reload_s = percentile(warm, 50)
    result.pg_reload_runs_s = warm
    log(f"[{result.size}] PostgreSQL reload {[round(t, 3) for t in warm]}")


def run_all(sizes: Sequence[int], settings: Settings, pg: str | None) -> list[SizeResult]:
    """Store every size, then time all their decisions interleaved."""
    with tempfile.TemporaryDirectory(prefix="wsperms-bench-") as tmp:
        stored = [run_store(size, settings, Path(tmp), pg) for size in sizes]
    log(f"timing decisions: {settings.rounds} interleaved rounds over {len(sizes)} sizes")
    time_interleaved([s for _, samples in stored for s in samples], settings.rounds)
    return [SizeResult(store, *map(summarize, samples)) for store, samples in stored]


# -- report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One target with its verdict (PASS, FAIL or SKIP) and the measured value."""

    name: str
    status: str
    measured: str


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def flatness_target(
    name: str, results: list[SizeResult], pick: Callable[[SizeResult], float]
) -> Target:
    """Median latency at the largest size over the smallest: decisions must not grow."""
    title = f"{name} median flat, largest/smallest size ≤ {TARGET_FLAT_RATIO}"
    if len(results) < 2:
        return Target(title, "SKIP", "needs at least two sizes")
    small, large = min(results, key=lambda r: r.size), max(results, key=lambda r: r.size)
    ratio = pick(large) / pick(small)
    measured = (
        f"ratio {ratio:.2f} = {pick(large):.3f} µs @ {large.size} / "
        f"{pick(small):.3f} µs @ {small.size}"
    )
    return Target(title, _verdict(ratio <= TARGET_FLAT_RATIO), measured)


def _at_target_size(results: list[SizeResult]) -> StoreResult | None:
    return next((r.store for r in results if r.size == TARGET_SIZE), None)


def reload_targets(results: list[SizeResult]) -> list[Target]:
    """Reload of the 100k-grant world (SQLite, and PostgreSQL when it was measured)."""
    title = f"reload {TARGET_SIZE} grants ≤ {TARGET_RELOAD_S:g} s"
    top = _at_target_size(results)
    if top is None:
        return [Target(f"{title} (SQLite)", "SKIP", f"size {TARGET_SIZE} not run")]
    targets = [
        Target(
            f"{title} (SQLite)",
            _verdict(top.reload_s <= TARGET_RELOAD_S),
            f"median {top.reload_s:.3f} s of {len(top.reload_runs_s)}, cold "
            f"{top.reload_cold_s:.3f} s",
        )
    ]
    if top.pg_reload_s is not None:
        targets.append(
            Target(
                f"{title} (PostgreSQL)",
                _verdict(top.pg_reload_s <= TARGET_RELOAD_S),
                f"median {top.pg_reload_s:.3f} s",
            )
        )
    return targets


def memory_target(results: list[SizeResult]) -> Target:
    """Judged on the worse of the tracemalloc peak during reload and the RSS growth."""
    title = f"snapshot memory at {TARGET_SIZE} grants ≤ {TARGET_MEMORY_MB:g} MB"
    top = _at_target_size(results)
    if top is None:
        return Target(title, "SKIP", f"size {TARGET_SIZE} not run")
    mem = top.memory
    worst = max(mem["traced_peak_mb"], mem["rss_delta_mb"])
    measured = (
        f"{worst:.1f} MB (reload peak {mem['traced_peak_mb']:.1f} MB, retained "
        f"{mem['traced_retained_mb']:.1f} MB, RSS delta {mem['rss_delta_mb']:.1f} MB)"
    )
    return Target(title, _verdict(worst <= TARGET_MEMORY_MB), measured)


def all_targets(results: list[SizeResult]) -> list[Target]:
    """Every target line, in report order."""
    return [
        flatness_target("check_project", results, lambda r: r.check_project.median_us),
        flatness_target("check_workspace", results, lambda r: r.check_workspace.median_us),
        *reload_targets(results),
        memory_target(results),
    ]


Column = tuple[str, Callable[[SizeResult], str]]

MAIN_COLUMNS: list[Column] = [
    ("size", lambda r: f"{r.size:,}"),
    ("grants", lambda r: f"{r.store.shape.grants:,}"),
    ("members", lambda r: f"{r.store.shape.members:,}"),
    ("projects", lambda r: f"{r.store.shape.projects:,}"),
    ("decision median µs", lambda r: f"{r.check_project.median_us:.3f}"),
    ("p99 µs", lambda r: f"{r.check_project.p99_us:.3f}"),
    ("reload s", lambda r: f"{r.store.reload_s:.3f}"),
    ("snapshot MB", lambda r: f"{r.store.memory['traced_retained_mb']:.1f}"),
]
DECISION_COLUMNS: list[Column] = [
    ("size", lambda r: f"{r.size:,}"),
    ("project allowed %", lambda r: f"{r.check_project.allowed_pct:.0f}"),
    ("project hot µs", lambda r: f"{r.check_project.hot_median_us:.3f}"),
    ("project single median/p99 µs", lambda r: _pair(r.check_project)),
    ("ws allowed %", lambda r: f"{r.check_workspace.allowed_pct:.0f}"),
    ("ws median µs", lambda r: f"{r.check_workspace.median_us:.3f}"),
    ("ws p99 µs", lambda r: f"{r.check_workspace.p99_us:.3f}"),
    ("ws hot µs", lambda r: f"{r.check_workspace.hot_median_us:.3f}"),
    ("ws single median/p99 µs", lambda r: _pair(r.check_workspace)),
]
STORE_COLUMNS: list[Column] = [
    ("size", lambda r: f"{r.size:,}"),
    ("workspaces", lambda r: str(r.store.shape.workspaces)),
    ("users", lambda r: f"{r.store.shape.users:,}"),
    ("populate s", lambda r: f"{r.store.populate_s:.2f}"),
    ("reload cold s", lambda r: f"{r.store.reload_cold_s:.3f}"),
    ("reload runs s", lambda r: " ".join(f"{t:.3f}" for t in r.store.reload_runs_s)),
    ("reload peak MB", lambda r: f"{r.store.memory['traced_peak_mb']:.1f}"),
    ("RSS Δ MB", lambda r: f"{r.store.memory['rss_delta_mb']:.1f}"),
    ("PG reload s", lambda r: "-" if r.store.pg_reload_s is None else f"{r.store.pg_reload_s:.3f}"),
]


def _pair(latency: Latency) -> str:
    return f"{latency.single_median_us:.3f} / {latency.single_p99_us:.3f}"


def table(columns: list[Column], results: list[SizeResult]) -> str:
    """A Markdown table with one row per size."""
    lines = [
        "| " + " | ".join(name for name, _ in columns) + " |",
        "|" + "|".join("---:" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(r) for _, cell in columns) + " |" for r in results]
    return "\n".join(lines)


def info_lines(results: list[SizeResult], machine: dict[str, Any]) -> list[str]:
    """Context for reading the targets: cache effects and how busy the machine was."""
    lines = [
        f"cores {machine['cores']}, load average before {machine['load_before']}, "
        f"after {machine['load_after']} (a busy machine inflates every number)"
    ]
    if len(results) >= 2:
        small, large = results[0], results[-1]
        for name in ("check_project", "check_workspace"):
            hot_small = getattr(small, name).hot_median_us
            hot_large = getattr(large, name).hot_median_us
            lines.append(
                f"{name} hot-cache median ratio {hot_large / hot_small:.2f} "
                f"({hot_large:.3f} / {hot_small:.3f} µs): the work per decision, "
                "without CPU-cache misses"
            )
    return lines


def print_report(
    results: list[SizeResult], targets: list[Target], machine: dict[str, Any], pg: str | None
) -> None:
    """The Markdown report on stdout."""
    print("## Policy benchmark\n")
    print(table(MAIN_COLUMNS, results))
    print(
        f"\ndecision = check_project on random calls; median/p99 of per-call means of "
        f"{BATCH}-call batches (fastest of {machine['rounds']} interleaved rounds); "
        "snapshot MB = tracemalloc growth kept after a reload in a fresh process.\n"
    )
    print("### Decisions\n")
    print(table(DECISION_COLUMNS, results))
    print("\n### Store (a SQLite file; PG = PostgreSQL)\n")
    print(table(STORE_COLUMNS, results))
    if pg is None:
        print(f"\nPostgreSQL: skipped (set {PG_ENV} to a PostgreSQL URL to measure it).")
    else:
        print(f"\nPostgreSQL: {redact(pg)}, in a throw-away schema dropped afterwards.")
    print("\n### Targets\n")
    for target in targets:
        print(f"- TARGET {target.name}: {target.status} ({target.measured})")
    for line in info_lines(results, machine):
        print(f"- INFO {line}")


def write_json(
    path: Path, results: list[SizeResult], targets: list[Target], machine: dict[str, Any]
) -> None:
    """Machine-readable results for tracking over time."""
    payload = {
        "seed": SEED,
        "python": sys.version.split()[0],
        "machine": machine,
        "results": [asdict(r) for r in results],
        "targets": [asdict(t) for t in targets],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


def load_average() -> str:
    """The 1-minute load average, or "n/a" where the platform has none."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


# -- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options; ``--memory-probe`` is internal (the subprocess of the memory section)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated grant counts (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--memory-probe", metavar="DB_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not args.sizes or min(args.sizes) < MIN_SIZE:
        parser.error(f"--sizes needs sizes of at least {MIN_SIZE} (smaller worlds lack guests)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every size, print the report, and exit 1 on a failed target only with --strict."""
    args = parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe)))
        return 0
    settings, pg = Settings.choose(args.quick), pg_url()
    machine = {"cores": os.cpu_count(), "rounds": settings.rounds, "load_before": load_average()}
    results = run_all(args.sizes, settings, pg)
    machine["load_after"] = load_average()
    targets = all_targets(results)
    print_report(results, targets, machine, pg)
    if args.json:
        write_json(args.json, results, targets, machine)
    failed = any(t.status == "FAIL" for t in targets)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
