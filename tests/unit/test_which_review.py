"""A recommendation number without its review asks which, without printing every review
of a national portfolio on one line (issue 18: 438 names were printed)."""

from __future__ import annotations

from rio.cli.common import _which_review


def test_a_few_reviews_are_named() -> None:
    assert _which_review(["a-2020", "b-2021"]) == "--review one of a-2020, b-2021"


def test_many_reviews_are_counted_and_pointed_to_not_listed() -> None:
    hint = _which_review([f"review-{i}" for i in range(438)])
    assert "438 reviews" in hint and "rio reviews" in hint
    assert "review-17" not in hint
    assert len(hint) < 80


def test_no_review_says_how_to_record_one() -> None:
    assert "rio scenario load" in _which_review([])
