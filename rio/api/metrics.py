"""Prometheus metrics for one API app, served at `GET /metrics` to auditor and admin keys.

Each app has its own `CollectorRegistry` (never the process-wide default), so several apps in
one process (tests, say) count apart. What this process saw (requests, command outcomes) is
counted as it happens; what the store knows (read-model lag, alert sends) is read from the
store on each scrape, so it is right whichever process did the work: alerts are sent by the
scheduler, which serves no HTTP, and every API process reports the same totals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import sqlalchemy.exc
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rio.aggregates.alert import Alert
from rio.aggregates.topics import stored_topics
from rio.api.deps import require
from rio.api.middleware import CLIENT_CLOSED
from rio.api.problems import documented
from rio.api.services import Services
from rio.domain.access import Role
from rio.persistence.paging import notifications

log = structlog.get_logger("rio.api")

# One label for every request answered without a route: no route matched its path, or it
# was refused before routing (authentication, rate limit, body size). Never the raw path,
# which anyone can vary: a series per path would grow without bound.
NO_ROUTE = "<no route>"
REPLAYED = "idempotent-replayed"  # the answer's header on an idempotent retry
COMMANDS_TAG = "commands"  # the routes that record events (rio.api.routes.commands)
# A command's answer, by its status. 401, 403 and 429 are not counted: the command never
# ran (the request counter has them). 413 and 415 refuse the body, like a 422.
CONFLICTS = {409, 412}
SCRAPERS = (Role.AUDITOR, Role.ADMIN)  # operators' keys; writers and owners have no need
SENT_TOPICS = frozenset(stored_topics(Alert.Sent))
FAILED_TOPICS = frozenset(stored_topics(Alert.SendFailed))


def command_outcome(status: int, replayed: bool) -> str | None:
    """recorded | replayed | conflict | refused | failed, or None when it never ran."""
    if status in (401, 403, 429):
        return None
    if status < 400:
        return "replayed" if replayed else "recorded"
    if status in CONFLICTS:
        return "conflict"
    if status < 500:
        return "refused"
    return "failed"


class Metrics:
    """The app's registry and the instruments the middleware records into."""

    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rio_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rio_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.commands = Counter(
            "rio_commands",
            "Commands by outcome: recorded, replayed (an idempotent retry), conflict "
            "(409/412), refused (the body or the rules said no), failed (5xx).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.sends = AlertSendCount(services)
        self.registry.register(StoreCollector(services, self.sends))

    def observe(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        command: str | None = None,
        replayed: bool = False,
    ) -> None:
        """One answered request; `command` names it when it is a command route."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)
        if command is not None:
            outcome = command_outcome(status, replayed)
            if outcome is not None:
                self.commands.labels(command, outcome).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class StoreCollector(Collector):
    """Read on each scrape: the read model's lag and the alert sends recorded in the log."""

    def __init__(self, services: Services, sends: AlertSendCount) -> None:
        self.services = services
        self.sends = sends

    def describe(self) -> list[Metric]:
        return []  # computed on scrape: nothing to check for clashes at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("rio_store_up", "1 when the store answered this scrape, else 0.")
        try:
            status = self.services.read_model.status()
            sent, failed = self.sends.totals()
        except (PersistenceError, sqlalchemy.exc.SQLAlchemyError) as error:
            # A scrape is most wanted when the store is down: answer with what this process
            # knows, and say the store did not answer, rather than fail the whole scrape.
            log.warning("metrics_store_unavailable", error=f"{type(error).__name__}: {error}")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "rio_read_model_lag_events",
            "Events in the log the read model has not applied yet (the head minus its position).",
            value=status.lag,
        )
        yield GaugeMetricFamily(
            "rio_read_model_position", "The last event the read model applied.", status.position
        )
        yield GaugeMetricFamily("rio_event_log_head", "The newest event in the log.", status.head)
        family = CounterMetricFamily(
            "rio_alert_sends",
            "Alerts recorded as sent, and send attempts recorded as failed, by any process.",
            labels=["outcome"],
        )
        family.add_metric(["sent"], sent)
        family.add_metric(["failed"], failed)
        yield family


class AlertSendCount:
    """Alert sends counted from the log, reading only what was recorded since the last count
    (a scrape does not rescan the whole log)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._position = 0
        self._sent = 0
        self._failed = 0

    def totals(self) -> tuple[int, int]:
        """(sent, failed) as recorded now."""
        with self._lock:
            rio = self.services.rio
            head = rio.position()
            if head > self._position:
                topics = sorted(SENT_TOPICS | FAILED_TOPICS)
                sent = failed = 0
                for notification in notifications(
                    rio.recorder, after=self._position, topics=topics, stop=head
                ):
                    if notification.topic in SENT_TOPICS:
                        sent += 1
                    else:
                        failed += 1
                # Kept only once the whole range was read: a scrape cut off by a store
                # error counts the range again next time, never twice.
                self._sent += sent
                self._failed += failed
                self._position = head
            return self._sent, self._failed


class RecordMetrics:
    """Times and counts every HTTP request by its route template (never its raw path, which
    would make a series per recommendation), and each command's outcome."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: int | None = None
        replayed = False
        started = time.perf_counter()

        async def send_watching(message: Message) -> None:
            nonlocal status, replayed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # The header the README promises an idempotent retry, not a private field.
                replayed = Headers(raw=message["headers"]).get(REPLAYED) == "true"
            await send(message)

        try:
            await self.app(scope, receive, send_watching)
        except Exception:
            status = status or 500  # the server error handler outside answers 500
            raise
        finally:
            # No answer at all: the client left first (ClientDisconnect, a cancellation).
            answered = status if status is not None else CLIENT_CLOSED
            self._record(scope, answered, time.perf_counter() - started, replayed)

    def _record(self, scope: Scope, status: int, seconds: float, replayed: bool) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or NO_ROUTE
        command = None
        if COMMANDS_TAG in (getattr(route, "tags", None) or ()):
            command = getattr(route, "name", None)
        self.metrics.observe(scope["method"], template, status, seconds, command, replayed)


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        },
        **documented(401, 403, 429),
    },
    dependencies=[Depends(require(*SCRAPERS))],
    summary="Prometheus metrics (an auditor or admin key)",
)
def metrics(request: Request) -> Response:
    return Response(_metrics(request).exposition(), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, services: Services) -> None:
    """Give `app` its registry, the `/metrics` route and the recording middleware.

    Call it after authentication's middleware is added (so outside it): requests it refuses
    are counted too.
    """
    app.state.metrics = Metrics(services)
    app.include_router(router)
    app.add_middleware(RecordMetrics, metrics=app.state.metrics)
