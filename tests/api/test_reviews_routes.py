"""Reviews over HTTP: register one, list reviews by title with counts, the portfolio; an
owner key sees only its own, across reviews."""

from __future__ import annotations

from pathlib import Path

from rio.scenario import batches, read
from tests.api.conftest import Api
from tests.conftest import MESSENGER

CORONER = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "coroner-report.yaml"
TITLE = "Prevention of future deaths report: discharge from hospital"


def _load_recommendations(api: Api) -> None:
    rio = api.app.state.services.rio
    for path in (MESSENGER, CORONER):
        scenario, lines = read(path)
        rio.record_batch(batches(scenario, lines, str(path), "test"))


def test_registering_a_review_twice_records_it_once(api: Api) -> None:
    body = {
        "key": "pfd-2024-0117",
        "title": TITLE,
        "kind": "coroners_report",
        "published": "2024-02-01",
        "themes": {"1": "Discharge"},
    }
    first = api.post("/reviews", body)
    assert first.status_code == 201, first.text
    assert first.json()["registration"] == "registered"
    assert first.json()["response_due"] == "2024-03-28"  # 56 days: the statutory rule
    again = api.post("/reviews", body)
    assert (again.status_code, again.json()["registration"]) == (200, "unchanged")
    renamed = api.post("/reviews", {**body, "title": "Discharge from hospital (PFD)"})
    assert (renamed.status_code, renamed.json()["registration"]) == (201, "revised")
    refused = api.post("/reviews", {**body, "kind": "novel"})
    assert refused.status_code == 422
    assert api.post("/reviews", body, role="auditor").status_code == 403


def test_reviews_are_listed_by_title_with_counts_and_unregistered_ones_by_key(api: Api) -> None:
    _load_recommendations(api)
    assert api.post("/reviews", {"key": "pfd-2024-0117", "title": TITLE}).status_code == 201
    listed = api.get("/reviews", as_at="2025-01-15").json()["reviews"]
    assert [(r["key"], r["title"], r["registered"]) for r in listed] == [
        ("messenger-2022", "messenger-2022", False),  # never registered: titled by its key
        ("pfd-2024-0117", TITLE, True),
    ]
    assert listed[1]["ratings"] == {"Red": 1, "Complete": 1}
    assert listed[0]["recommendations"] == 7


def test_an_owner_key_sees_only_its_own_across_reviews(api: Api) -> None:
    _load_recommendations(api)
    key = api.store.create(
        name="staffing", role="owner", owner="Testshire Staffing Board", granted_by="test"
    )[0]
    headers = {"Authorization": f"Bearer {key}"}
    listed = api.client.get("/reviews", headers=headers).json()["reviews"]
    assert [(r["key"], r["recommendations"]) for r in listed] == [("pfd-2024-0117", 1)]
    view = api.client.get("/portfolio", params={"as_at": "2025-01-15"}, headers=headers).json()
    assert view["totals"] == {"Complete": 1}
    assert view["oldest_overdue"] == []
    # NHS England's key reads Messenger's recommendations, none of the coroner's report.
    nhs = api.get("/portfolio", role="owner", as_at="2025-01-15").json()
    assert {r["key"] for r in nhs["reviews"]} == {"messenger-2022"}
    assert {p["review"] for p in nhs["oldest_overdue"]} == {"messenger-2022"}


def test_the_portfolio_counts_per_review_and_filters(api: Api) -> None:
    _load_recommendations(api)
    api.post("/reviews", {"key": "pfd-2024-0117", "title": TITLE, "kind": "coroners_report"})
    view = api.get("/portfolio", role="auditor", as_at="2025-01-15").json()
    counts = {r["key"]: r["ratings"] for r in view["reviews"]}
    assert counts["pfd-2024-0117"] == {"Red": 1, "Complete": 1}
    assert sum(view["totals"].values()) == 9
    first = view["oldest_overdue"][0]
    assert first["due_latest"] <= view["oldest_overdue"][-1]["due_latest"]
    by_kind = api.get("/portfolio", as_at="2025-01-15", kind="coroners_report").json()
    assert [r["key"] for r in by_kind["reviews"]] == ["pfd-2024-0117"]
    assert api.get("/portfolio", kind="novel").status_code == 422
