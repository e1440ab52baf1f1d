"""clearsim in Python: replay days of interbank payments, run scenarios and
compare settlement designs, with the same engine, checks and figures as
the ``clearsim`` command line.

Tables go in as pandas or polars DataFrames, pyarrow Tables or paths, and
come out as pyarrow Tables (``.to_pandas()``) and pandas DataFrames.
Long calls release the GIL, honour ``threads=``, show a progress bar
(``progress=False`` hides it) and stop on Ctrl-C.

>>> import clearsim
>>> day = clearsim.replay("participants.csv", "payments.csv", strategy="rtgs+gridlock:5m")
>>> day.settlements.to_pandas()
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
from typing import Any, Iterable, Optional, Sequence, Union

import pyarrow as pa

from . import _native, _tables
from ._native import InputError, InternalError, __version__
from ._progress import Bar

__all__ = [
    "InputError",
    "InternalError",
    "Days",
    "Fit",
    "Replay",
    "Scenario",
    "Study",
    "Day",
    "__version__",
    "compare",
    "critical",
    "fit",
    "generate",
    "merge",
    "optimise",
    "plan",
    "read_summary",
    "replay",
    "replay_days",
    "run",
    "sweep",
]

PathLike = Union[str, os.PathLike]


def _duration(value: Union[None, str, int, datetime.timedelta]) -> Optional[str]:
    """A duration as the command line takes it: text, or milliseconds."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.timedelta):
        return f"{round(value.total_seconds() * 1000)}ms"
    return f"{int(value)}ms"


def _clock(value: Union[None, str, datetime.time]) -> Optional[str]:
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="milliseconds")
    return value


