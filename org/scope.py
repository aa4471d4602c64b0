"""ScopeSpec lives apart from the permission layer so models can import it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeSpec:
    """How a model reaches the org tree.

    region_path: lookup to a Region.path (e.g. "region__path"); rows whose region lies in the
        user's region subtree are visible to region-scoped roles.
    department: lookup to a Department id (e.g. "department" or "assignments__department");
        rows of the user's own department are visible to department-scoped roles.
    distinct: the department lookup crosses a to-many relation, so de-duplicate.
    """

    region_path: str | None = None
    department: str | None = None
    distinct: bool = False
