"""The one way every app says "conflict": HTTP 409, nothing written.

A step that the record's current version or state no longer allows raises a subclass of Conflict
(tickets' StaleVersion and TransitionRefused, alerts' the same, the hotline's NotPossible, the data hub's
StaleDecision). It is answered once, for every surface: DRF's exception handler (org.api), the phone's
JSON endpoints (field.mobile) and, for any other view, InputGuardMiddleware.
"""


class Conflict(Exception):
    """`current` is what the client needs to reload and try again, e.g. {"version": 7, "state": "open"}."""

    def __init__(self, message: str = "", *, current: dict | None = None):
        super().__init__(message)
        self.current = current or {}

    def as_dict(self) -> dict:
        return {"detail": str(self), **self.current}
