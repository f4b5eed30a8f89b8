"""`/metrics`: Prometheus text for auditor and admin keys: requests by route template and
status, command outcomes, the read model's lag, and alert sends recorded by any process."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from rio.alerts.service import AlertService
from rio.api.app import create_app
from rio.application.service import RIO
from rio.domain import clock
from rio.settings import Settings
from tests.alert_support import load_messenger, owners_file, smtp_server
from tests.api.conftest import REC, Api, cited, committed, register, settings_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(api: Api, role: str = "auditor") -> Samples:
    response = api.client.get("/metrics", headers=api.as_(role))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_an_auditor_or_admin_key(sqlite_api: Api) -> None:
    anonymous = sqlite_api.client.get("/metrics")
    writer = sqlite_api.client.get("/metrics", headers=sqlite_api.as_("secretariat"))
    owner = sqlite_api.client.get("/metrics", headers=sqlite_api.as_("owner"))

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert writer.status_code == 403
    assert owner.status_code == 403
    assert value(scrape(sqlite_api, "auditor"), "rio_store_up") == 1
    assert value(scrape(sqlite_api, "admin"), "rio_store_up") == 1


def test_requests_are_counted_and_timed_by_route_template_and_status(sqlite_api: Api) -> None:
    path = committed(sqlite_api)  # two 201s on two command routes
    sqlite_api.get(path)
    sqlite_api.get(f"{REC}/99")  # 404: the same template, another status
    sqlite_api.client.get("/status")  # 401: refused before routing, so under no route
    sqlite_api.client.get("/no/such/path/42", headers=sqlite_api.as_("auditor"))

    samples = scrape(sqlite_api)

    one = "/reviews/{review}/recommendations/{number}"
    assert value(samples, "rio_http_requests_total", method="GET", route=one, status="200") == 1
    assert value(samples, "rio_http_requests_total", method="GET", route=one, status="404") == 1
    nowhere = "<no route>"
    assert value(samples, "rio_http_requests_total", method="GET", route=nowhere, status="401") == 1
    assert (
        value(
            samples,
            "rio_http_requests_total",
            method="GET",
            route=nowhere,
            status="404",
        )
        == 1
    )
    assert (
        value(
            samples,
            "rio_http_request_duration_seconds_count",
            method="POST",
            route="/reviews/{review}/recommendations",
            status="201",
        )
        == 1
    )
    # Raw paths never become labels: one series per route, not per recommendation.
    assert not any(dict(labels).get("route") == path for _, labels in samples)


def test_command_outcomes_recorded_refused_conflict_and_replayed(api: Api) -> None:
    register(api, 1)
    again = api.post(REC, cited("2022-06-08", number=1, title="Targeted interventions"))
    assert again.status_code == 409
    path = f"{REC}/1"
    bad_due = api.post(
        f"{path}/commitments", cited(commitment="c", deliverable="d", due="when pigs fly")
    )
    assert bad_due.status_code == 422
    note = cited(note="Work has started.")
    first = api.post(f"{path}/progress-notes", note, **{"Idempotency-Key": "note-1"})
    retry = api.post(f"{path}/progress-notes", note, **{"Idempotency-Key": "note-1"})
    assert (first.status_code, retry.status_code) == (201, 201)
    stale = api.post(f"{path}/progress-notes", note, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    api.client.post(f"{path}/progress-notes", json=note)  # no key: never ran, not an outcome

    samples = scrape(api)

    def outcome(command: str, name: str) -> float:
        return value(samples, "rio_commands_total", command=command, outcome=name)

    assert outcome("register_recommendation", "recorded") == 1
    assert outcome("register_recommendation", "conflict") == 1
    assert outcome("make_commitment", "refused") == 1
    assert outcome("note_progress", "recorded") == 1
    assert outcome("note_progress", "replayed") == 1
    assert outcome("note_progress", "conflict") == 1
    total = sum(v for (name, _), v in samples.items() if name == "rio_commands_total")
    assert total == 6


def test_read_model_lag_is_computed_on_each_scrape(api: Api) -> None:
    committed(api)
    api.app.state.services.stop_following()  # else its catch-up may race the lag away
    api.app.state.services.catch_up()
    assert value(scrape(api), "rio_read_model_lag_events") == 0

    for i in range(3):  # recorded elsewhere: this API's read model is not told
        api.store.create(name=f"elsewhere-{i}", role="auditor", granted_by="test")
    samples = scrape(api)

    assert value(samples, "rio_read_model_lag_events") == 3
    head = value(samples, "rio_event_log_head")
    assert value(samples, "rio_read_model_position") == head - 3


def test_alert_sends_by_another_process_are_counted_from_the_store(
    api: Api, tmp_path: Path
) -> None:
    assert value(scrape(api), "rio_alert_sends_total", outcome="sent") == 0
    url = api.app.state.services.settings.database_url
    with smtp_server() as smtp:
        scheduler = RIO(url)  # the scheduler's own process, in effect
        try:
            load_messenger(scheduler)
            settings = Settings(
                database_url=url, smtp_url=smtp.url, owners_file=owners_file(tmp_path)
            )
            smtp.inbox.refuse_with = "554 no thanks"
            failed = AlertService(scheduler, settings).run(date(2024, 5, 1)).failed
            middle = scrape(api)
            smtp.inbox.refuse_with = None
            # Retried the day they were raised: judged again on a later day, some would be
            # withdrawn, delivered or re-planned since (tests/store/test_alerts_withdrawn.py).
            with clock.use(lambda: datetime(2024, 5, 1, 12, tzinfo=UTC)):
                sent = AlertService(scheduler, settings).deliver_pending(retry_now=True).sent
        finally:
            scheduler.close()
    assert failed > 0
    assert sent == failed  # every alert that failed went at the retry

    samples = scrape(api)

    assert value(middle, "rio_alert_sends_total", outcome="failed") == failed
    assert value(middle, "rio_alert_sends_total", outcome="sent") == 0
    assert value(samples, "rio_alert_sends_total", outcome="failed") == failed
    assert value(samples, "rio_alert_sends_total", outcome="sent") == sent
    # A fresh count from the start of the log agrees with the one kept between scrapes.
    fresh = create_app(settings_for(url))
    try:
        recount = fresh.state.metrics.sends.totals()
    finally:
        fresh.state.services.close()
    assert recount == (sent, failed)


def test_each_app_has_its_own_registry(sqlite_url: str) -> None:
    first = create_app(settings_for(sqlite_url))
    second = create_app(settings_for(sqlite_url))
    try:
        assert first.state.metrics.registry is not second.state.metrics.registry
        first.state.metrics.observe("GET", "/status", 200, 0.01)
        labels = {"method": "GET", "route": "/status", "status": "200"}
        counted = [
            app.state.metrics.registry.get_sample_value("rio_http_requests_total", labels)
            for app in (first, second)
        ]
        assert counted == [1, None]
    finally:
        first.state.services.close()
        second.state.services.close()
