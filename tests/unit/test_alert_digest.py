"""Digests read like a secretariat's note, carry a recognisable Message-ID; SMTP URLs parse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from rio.alerts.digest import compose, message_id, record_link
from rio.alerts.mailer import BadSMTPURL, parse_smtp_url
from rio.alerts.owners import OwnerDirectory, OwnersFileError
from rio.domain.alert_policy import AlertDue, AlertKind, alert_id
from rio.domain.due_window import parse_due
from rio.domain.values import Source

SOURCE = Source(
    "Written parliamentary answer <HL1234>",
    date(2023, 11, 20),
    "A new national induction scheme will be launched in April 2024.",
    url="https://questions-statements.parliament.uk/written-questions/detail/2023-11-14/1234",
)


def alert(kind: AlertKind = AlertKind.OVERDUE, commitment: str = "national-induction") -> AlertDue:
    due = parse_due("April 2024", date(2023, 11, 20))
    return AlertDue(
        id=alert_id(
            owner="NHS England",
            review="messenger-2022",
            number=1,
            commitment=commitment,
            kind=kind,
            due=due,
        ),
        kind=kind,
        owner="NHS England",
        role="accountable",
        review="messenger-2022",
        number=1,
        title="Targeted interventions on collaborative leadership",
        commitment=commitment,
        deliverable="National induction scheme, launched",
        due=due,
        previous_due=None,
        source=SOURCE,
        why="It was promised for April 2024 & is 1 day overdue.",
        days=1,
        as_at=date(2024, 5, 1),
    )


def test_the_message_id_is_derived_from_the_alert_ids_in_any_order() -> None:
    ids = [UUID(int=1), UUID(int=2), UUID(int=3)]

    assert message_id(ids) == message_id(list(reversed(ids)))
    assert message_id(ids) != message_id(ids[:2])
    assert message_id(ids).startswith("<") and message_id(ids).endswith("@rio>")


def test_a_digest_gives_each_item_why_due_source_and_link_in_text_and_html() -> None:
    items = [alert(AlertKind.DUE_SOON, "aspiring-ceo"), alert()]

    digest = compose(
        "NHS England", ["nhse@example.org"], items, date(2024, 5, 1), "https://rio.example/"
    )

    assert digest.subject == (
        "RIO: 2 items for NHS England's attention (1 overdue, 1 due soon), as at 1 May 2024"
    )
    assert digest.alert_ids == (items[1].id, items[0].id)  # overdue first
    assert digest.message_id == message_id([a.id for a in items])
    text = " ".join(digest.text.split())
    assert "For the attention of NHS England." in text
    assert "1. Overdue: messenger-2022, recommendation 1" in text
    assert "Why: It was promised for April 2024 & is 1 day overdue." in text
    assert "Due: April 2024 (by 30 April 2024)" in text
    assert "Source: Written parliamentary answer <HL1234>, 20 November 2023" in text
    assert "“A new national induction scheme will be launched in April 2024.”" in text
    assert "Record: https://rio.example/board/messenger-2022/1" in text
    assert all(len(line) <= 78 for line in digest.text.splitlines() if " " in line.strip())
    assert "&lt;HL1234&gt;" in digest.html and "<HL1234>" not in digest.html
    assert "is 1 day overdue" in digest.html and "&amp;" in digest.html
    assert f'href="{SOURCE.url}"' in digest.html


def test_the_email_has_both_parts_and_marks_itself_automatic() -> None:
    digest = compose("NHS England", ["nhse@example.org"], [alert()], date(2024, 5, 1), "http://x")

    email = digest.email("RIO <rio@example.org>", datetime(2024, 5, 1, 7, tzinfo=UTC))

    assert email["Message-ID"] == digest.message_id
    assert email["To"] == "NHS England <nhse@example.org>"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["X-RIO-Alert-Ids"] == str(digest.alert_ids[0])
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]


def test_record_links_quote_the_review() -> None:
    assert record_link("https://rio/", "a b/c", 3) == "https://rio/board/a%20b%2Fc/3"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:2525", ("mail.example", 2525, None, False, False)),
        ("smtp://u%40x:p%3Aw@mail:587?starttls=1", ("mail", 587, "u@x", True, False)),
        ("smtps://mail", ("mail", 465, None, False, True)),
        ("smtp://mail", ("mail", 25, None, False, False)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    c = parse_smtp_url(url)

    assert (c.host, c.port, c.username, c.starttls, c.implicit_tls) == expected
    assert "p:w" not in repr(c)


@pytest.mark.parametrize("url", ["http://mail", "smtp://", "smtp://mail?tls=1", "smtp://m:x"])
def test_bad_smtp_urls_are_refused(url: str) -> None:
    with pytest.raises(BadSMTPURL):
        parse_smtp_url(url)


def test_owner_names_match_loosely_and_settings_win_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "owners.yaml"
    file.write_text(
        '"NHS England": Leadership <nhse@example.org>\nDHSC: [a@dhsc.example, b@dhsc.example]\n',
        encoding="utf-8",
    )

    owners = OwnerDirectory.load(file, {"dhsc": "c@dhsc.example"})

    assert owners.address_of("nhs  england") == ("nhse@example.org",)
    assert owners.address_of("DHSC") == ("c@dhsc.example",)
    assert owners.address_of("Someone else") == ()


def test_an_owners_file_entry_that_is_not_an_address_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "owners.yaml"
    file.write_text("NHS England: not an address\n", encoding="utf-8")

    with pytest.raises(OwnersFileError, match="not an address"):
        OwnerDirectory.load(file)
