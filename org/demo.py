"""The demo city's loaders: each app registers its part in AppConfig.ready(), as it registers its deadlines.

`load_demo_city` builds the regions, departments and demo users (org), then calls every registered
`load(scale=, stdout=)` and after them every `history(days=, stdout=)`, in INSTALLED_APPS order (the layers'
order), so an app finds what the apps below it made.
"""

from collections.abc import Callable

from django.apps import apps

_LOADERS: dict[str, dict[str, Callable]] = {}


def register(app_label: str, *, load: Callable | None = None, history: Callable | None = None) -> None:
    _LOADERS[app_label] = {"load": load, "history": history}


def _in_layer_order(kind: str) -> list[Callable]:
    return [_LOADERS[c.label][kind] for c in apps.get_app_configs() if _LOADERS.get(c.label, {}).get(kind)]


def loaders() -> list[Callable]:
    return _in_layer_order("load")


def history_loaders() -> list[Callable]:
    return _in_layer_order("history")
