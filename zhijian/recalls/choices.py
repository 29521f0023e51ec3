from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RecallStatus(models.TextChoices):
    """The life of a recall (docs/recalls.md, "Workflow")."""

    PROPOSED = "proposed", pgettext_lazy("recall", "Proposed")
    OPEN = "open", pgettext_lazy("recall", "Open")
    COMPLETED = "completed", pgettext_lazy("recall", "Completed")
    DISMISSED = "dismissed", pgettext_lazy("recall", "Dismissed")


#: status -> the statuses it may go to (one service per transition).
TRANSITIONS = {
    RecallStatus.PROPOSED: {RecallStatus.OPEN, RecallStatus.DISMISSED},
    RecallStatus.OPEN: {RecallStatus.COMPLETED},
    RecallStatus.COMPLETED: set(),
    RecallStatus.DISMISSED: set(),
}

#: What the public sees (docs/recalls.md, "What is public").
PUBLIC_STATUSES = (RecallStatus.OPEN, RecallStatus.COMPLETED)


class Severity(models.TextChoices):
    """How serious the defect is; it sets the completion deadline (rule
    recall.completion_working_days)."""

    LEVEL_1 = "1", _("Level 1: may cause death or serious injury, or fire")
    LEVEL_2 = "2", _("Level 2: may cause injury or damage to property")
    LEVEL_3 = "3", _("Level 3: unlikely to cause harm; nonconforming")


class SourceKind(models.TextChoices):
    REPORT = "report", _("Nonconforming test report")
    SAMPLE = "sample", _("Nonconforming supervisory sample")
    DELIVERY = "delivery", _("Delivery rejected on acceptance")
    MANUAL = "manual", _("Proposed by a regulator")


class ItemStatus(models.TextChoices):
    """The progress of one line of the impact list."""

    LISTED = "listed", _("Listed")
    LOCATED = "located", _("Located")
    REMOVED = "removed", pgettext_lazy("recall item", "Removed")
    REPLACED = "replaced", _("Replaced")
    DESTROYED = "destroyed", _("Destroyed")
    NOT_FOUND = "not_found", _("Not found")


#: Progress only goes forward: the rank of each status (an update may skip ranks).
ITEM_RANK = {
    ItemStatus.LISTED: 0,
    ItemStatus.LOCATED: 1,
    ItemStatus.REMOVED: 2,
    ItemStatus.REPLACED: 3,
    ItemStatus.DESTROYED: 3,
    ItemStatus.NOT_FOUND: 3,
}

#: The statuses that close an item.
CLOSED_ITEM_STATUSES = (ItemStatus.REPLACED, ItemStatus.DESTROYED, ItemStatus.NOT_FOUND)


class StopKind(models.TextChoices):
    """How the traced goods reached a place (tracing.Stop.kind)."""

    SHIPPED_TO = "shipped_to", _("Shipped to")
    RECEIVED = "received", _("Received")
    INSTALLED = "installed", _("Installed")
    HELD = "held", _("Held")


class NoticeRole(models.TextChoices):
    MAKER = "maker", _("Maker")
    HOLDER = "holder", _("Holder")


#: UN/ECE Recommendation 20 unit codes (EPCIS uom) as people write them; others as given.
UNIT_SYMBOLS = {"MTR": "m", "KGM": "kg", "TNE": "t", "MTK": "m²", "MTQ": "m³", "LTR": "L",
                "KMT": "km"}


def unit_symbol(code: str) -> str:
    return UNIT_SYMBOLS.get(code, code)
