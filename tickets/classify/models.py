"""The classifier's tables: model versions (the fitted pipeline itself, in PostgreSQL, so every process loads the
same one), labelled texts beside the closed tickets, admins' synonyms per small class, and what was suggested
against what was chosen."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClassifierModel(models.Model):
    """One trained version with its measured accuracy on the held-back texts; at most one is active."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    train_size = models.PositiveIntegerField(_("training texts"))
    held_size = models.PositiveIntegerField(_("held-back texts"))
    classes = models.PositiveSmallIntegerField(_("small classes"))
    top1 = models.FloatField(_("top-1 accuracy"))
    top3 = models.FloatField(_("top-3 accuracy"))
    # the then active version measured on this version's held-back texts: the comparison that decided
    previous_top1 = models.FloatField(_("active version's top-1 then"), null=True, blank=True)
    seconds = models.FloatField(_("training seconds"))
    library = models.CharField(_("scikit-learn version"), max_length=20)
    confusions = models.JSONField(_("most frequent confusions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    pipeline = models.BinaryField(editable=False)

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="tickets_one_active_classifier")]

    def __str__(self):
        return f"v{self.version} top-1 {self.top1:.1%} top-3 {self.top3:.1%}"


class LabelledText(models.Model):
    """A text with its small class that is not a closed ticket (the demo corpus, imported history)."""

    category = models.ForeignKey("tickets.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("text"))
    held_back = models.BooleanField(_("held back for measuring"), default=False)
    source = models.CharField(_("source"), max_length=20, default="demo")

    class Meta:
        verbose_name = _("labelled text")
        verbose_name_plural = _("labelled texts")


class CategorySynonyms(models.Model):
    """Words citizens use for a small class; with the class name they classify before any model is trained."""

    category = models.OneToOneField("tickets.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="synonyms")
    words = models.TextField(_("synonyms"), blank=True, help_text=_("Separated by spaces, commas or new lines, e.g. 窨井盖 下水道盖子."))

    class Meta:
        verbose_name = _("synonyms")
        verbose_name_plural = _("synonyms")

    def __str__(self):
        return self.words[:40]

    def word_list(self) -> list[str]:
        return [w for w in self.words.replace("，", " ").replace(",", " ").replace("、", " ").split() if w]


class SuggestionOutcome(models.Model):
    """What the classifier suggested first for a new ticket and whether the person kept it."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True, help_text=_("Empty: keyword fallback."))
    shown = models.JSONField(_("suggested codes"), default=list)
    chosen = models.ForeignKey("tickets.Category", verbose_name=_("chosen"), on_delete=models.CASCADE, related_name="+")
    accepted = models.BooleanField(_("first suggestion kept"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suggestion outcome")
        verbose_name_plural = _("suggestion outcomes")
        indexes = [models.Index(fields=["created_at"], name="tickets_suggestion_created")]
