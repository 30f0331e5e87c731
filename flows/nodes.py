"""The spine's gateway and function nodes without the savepoint viewflow opens around each of them.

viewflow wraps a Switch's choice and a Function's callback in a savepoint so that, when it keeps errors
(``context.propagate_exception`` off), a failed node can be marked ERROR while the rest of the
transaction commits. The product always propagates: an error undoes the whole step's transaction,
so those savepoints only cost two round trips each. They are still opened when errors are kept.
"""

from contextlib import nullcontext

from django.db import transaction
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.signals import task_started


def _savepoint_if_errors_are_kept():
    return transaction.atomic(savepoint=True) if not context.propagate_exception else nullcontext()


class RouteActivation(SwitchActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            for node, cond in self.flow_task._branches:
                if cond is None or cond(self):
                    self.next_task = node
                    break
            if not self.next_task:
                raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class Route(flow.Switch):
    """A Switch whose choice (a read of the matter in hand) opens no savepoint."""

    activation_class = RouteActivation


class CallActivation(FunctionActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            self.task.started = now()
            task_started.send(sender=self.flow_class, process=self.process, task=self.task)
            self.flow_task._func(self)


class Call(flow.Function):
    """A Function whose callback runs in the step's transaction without a savepoint of its own."""

    activation_class = CallActivation
