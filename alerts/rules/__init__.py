"""Detectors, one per warning-model kind. Each turns data into findings; `alerts.detection` raises alerts from them."""

import threading

from .base import Detector, Finding, ParamError

_DETECTORS: dict[str, Detector] = {}
_LOADED = threading.Event()
_LOCK = threading.Lock()


def register(cls: type[Detector]) -> type[Detector]:
    _DETECTORS[cls.kind] = cls()
    return cls


def detector_for(kind: str) -> Detector:
    if not _LOADED.is_set():
        load()
    return _DETECTORS[kind]


def load() -> None:
    """Import every detector module (each registers its detectors); AlertsConfig.ready() calls it once."""
    with _LOCK:
        if not _LOADED.is_set():
            from . import dwellings, enterprises, hotline, vehicles, video  # noqa: F401

            _LOADED.set()


__all__ = ["Detector", "Finding", "ParamError", "detector_for", "register"]
