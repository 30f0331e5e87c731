"""The spine's start, gateway, function and end nodes without the savepoints viewflow opens around each.

viewflow wraps a Switch's choice and a Function's callback in a savepoint so that, when it keeps errors
(``context.propagate_exception`` off), a failed node can be marked ERROR while the rest of the
transaction commits. The product always propagates: an error undoes the whole step's transaction,
so those savepoints only cost two round trips each. They are still opened when errors are kept.
"""

from contextlib import nullcontext

from django.db import connection, transaction
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import STATUS


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


class OpenActivation(StartHandleActivation):
    @Activation.status.super()
    def execute(self):
        if not connection.in_atomic_block or not context.propagate_exception:
            return super().execute.original()
        # Inside the application's own transaction: no savepoint around it, and no lock on a process row
        # that this transaction has just made (no one else can see it yet, let alone take its step).
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        if self.process.pk is None:
            self.process.save()
        self.complete()
        flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.activate_next()


class Open(flow.StartHandle):
    """A StartHandle that runs inside the caller's transaction without savepoints or a lock of its own."""

    activation_class = OpenActivation


class CloseActivation(EndActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            self.task.started = now()
            task_started.send(sender=self.flow_class, process=self.process, task=self.task)
            others = (
                self.flow_class.task_class._default_manager.filter(process=self.process, finished__isnull=True)
                .exclude(pk=self.task.pk)
                .exists()
            )
            if not others:
                self.process.status = STATUS.DONE
                self.process.finished = now()
                self.process.save()
            task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
            if not others:
                flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class Close(flow.End):
    """An End that finishes the process in the step's transaction without a savepoint of its own."""

    activation_class = CloseActivation
