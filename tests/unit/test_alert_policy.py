"""The alert policy on hand-made programmes: pure, no store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

from rio.domain.alert_policy import AlertKind, Findings, Thresholds, alert_id, alerts_due
from rio.domain.due_window import parse_due
from rio.domain.rag import Policy, rate_commitment
from rio.domain.state import Closure, Commitment, Programme, RecommendationState, Revision
from rio.domain.values import Source

PROMISE = Source("Written answer", date(2023, 11, 20), "It will be launched in April 2024.")
TRACKER = Source("Tracker", date(2024, 10, 1), "Publication later in 2024.")
OWNER, SENIOR = "NHS England", "Department of Health and Social Care"


def commitment(due: str | None = "April 2024", **changes: object) -> Commitment:
    window = parse_due(due, date(2023, 11, 20)) if due else None
    made = Commitment(
        commitment="induction",
        deliverable="National induction scheme, launched",
        action=None,
        owner=OWNER,
        made_on=date(2023, 11, 20),
        source=PROMISE,
        baseline=window,
        due=window,
        last_update=date(2023, 11, 20),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def revised(c: Commitment, due: str, on: date, reason: str | None = None) -> Commitment:
    window = parse_due(due, on)
    revision = Revision(on, window, None, reason, not reason, TRACKER)
    return replace(c, due=window, revisions=(*c.revisions, revision), last_update=on)


def programme(as_at: date, *commitments: Commitment, senior: str | None = SENIOR) -> Programme:
    rec = RecommendationState(
        id=uuid4(),
        review="messenger-2022",
        number=1,
        title="Targeted interventions",
        text="",
        registered_on=date(2022, 6, 8),
        source=PROMISE,
        accountable_owner=OWNER,
        senior_owner=senior,
        commitments=commitments,
    )
    return Programme(as_at=as_at, known_at=None, recommendations=(rec,))


def kinds(findings: Findings) -> list[tuple[str, str]]:
    return [(a.owner, a.kind.value) for a in findings.alerts]


def test_a_commitment_past_its_latest_date_and_undelivered_is_overdue_for_its_owner() -> None:
    (alert,) = alerts_due(programme(date(2024, 5, 1), commitment())).alerts

    assert (alert.kind, alert.owner, alert.days) == (AlertKind.OVERDUE, OWNER, 1)
    assert alert.due is not None and alert.due.text == "April 2024"
    assert alert.source == PROMISE
    assert "promised on 20 November 2023, due April 2024, that is by 30 April 2024" in alert.why
    assert "1 day overdue" in alert.why


def test_delivered_and_withdrawn_commitments_raise_nothing() -> None:
    done = Closure(date(2024, 4, 2), "launched", PROMISE)

    for closed in (commitment(delivered=done), commitment(withdrawn=done)):
        assert alerts_due(programme(date(2024, 6, 1), closed)).alerts == ()


def test_due_soon_within_the_window_and_not_before_it() -> None:
    limits = Thresholds(due_soon_days=30)

    assert kinds(alerts_due(programme(date(2024, 3, 31), commitment()), None, limits)) == [
        (OWNER, "due_soon")
    ]
    assert kinds(alerts_due(programme(date(2024, 4, 30), commitment()), None, limits)) == [
        (OWNER, "due_soon")
    ]
    assert alerts_due(programme(date(2024, 3, 30), commitment()), None, limits).alerts == ()


def test_overdue_past_the_threshold_is_escalated_to_the_senior_owner() -> None:
    limits = Thresholds(escalate_after_days=30)

    before = alerts_due(programme(date(2024, 5, 29), commitment()), None, limits)
    after = alerts_due(programme(date(2024, 5, 30), commitment()), None, limits)

    assert kinds(before) == [(OWNER, "overdue")]
    assert sorted(kinds(after)) == [(SENIOR, "escalation"), (OWNER, "overdue")]
    escalation = next(a for a in after.alerts if a.kind is AlertKind.ESCALATION)
    assert escalation.role == "senior" and "owned by NHS England" in escalation.why


def test_no_escalation_to_a_senior_owner_who_is_the_owner() -> None:
    mine = commitment(owner=SENIOR)

    found = alerts_due(programme(date(2024, 12, 1), mine))

    assert kinds(found) == [(SENIOR, "overdue")]


def test_an_escalation_with_no_senior_owner_is_reported_not_dropped() -> None:
    found = alerts_due(programme(date(2024, 12, 1), commitment(), senior=None))

    assert kinds(found) == [(OWNER, "overdue")]
    (missing,) = found.unaddressed
    assert missing.kind is AlertKind.ESCALATION and "no senior owner" in missing.reason


def test_a_commitment_with_no_owner_is_reported() -> None:
    nobody = commitment(owner=None)
    rec = programme(date(2024, 5, 1), nobody).recommendations[0]
    orphan = Programme(date(2024, 5, 1), None, (replace(rec, accountable_owner=None),))

    found = alerts_due(orphan)

    assert found.alerts == ()
    assert [(u.kind, u.commitment) for u in found.unaddressed] == [(AlertKind.OVERDUE, "induction")]


def test_an_explained_slip_is_alerted_when_it_happened_since_the_last_run() -> None:
    moved = revised(commitment(), "later in 2024", date(2024, 3, 1), reason="final review")
    as_at = date(2024, 3, 5)

    since = alerts_due(programme(as_at, moved), previous_run=date(2024, 2, 28))
    before = alerts_due(programme(as_at, moved), previous_run=date(2024, 3, 2))

    (slip,) = [a for a in since.alerts if a.kind is AlertKind.SLIPPED]
    assert slip.previous_due is not None and slip.previous_due.text == "April 2024"
    assert slip.due is not None and slip.due.text == "later in 2024"
    assert slip.source == TRACKER and "The reason given: final review." in slip.why
    assert [a for a in before.alerts if a.kind is AlertKind.SLIPPED] == []


def test_a_date_moved_without_a_reason_is_an_unexplained_slip_whenever_seen() -> None:
    moved = revised(commitment(), "later in 2024", date(2024, 3, 1))

    found = alerts_due(programme(date(2024, 3, 5), moved), previous_run=date(2024, 3, 4))

    assert kinds(found) == [(OWNER, "unexplained_slip")]
    (slip,) = found.alerts
    assert "no reason was given" in slip.why and "DAO 02/20" in slip.why


def test_a_date_brought_forward_with_a_reason_raises_nothing() -> None:
    earlier = revised(commitment("later in 2024"), "August 2024", date(2024, 1, 10), "ahead")

    assert alerts_due(programme(date(2024, 1, 11), earlier)).alerts == ()


def test_no_update_for_longer_than_the_threshold_is_stale_and_keys_on_the_last_update() -> None:
    undated = commitment(due=None)
    limits = Thresholds(policy=Policy(stale_after_days=180))

    quiet = alerts_due(programme(date(2024, 5, 19), undated), None, limits)
    fresh = alerts_due(programme(date(2024, 5, 18), undated), None, limits)
    updated = replace(undated, last_update=date(2024, 6, 1))
    quiet_again = alerts_due(programme(date(2024, 12, 1), updated), None, limits)

    assert kinds(quiet) == [(OWNER, "stale")] and fresh.alerts == ()
    assert kinds(quiet_again) == [(OWNER, "stale")]
    assert quiet.alerts[0].id != quiet_again.alerts[0].id


def test_stale_is_the_rating_policys_stale_with_its_own_threshold() -> None:
    dated = commitment(due="2025/26")
    policy = Policy(stale_after_days=90)
    limits = Thresholds(policy=policy)
    quiet_day, fresh_day = date(2024, 2, 19), date(2024, 2, 18)  # 91 and 90 days quiet

    assert kinds(alerts_due(programme(quiet_day, dated), None, limits)) == [(OWNER, "stale")]
    assert alerts_due(programme(fresh_day, dated), None, limits).alerts == ()
    assert rate_commitment(dated, quiet_day, policy).rule == "stale"
    assert rate_commitment(dated, fresh_day, policy).rule == "on_track"
    assert limits.stale_after_days == 90  # read from the policy, not a copy of it
    undated = commitment(due=None)  # quiet and undated: stale for the alerts and the rating
    assert kinds(alerts_due(programme(quiet_day, undated), None, limits)) == [(OWNER, "stale")]
    assert rate_commitment(undated, quiet_day, policy).rule == "stale"
    assert rate_commitment(undated, fresh_day, policy).rule == "no_date"


def test_the_same_finding_on_another_day_is_the_same_alert() -> None:
    first = alerts_due(programme(date(2024, 5, 1), commitment())).alerts[0]
    later = alerts_due(programme(date(2024, 5, 20), commitment())).alerts[0]

    assert first.id == later.id
    assert first.why != later.why  # the days overdue move on; the alert does not


def test_alert_ids_differ_by_owner_kind_and_window() -> None:
    window = parse_due("April 2024", date(2023, 11, 20))
    base = {
        "owner": OWNER,
        "review": "messenger-2022",
        "number": 1,
        "commitment": "induction",
        "kind": AlertKind.OVERDUE,
        "due": window,
    }
    other_window = parse_due("later in 2024", date(2024, 10, 1))

    ids = {
        alert_id(**base),  # type: ignore[arg-type]
        alert_id(**{**base, "owner": SENIOR}),  # type: ignore[arg-type]
        alert_id(**{**base, "kind": AlertKind.DUE_SOON}),  # type: ignore[arg-type]
        alert_id(**{**base, "due": other_window}),  # type: ignore[arg-type]
    }

    assert len(ids) == 4
    assert alert_id(**{**base, "owner": "  nhs   ENGLAND "}) == alert_id(**base)  # type: ignore[arg-type]
