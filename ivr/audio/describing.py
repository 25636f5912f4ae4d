"""Which faults a customer is describing right now, and who waits for each to be kept.

A critical fault pages the engineer at the moment it is committed, before
the customer has said a word, so the engineer often answers while the
customer is still speaking. The page call asks here whether to say "the
customer is still describing the fault", and is told the moment the
recording is kept, to offer it. One board per service, used only on its
event loop (no lock); a page placed by another node simply finds the
recording in the database when it answers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

Listener = Callable[[str], None]


class DescriptionBoard:
    def __init__(self) -> None:
        self._describing: dict[str, int] = {}  # reference -> recordings under way
        self._listeners: dict[str, list[Listener]] = {}

    def started(self, reference: str) -> None:
        """A customer started describing the fault `reference`."""
        self._describing[reference] = self._describing.get(reference, 0) + 1

    def finished(self, reference: str, path: str | None) -> None:
        """The recording ended; `path` is the WAV file when it was kept (attached)."""
        left = self._describing.get(reference, 0) - 1
        if left > 0:
            self._describing[reference] = left
        else:
            self._describing.pop(reference, None)
        if path is not None:
            for listener in list(self._listeners.get(reference, ())):
                listener(path)

    def describing(self, references: Collection[str]) -> bool:
        return any(reference in self._describing for reference in references)

    def listen(self, references: Collection[str], listener: Listener) -> Callable[[], None]:
        """Call `listener(path)` for each description of these faults kept from now on.

        Returns the function that stops it (the page call has ended).
        """
        for reference in references:
            self._listeners.setdefault(reference, []).append(listener)

        def stop() -> None:
            for reference in references:
                waiting = self._listeners.get(reference, [])
                if listener in waiting:
                    waiting.remove(listener)
                if not waiting:
                    self._listeners.pop(reference, None)

        return stop
