from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaptureKind(models.TextChoices):
    DOCUMENT = "document", _("EPCIS document")
    EVENT = "event", _("Single EPCIS event")


class CaptureStatus(models.TextChoices):
    """The states of a capture job (EPCIS 2.0 capture interface). Captures are processed
    synchronously (docs/epcis.md §6), so a stored job is "succeeded"; "accepted" and
    "running" are the states of a job being processed and "failed" the end of one
    refused after it was accepted, for asynchronous processing."""

    ACCEPTED = "accepted", pgettext_lazy("capture job", "Accepted")
    RUNNING = "running", pgettext_lazy("capture job", "Running")
    SUCCEEDED = "succeeded", pgettext_lazy("capture job", "Succeeded")
    FAILED = "failed", pgettext_lazy("capture job", "Failed")


class EventType(models.TextChoices):
    """The five EPCIS 2.0 event types (stored by a lowercase key; EPCIS_NAMES maps them)."""

    OBJECT = "object", _("Object event")
    AGGREGATION = "aggregation", _("Aggregation event")
    TRANSACTION = "transaction", _("Transaction event")
    TRANSFORMATION = "transformation", _("Transformation event")
    ASSOCIATION = "association", _("Association event")


#: Store key -> EPCIS 2.0 type name.
EPCIS_NAMES = {
    EventType.OBJECT: "ObjectEvent",
    EventType.AGGREGATION: "AggregationEvent",
    EventType.TRANSACTION: "TransactionEvent",
    EventType.TRANSFORMATION: "TransformationEvent",
    EventType.ASSOCIATION: "AssociationEvent",
}


class EpcRole(models.TextChoices):
    """Where an identifier stands in an event (the list it comes from)."""

    EPC = "epc", _("EPC (epcList)")
    PARENT = "parent", _("Parent (parentID)")
    CHILD = "child", _("Child (childEPCs)")
    INPUT = "input", _("Input (inputEPCList)")
    OUTPUT = "output", _("Output (outputEPCList)")
    CLASS = "class", _("Class with quantity (quantityList)")
    CLASS_CHILD = "class_child", _("Child class with quantity (childQuantityList)")
    CLASS_INPUT = "class_input", _("Input class (inputQuantityList)")
    CLASS_OUTPUT = "class_output", _("Output class (outputQuantityList)")


#: The roles that link identifiers within one event (transformation inputs and outputs,
#: aggregation and association parents and children): the edges a trace walks.
LINK_ROLES = (
    "parent", "child", "class_child", "input", "output", "class_input", "class_output",
)


class SourceDestKind(models.TextChoices):
    SOURCE = "source", _("Source")
    DESTINATION = "destination", _("Destination")


class PlaceKind(models.TextChoices):
    """What a party or location of the trace directory (models.Place) is."""

    PARTY = "party", _("Party (a company or organisation)")
    PLANT = "plant", _("Production site")
    WAREHOUSE = "warehouse", _("Warehouse or depot")
    STATION = "station", _("Metro station")
    BUILDING = "building", _("Building or construction site")
    OTHER = "other", _("Other location")


#: Kinds of place where goods end up installed (the end of a forward trace, the rows of a
#: recall-impact list that are "installation locations").
INSTALLATION_KINDS = (PlaceKind.STATION, PlaceKind.BUILDING)
