"""A progress bar for long calls: tqdm's (a widget in a notebook, text in
a terminal), off with ``progress=False`` or without tqdm."""

from __future__ import annotations

from typing import Any, Callable, Optional


class Bar:
    """Turns the native module's ``(done, total)`` reports into a tqdm bar."""

    def __init__(self, what: str, enabled: bool) -> None:
        self._bar: Any = None
        self._what = what
        self._enabled = enabled

    def __enter__(self) -> Optional[Callable[[int, int], None]]:
        if not self._enabled:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        self._bar = tqdm(total=0, desc=self._what, unit="run", leave=False)
        return self._update

    def _update(self, done: int, total: int) -> None:
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def __exit__(self, *_: Any) -> None:
        if self._bar is not None:
            self._bar.close()
