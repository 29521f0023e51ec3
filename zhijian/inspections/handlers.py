"""Event subscribers of random inspections: publication of completed results."""

from zhijian.core.events import subscribe

from . import services


@subscribe("inspection.completed")
def publish_result(event) -> None:
    """Results are public as soon as they are complete (well within the legal period of
    rule inspections.publication_working_days); idempotent."""
    services.result_publish(int(event.aggregate_id))
