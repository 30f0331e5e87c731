"""The figures of the statistics pages: kept in summary tables by Celery, read with aggregate queries.

``figures_refresh`` rebuilds one collective's month from its rows (a handful of matters); it runs after
every step, objection and handling (oversight/apps.py) and nightly for everything (``figures_rebuild``).
``overview`` reads a township, county, city or province: a fixed number of aggregate queries over the
summary tables, plus indexed counts of what is open now (waiting, overdue, warnings). No query returns
more rows than there are months, types, steps, places or hour buckets.
"""

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from flows.models import Decision, Matter, MatterStatus, Objection, Step, StepRecord
from flows.selectors import ESCALATED, OVERDUE, overdue_condition
from organizations.models import Organization, OrganizationKind, TransactionType
from registers.models import EarlyWarning, WarningLevel, WarningRule

from .models import MonthlyFigures, StepDurations

# From the top of the tree down; a collective is always under a village, a village under a township…
LEVELS = [
    OrganizationKind.PROVINCE,
    OrganizationKind.CITY,
    OrganizationKind.COUNTY,
    OrganizationKind.TOWNSHIP,
    OrganizationKind.VILLAGE,
    OrganizationKind.COLLECTIVE,
]
COUNTS = ("started", "finished", "rejected", "withdrawn", "returned", "approved")
# Steps whose time is worth a median: every step a matter waits at (the start has no wait).
TIMED_STEPS = [step.value for step in Step if step != Step.ARCHIVE]


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as an aware [start, end) range in the site's time zone."""
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)
    return start, datetime.datetime.combine(following, datetime.time.min, tzinfo=zone)


def local_month(moment: datetime.datetime) -> datetime.date:
    return month_start(timezone.localtime(moment).date())


# --- keeping the summary tables ------------------------------------------------------------------------


def _step_of(task: Task) -> str:
    return task.flow_task.name if task.flow_task is not None else ""


