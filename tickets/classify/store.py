"""The active model, loaded once per process: its row id and version come from this process's copy of the
active-version key (cleared when a model row changes, at most a minute old elsewhere), the fitted pipeline
from PostgreSQL the first time that row is seen."""

import io
import threading

import joblib
import sklearn

from org.cache import per_process

from .models import ClassifierModel

ACTIVE_KEY = "tickets:classifier:active"
_lock = threading.Lock()
_loaded: dict = {}  # row id → fitted pipeline (only the latest is kept)


def dumps(pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def loads(data: bytes):
    return joblib.load(io.BytesIO(bytes(data)))


def _active_row() -> tuple[int, int] | tuple[None, None]:
    # a model pickled by another scikit-learn version is not trusted to load; keywords answer until the next training
    row = (ClassifierModel.objects.filter(is_active=True, library=sklearn.__version__).values_list("pk", "version").first())
    return row or (None, None)


def active() -> tuple[int | None, object | None]:
    """(version, fitted pipeline) of the active model, or (None, None) before the first one."""
    pk, version = per_process(ACTIVE_KEY, _active_row)
    if pk is None:
        return None, None
    pipeline = _loaded.get(pk)
    if pipeline is None:
        with _lock:
            pipeline = _loaded.get(pk)
            if pipeline is None:
                data = ClassifierModel.objects.filter(pk=pk).values_list("pipeline", flat=True).first()
                if data is None:
                    return None, None
                pipeline = loads(data)
                _loaded.clear()
                _loaded[pk] = pipeline
    return version, pipeline
