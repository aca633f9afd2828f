"""What a list shows: filters typed as words in its filter field (`/`).

The event stream's, e.g. `breaker payment S-0003`: each word is a kind (`compensation.ended`) or family
(`breaker`), a service name, or a saga id; `kind:`, `service:` and `saga:` prefixes say which explicitly.
Words of the same sort are alternatives, different sorts must all hold: `retry payment shipping` is a
retry at either service.

The tables' (sagas, scenarios, needs attention), e.g. `payment compensated`: a row shows when it holds
every word, in any of its cells, whatever the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import BreakerTransition

FAMILIES = frozenset(kind.family for kind in EventKind)
KINDS = frozenset(kind.value for kind in EventKind)


class FilterError(ValueError):
    """A word that is no kind, family, service or saga id."""


@dataclass(frozen=True)
class EventFilter:
    kinds: frozenset[str] = frozenset()  # kind values or families
    services: frozenset[str] = frozenset()
    sagas: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str, services: Iterable[str]) -> EventFilter:
        known_services = set(services)
        kinds: set[str] = set()
        service_names: set[str] = set()
        sagas: set[str] = set()
        for word in text.split():
            sort, _, value = word.rpartition(":")
            if sort == "kind" or (not sort and value in KINDS | FAMILIES):
                if value not in KINDS | FAMILIES:
                    raise FilterError(f"no event kind {value!r}")
                kinds.add(value)
            elif sort == "service" or (not sort and value in known_services):
                service_names.add(value)
            elif sort == "saga" or (not sort and value.upper().startswith("S-")):
                sagas.add(value.upper())
            else:
                raise FilterError(f"{word!r} is no event kind, service or saga id")
        return cls(frozenset(kinds), frozenset(service_names), frozenset(sagas))

    def matches(self, event: Event) -> bool:
        return ((not self.kinds or event.kind.value in self.kinds or event.kind.family in self.kinds)
                and (not self.services or event.service in self.services or _breaker(event) in self.services)
                and (not self.sagas or event.saga_id in self.sagas))

    @property
    def everything(self) -> bool:
        return not (self.kinds or self.services or self.sagas)

    def __str__(self) -> str:
        return " ".join(sorted(self.kinds) + sorted(self.services) + sorted(self.sagas))


def _breaker(event: Event) -> str | None:
    """A breaker transition names no service; `payment` still shows the transitions of the breaker named so."""
    return event.payload_as(BreakerTransition).breaker if event.kind is EventKind.BREAKER_TRANSITION else None


@dataclass(frozen=True)
class TextFilter:
    """A table's filter: the rows that hold every word (case-folded) somewhere in their cells."""

    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TextFilter:
        return cls(tuple(dict.fromkeys(word.casefold() for word in text.split())))

    def matches(self, *cells: str) -> bool:
        if not self.words:
            return True
        text = "\x00".join(cells).casefold()  # a word never spans two cells
        return all(word in text for word in self.words)

    @property
    def everything(self) -> bool:
        return not self.words

    def __str__(self) -> str:
        return " ".join(self.words)
