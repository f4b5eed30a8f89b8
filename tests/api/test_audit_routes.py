"""Auditors check the hash chain over HTTP: a digest now, a verification against it later."""

from __future__ import annotations

from tests.api.conftest import REC, Api, committed, register
from tests.store.tamper import Tamperer


def test_only_auditors_take_digests_and_verify(api: Api) -> None:
    register(api)
    assert api.get("/audit/digest", role="auditor").status_code == 200
    for role in ("secretariat", "owner", "admin"):
        assert api.get("/audit/digest", role=role).status_code == 403
    assert api.client.get("/audit/digest").status_code == 401


def test_a_digest_taken_earlier_verifies_after_more_commands(api: Api) -> None:
    register(api)
    earlier = api.get("/audit/digest", role="auditor").json()
    committed(api, number=2)
    answer = api.post("/audit/verification", {"digests": [earlier]}, role="auditor")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] and body["digests"] == 1 and body["position"] > earlier["position"]


def test_a_changed_byte_is_reported_with_where_it_is(api: Api, database_url: str) -> None:
    register(api)
    committed(api, number=2)
    Tamperer(database_url).flip_byte(2)
    body = api.post("/audit/verification", {}, role="auditor").json()
    assert body["ok"] is False
    assert body["failure"]["notification_id"] == 2
    assert body["failure"]["kind"] == "changed"


def test_a_malformed_digest_is_a_clear_422(api: Api) -> None:
    api.post(
        REC, {"number": 1, "title": "T", "occurred": "2022-06-08", "source": {"document": "d"}}
    )
    answer = api.post("/audit/verification", {"digests": [{"position": "x"}]}, role="auditor")
    assert answer.status_code == 422
    assert "body.digests[0] is not a RIO digest" in answer.json()["detail"]
