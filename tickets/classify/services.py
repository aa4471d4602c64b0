"""Writes of the classifier (besides training itself, classify.training.classifier_train)."""

import random

from django.db import transaction

from org.models import Role

from ..models import Category, Ticket
from . import corpus
from .models import CategorySynonyms, LabelledText, SuggestionOutcome
from .suggest import MAX_TEXT, rank

# the people who choose a category at intake; tickets from the system (alerts, imports, Open311) are not counted
CHOOSERS = (Role.GRIDWORKER, Role.HOTLINE_AGENT, Role.DISPATCHER, Role.DUTY_CHIEF)


def suggestion_record(*, ticket: Ticket, by) -> SuggestionOutcome | None:
    """Note what the classifier suggested first for the new ticket's text and whether its category is that one."""
    if by is None or by.role not in CHOOSERS:
        return None
    method, version, ranked = rank(f"{ticket.title}\n{ticket.description}"[:MAX_TEXT])
    shown = [code for code, _score in ranked[:3]]
    if not shown:
        return None
    return SuggestionOutcome.objects.create(
        ticket=ticket, role=by.role, by=by, model_version=version, shown=shown, chosen_id=ticket.category_id,
        accepted=shown[0] == ticket.category.code,
    )


@transaction.atomic
def demo_corpus_load(*, per_class: int = 40, held_per_class: int = 12, seed: int = 12345) -> int:
    """The demo corpus as labelled texts (training and held-back part) and its local names as the synonyms
    admins start from; replaces earlier demo texts. Returns the number of texts."""
    by_code = {c.code: c for c in Category.objects.filter(code__in=corpus.CODES)}
    LabelledText.objects.filter(source="demo").delete()
    rng = random.Random(seed)
    rows = []
    for code, category in by_code.items():
        for part, n in (("train", per_class), ("held", held_per_class)):
            for _ in range(n):
                title, description = corpus.complaint(code, rng, part=part)
                rows.append(LabelledText(category=category, text=f"{title}\n{description}", held_back=part == "held", source="demo"))
        CategorySynonyms.objects.get_or_create(category=category, defaults={"words": " ".join(w for w in corpus.CLASSES[code]["o"] if len(w) >= 2)})
    LabelledText.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
