"""What the apps above tickets may hook into, registered in their AppConfig.ready() like deadlines.register.

`on_closed(fn)`: fn(ticket) runs inside the transaction that closed the ticket (verified on site, or fixed
on the spot by the grid worker), after its timeline row; the hotline schedules its return visit there.
"""

from collections.abc import Callable

_ON_CLOSED: dict[str, Callable] = {}


def on_closed(name: str, fn: Callable) -> None:
    _ON_CLOSED[name] = fn


def ticket_closed(ticket) -> None:
    for fn in _ON_CLOSED.values():
        fn(ticket)
