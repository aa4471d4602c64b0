"""The one function callers use: text (and optionally a point) → the three most likely small classes, each
with the department the routing rules would choose there."""

import dataclasses

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from org.cache import per_process
from org.models import Region
from grid.selectors import grid_at, nearest_community

from ..models import Category, Ticket
from ..selectors import suggest_departments
from . import keywords, store

MAX_TEXT = 4000
CATEGORIES_KEY = "tickets:classifier:categories"
# the dispatcher console flags a ticket whose category the model puts outside its top 3 while this sure of another
DISAGREE_SCORE = 0.5


@dataclasses.dataclass
class Suggestion:
    code: str
    name: str
    category_id: int
    score: float
    major: str = ""
    department: dict | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "id": self.category_id, "major": self.major,
                "score": round(self.score, 3), "department": self.department}


@dataclasses.dataclass
class Suggestions:
    method: str  # "model", or "keywords" before the first model
    model_version: int | None
    suggestions: list[Suggestion]
    center: str | None = None

    def codes(self) -> list[str]:
        return [s.code for s in self.suggestions]

    def as_dict(self) -> dict:
        return {"method": self.method, "model_version": self.model_version, "center": self.center,
                "suggestions": [s.as_dict() for s in self.suggestions]}


def _categories() -> dict[str, Category]:
    return {c.code: c for c in Category.objects.filter(is_active=True, parent__isnull=False).select_related("owner_department", "parent")}


def categories() -> dict[str, Category]:
    """This process's copy of the active small classes by code."""
    return per_process(CATEGORIES_KEY, _categories)


def clean(text) -> str:
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationError({"text": _("Type the complaint's text to get category suggestions.")})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": _("The text is too long for suggestions (at most %(n)d characters).") % {"n": MAX_TEXT}})
    return text


def rank(text: str) -> tuple[str, int | None, list[tuple[str, float]]]:
    """(method, model version, (code, score) best first over every class) — no database query once warm."""
    version, pipeline = store.active()
    if pipeline is None:
        return "keywords", None, keywords.scores(text)
    proba = pipeline.predict_proba([text])[0]
    return "model", version, sorted(zip(map(str, pipeline.classes_), proba.tolist()), key=lambda x: -x[1])


def suggest(text: str, *, point: Point | None = None, limit: int = 3) -> Suggestions:
    """The `limit` most likely active small classes for `text`; with a point, each with the lead department the
    routing rules choose there. Raises ValidationError for empty or too long text."""
    text = clean(text)
    method, version, ranked = rank(text)
    known = categories()
    out = [Suggestion(code, known[code].name, known[code].pk, score, known[code].parent.name)
           for code, score in ranked if code in known][:limit]
    result = Suggestions(method, version, out)
    if point is not None and out:
        chain = _regions_at(point)
        if chain is None:
            return result
        community, town, district = chain
        result.center = town.name
        for s in out:
            draft = Ticket(category=known[s.code], center=town, town=town, district=district, community=community,
                           region_path=community.path)
            departments = suggest_departments(draft)
            s.department = {"id": departments[0].pk, "name": departments[0].name} if departments else None
    return result


def _regions_at(point: Point) -> tuple[Region, Region, Region] | None:
    """(community, town, district) where a ticket at the point would be placed (the rule of ticket_create)."""
    grid = grid_at(point)
    path = grid.region_path if grid is not None else getattr(nearest_community(point), "path", None)
    if not path:
        return None
    chain = {r.level: r for r in Region.objects.filter(code__in=[c for c in path.split("/") if c]).defer("boundary")}
    levels = (Region.Level.COMMUNITY, Region.Level.TOWN, Region.Level.DISTRICT)
    return tuple(chain[level] for level in levels) if all(level in chain for level in levels) else None


def disagreement(ticket: Ticket) -> Suggestion | None:
    """The class the model is sure of when it puts the ticket's own category outside its top 3, else None."""
    if ticket.category.code not in categories():
        return None
    try:
        ranked = suggest(f"{ticket.title}\n{ticket.description}"[:MAX_TEXT])
    except ValidationError:
        return None
    if ranked.method != "model" or not ranked.suggestions:
        return None
    best = ranked.suggestions[0]
    if best.score >= DISAGREE_SCORE and ticket.category.code not in ranked.codes():
        return best
    return None