class Replay:
    """One replayed day: its settlements, balances and summary."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._settlements: Optional[pa.Table] = None
        self._balances: Optional[pa.Table] = None
        #: ``summary.json`` as the command line writes it.
        self.json: str = native.summary_json()
        #: The summary (schema ``clearsim.replay/1``, docs/schemas.md).
        self.summary: dict = json.loads(self.json)

    @property
    def settlements(self) -> pa.Table:
        """Per payment, in file order: ``id``, ``status`` (settled or
        unsettled), ``submit_ms``, ``settle_ms`` and ``delay_ms`` (null
        when unsettled) — the columns of settlements.parquet. pandas turns
        a nullable integer column into floats unless asked:
        ``.to_pandas(types_mapper=pd.ArrowDtype)`` keeps integers."""
        if self._settlements is None:
            self._settlements = _tables.from_native(self._native.settlements())
        return self._settlements

    def merger(self, into: str, merged: str) -> Any:
        """The day beside the same payments with ``merged`` merged into
        ``into`` (one account, the two's openings and limits summed,
        payments between them internalised), settled the same way — as
        merger.csv of ``clearsim replay --merge INTO,MERGED`` (a pandas
        DataFrame: ``figure``, ``unit``, ``baseline``, ``merged``,
        ``change``; payments = settled + unsettled + carried + internalised
        on each side)."""
        return _tables.csv_frame(self._native.merger(f"{into},{merged}"), ("figure", "unit"))

    def critical(self, at: Union[str, datetime.time] = "00:00") -> Any:
        """Each city participant defaulting in turn at ``at`` (default
        00:00: the whole day), against the day as it settled, ranked by
        the knock-on — the value left unsettled between the others — as
        critical.csv of ``clearsim replay --critical --critical-at AT`` (a
        pandas DataFrame: ``rank``, ``id``, the knock-on value and
        payments, the participants touched)."""
        return _tables.csv_frame(self._native.critical(_clock(at)), ("id",))

    @property
    def balances(self) -> pa.Table:
        """Per participant: ``id``, ``opening_balance_fen``,
        ``closing_balance_fen``, ``min_balance_fen``."""
        if self._balances is None:
            self._balances = _tables.from_native(self._native.balances())
        return self._balances

    def report(self, path: PathLike, *, csv: bool = True, parquet: bool = True) -> pathlib.Path:
        """Writes the output set ``clearsim replay --out PATH`` writes
        (settlements, balances, summary.json, report.md and report.html),
        published whole; returns the directory."""
        self._native.write(os.fspath(path), csv, parquet)
        return pathlib.Path(path)

    def __repr__(self) -> str:
        s = self.summary
        return f"<clearsim.Replay {s.get('strategy')}: {s.get('payments')} payments, {s.get('settled')} settled>"


def replay(
    participants: _tables.TableLike,
    payments: _tables.TableLike,
    strategy: Optional[str] = "rtgs",
    gridlock_every: Union[None, str, int, datetime.timedelta] = None,
    cycles: Union[None, str, Sequence[str]] = None,
    channels: Optional[PathLike] = None,
    day_end: Union[None, str, datetime.time] = None,
    *,
    unwind: Optional[str] = None,
    guarantee_fund: Union[None, str, int] = None,
    max_position_pct: Optional[int] = None,
    limits: Optional[PathLike] = None,
    progress: bool = False,
) -> Replay:
    """Replays one business day, as ``clearsim replay`` does.

    ``participants`` (id, name, category, opening_balance, credit_limit)
    and ``payments`` (id, submit, sender, receiver, amount[, priority]
    [, instrument][, order_time]) are paths to CSV files, pandas or
    polars DataFrames or pyarrow Tables, with the files' columns and
    meanings; times of day may be text (``HH:MM:SS[.mmm]``), ``time`` or
    ``duration`` columns. Every row is checked as a file's row is, and a
    bad one raises :class:`InputError` naming the table, row and field.

    ``strategy`` is one of the catalog (docs/strategies.md), with its
    options: ``gridlock_every`` ("5m", milliseconds or a timedelta),
    ``cycles`` ("10:00,15:30", "hourly" or a list), ``unwind``,
    ``guarantee_fund`` ("5e7yuan" or fen), ``max_position_pct``,
    ``limits`` (a TOML file of [[limit]] entries). ``channels`` routes
    each payment by its instrument through a scenario config's channels
    instead. ``day_end`` defaults to 17:00 (or the config's).
    """
    options = _replay_options(
        strategy, gridlock_every, cycles, channels, day_end, unwind, guarantee_fund, max_position_pct, limits
    )
    first = _tables.to_native(participants, "participants")
    second = _tables.to_native(payments, "payments")
    with Bar("replay", progress) as bar:
        return Replay(_native.replay(first, second, options, bar))


def _replay_options(
    strategy: Optional[str],
    gridlock_every: Any,
    cycles: Any,
    channels: Optional[PathLike],
    day_end: Any,
    unwind: Optional[str],
    guarantee_fund: Any,
    max_position_pct: Optional[int],
    limits: Optional[PathLike],
) -> dict:
    """A replay's keyword arguments as the command line's flags take them."""
    if channels is not None and strategy == "rtgs":
        strategy = None  # the default: the channels decide
    if cycles is not None and not isinstance(cycles, str):
        cycles = ",".join(cycles)
    return {
        "strategy": strategy,
        "gridlock_every": _duration(gridlock_every),
        "cycles": cycles,
        "channels": os.fspath(channels) if channels is not None else None,
        "day_end": _clock(day_end),
        "unwind": unwind,
        "guarantee_fund": None if guarantee_fund is None else str(guarantee_fund),
        "max_position_pct": max_position_pct,
        "limits": os.fspath(limits) if limits is not None else None,
    }


#: Columns of a dated replay's tables that stay text.
_DAYS_TEXT = ("date", "id", "status", "settle", "settle_date")


class Days:
    """Several business days replayed (a table with a ``date`` column):
    the tables ``clearsim replay`` writes for a dated file, and its
    summary."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._tables = dict(native.tables())
        self._frames: dict = {}
        #: ``summary.json`` as the command line writes it.
        self.json: str = native.summary_json()
        #: The summary (schema ``clearsim.replay-days.v1``, docs/schemas.md).
        self.summary: dict = json.loads(self.json)

    def _frame(self, name: str) -> Any:
        if name not in self._frames:
            self._frames[name] = _tables.csv_frame(self._tables[f"{name}.csv"], _DAYS_TEXT)
        return self._frames[name]

    @property
    def settlements(self) -> Any:
        """Per payment, in file order: ``date``, ``id``, ``status``,
        ``settle``, ``delay_ms`` (and ``settle_date`` with
        ``carry_queue``), as settlements.csv (a pandas DataFrame)."""
        return self._frame("settlements")

    @property
    def balances(self) -> Any:
        """Per day and participant: openings, closings, lowest balance."""
        return self._frame("balances")

    @property
    def days(self) -> Any:
        """One row of figures per business day (days.csv)."""
        return self._frame("days")

    def report(self, path: PathLike) -> pathlib.Path:
        """Writes the output set ``clearsim replay --out PATH`` writes for
        a dated file, published whole; returns the directory."""
        self._native.write(os.fspath(path))
        return pathlib.Path(path)

    def __repr__(self) -> str:
        s = self.summary
        return f"<clearsim.Days {len(s.get('days', []))} business days>"


def replay_days(
    participants: _tables.TableLike,
    payments: _tables.TableLike,
    strategy: Optional[str] = "rtgs",
    gridlock_every: Union[None, str, int, datetime.timedelta] = None,
    cycles: Union[None, str, Sequence[str]] = None,
    channels: Optional[PathLike] = None,
    day_end: Union[None, str, datetime.time] = None,
    *,
    carry_balances: bool = False,
    carry_queue: bool = False,
    openings: Optional[PathLike] = None,
    unwind: Optional[str] = None,
    guarantee_fund: Union[None, str, int] = None,
    max_position_pct: Optional[int] = None,
    limits: Optional[PathLike] = None,
    progress: bool = False,
) -> Days:
    """Replays several business days, as ``clearsim replay`` does a file
    with a ``date`` column (``YYYY-MM-DD`` text or a date column): each
    date is a day, in date order (docs/semantics.md §11).

    ``carry_balances`` opens each day with the previous day's closing
    balances; ``carry_queue`` keeps a day's unsettled payments queued into
    the next; ``openings`` (a CSV file ``date,id,opening_balance,
    credit_limit``) sets openings for the dates and banks it lists. The
    other arguments are :func:`replay`'s.
    """
    options = _replay_options(
        strategy, gridlock_every, cycles, channels, day_end, unwind, guarantee_fund, max_position_pct, limits
    )
    carry = (carry_balances, carry_queue, os.fspath(openings) if openings is not None else None)
    first = _tables.to_native(participants, "participants")
    second = _tables.to_native(payments, "payments")
    with Bar("replay_days", progress) as bar:
        return Days(_native.replay_days(first, second, options, carry, bar))


class Fit:
    """A scenario fitted to payments (:func:`fit`): its TOML, the fitted
    laws and the twin's days, as ``clearsim fit`` writes them."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._tables = dict(native.tables())
        #: scenario.toml: a scenario ``clearsim run`` (and
        #: :meth:`Scenario.from_toml`) takes.
        self.toml: str = native.scenario_toml()

    @property
    def laws(self) -> Any:
        """Per instrument, the fitted laws and their Kolmogorov–Smirnov
        distances, as fit.csv (a pandas DataFrame)."""
        return _tables.csv_frame(self._tables["fit.csv"], ("instrument", "cross_city"))

    @property
    def twin(self) -> Any:
        """Per business day under rtgs, the real days and the fitted
        scenario's synthetic ones, as twin.csv (a pandas DataFrame)."""
        return _tables.csv_frame(self._tables["twin.csv"], ("days",))

    def scenario(self, **overrides: Any) -> "Scenario":
        """The fitted scenario, with a study's overrides (``volume=2``: what
        doubled volumes would do)."""
        return Scenario.from_toml(self.toml, **overrides)

    def write(self, out: PathLike) -> None:
        """Writes scenario.toml, fit.csv, twin.csv, fit.md and fit.html to
        ``out``, replaced as a whole."""
        self._native.write(os.fspath(out))

    def _repr_html_(self) -> str:
        return self._tables["fit.html"].decode("utf-8")

    def __repr__(self) -> str:
        return f"<clearsim.Fit {len(self.laws)} instruments>"


def fit(
    participants: _tables.TableLike,
    payments: _tables.TableLike,
    *,
    instrument_column: bool = False,
    day_end: Union[None, str, datetime.time] = None,
    name: str = "fitted",
    twin_days: int = 5,
    observed_pairs: bool = False,
    progress: bool = False,
) -> Fit:
    """``clearsim fit``: a scenario fitted to a day (or, with a ``date``
    column, days) of payments — bank sizes, and per instrument the arrival
    profile, amount law, gravity exponent and size elasticity — with its
    report: each law against the data, and the real days beside
    ``twin_days`` synthetic days of the fitted scenario under rtgs.
    ``instrument_column``: each value of the ``instrument`` column is an
    instrument of its own (default: every payment one).
    ``observed_pairs``: who pays whom as the observed bilateral shares,
    not by the fitted gravity exponent (``fit --observed-pairs``)."""
    options = _replay_options(None, None, None, None, day_end, None, None, None, None)
    first = _tables.to_native(participants, "participants")
    second = _tables.to_native(payments, "payments")
    with Bar("fit", progress) as bar:
        return Fit(_native.fit(first, second, options, (instrument_column, name, twin_days, observed_pairs), bar))


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A scenario config (docs/config.md) with the overrides a study
    applies: ``seed``, ``days``, ``volume`` (a factor on every
    instrument's daily count) and ``shocks`` (``default:ID@10:00``, …)."""

    #: The config's path: its name in messages, and where its relative
    #: files are found.
    path: str
    #: The config's TOML text (read once, so that a Dask worker needs no
    #: copy of the file).
    text: str
    seed: Optional[int] = None
    days: Optional[int] = None
    volume: Optional[float] = None
    shocks: tuple = ()

    @classmethod
    def from_toml(
        cls,
        source: PathLike,
        *,
        seed: Optional[int] = None,
        days: Optional[int] = None,
        volume: Optional[float] = None,
        shocks: Iterable[str] = (),
    ) -> "Scenario":
        """A config from a path, or from TOML text (a string with a
        newline or an ``=``)."""
        if isinstance(source, os.PathLike) or ("\n" not in source and "=" not in source):
            path = os.fspath(source)
            try:
                text = pathlib.Path(path).read_text(encoding="utf-8")
            except OSError as error:
                raise InputError(f"{path}: cannot read: {error.strerror}") from None
        else:
            path, text = "<toml>", source
        scenario = cls(path, text, seed, days, volume, tuple(shocks))
        scenario.name  # parse now: a bad config fails here
        return scenario

    def with_(self, **overrides: Any) -> "Scenario":
        """The same config with other overrides (seed, days, volume, shocks)."""
        if "shocks" in overrides:
            overrides["shocks"] = tuple(overrides["shocks"])
        return dataclasses.replace(self, **overrides)

    @property
    def name(self) -> str:
        """The scenario's name, as its config gives it."""
        import tomllib

        try:
            return tomllib.loads(self.text).get("name", pathlib.Path(self.path).stem)
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"{self.path}: {error}") from None

    def _native_args(self) -> dict:
        return dict(seed=self.seed, days=self.days, volume=self.volume, shocks=list(self.shocks))


def _scenario(scenario: Union[Scenario, PathLike]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else Scenario.from_toml(scenario)


# The CSV columns that are text, not numbers.
_TEXT_COLUMNS = ("id", "name", "category", "flow", "route", "design", "versus", "metric", "days")


class Study:
    """The summary of a study (run, compare, sweep, plan or merge) with its
    tables as DataFrames: the CSV tables ``clearsim`` writes beside
    summary.json (docs/schemas.md)."""

    def __init__(self, saved: tuple) -> None:
        text, notes, files = saved
        #: summary.json, byte for byte as the command line writes it.
        self.json: str = text
        self.summary: dict = json.loads(text)
        #: Notes the command line prints to stderr (a lengthened horizon).
        self.notes: list = list(notes)
        self._files: list = list(files)
        self._tables: dict = {}

    @property
    def kind(self) -> str:
        """The summary's schema, e.g. ``clearsim.compare/3``."""
        return self.summary.get("schema", "clearsim.plan")

    @property
    def table_names(self) -> list:
        """The tables this study has (``figures``, ``days``, …)."""
        return [name[:-4] for name, _ in self._files if name.endswith(".csv")]

    def table(self, name: str) -> Any:
        """The table ``NAME.csv`` of the study's report, as a DataFrame."""
        if name not in self._tables:
            found = [data for file, data in self._files if file == f"{name}.csv"]
            if not found:
                raise KeyError(f"{name}: this study has the tables {', '.join(self.table_names)}")
            self._tables[name] = _tables.csv_frame(found[0], _TEXT_COLUMNS)
        return self._tables[name]

    def _figures(self, paired: bool) -> Any:
        figures = self.table("figures")
        return figures[(figures["versus"] != "") == paired].reset_index(drop=True)

    @property
    def headline(self) -> Any:
        """Every figure with its mean and 95 % interval over replications
        (``days`` says pooled or per day)."""
        return self._figures(False)

    @property
    def paired(self) -> Any:
        """compare: each design minus the first, on common streams."""
        return self._figures(True)

    @property
    def per_day(self) -> Any:
        """run: one row per (seed, day)."""
        return self.table("days")

    @property
    def instruments(self) -> Any:
        return self.table("instruments")

    @property
    def channels(self) -> Any:
        return self.table("channels")

    @property
    def participants(self) -> Any:
        return self.table("participants")

    @property
    def points(self) -> Any:
        """sweep: one row per (design, liquidity level)."""
        return self.table("sweep")

    @property
    def ranking(self) -> Any:
        """critical: the banks, most harmful default first, with the
        knock-on value and payments (mean and 95 % interval)."""
        return self.table("critical")

    @property
    def equilibria(self) -> Any:
        """optimise: per design, the banks' equilibrium and the planner's
        optimum (total opening liquidity, total cost, mean delay and
        settled share, per replication's days) and the price of anarchy."""
        import pandas as pd

        rows = []
        for design in self.summary.get("designs", []):
            row = {"design": design["design"], "price_of_anarchy": design.get("price_of_anarchy")}
            for side in ("equilibrium", "planner"):
                for key, value in (design.get(side) or {}).items():
                    if key != "banks":
                        row[f"{side}_{key}"] = value
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def transit(self) -> Any:
        """plan: funds-in-transit time per instrument, before and after."""
        return self.table("transit")

    def report(self, path: PathLike) -> pathlib.Path:
        """Publishes summary.json, report.md, report.html and the CSV
        tables as the output set ``path``; returns it."""
        _native.publish(os.fspath(path), self.json, self._files)
        return pathlib.Path(path)

    def __repr__(self) -> str:
        return f"<clearsim.Study {self.kind}: tables {', '.join(self.table_names)}>"


def _study(kind: str, scenario: Scenario, progress: bool, **options: Any) -> Study:
    with Bar(kind, progress) as bar:
        return Study(
            _native.study(kind, scenario.path, scenario.text, progress=bar, **options)
        )


def _overridden(scenario: Union[Scenario, PathLike], **overrides: Any) -> Scenario:
    given = {k: v for k, v in overrides.items() if v is not None}
    return _scenario(scenario).with_(**given) if given else _scenario(scenario)


def run(
    scenario: Union[Scenario, PathLike],
    *,
    days: Optional[int] = None,
    replications: int = 1,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
    shard: Optional[str] = None,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim run``: the scenario's own design over ``replications``
    seeds from its seed. Tables: ``per_day``, ``instruments``,
    ``channels``, ``participants``, ``headline``."""
    s = _overridden(scenario, days=days, seed=seed, volume=volume)
    return _study("run", s, progress, replications=replications, shard=shard, threads=threads, **s._native_args())


def _designs(designs: Union[None, str, Sequence[str]]) -> Optional[str]:
    if designs is None or isinstance(designs, str):
        return designs
    return "; ".join(designs)


def compare(
    scenario: Union[Scenario, PathLike],
    designs: Union[None, str, Sequence[str]] = None,
    *,
    replications: int = 1,
    days: Optional[int] = None,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
    shard: Optional[str] = None,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim compare``: ``designs`` ("design" for the scenario's own,
    strategies such as "rtgs+gridlock:5m" or "dns:hourly") on the same
    streams, each paired against the first (``paired``)."""
    s = _overridden(scenario, days=days, seed=seed, volume=volume)
    return _study(
        "compare", s, progress, designs=_designs(designs), replications=replications,
        shard=shard, threads=threads, **s._native_args(),
    )


def sweep(
    scenario: Union[Scenario, PathLike],
    designs: Union[None, str, Sequence[str]] = None,
    *,
    liquidity: tuple = (0.0, 1.0),
    steps: int = 11,
    replications: int = 1,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
    shard: Optional[str] = None,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim sweep``: liquidity from ``liquidity[0]`` to
    ``liquidity[1]`` (0 = each participant's lower bound, 1 = its need to
    settle on entry) in ``steps``; one day per point (``points``)."""
    s = _overridden(scenario, seed=seed, volume=volume)
    return _study(
        "sweep", s, progress, designs=_designs(designs),
        liquidity=(float(liquidity[0]), float(liquidity[1]), int(steps)),
        replications=replications, shard=shard, threads=threads, **s._native_args(),
    )


def critical(
    scenario: Union[Scenario, PathLike],
    *,
    at: Union[str, datetime.time] = "00:00",
    liquidity: Optional[float] = None,
    merge: Optional[str] = None,
    replications: int = 1,
    days: Optional[int] = None,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
    shard: Optional[str] = None,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim critical``: each participant of the city defaulting in
    turn at ``at`` (default 00:00, the whole day) — or, with
    ``liquidity=PCT``, losing PCT % of its opening balance then — paired
    with the same seeds' runs without it, ranked by the value it leaves
    unsettled between the others, with the participants it touches
    (``ranking``; the compare's tables too).

    With ``merge="A,B"`` instead: ``B`` merged into ``A`` (one account,
    openings and limits summed, payments between the two internalised),
    day 1 of each replication against the same payments unmerged; tables
    ``merger`` (per seed) and ``merger-estimates`` (means and paired 95 %
    intervals)."""
    s = _overridden(scenario, days=days, seed=seed, volume=volume)
    return _study(
        "critical", s, progress, at=_clock(at), shock_pct=liquidity, merge=merge,
        replications=replications,
        shard=shard, threads=threads, **s._native_args(),
    )


def plan(
    before: Union[Scenario, PathLike],
    after: Union[Scenario, PathLike],
    *,
    days: int = 3,
    seed: Optional[int] = None,
    replications: int = 1,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim plan``: the ``before`` design against the ``after``
    design of the same city on the same seeds; ``transit`` has
    funds-in-transit time per instrument before and after."""
    first, second = _scenario(before), _scenario(after)
    with Bar("plan", progress) as bar:
        return Study(
            _native.plan(
                first.path, second.path, first.text, second.text, days=days,
                seed=seed, replications=replications, threads=threads, progress=bar,
            )
        )


def optimise(
    scenario: Union[Scenario, PathLike],
    designs: Sequence[str] = ("design",),
    *,
    levels: int = 20,
    max_scale: float = 1.0,
    policies: Union[None, str, Sequence[str]] = None,
    max_rounds: int = 50,
    tolerance: int = 0,
    replications: int = 1,
    days: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    progress: bool = True,
) -> Study:
    """``clearsim optimise``: under each design, the opening liquidity
    (and policy) each bank would choose to minimise its own cost given the
    others' (the scenario's ``[costs]``), iterated to an equilibrium, beside
    the planner's optimum (``equilibria``; docs/equilibria.md)."""
    s = _overridden(scenario, days=days, seed=seed)
    if policies is not None and not isinstance(policies, str):
        policies = ";".join(policies)
    with Bar("optimise", progress) as bar:
        return Study(
            _native.optimise(
                s.path, s.text, seed=s.seed, days=s.days, designs=list(designs), levels=levels,
                max_scale=max_scale, policies=policies, max_rounds=max_rounds, tolerance=tolerance,
                replications=replications, threads=threads, progress=bar,
            )
        )


@dataclasses.dataclass(frozen=True)
class Day:
    """A generated day: the inputs of :func:`replay`."""

    participants: Any
    payments: Any


def generate(
    scenario: Union[Scenario, PathLike],
    *,
    day: int = 1,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
) -> Day:
    """``clearsim generate``: one day of the scenario's stream as
    DataFrames (payments ``P0``, ``P1``, … in stream order), ready for
    :func:`replay`."""
    s = _scenario(scenario)
    seed = s.seed if seed is None else seed
    volume = s.volume if volume is None else volume
    participants, payments = _native.generate(s.path, s.text, day=day, seed=seed, volume=volume)
    return Day(
        participants=_tables.csv_frame(participants, ("id", "name", "category")),
        payments=_tables.csv_frame(payments, ("id", "submit", "sender", "receiver", "instrument")),
    )


def read_summary(path: PathLike) -> Study:
    """The summary saved at ``path`` (an output directory or its
    summary.json) by ``clearsim`` or :meth:`Study.report`, checked
    against its schema."""
    return Study(_native.read_summary(os.fspath(path)))


def merge(studies: Iterable[Union[Study, str, PathLike]]) -> Study:
    """``clearsim merge``: shards or replications of one study into one,
    exactly as one machine running every seed would have written it."""
    texts = []
    for study in studies:
        if isinstance(study, Study):
            texts.append(study.json)
        elif isinstance(study, str) and study.lstrip().startswith("{"):
            texts.append(study)
        else:
            texts.append(read_summary(study).json)
    return Study(_native.merge(texts))


def __getattr__(name: str) -> Any:
    # `clearsim.dask` without importing Dask for every user.
    if name == "dask":
        import importlib

        return importlib.import_module("clearsim.dask")
    raise AttributeError(f"module 'clearsim' has no attribute {name!r}")