@transaction.atomic
def figures_refresh(*, organization_id: int, month: datetime.date) -> int:
    """Rebuild the summary rows of one collective and month from its matters, records, objections and tasks.

    Safe to run twice or at once with itself: the rows are deleted and written again in one transaction.
    Returns how many figure rows the month now has."""
    month = month_start(month)
    start, end = month_bounds(month)
    figures: dict[str, dict] = defaultdict(
        lambda: dict.fromkeys((*COUNTS, "objections_raised", "objections_handled"), 0) | {"approved_amount": Decimal(0)}
    )
    matters = Matter.objects.filter(organization_id=organization_id)

    for row in (
        matters.filter(created_at__gte=start, created_at__lt=end).values("transaction_type").annotate(n=Count("pk"))
    ):
        figures[row["transaction_type"]]["started"] += row["n"]
    ended = {MatterStatus.ARCHIVED: "finished", MatterStatus.REJECTED: "rejected", MatterStatus.WITHDRAWN: "withdrawn"}
    for row in (
        matters.filter(finished_at__gte=start, finished_at__lt=end, status__in=list(ended))
        .values("transaction_type", "status")
        .annotate(n=Count("pk"))
    ):
        figures[row["transaction_type"]][ended[row["status"]]] += row["n"]

    records = StepRecord.objects.filter(
        matter__organization_id=organization_id, acted_at__gte=start, acted_at__lt=end
    ).values(kind=F("matter__transaction_type"))
    for row in records.filter(decision=Decision.RETURN).annotate(n=Count("pk")):
        figures[row["kind"]]["returned"] += row["n"]
    # Approved: the township's last word on the matter, the leader's approval or, where the band
    # needs no leader, the officer's check.
    final_agreement = Q(step=Step.APPROVE_BY_TOWNSHIP) | Q(
        step=Step.CHECK_BY_TOWNSHIP, matter__band__township_approval=False
    )
    for row in records.filter(final_agreement, decision=Decision.AGREE).annotate(
        n=Count("matter", distinct=True), amount=Sum("matter__amount")
    ):
        figures[row["kind"]]["approved"] += row["n"]
        figures[row["kind"]]["approved_amount"] += row["amount"] or Decimal(0)

    objections = Objection.objects.filter(notice__organization_id=organization_id)
    raised = (
        objections.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values(kind=F("notice__matter__transaction_type"))
        .annotate(n=Count("pk"))
    )
    handled = (
        objections.filter(handled_at__gte=start, handled_at__lt=end)
        .values(kind=F("notice__matter__transaction_type"))
        .annotate(n=Count("pk"))
    )
    for row in raised:
        figures[row["kind"]]["objections_raised"] += row["n"]
    for row in handled:
        figures[row["kind"]]["objections_handled"] += row["n"]

    buckets: dict[tuple[str, int], int] = defaultdict(int)
    finished_tasks = Task.objects.filter(
        process__matter__organization_id=organization_id,
        status=STATUS.DONE,
        finished__gte=start,
        finished__lt=end,
    ).only("flow_task", "created", "finished")
    for task in finished_tasks:
        step = _step_of(task)
        if step in TIMED_STEPS and task.finished and task.created:
            hours = max(0, int((task.finished - task.created).total_seconds() // 3600))
            buckets[(step, hours)] += 1

    MonthlyFigures.objects.filter(organization_id=organization_id, month=month).delete()
    StepDurations.objects.filter(organization_id=organization_id, month=month).delete()
    rows = [
        MonthlyFigures(organization_id=organization_id, month=month, transaction_type=kind, **values)
        for kind, values in figures.items()
        if any(values.values())
    ]
    MonthlyFigures.objects.bulk_create(rows)
    StepDurations.objects.bulk_create(
        StepDurations(organization_id=organization_id, month=month, step=step, hours=hours, count=count)
        for (step, hours), count in buckets.items()
    )
    return len(rows)


def months_with_activity() -> set[tuple[int, datetime.date]]:
    """Every (collective, month) that any matter, record, objection or finished task touches."""
    pairs = set()
    sources = [
        Matter.objects.annotate(month=TruncMonth("created_at")).values_list("organization_id", "month"),
        Matter.objects.filter(finished_at__isnull=False)
        .annotate(month=TruncMonth("finished_at"))
        .values_list("organization_id", "month"),
        StepRecord.objects.annotate(month=TruncMonth("acted_at")).values_list("matter__organization_id", "month"),
        Objection.objects.annotate(month=TruncMonth("submitted_at")).values_list("notice__organization_id", "month"),
        Objection.objects.filter(handled_at__isnull=False)
        .annotate(month=TruncMonth("handled_at"))
        .values_list("notice__organization_id", "month"),
    ]
    for source in sources:
        for organization_id, month in source.distinct():
            if organization_id is not None and month is not None:
                day = month.date() if isinstance(month, datetime.datetime) else month
                pairs.add((organization_id, month_start(day)))
    return pairs


def figures_rebuild() -> int:
    """Rebuild every collective's every month; the nightly safety net under the refresh after each event."""
    pairs = months_with_activity()
    for organization_id, month in sorted(pairs):
        figures_refresh(organization_id=organization_id, month=month)
    return len(pairs)


# --- reading a part of the tree ----------------------------------------------------------------------


def child_kind(kind: str) -> str | None:
    position = LEVELS.index(kind)
    return LEVELS[position + 1] if position + 1 < len(LEVELS) else None


def child_lookup(kind: str, base: str = "organization") -> str:
    """The lookup from a collective-keyed row to its ancestor one level below ``kind`` (its "child")."""
    below = child_kind(kind)
    hops = LEVELS.index(OrganizationKind.COLLECTIVE) - LEVELS.index(below)
    return base + "__parent" * hops


def percentile(buckets: list[tuple[int, int]], share: float) -> float | None:
    """Nearest-rank percentile of a histogram [(hours, count)], in days; None when it is empty."""
    total = sum(count for _hours, count in buckets)
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for hours, count in sorted(buckets):
        seen += count
        if seen >= rank:
            return round(hours / 24, 1)
    return None


@dataclass
class Table:
    """One table of the page, with the chart drawn from it and the sheet exported from it."""

    key: str
    title: str
    headers: list[str]
    rows: list[list]
    chart: dict = field(default_factory=dict)
    note: str = ""


CENT = Decimal("0.01")


def money(amount) -> Decimal:
    """Yuan with two places: SQLite sums decimals without their scale."""
    return Decimal(amount or 0).quantize(CENT)


def _sums(queryset, *group):
    return queryset.values(*group).annotate(
        **{name: Sum(name) for name in (*COUNTS, "approved_amount", "objections_raised", "objections_handled")}
    )


def _series(name, values) -> dict:
    return {"name": str(name), "data": [float(value) if isinstance(value, Decimal) else value for value in values]}


@dataclass
class Overview:
    organization: Organization
    year: int
    tables: list[Table]
    refreshed_at: datetime.datetime | None
    children: list[Organization]
    totals: dict

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


MONTH_HEADERS = [
    gettext_lazy("Month"),
    gettext_lazy("New applications"),
    gettext_lazy("Archived"),
    gettext_lazy("Returns"),
    gettext_lazy("Withdrawn"),
    gettext_lazy("Rejected"),
    gettext_lazy("Approved"),
    gettext_lazy("Amount approved (yuan)"),
]


def overview(organization: Organization, *, year: int, now: datetime.datetime | None = None) -> Overview:
    """The figures of one part of the tree for one year, and what is open in it now."""
    now = now or timezone.now()
    scope = Q(organization__path__startswith=organization.path)
    figures = MonthlyFigures.objects.filter(scope, month__year=year)
    open_matters = Matter.objects.filter(scope, status=MatterStatus.IN_PROGRESS)
    below = child_kind(organization.kind)
    tables = []

    # By month.
    by_month = {row["month"]: row for row in _sums(figures, "month").order_by("month")}
    months = [datetime.date(year, number, 1) for number in range(1, 13)]
    month_rows = []
    for month in months:
        row = by_month.get(month, {})
        month_rows.append(
            [
                f"{month:%Y-%m}",
                *(row.get(name) or 0 for name in ("started", "finished", "returned", "withdrawn", "rejected")),
                row.get("approved") or 0,
                money(row.get("approved_amount")),
            ]
        )
    tables.append(
        Table(
            key="months",
            title=_("Matters by month"),
            headers=[str(header) for header in MONTH_HEADERS],
            rows=month_rows,
            chart={
                "type": "line",
                "categories": [row[0] for row in month_rows],
                "series": [_series(MONTH_HEADERS[index], [row[index] for row in month_rows]) for index in range(1, 7)],
            },
        )
    )

    # By transaction type, with what waits now.
    by_type = {row["transaction_type"]: row for row in _sums(figures, "transaction_type")}
    waiting_by_type = dict(open_matters.values_list("transaction_type").annotate(n=Count("pk")))
    type_rows = []
    for value, label in TransactionType.choices:
        row = by_type.get(value, {})
        type_rows.append(
            [
                str(label),
                row.get("started") or 0,
                row.get("finished") or 0,
                row.get("returned") or 0,
                row.get("withdrawn") or 0,
                row.get("rejected") or 0,
                waiting_by_type.get(value, 0),
                money(row.get("approved_amount")),
            ]
        )
    type_headers = [
        _("Type"),
        _("New applications"),
        _("Archived"),
        _("Returns"),
        _("Withdrawn"),
        _("Rejected"),
        _("Waiting now"),
        _("Amount approved (yuan)"),
    ]
    tables.append(
        Table(
            key="types",
            title=_("Matters by transaction type"),
            headers=type_headers,
            rows=type_rows,
            chart={
                "type": "bar",
                "categories": [row[0] for row in type_rows],
                "series": [_series(type_headers[index], [row[index] for row in type_rows]) for index in (1, 2, 6)],
            },
        )
    )

    # By the places one level down.
    children = []
    if below is not None:
        lookup = child_lookup(organization.kind)
        children = list(Organization.objects.filter(parent=organization, kind=below).order_by("code", "pk"))
        by_child = {row["child"]: row for row in _sums(figures.annotate(child=F(lookup)), "child")}
        waiting_by_child = dict(open_matters.annotate(child=F(lookup)).values_list("child").annotate(n=Count("pk")))
        overdue_by_child = dict(
            Matter.objects.filter(scope, overdue_condition(OVERDUE, now))
            .annotate(child=F(lookup))
            .values_list("child")
            .annotate(n=Count("pk"))
        )
        child_rows = []
        for child in children:
            row = by_child.get(child.pk, {})
            child_rows.append(
                [
                    child.name,
                    row.get("started") or 0,
                    row.get("finished") or 0,
                    row.get("returned") or 0,
                    row.get("withdrawn") or 0,
                    waiting_by_child.get(child.pk, 0),
                    overdue_by_child.get(child.pk, 0),
                    money(row.get("approved_amount")),
                ]
            )
        child_headers = [
            str(OrganizationKind(below).label),
            _("New applications"),
            _("Archived"),
            _("Returns"),
            _("Withdrawn"),
            _("Waiting now"),
            _("Overdue now"),
            _("Amount approved (yuan)"),
        ]
        tables.append(
            Table(
                key="places",
                title=_("Matters by %(kind)s") % {"kind": OrganizationKind(below).label},
                headers=child_headers,
                rows=child_rows,
                chart={
                    "type": "bar",
                    "categories": [row[0] for row in child_rows],
                    "series": [
                        _series(child_headers[index], [row[index] for row in child_rows]) for index in (1, 2, 5, 6)
                    ],
                },
            )
        )

    # Days per step.
    histograms: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for step, hours, count in (
        StepDurations.objects.filter(scope, month__year=year)
        .values_list("step", "hours")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        histograms[step].append((hours, count))
    step_rows = []
    for step in TIMED_STEPS:
        buckets = histograms.get(step, [])
        if not buckets:
            continue
        step_rows.append(
            [
                str(Step(step).label),
                sum(count for _hours, count in buckets),
                percentile(buckets, 0.5),
                percentile(buckets, 0.9),
            ]
        )
    step_headers = [_("Step"), _("Steps finished"), _("Median (days)"), _("90th percentile (days)")]
    tables.append(
        Table(
            key="steps",
            title=_("Days per step"),
            headers=step_headers,
            rows=step_rows,
            chart={
                "type": "bar",
                "categories": [row[0] for row in step_rows],
                "series": [_series(step_headers[index], [row[index] for row in step_rows]) for index in (2, 3)],
            },
            note=_("From when a matter reached the step to when it left it, for steps finished in the year."),
        )
    )

    # Overdue now, by step.
    overdue = {
        level: dict(
            Matter.objects.filter(scope, overdue_condition(level, now)).values_list("next_step").annotate(n=Count("pk"))
        )
        for level in (OVERDUE, ESCALATED)
    }
    overdue_rows = [
        [str(Step(step).label), overdue[OVERDUE].get(step, 0), overdue[ESCALATED].get(step, 0)]
        for step in TIMED_STEPS
        if overdue[OVERDUE].get(step)
    ]
    overdue_headers = [_("Step"), _("Past the reminder days"), _("Escalated to the township leader")]
    tables.append(
        Table(
            key="overdue",
            title=_("Overdue tasks now"),
            headers=overdue_headers,
            rows=overdue_rows,
            chart={
                "type": "bar",
                "categories": [row[0] for row in overdue_rows],
                "series": [_series(overdue_headers[index], [row[index] for row in overdue_rows]) for index in (1, 2)],
            },
        )
    )

    # Early warnings raised in the year, by rule, colour and state.
    warnings = (
        EarlyWarning.objects.filter(scope, raised_at__year=year)
        .values_list("rule", "level")
        .annotate(
            open=Count("pk", filter=Q(handled_at__isnull=True)), handled=Count("pk", filter=Q(handled_at__isnull=False))
        )
        .order_by()
    )
    by_rule: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for rule, level, still_open, handled in warnings:
        by_rule[rule][level] += still_open + handled
        by_rule[rule]["open"] += still_open
        by_rule[rule]["handled"] += handled
    warning_rows = [
        [
            str(label),
            *(by_rule[value][level] for level in WarningLevel.values),
            by_rule[value]["open"],
            by_rule[value]["handled"],
        ]
        for value, label in WarningRule.choices
        if value in by_rule
    ]
    warning_headers = [
        _("Rule"),
        *(str(label) for label in WarningLevel.labels),
        pgettext("warning state", "Open"),
        _("Handled"),
    ]
    tables.append(
        Table(
            key="warnings",
            title=_("Early warnings by rule, colour and state"),
            headers=warning_headers,
            rows=warning_rows,
            chart={
                "type": "bar",
                "stack": True,
                "colors": ["#c62828", "#f9a825", "#2e7d32"],
                "categories": [row[0] for row in warning_rows],
                "series": [
                    _series(warning_headers[index], [row[index] for row in warning_rows]) for index in (1, 2, 3)
                ],
            },
        )
    )

    # Objections raised and handled, by month.
    objection_rows = [
        [
            f"{month:%Y-%m}",
            by_month.get(month, {}).get("objections_raised") or 0,
            by_month.get(month, {}).get("objections_handled") or 0,
        ]
        for month in months
    ]
    objection_headers = [_("Month"), _("Objections raised"), _("Objections handled")]
    tables.append(
        Table(
            key="objections",
            title=_("Objections raised and handled"),
            headers=objection_headers,
            rows=objection_rows,
            chart={
                "type": "bar",
                "categories": [row[0] for row in objection_rows],
                "series": [
                    _series(objection_headers[index], [row[index] for row in objection_rows]) for index in (1, 2)
                ],
            },
        )
    )

    totals = {
        "started": sum(row[1] for row in month_rows),
        "finished": sum(row[2] for row in month_rows),
        "returned": sum(row[3] for row in month_rows),
        "approved_amount": sum((row[7] for row in month_rows), Decimal("0.00")),
        "waiting": sum(waiting_by_type.values()),
        "overdue": sum(overdue[OVERDUE].values()),
        "open_warnings": sum(row[-2] for row in warning_rows),
    }
    refreshed_at = figures.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    return Overview(
        organization=organization,
        year=year,
        tables=tables,
        refreshed_at=refreshed_at,
        children=children,
        totals=totals,
    )


def years_with_figures(organization: Organization) -> list[int]:
    dates: Iterable = MonthlyFigures.objects.filter(organization__path__startswith=organization.path).dates(
        "month", "year"
    )
    return sorted({day.year for day in dates} | {timezone.localdate().year}, reverse=True)
