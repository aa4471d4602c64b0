"""Each app registers the workspace it offers to some roles; the home page sends people there."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class Workspace:
    key: str
    label: str | Promise
    url_name: str
    roles: frozenset[str]
    description: str | Promise = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_WORKSPACES: dict[str, Workspace] = {}


def register(*, key: str, label, url_name: str, roles, description="") -> None:
    _WORKSPACES[key] = Workspace(key, label, url_name, frozenset(roles), description)


def for_user(user) -> list[Workspace]:
    if not user.is_authenticated:
        return []
    everything = user.is_admin_role
    return [w for w in _WORKSPACES.values() if everything or user.role in w.roles]
