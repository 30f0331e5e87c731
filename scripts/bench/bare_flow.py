"""The spine's shape in bare viewflow 2.4: the same nodes, the same route back to a Switch after every step.

What a bare step stores is what viewflow itself stores: its task rows and the process (the next step
is a value in ``Process.data``). The benchmark drives it headless, as the product's services drive
the spine, so that the ratio between the two is the product's own cost per step.
"""

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

PATH = [
    "propose",
    "deliberate",
    "review_by_party_members",
    "resolve_by_members",
    "publish_resolution",
    "check_by_township",
    "approve_by_township",
    "implement",
    "publish_result",
    "archive",
    "end",
]
# The nodes a person acts on (flow.View), those an event completes (flow.Handle), as in the spine.
VIEWS = {"propose", "check_by_township", "approve_by_township", "implement"}
HANDLES = {"deliberate", "review_by_party_members", "resolve_by_members", "publish_resolution", "publish_result"}


def next_step_is(step):
    def predicate(activation):
        return activation.process.data.get("next_step") == step

    predicate.__name__ = f"next_step_is_{step}"
    return predicate


def step_after(step):
    return PATH[PATH.index(step) + 1]


class BareSpineFlow(flow.Flow):
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_process).Next(this.route)
    route = (
        flow.Switch()
        .Case(this.propose, next_step_is("propose"))
        .Case(this.deliberate, next_step_is("deliberate"))
        .Case(this.review_by_party_members, next_step_is("review_by_party_members"))
        .Case(this.resolve_by_members, next_step_is("resolve_by_members"))
        .Case(this.open_resolution_publication, next_step_is("publish_resolution"))
        .Case(this.check_by_township, next_step_is("check_by_township"))
        .Case(this.approve_by_township, next_step_is("approve_by_township"))
        .Case(this.implement, next_step_is("implement"))
        .Case(this.open_result_publication, next_step_is("publish_result"))
        .Case(this.archive, next_step_is("archive"))
        .Case(this.end, next_step_is("end"))
    )
    propose = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.route)
    deliberate = flow.Handle(this.take_outcome).Next(this.route)
    review_by_party_members = flow.Handle(this.take_outcome).Next(this.route)
    resolve_by_members = flow.Handle(this.take_outcome).Next(this.route)
    open_resolution_publication = flow.Function(this.open_publication).Next(this.publish_resolution)
    publish_resolution = flow.Handle(this.take_outcome).Next(this.route)
    check_by_township = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.route)
    approve_by_township = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.route)
    implement = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.route)
    open_result_publication = flow.Function(this.open_publication).Next(this.publish_result)
    publish_result = flow.Handle(this.take_outcome).Next(this.route)
    archive = flow.Function(this.archive_process).Next(this.end)
    end = flow.End()

    def start_process(self, activation, **kwargs):
        activation.process.data = {"next_step": "propose", "title": kwargs.get("title", "")}
        activation.process.save()
        return activation.process

    def take_outcome(self, activation, **kwargs):
        process = activation.process
        process.data["next_step"] = step_after(activation.flow_task.name)
        process.save()

    def open_publication(self, activation):
        pass

    def archive_process(self, activation):
        activation.process.data["next_step"] = "end"
        activation.process.save()
