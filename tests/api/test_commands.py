"""Every command through HTTP: what is recorded, and every way a command is refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.conftest import REC, REVIEW, SOURCE, Api, cited, committed, register


def history(api: Api, number: int = 1) -> list[dict[str, Any]]:
    response = api.get(f"{REC}/{number}/history", page_size=200)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_every_command_records_its_event_with_the_callers_name(api: Api) -> None:
    path = f"{REC}/1"
    created = register(api, 1, text="Targeted interventions on leadership")
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"{path}/history/1"
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("/actions", cited("2022-06-08", action="1.1", text="Induction scheme"), "ActionAdded"),
        ("/decisions", cited("2022-06-08", decision="accepted"), "DecisionRecorded"),
        ("/owners", cited(owner="NHS England"), "OwnerAssigned"),
        (
            "/commitments",
            cited(commitment="induction", deliverable="Scheme", due="April 2024", action="1.1"),
            "CommitmentMade",
        ),
        (
            "/commitments",
            cited(commitment="pilot", deliverable="Pilot", due="by March 2024"),
            "CommitmentMade",
        ),
        (
            "/commitments/induction/revisions",
            cited("2024-03-01", due="later in 2024", reason="More engagement"),
            "CommitmentRevised",
        ),
        (
            "/progress-notes",
            cited("2024-03-02", note="Pilot running", commitment="induction"),
            "ProgressNoted",
        ),
        (
            "/assessments",
            cited("2024-03-03", scale="dcs5", rating="amber/red", rationale="r", assessor="RIO"),
            "StatusAssessed",
        ),
        (
            "/commitments/pilot/withdrawal",
            cited("2024-03-04", reason="Merged"),
            "CommitmentWithdrawn",
        ),
        (
            "/commitments/induction/delivery",
            cited("2024-09-02", evidence="Launched"),
            "MilestoneDelivered",
        ),
        (
            "/corrections",
            cited("2024-09-03", version=3, changes={"decision": "accepted in part"}, reason="r"),
            "EventCorrected",
        ),
    ]
    for version, (suffix, body, kind) in enumerate(steps, start=2):
        response = api.post(path + suffix, body)
        assert response.status_code == 201, (suffix, response.text)
        answer = response.json()
        assert answer["version"] == version
        assert response.headers["ETag"] == f'"{version}"'
        assert answer["event"]["type"] == kind
        assert answer["event"]["recorded_by"].startswith("api:secretariat-holder (key ")
    events = history(api)
    assert [e["type"] for e in events] == ["Registered"] + [kind for *_, kind in steps]
    assert all(e["recorded_by"] == events[0]["recorded_by"] for e in events)
    assessed = next(e for e in events if e["type"] == "StatusAssessed")
    assert assessed["data"]["rating"] == "Amber/Red"
    state = api.get(path).json()
    assert state["decisions"][0]["decision"] == "accepted in part"
    assert state["rating"]["rating"] == "Complete"
    assert state["accountable_owner"] == "NHS England"


def test_recorded_by_cannot_come_from_the_body(sqlite_api: Api) -> None:
    register(sqlite_api)
    response = sqlite_api.post(f"{REC}/1/progress-notes", cited(note="n", recorded_by="someone"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body.recorded_by",
            "message": "unknown field: this request does not take it",
            "type": "extra_forbidden",
        }
    ]


def test_a_whole_review_loads_in_one_call_and_reloading_records_nothing(api: Api) -> None:
    batch = {
        "recommendations": [
            {
                **cited("2022-06-08", number=n, title=f"Rec {n}"),
                "actions": [cited("2022-06-08", action=f"{n}.1", text="Do it")],
                "events": [
                    # Listed out of order on purpose: recorded in valid-time order.
                    {
                        **cited("2024-01-10", due="Spring 2025"),
                        "type": "commitment_revised",
                        "commitment": "c",
                    },
                    {
                        **cited(commitment="c", deliverable="D", due="April 2024"),
                        "type": "commitment_made",
                    },
                    {**cited(owner="NHS England"), "type": "owner_assigned"},
                ],
            }
            for n in (1, 2)
        ]
    }
    first = api.post(f"/reviews/{REVIEW}/batches", batch)
    assert first.status_code == 201, first.text
    assert first.json()["recorded"] == 10
    assert first.json()["recommendations"] == [
        {"number": 1, "version": 5},
        {"number": 2, "version": 5},
    ]
    again = api.post(f"/reviews/{REVIEW}/batches", batch)
    assert again.json()["recorded"] == 0
    assert again.json()["already_recorded"] == 10
    timeline = api.get(f"{REC}/2/timeline").json()["timelines"][0]
    assert [s["kind"] for s in timeline["steps"]] == ["promised", "revised"]


def test_a_refused_batch_records_nothing_and_says_which_item(sqlite_api: Api) -> None:
    batch = {
        "recommendations": [
            {**cited("2022-06-08", number=1, title="Fine")},
            {
                **cited("2022-06-08", number=2, title="Bad"),
                "events": [
                    {
                        **cited(commitment="c", deliverable="D", due="whenever"),
                        "type": "commitment_made",
                    }
                ],
            },
        ]
    }
    response = sqlite_api.post(f"/reviews/{REVIEW}/batches", batch)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("recommendations.1.events.0 (commitment_made): ")
    assert "whenever" in response.json()["detail"]
    assert sqlite_api.get(f"{REC}/1").status_code == 404


def test_registering_twice_is_a_conflict(sqlite_api: Api) -> None:
    register(sqlite_api)
    again = sqlite_api.post(REC, cited("2022-06-08", number=1, title="Again"))
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]


def test_a_stale_if_match_is_refused_with_412_and_nothing_is_recorded(api: Api) -> None:
    path = committed(api)
    etag = api.get(path).headers["ETag"]
    assert etag == '"2"'
    moved = api.post(f"{path}/progress-notes", cited(note="first"), **{"If-Match": etag})
    assert moved.status_code == 201
    stale = api.post(f"{path}/progress-notes", cited(note="second"), **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert "version 3, not 2" in stale.json()["detail"]
    assert [e["data"].get("note") for e in history(api)][2:] == ["first"]
    fresh = api.post(f"{path}/progress-notes", cited(note="second"), **{"If-Match": '"3"'})
    assert fresh.status_code == 201
    weak = api.post(f"{path}/progress-notes", cited(note="third"), **{"If-Match": 'W/"4"'})
    assert weak.status_code == 201


def test_a_malformed_if_match_is_refused_naming_the_header(sqlite_api: Api) -> None:
    path = committed(sqlite_api)
    response = sqlite_api.post(
        f"{path}/progress-notes", cited(note="n"), **{"If-Match": "yesterday"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.If-Match"


def test_a_retried_post_with_the_same_idempotency_key_records_once(api: Api) -> None:
    path = committed(api)
    body = cited(note="Pilot running")
    first = api.post(f"{path}/progress-notes", body, **{"Idempotency-Key": "note-1"})
    retry = api.post(f"{path}/progress-notes", body, **{"Idempotency-Key": "note-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"] == '"3"'
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert [e["type"] for e in history(api)].count("ProgressNoted") == 1

    other = api.post(f"{path}/progress-notes", cited(note="Else"), **{"Idempotency-Key": "note-1"})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    # Keys are per caller: another key holder's "note-1" is another request.
    auditor_cannot_write = api.post(
        f"{path}/progress-notes", body, role="auditor", **{"Idempotency-Key": "note-1"}
    )
    assert auditor_cannot_write.status_code == 403


def test_a_refused_command_releases_its_idempotency_key(sqlite_api: Api) -> None:
    path = committed(sqlite_api)
    stale = sqlite_api.post(
        f"{path}/progress-notes", cited(note="n"), **{"Idempotency-Key": "k", "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    fixed = sqlite_api.post(
        f"{path}/progress-notes", cited(note="n"), **{"Idempotency-Key": "k", "If-Match": '"2"'}
    )
    assert fixed.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": SOURCE, "note": "n"}, "body.occurred"),
        (cited("2024-02-30", note="n"), "body.occurred"),
        (cited("20240101", note="n"), "body.occurred"),
        (cited(note=""), "body.note"),
        (cited(note=7), "body.note"),
        (cited(note="nul\u0000byte"), "body.note"),
        (
            {"occurred": "2024-01-01", "source": {"date": "2024-01-01"}, "note": "n"},
            "body.source.document",
        ),
        (cited(note="n", colour="blue"), "body.colour"),
        ({**cited(note="n"), "source": {**SOURCE, "page": 4}}, "body.source.page"),
        (["not", "an", "object"], "body"),
    ],
)
def test_a_malformed_body_is_422_naming_the_field(sqlite_api: Api, body: Any, field: str) -> None:
    path = committed(sqlite_api)
    response = sqlite_api.post(f"{path}/progress-notes", body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


def test_a_body_that_is_not_json_is_422(sqlite_api: Api) -> None:
    path = committed(sqlite_api)
    response = sqlite_api.client.post(
        f"{path}/progress-notes",
        content=b'{"occurred": ',
        headers=sqlite_api.as_("secretariat", **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    ("suffix", "body", "kind", "words"),
    [
        (
            "/commitments",
            cited(commitment="c", deliverable="D", due="soonish"),
            "invalid-due-date",
            "soonish",
        ),
        (
            "/commitments",
            cited(commitment="c", deliverable="D", due="by March"),
            "invalid-due-date",
            "by March",
        ),
        ("/progress-notes", cited("2999-01-01", note="n"), "invalid-command", "future"),
        ("/progress-notes", cited("2020-01-01", note="n"), "out-of-order", "before"),
        ("/commitments/nope/delivery", cited(evidence="e"), "unknown-commitment", "nope"),
        (
            "/commitments",
            cited(commitment="induction", deliverable="D"),
            "duplicate-commitment",
            "already",
        ),
        (
            "/assessments",
            cited(scale="rag3", rating="Purple", rationale="r", assessor="a"),
            "invalid-command",
            "Purple",
        ),
        (
            "/corrections",
            cited(version=99, changes={"note": "x"}, reason="r"),
            "invalid-command",
            "no event 99",
        ),
        (
            "/corrections",
            cited(version=2, changes={"source": "text"}, reason="r"),
            "validation",
            "body.changes",
        ),
    ],
)
def test_a_command_the_domain_refuses_is_422_with_the_reason(
    sqlite_api: Api, suffix: str, body: dict[str, Any], kind: str, words: str
) -> None:
    path = committed(sqlite_api)
    response = sqlite_api.post(path + suffix, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == f"urn:rio:problem:{kind}"
    assert words in problem["detail"]
    if kind == "invalid-due-date":
        assert problem["errors"][0]["field"] == "body.due"


def test_closing_a_commitment_twice_is_refused(sqlite_api: Api) -> None:
    path = committed(sqlite_api)
    assert (
        sqlite_api.post(f"{path}/commitments/induction/delivery", cited(evidence="e")).status_code
        == 201
    )
    again = sqlite_api.post(f"{path}/commitments/induction/withdrawal", cited(reason="r"))
    assert again.status_code == 422
    assert again.json()["type"] == "urn:rio:problem:commitment-closed"


def test_a_command_on_an_unknown_recommendation_is_404(sqlite_api: Api) -> None:
    response = sqlite_api.post(f"{REC}/42/progress-notes", cited(note="n"))
    assert response.status_code == 404
    assert response.json()["detail"] == "review 'messenger-2022' has no recommendation 42"


def test_an_oversized_body_is_refused_with_413_before_it_is_read(sqlite_api: Api) -> None:
    path = committed(sqlite_api)
    big = cited(note="x" * 1_100_000)
    response = sqlite_api.post(f"{path}/progress-notes", big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(20):
            yield b"x" * 100_000

    streamed = sqlite_api.client.post(
        f"{path}/progress-notes", content=chunks(), headers=sqlite_api.as_("secretariat")
    )
    assert streamed.status_code == 413
    assert len(history(sqlite_api)) == 2


def test_identical_requests_racing_with_one_idempotency_key_record_once(api: Api) -> None:
    path = committed(api)
    body = cited(note="sent twice at once")
    answers: list[Any] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(api.post(f"{path}/progress-notes", body, **{"Idempotency-Key": "race"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 8
    recorded = [a for a in answers if a.status_code == 201]
    waiting = [a for a in answers if a.status_code == 409]
    assert len(recorded) + len(waiting) == 8 and recorded
    assert all(a.json()["type"] == "urn:rio:problem:idempotency-in-progress" for a in waiting)
    assert all(a.headers["Retry-After"] == "1" for a in waiting)
    assert {a.json()["version"] for a in recorded} == {3}
    assert [e["type"] for e in history(api)].count("ProgressNoted") == 1
