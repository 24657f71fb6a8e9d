"""Statistics: tickets created, closed and open per visible queue, as a chart drawn on the
server (inline SVG, no script), tables, and a CSV download with the same filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _

from wikibridge import access
from wikibridge.tickets import stats
from wikibridge.tickets.stats import Period, PeriodError, Traffic

from . import chart, labels
from .database import db
from .query_args import date_arg, queue_id_arg

bp = Blueprint("stats", __name__)


def _day(name: str, default: date) -> date:
    return date_arg(name, PeriodError) or default


def _traffic(*, default_period: bool = False) -> Traffic:
    """The traffic the query string asks for (in the default period if told so); 404 for a
    queue outside the volunteer's queues, PeriodError for a period that cannot be shown."""
    period = stats.default_period(datetime.now(UTC).date())
    if not default_period:
        period = Period(_day("from", period.start), _day("to", period.end))
    data = stats.traffic(
        db(),
        g.scope,
        period,
        granularity=request.args.get("by", stats.DEFAULT_GRANULARITY),
        queue_id=queue_id_arg(),
    )
    if data is None:
        abort(404)
    return data


@bp.get("/stats")
def index() -> Any:
    message = ""
    try:
        data = _traffic()
    except PeriodError as error:
        message = str(error)
        data = _traffic(default_period=True)
    queue_id = queue_id_arg()
    title = _(
        "Tickets created and closed per %(period)s, and open at its end, %(start)s to %(end)s",
        period=labels.GRANULARITIES.get(data.granularity, data.granularity),
        start=data.period.start,
        end=data.period.end,
    )
    return render_template(
        "stats/index.html",
        data=data,
        granularity_names=labels.GRANULARITIES,
        chart=chart.build(data.total, title, {"created": _("created"), "closed": _("closed")}),
        message=message,
        queues=access.visible_queues(db(), g.scope),
        queue_id=queue_id,
        granularities=stats.GRANULARITIES,
        csv_args=_args(data, queue_id),
    )


def _args(data: Traffic, queue_id: int | None) -> dict[str, str]:
    """The query string of what the page shows, for the CSV link."""
    args = {
        "from": data.period.start.isoformat(),
        "to": data.period.end.isoformat(),
        "by": data.granularity,
    }
    if queue_id is not None:
        args["queue"] = str(queue_id)
    return args


@bp.get("/stats.csv")
def export() -> Response:
    try:
        data = _traffic()
    except PeriodError as error:
        abort(400, str(error))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(stats.csv_rows(data))
    name = f"wikibridge-stats-{data.period.start}-{data.period.end}-{data.granularity}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
