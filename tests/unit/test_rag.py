"""The default RAG policy: which rule fires, and the explanation an auditor reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from rio.aggregates.recommendation import Recommendation
from rio.domain import clock
from rio.domain.rag import (
    RULE_NAMES,
    RULES,
    Policy,
    RollUp,
    rate_commitment,
    rate_recommendation,
    roll_up,
)
from rio.domain.replay import replay
from rio.domain.rules import ALWAYS
from rio.domain.slip import shift_days, slip_days
from rio.domain.state import RecommendationState
from rio.domain.values import Source

SRC = Source("Written answer", date(2023, 11, 20))


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.use(lambda: datetime(2026, 1, 1, tzinfo=UTC)):
        yield


def recommendation(*steps: tuple[str, dict[str, object]]) -> Recommendation:
    rec = Recommendation.register(
        review="r",
        number=1,
        title="T",
        text="",
        occurred=date(2022, 6, 8),
        source=SRC,
        recorded_by="s",
    )
    for method, arguments in steps:
        occurred = arguments.pop("occurred", date(2023, 11, 20))
        getattr(rec, method)(**arguments, occurred=occurred, source=SRC, recorded_by="s")
    return rec


def state(rec: Recommendation, as_at: date) -> RecommendationState:
    return replay(rec.history, as_at).recommendations[0]


def make(name: str = "c", due: str | None = "April 2024") -> tuple[str, dict[str, object]]:
    return (
        "make_commitment",
        {"commitment": name, "deliverable": f"Deliverable {name}", "due": due},
    )


@pytest.mark.parametrize(
    ("steps", "as_at", "rating", "rule"),
    [
        ([make()], date(2024, 1, 1), "Green", "on_track"),
        ([make()], date(2024, 5, 1), "Red", "overdue"),
        ([make(due=None)], date(2024, 1, 1), "Amber", "no_date"),
        ([make()], date(2024, 4, 30), "Green", "on_track"),
        (
            [
                make(),
                (
                    "revise_commitment",
                    {"commitment": "c", "due": "Spring 2025", "occurred": date(2024, 3, 1)},
                ),
            ],
            date(2024, 6, 1),
            "Amber",
            "slipped",
        ),
        (
            [
                make(),
                (
                    "record_delivery",
                    {"commitment": "c", "evidence": "e", "occurred": date(2024, 4, 2)},
                ),
            ],
            date(2024, 6, 1),
            "Complete",
            "delivered_on_time",
        ),
        (
            [
                make(),
                (
                    "record_delivery",
                    {"commitment": "c", "evidence": "e", "occurred": date(2024, 6, 2)},
                ),
            ],
            date(2024, 7, 1),
            "Complete",
            "delivered_late",
        ),
        (
            [
                make(),
                (
                    "withdraw_commitment",
                    {"commitment": "c", "reason": "r", "occurred": date(2024, 1, 2)},
                ),
            ],
            date(2024, 7, 1),
            "Withdrawn",
            "withdrawn",
        ),
        ([make(due="2025/26")], date(2024, 12, 1), "Amber", "stale"),
    ],
)
def test_commitment_rules(
    steps: list[tuple[str, dict[str, object]]], as_at: date, rating: str, rule: str
) -> None:
    commitment = state(recommendation(*steps), as_at).commitments[0]
    result = rate_commitment(commitment, as_at)
    assert (result.rating, result.rule) == (rating, rule)
    # /3 (issue 14) added the superseded, from_review and overdue_in_grace rules; none of
    # these cases' ratings changed.
    assert result.policy == "rio-default/3"


def test_overdue_explanation_names_the_missed_promise_and_its_source() -> None:
    rating = rate_commitment(
        state(recommendation(make()), date(2024, 6, 1)).commitments[0], date(2024, 6, 1)
    )
    assert "April 2024" in rating.reason and "32 days overdue" in rating.reason
    assert rating.facts["due"] == "April 2024 (by 2024-04-30)"
    assert rating.facts["promise_source"] == "Written answer (2023-11-20)"


def test_a_recommendation_takes_its_worst_open_commitment() -> None:
    rec = recommendation(make("a", "April 2024"), make("b", "2025/26"))
    rating, per_commitment = rate_recommendation(state(rec, date(2024, 5, 15)), date(2024, 5, 15))
    assert rating.rating == "Red" and "'a'" in rating.reason
    assert per_commitment["b"].rating == "Green"


def test_a_recommendation_is_complete_when_every_commitment_is_delivered() -> None:
    rec = recommendation(
        make("a"),
        ("record_delivery", {"commitment": "a", "evidence": "e", "occurred": date(2024, 1, 2)}),
    )
    rating, _ = rate_recommendation(state(rec, date(2024, 6, 1)), date(2024, 6, 1))
    assert (rating.rating, rating.rule) == ("Complete", "all_closed")
    empty, _ = rate_recommendation(state(recommendation(), date(2024, 6, 1)), date(2024, 6, 1))
    assert empty.rule == "no_commitments"


def test_human_assessments_sit_beside_the_computed_rating() -> None:
    rec = recommendation(
        make(),
        (
            "assess_status",
            {
                "scale": "hscc4",
                "rating": "requires improvement",
                "rationale": "slow",
                "assessor": "panel",
                "occurred": date(2024, 5, 1),
            },
        ),
    )
    now = state(rec, date(2024, 6, 1))
    computed, _ = rate_recommendation(now, date(2024, 6, 1))
    assert computed.rating == "Red"
    assert [(a.scale, a.rating) for a in now.assessments] == [("hscc4", "Requires improvement")]


def test_the_policy_is_data_that_can_be_overridden() -> None:
    strict = Policy.from_mapping({"version": "strict/1", "ratings": {"no_date": "Red"}})
    commitment = state(recommendation(make(due=None)), date(2024, 1, 1)).commitments[0]
    assert rate_commitment(commitment, date(2024, 1, 1), strict).rating == "Red"
    with pytest.raises(ValueError, match="unknown RAG rules: nonsense"):
        Policy.from_mapping({"ratings": {"nonsense": "Red"}})


def test_the_rule_table_is_ordered_and_gives_the_default_ratings() -> None:
    assert RULE_NAMES == (
        "withdrawn",
        "superseded",
        "delivered_late",
        "delivered_on_time",
        "from_review",
        "overdue",
        "overdue_in_grace",
        "stale",
        "no_date",
        "slipped",
        "on_track",
    )
    assert dict(Policy().ratings) == {rule.name: rule.rating for rule in RULES}
    assert RULES[-1].when == ALWAYS, "the last rule rates whatever the others did not"


def test_a_policy_refuses_ratings_and_thresholds_it_cannot_apply() -> None:
    with pytest.raises(ValueError, match=r"unknown RAG ratings \(overdue='Crimson'\)"):
        Policy.from_mapping({"ratings": {"overdue": "Crimson"}})
    with pytest.raises(ValueError, match="stale_after_days must be a whole number of days"):
        Policy.from_mapping({"stale_after_days": -1})
    with pytest.raises(ValueError, match="unknown RAG policy settings: stale"):
        Policy.from_mapping({"stale": 90})
    assert Policy.from_mapping({"stale_after_days": "90"}).stale_after_days == 90


def test_the_stale_threshold_is_the_policys() -> None:
    rec = recommendation(make(due="2025/26"))
    as_at = date(2024, 3, 1)  # 102 days after the promise
    commitment = state(rec, as_at).commitments[0]
    assert rate_commitment(commitment, as_at).rule == "on_track"
    quiet = rate_commitment(commitment, as_at, Policy(stale_after_days=90))
    assert (quiet.rule, quiet.rating) == ("stale", "Amber")
    assert "102 days; the policy allows 90" in quiet.reason


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ([], RollUp("Not rated", "no_commitments")),
        ([("Withdrawn", "withdrawn")], RollUp("Withdrawn", "all_withdrawn")),
        (
            [("Withdrawn", "withdrawn"), ("Complete", "delivered_late")],
            RollUp("Complete", "all_closed"),
        ),
        (
            [("Green", "on_track"), ("Amber", "no_date"), ("Amber", "stale")],
            RollUp("Amber", "no_date", 1),
        ),
        ([("Complete", "delivered_on_time"), ("Red", "overdue")], RollUp("Red", "overdue", 1)),
        ([("Red", "withdrawn"), ("Green", "on_track")], RollUp("Red", "withdrawn", 0)),
    ],
)
def test_the_roll_up_takes_the_first_worst_open_rating(
    ratings: list[tuple[str, str]], expected: RollUp
) -> None:
    assert roll_up(ratings) == expected


def test_slip_is_measured_once_for_state_board_and_timelines() -> None:
    assert slip_days(date(2024, 5, 1), date(2024, 4, 30)) == 1
    assert slip_days(date(2024, 4, 1), date(2024, 4, 30)) == 0  # brought forward is no slip
    assert slip_days(None, date(2024, 4, 30)) == 0
    assert shift_days(date(2024, 4, 1), date(2024, 4, 30)) == -29
    assert shift_days(date(2024, 4, 1), None) is None
