"""Detectors, one per warning-model kind. Each turns data into findings; `alerts.detection` raises alerts from them."""

from .base import Detector, Finding, ParamError

_DETECTORS: dict[str, Detector] = {}


def register(cls: type[Detector]) -> type[Detector]:
    _DETECTORS[cls.kind] = cls()
    return cls


def detector_for(kind: str) -> Detector:
    if not _DETECTORS:
        _load()
    return _DETECTORS[kind]


def _load() -> None:
    from . import dwellings, enterprises, hotline, vehicles, video  # noqa: F401  (each registers its detectors)


__all__ = ["Detector", "Finding", "ParamError", "detector_for", "register"]
