"""Who may read what: one owner-name normaliser, one role matrix, one owner-key rule."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from rio.alerts.owners import OwnerDirectory
from rio.domain.access import (
    EXPORTERS,
    KEY_ADMINS,
    KEY_READERS,
    READERS,
    REPLAYERS,
    WRITERS,
    Permission,
    Role,
    may,
    may_read,
    owner_key,
    owners_of,
    readable_numbers,
    reads_all,
)
from rio.domain.alert_policy import AlertKind, alert_id
from rio.domain.state import Commitment, RecommendationState
from rio.domain.values import Source

SOURCE = Source("Written answer", date(2023, 11, 20))
SPELLINGS = ("NHS England", "nhs england", "  NHS   England ", "NHS\tENGLAND", "nhs\n england")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_owners_name_means_one_owner_whatever_its_case_and_spacing(spelling: str) -> None:
    assert owner_key(spelling) == owner_key("NHS England") == "nhs england"


def test_different_owners_stay_different() -> None:
    assert owner_key("NHS England") != owner_key("NHS Englands")
    assert owner_key("NHS England") != owner_key("NHSEngland")


def _state(accountable: str | None, *commitment_owners: str | None) -> RecommendationState:
    return RecommendationState(
        id=uuid4(),
        review="messenger-2022",
        number=1,
        title="Targeted interventions",
        text="",
        registered_on=date(2022, 6, 8),
        source=SOURCE,
        accountable_owner=accountable,
        commitments=tuple(
            Commitment(
                commitment=f"c{i}",
                deliverable="A deliverable",
                action=None,
                owner=owner,
                made_on=date(2023, 1, 1),
                source=SOURCE,
                baseline=None,
                due=None,
            )
            for i, owner in enumerate(commitment_owners)
        ),
    )


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_owner_key_reads_what_its_owner_is_accountable_for_or_owns_a_commitment_of(
    spelling: str,
) -> None:
    accountable = _state("NHS England", "DHSC")
    committed = _state("DHSC", None, "nhs  england")
    theirs = _state("DHSC", "Care Quality Commission")
    for state in (accountable, committed):
        assert may_read(Role.OWNER, spelling, owners_of(state))
    assert not may_read(Role.OWNER, spelling, owners_of(theirs))
    assert not may_read(Role.OWNER, spelling, owners_of(_state(None)))


def test_an_owner_key_without_an_owner_reads_nothing() -> None:
    assert not may_read(Role.OWNER, None, owners_of(_state("NHS England")))
    assert not may_read(Role.OWNER, "   ", owners_of(_state("NHS England")))


def test_other_reading_roles_read_everything_and_admin_keys_read_nothing() -> None:
    theirs = owners_of(_state("DHSC"))
    for role in (Role.SECRETARIAT, Role.AUDITOR):
        assert reads_all(role) and may_read(role, None, theirs)
    assert not reads_all(Role.OWNER)
    assert not may_read(Role.ADMIN, None, theirs)


def test_readable_numbers_are_the_rule_applied_to_each_recommendation() -> None:
    owners = {1: ["NHS England"], 2: ["DHSC", "nhs england "], 3: ["DHSC"], 4: [None]}
    assert readable_numbers(Role.OWNER, "NHS  ENGLAND", owners) == {1, 2}
    assert readable_numbers(Role.AUDITOR, None, owners) == {1, 2, 3, 4}


def test_the_role_matrix_names_each_door_s_roles_once() -> None:
    assert WRITERS == (Role.SECRETARIAT,)
    assert READERS == (Role.SECRETARIAT, Role.AUDITOR, Role.OWNER)
    assert EXPORTERS == REPLAYERS == (Role.SECRETARIAT, Role.AUDITOR)
    assert set(KEY_READERS) == {Role.ADMIN, Role.AUDITOR}
    assert KEY_ADMINS == (Role.ADMIN,)
    assert not may(Role.OWNER, Permission.KNOWN_AT)
    assert may(Role.AUDITOR, Permission.KNOWN_AT) and may(Role.SECRETARIAT, Permission.KNOWN_AT)
    assert not any(may(Role.ADMIN, p) for p in (Permission.READ_ALL, Permission.READ_OWN))


def test_alerts_and_their_addresses_use_the_same_owner_names() -> None:
    ids = {
        alert_id(
            owner=spelling,
            review="messenger-2022",
            number=1,
            commitment="induction",
            kind=AlertKind.OVERDUE,
            due=None,
        )
        for spelling in SPELLINGS
    }
    assert len(ids) == 1
    directory = OwnerDirectory.load(mapping={"  nhs ENGLAND": "ops@nhs.example"})
    for spelling in SPELLINGS:
        assert directory.address_of(spelling) == ("ops@nhs.example",)
