from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanKind(models.TextChoices):
    ROUTINE = "routine", _("Random inspection")  # 双随机抽查
    FLYING = "flying", _("Flying inspection")  # 飞行检查: unannounced, the firm is not told


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published (register and pool frozen)")
    DRAWN = "drawn", _("Drawn")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class LicenceFilter(models.TextChoices):
    ANY = "any", _("All entities")
    HOLDERS = "holders", _("Licence holders only")
    NON_HOLDERS = "non_holders", _("Entities without a production licence only")


class DrawStatus(models.TextChoices):
    COMMITTED = "committed", _("Committed, waiting for the seed")
    DRAWN = "drawn", _("Drawn")
    FAILED = "failed", _("Failed: inspector teams could not be formed")
    SUPERSEDED = "superseded", _("Superseded by a redraw")


class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)  # the inspection is not over


class Outcome(models.TextChoices):
    NO_PROBLEM = "no_problem", _("No problem found")
    RECTIFICATION = "rectification", _("Problems found, rectification ordered")
    CASE_OPENED = "case_opened", _("Problems found, case opened")
    NOT_FOUND = "not_found", _("Firm not found at its registered address")


PROBLEM_OUTCOMES = {Outcome.RECTIFICATION, Outcome.CASE_OPENED}


class ItemResult(models.TextChoices):
    CONFORMS = "conforms", _("Conforms")
    NONCONFORMS = "nonconforms", _("Does not conform")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
