"""Training: closed tickets' final category (after any correction) and the labelled texts are the examples;
a fixed part is held back for measuring (every fifth closed ticket by id, and the labelled texts marked so).
Each fit is kept as a version with its accuracy; it becomes the active one only if it does at least as well
on the same held-back texts as the active one does."""

import collections
import dataclasses
import time

import numpy as np
import sklearn
from django.db import transaction
from django.db.models import Max

from ..models import Category, State, Ticket
from . import features, store
from .models import ClassifierModel, LabelledText

MIN_CLASSES = 2
MIN_HELD = 10
HELD_EVERY = 5  # every fifth closed ticket (by id) is held back


@dataclasses.dataclass
class Examples:
    texts: list[str]
    codes: list[str]
    held_texts: list[str]
    held_codes: list[str]


def ticket_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


def examples() -> Examples:
    active_codes = set(Category.objects.filter(is_active=True, parent__isnull=False).values_list("code", flat=True))
    ex = Examples([], [], [], [])
    closed = Ticket.objects.filter(state=State.CLOSED).values_list("id", "title", "description", "category__code")
    for pk, title, description, code in closed.iterator(chunk_size=5000):
        if code in active_codes:
            held = pk % HELD_EVERY == 0
            (ex.held_texts if held else ex.texts).append(ticket_text(title, description))
            (ex.held_codes if held else ex.codes).append(code)
    for text, held, code in LabelledText.objects.values_list("text", "held_back", "category__code").iterator(chunk_size=5000):
        if code in active_codes:
            (ex.held_texts if held else ex.texts).append(text)
            (ex.held_codes if held else ex.codes).append(code)
    return ex


def measure(pipeline, texts: list[str], codes: list[str]) -> tuple[float, float, list[dict]]:
    """(top-1, top-3, the most frequent confusions as {"true", "predicted", "count"})."""
    if not texts:
        return 0.0, 0.0, []
    proba = pipeline.predict_proba(texts)
    classes = pipeline.classes_
    order = np.argsort(-proba, axis=1)[:, :3]
    top1 = top3 = 0
    confused: collections.Counter = collections.Counter()
    for row, truth in zip(order, codes):
        best = [str(classes[i]) for i in row]
        top1 += best[0] == truth
        top3 += truth in best
        if best[0] != truth:
            confused[(truth, best[0])] += 1
    n = len(codes)
    return top1 / n, top3 / n, [{"true": t, "predicted": p, "count": c} for (t, p), c in confused.most_common(8)]


def classifier_train() -> ClassifierModel | None:
    """Fit, measure and keep a new version; activate it if it is at least as good as the active one on the
    held-back texts. None when there is too little to learn from (the keyword fallback goes on answering)."""
    ex = examples()
    if len(set(ex.codes)) < MIN_CLASSES or len(ex.held_codes) < MIN_HELD:
        return None
    started = time.perf_counter()
    pipeline = features.pipeline().fit(ex.texts, ex.codes)
    seconds = time.perf_counter() - started
    top1, top3, confusions = measure(pipeline, ex.held_texts, ex.held_codes)
    _, current = store.active()
    previous = measure(current, ex.held_texts, ex.held_codes) if current is not None else None
    blob = store.dumps(pipeline)
    with transaction.atomic():
        active = ClassifierModel.objects.select_for_update().filter(is_active=True).first()
        better = active is None or previous is None or top1 >= previous[0]
        version = (ClassifierModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        if better and active is not None:
            active.is_active = False
            active.save(update_fields=["is_active"])
        return ClassifierModel.objects.create(
            version=version, train_size=len(ex.codes), held_size=len(ex.held_codes), classes=len(pipeline.classes_),
            top1=top1, top3=top3, previous_top1=previous[0] if previous else None, seconds=round(seconds, 2),
            library=sklearn.__version__, confusions=confusions, is_active=better, pipeline=blob,
        )
