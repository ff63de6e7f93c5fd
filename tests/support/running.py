"""What the suite's servers have in common: started and stopped, or used in a `with`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Running(ABC):
    """A server a test starts and stops; `with` does both."""

    @abstractmethod
    def start(self) -> Self:
        """Start it and return it once it answers."""

    @abstractmethod
    def stop(self) -> None:
        """Stop it and free what it held; safe to call twice."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
