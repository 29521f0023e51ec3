"""Event subscribers of supervisory sampling: results of the reports on samples, their
publication, revocations, and the follow-up of nonconforming results. Each is
idempotent (the outbox also applies each handler once per event)."""

from zhijian.core.events import subscribe

from . import services


@subscribe("report.issued")
def record_result(event) -> None:
    """The sample takes the report's result and is published on the portal at once (well
    within rule sampling.publication_working_days; samples_publish_due is the net)."""
    if not event.payload.get("sample"):
        return
    sample = services.sample_result_record(int(event.payload["report"]))
    if sample is not None:
        services.sample_result_publish(sample.pk)


@subscribe("report.revoked")
def mark_revoked(event) -> None:
    """The public result of a sample whose report was revoked says so."""
    services.sample_report_revoked(int(event.payload["report"]), now=event.created_at)


@subscribe("report.nonconforming")
def open_disposal(event) -> None:
    """A failed supervisory result: sample.nonconforming, and a disposal task for the
    department responsible for the producer."""
    if not event.payload.get("sample"):
        return
    services.disposal_open(int(event.payload["report"]))
