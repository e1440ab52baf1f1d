"""The native module behind ``clearsim`` (Rust, through PyO3). Use the
functions of ``clearsim`` itself; these are their building blocks."""

from typing import Any, Callable, Optional, Sequence, Union

__version__: str

class InputError(ValueError):
    """The user's input is wrong: a file, row or field, an option, a
    config. The message names it as the command line does."""

class InternalError(RuntimeError):
    """A bug in clearsim, not a fault of the input."""

# A table: a path, or (name, column names, [(offsets, data)], rows) with
# Arrow large-string buffers.
_Table = Union[str, tuple]
# (summary.json, notes, [(file name, bytes)])
_Saved = tuple[str, list[str], list[tuple[str, bytes]]]
# (name, rows, (arrow type, nullable, validity, offsets, values))
_Column = tuple[str, int, tuple[str, bool, Optional[bytes], Optional[bytes], bytes]]
_Progress = Optional[Callable[[int, int], None]]

class NativeReplay:
    def merger(self, pair: str) -> bytes: ...
    def critical(self, at: str) -> bytes: ...
    def summary_json(self) -> str: ...
    def settlements(self) -> list[_Column]: ...
    def balances(self) -> list[_Column]: ...
    def write(self, out: str, csv: bool = True, parquet: bool = True) -> None: ...

def replay(
    participants: _Table,
    payments: _Table,
    options: Optional[dict[str, Any]] = None,
    progress: _Progress = None,
) -> NativeReplay: ...
class NativeDays:
    def summary_json(self) -> str: ...
    def tables(self) -> list[tuple[str, bytes]]: ...
    def write(self, out: str) -> None: ...

def replay_days(
    participants: _Table,
    payments: _Table,
    options: Optional[dict[str, Any]] = None,
    carry: tuple[bool, bool, Optional[str]] = (False, False, None),
    progress: _Progress = None,
) -> NativeDays: ...
class NativeFit:
    def scenario_toml(self) -> str: ...
    def tables(self) -> list[tuple[str, bytes]]: ...
    def write(self, out: str) -> None: ...

def fit(
    participants: _Table,
    payments: _Table,
    options: Optional[dict[str, Any]] = None,
    fit: tuple[bool, str, int, bool] = (False, "fitted", 5, False),
    progress: _Progress = None,
) -> NativeFit: ...
def study(
    kind: str,
    config: str,
    text: Optional[str] = None,
    *,
    seed: Optional[int] = None,
    days: Optional[int] = None,
    volume: Optional[float] = None,
    shocks: Sequence[str] = (),
    designs: Optional[str] = None,
    liquidity: tuple[float, float, int] = (0.0, 1.0, 11),
    at: str = "00:00",
    shock_pct: Optional[float] = None,
    merge: Optional[str] = None,
    replications: int = 1,
    shard: Optional[str] = None,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> _Saved: ...
def plan(
    before: str,
    after: str,
    before_text: Optional[str] = None,
    after_text: Optional[str] = None,
    *,
    days: int = 3,
    seed: Optional[int] = None,
    replications: int = 1,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> _Saved: ...
def optimise(
    config: str,
    text: Optional[str] = None,
    *,
    seed: Optional[int] = None,
    days: Optional[int] = None,
    designs: Sequence[str] = ("design",),
    levels: int = 20,
    max_scale: float = 1.0,
    policies: Optional[str] = None,
    max_rounds: int = 50,
    tolerance: int = 0,
    replications: int = 1,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> _Saved: ...
def merge(summaries: Sequence[str]) -> _Saved: ...
def read_summary(path: str) -> _Saved: ...
def publish(out: str, summary: str, files: Sequence[tuple[str, bytes]]) -> None: ...
def generate(
    config: str,
    text: Optional[str] = None,
    *,
    day: int = 1,
    seed: Optional[int] = None,
    volume: Optional[float] = None,
) -> tuple[bytes, bytes]: ...
