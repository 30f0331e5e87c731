"""The spine every key transaction runs on: 四议两公开, township review, publication, archive.

A transaction module declares ``class XFlow(Spine, flow.Flow)`` and adds only what differs: its
application data, its checks, and its effect on the registers. Every step goes
back to ``route``, which sends the matter to the next step its rule band
requires; returns, failed votes and rejections are routing decisions too.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from . import delegation, services
from .models import END, Step
from .nodes import Call, Close, Open, Route
from .views import perform_step


def next_step_is(step: str):
    """A routing predicate: the matter's next step, set by the step just finished, is ``step``."""

    def predicate(activation) -> bool:
        return activation.process.matter.next_step == step

    predicate.__name__ = f"next_step_is_{step}"
    return predicate


class Spine:
    """The spine's nodes and their callbacks, mixed into every transaction's flow class.

    Deliberately not a Flow itself: viewflow resolves ``this`` references when a Flow
    class is created, so a Flow base would wire its subclasses to its own nodes.

    Secretary or cashier applies; the secretary proposes; the supervisor records the
    meetings; the board publishes; the township officer checks and the leader approves;
    the village implements; the result is published and the dossier archived."""

    # Two township leaders on one task: the second waits for the first's commit, then finds it done.
    lock_impl = lock.SelectForUpdateLock(nowait=False)
    # Set by each transaction module.
    transaction_type = ""
    application_form_class = None
    implementation_form_class = None
    detail_template = ""

    start = Open(this.start_matter).Annotation(title=Step.APPLY.label).Next(this.route)

    route = (
        Route()
        .Annotation(title=_("Next required step"))
        .Case(this.apply, next_step_is(Step.APPLY))
        .Case(this.propose, next_step_is(Step.PROPOSE))
        .Case(this.deliberate, next_step_is(Step.DELIBERATE))
        .Case(this.review_by_party_members, next_step_is(Step.REVIEW_BY_PARTY_MEMBERS))
        .Case(this.resolve_by_members, next_step_is(Step.RESOLVE_BY_MEMBERS))
        .Case(this.open_resolution_publication, next_step_is(Step.PUBLISH_RESOLUTION))
        .Case(this.check_by_township, next_step_is(Step.CHECK_BY_TOWNSHIP))
        .Case(this.approve_by_township, next_step_is(Step.APPROVE_BY_TOWNSHIP))
        .Case(this.implement, next_step_is(Step.IMPLEMENT))
        .Case(this.open_result_publication, next_step_is(Step.PUBLISH_RESULT))
        .Case(this.archive, next_step_is(Step.ARCHIVE))
        .Case(this.end, next_step_is(END))
    )

    apply = flow.View(perform_step).Annotation(title=_("Revise the application")).Next(this.route)
    propose = flow.View(perform_step).Annotation(title=Step.PROPOSE.label).Next(this.route)
    deliberate = flow.Handle(this.take_meeting_outcome).Annotation(title=Step.DELIBERATE.label).Next(this.route)
    review_by_party_members = (
        flow.Handle(this.take_meeting_outcome).Annotation(title=Step.REVIEW_BY_PARTY_MEMBERS.label).Next(this.route)
    )
    resolve_by_members = (
        flow.Handle(this.take_meeting_outcome).Annotation(title=Step.RESOLVE_BY_MEMBERS.label).Next(this.route)
    )
    open_resolution_publication = (
        Call(this.open_publication).Annotation(title=_("Post the resolution notice")).Next(this.publish_resolution)
    )
    publish_resolution = (
        flow.Handle(this.close_publication).Annotation(title=Step.PUBLISH_RESOLUTION.label).Next(this.route)
    )
    # While the post's holder has delegated it (转办/委托), a new township task goes to the delegate.
    check_by_township = (
        flow.View(perform_step)
        .Annotation(title=Step.CHECK_BY_TOWNSHIP.label)
        .Assign(this.delegated_owner)
        .onCreate(this.record_delegated_task)
        .Next(this.route)
    )
    approve_by_township = (
        flow.View(perform_step)
        .Annotation(title=Step.APPROVE_BY_TOWNSHIP.label)
        .Assign(this.delegated_owner)
        .onCreate(this.record_delegated_task)
        .Next(this.route)
    )
    implement = flow.View(perform_step).Annotation(title=Step.IMPLEMENT.label).Next(this.route)
    open_result_publication = (
        Call(this.open_publication).Annotation(title=_("Post the result notice")).Next(this.publish_result)
    )
    publish_result = flow.Handle(this.close_publication).Annotation(title=Step.PUBLISH_RESULT.label).Next(this.route)
    archive = Call(this.archive_matter).Annotation(title=Step.ARCHIVE.label).Next(this.end)
    end = Close().Annotation(title=_("Matter closed"))

    def start_matter(self, activation, *, matter):
        return services.matter_attach_process(activation=activation, matter=matter)

    def take_meeting_outcome(self, activation, *, decision):
        services.matter_take_meeting_outcome(
            matter=activation.process.matter, step=activation.flow_task.name, decision=decision
        )

    def open_publication(self, activation):
        services.publication_open(matter=activation.process.matter, step=activation.flow_task.name)

    def close_publication(self, activation, *, notice):
        services.publication_close(matter=activation.process.matter, notice=notice)

    def archive_matter(self, activation):
        services.matter_archive(matter=activation.process.matter)

    def delegated_owner(self, activation):
        return delegation.delegated_owner(activation)

    def record_delegated_task(self, activation):
        delegation.record_delegated_task(activation)

    def form_kwargs(self, organization) -> dict:
        """Extra arguments for the transaction's forms, e.g. the collective whose registers they offer."""
        return {}

    def history_querysets(self, matter) -> list:
        """History of the transaction's own application rows, shown on the matter's page."""
        return []

    def clean_application(self, *, organization, rule_version, data, matter=None) -> Decimal:
        """Check the application against the transaction's rules; return the amount that picks the band.

        ``matter`` is the matter being revised (None for a new application), so a check for
        "already in a running matter" can leave the matter itself out."""
        raise NotImplementedError

    def reserve(self, *, matter, data) -> None:
        """Reserve what the application commits (registers/reservations.py), under the holding's row lock;
        a revision replaces the reservation. Nothing by default: a purchase or a payment holds nothing."""

    def save_application(self, *, matter, data, new: bool = False) -> None:
        """Write the transaction's application rows from ``data``; ``new``: the matter was made in this
        application, so it has none yet (none is looked for or replaced); else a revision replaces them."""
        raise NotImplementedError

    def application_row(self, model, *, matter, new: bool, values: dict):
        """The matter's one row of ``model`` holding ``values``: made outright for a new application (none is
        looked for, no savepoint opened), updated in place on a revision."""
        if new:
            return model.objects.create(matter=matter, **values)
        return model.objects.update_or_create(matter=matter, defaults=values)[0]

    @property
    def holds_reservations(self) -> bool:
        """Whether the transaction reserves anything (it overrides ``reserve``): a matter of one that does
        not holds nothing, so there is nothing to consume or release when it ends."""
        return type(self).reserve is not Spine.reserve

    def application_data(self, matter) -> dict:
        """The saved application as the form's initial data, for a revision."""
        raise NotImplementedError

    def register_effect(self, *, matter, user, data) -> None:
        """What implementing the matter changes in the registers, inside the step's transaction."""
        raise NotImplementedError
