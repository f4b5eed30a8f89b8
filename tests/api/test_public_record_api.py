"""The public record's clock and restatements over HTTP: `public_at` on status and the
promised-vs-delivered report, and /reports/restatements, for auditors and the secretariat."""

from __future__ import annotations

from pathlib import Path

from rio.scenario import batches, read
from tests.api.conftest import Api
from tests.conftest import MESSENGER, REPO

MONITOR = REPO / "tests" / "fixtures" / "scenarios" / "monitor-restatement.yaml"
TRACKER = "Messenger Review: Table of Recommendations"


def load(api: Api, path: Path) -> None:
    scenario, lines = read(path)
    api.app.state.services.rio.record_batch(batches(scenario, lines, str(path), "test"))


def test_status_and_report_as_the_public_record_stood(api: Api) -> None:
    load(api, MESSENGER)

    public = api.get("/status", "auditor", as_at="2024-10-01", public_at="2024-06-01")
    everything = api.get("/status", "auditor", as_at="2024-10-01")
    report = api.get(
        "/reports/promised-vs-delivered",
        "auditor",
        promised_as_at="2023-11-30",
        delivered_as_at="2024-10-01",
        public_at="2024-06-01",
    )

    assert public.status_code == everything.status_code == report.status_code == 200
    assert public.json()["public_at"] == "2024-06-01"
    assert public.json()["recommendations"] != everything.json()["recommendations"]
    assert TRACKER not in public.text
    assert TRACKER in everything.text
    assert report.json()["public_at"] == "2024-06-01"
    assert TRACKER not in report.text


def test_public_at_is_for_auditors_and_the_secretariat(api: Api) -> None:
    refused = api.get("/status", "owner", public_at="2024-06-01")

    assert refused.status_code == 403
    assert "public_at" in refused.json()["detail"]


def test_restatements_of_the_worked_example(api: Api) -> None:
    load(api, MONITOR)

    answer = api.get(
        "/reports/restatements",
        "auditor",
        as_at="2024-07-01",
        public_at="2024-11-01",
        against_public_at="2024-11-21",
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "recommendations Complete 120 of 227 -> 143 of 227" in body["summary"]
    complete = [c for c in body["counts"] if c["count"] == "recommendations Complete"]
    assert complete == [
        {
            "count": "recommendations Complete",
            "before": 120,
            "after": 143,
            "of_before": 227,
            "of_after": 227,
        }
    ]
    assert api.get("/reports/restatements", "owner", as_at="2024-07-01").status_code == 403
    backwards = api.get(
        "/reports/restatements",
        "auditor",
        as_at="2024-07-01",
        public_at="2024-11-21",
        against_public_at="2024-11-01",
    )
    assert backwards.status_code == 422


def test_timeline_and_exports_as_the_public_record_stood(api: Api) -> None:
    load(api, MESSENGER)
    path = "/reviews/messenger-2022/recommendations/1/timeline"

    public = api.get(path, "auditor", as_at="2024-10-01", public_at="2024-06-01")
    everything = api.get(path, "auditor", as_at="2024-10-01")
    exported = api.get(
        "/exports/tracker.csv", "auditor", as_at="2024-10-01", public_at="2024-06-01"
    )

    assert public.status_code == everything.status_code == exported.status_code == 200
    assert public.json()["public_at"] == "2024-06-01"
    assert TRACKER in everything.text and TRACKER not in public.text
    assert TRACKER not in exported.text
    assert "public record" in exported.text
    assert "public-2024-06-01.csv" in exported.headers["content-disposition"]
    assert TRACKER in api.get("/exports/tracker.csv", "auditor", as_at="2024-10-01").text
    assert api.get(path, "owner", public_at="2024-06-01").status_code == 403
