"""The cold start: with no trained model, score the small classes by the words of their names and the synonyms
admins gave them; longer and rarer words count more (a word shared by many classes, such as 破损, says little)."""

import math

from org.cache import per_process

from ..models import Category
from .features import words

INDEX_KEY = "tickets:classifier:keywords"


def _build() -> list[tuple[str, list[tuple[str, float]]]]:
    smalls = Category.objects.filter(is_active=True, parent__isnull=False).select_related("synonyms").order_by("code")
    raw = []
    for c in smalls:
        extra = c.synonyms.word_list() if hasattr(c, "synonyms") else []
        kws = {w for w in words(c.name) if len(w) >= 2} | {c.name} | {w.lower() for w in extra}
        raw.append((c.code, kws))
    df: dict[str, int] = {}
    for _, kws in raw:
        for w in kws:
            df[w] = df.get(w, 0) + 1
    n = max(len(raw), 1)
    return [(code, [(w, len(w) * math.log(1 + n / df[w])) for w in sorted(kws)]) for code, kws in raw]


def index() -> list:
    return per_process(INDEX_KEY, _build)


def scores(text: str) -> list[tuple[str, float]]:
    """(code, score) best first, scores summing to 1 over the classes any word matched; empty when none did."""
    text = text.lower()
    found = [(code, sum(weight for w, weight in kws if w in text)) for code, kws in index()]
    found = [(code, s) for code, s in found if s > 0]
    total = sum(s for _, s in found)
    return sorted(((code, s / total) for code, s in found), key=lambda x: (-x[1], x[0]))
