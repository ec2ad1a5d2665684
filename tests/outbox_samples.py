"""Outbox payloads for tests: typed samples of every kind and variant, and rows exactly as the
code before the typed messages stored them (`Outbox.payload` as JSON)."""

from __future__ import annotations

from datetime import date
from typing import Any

from kooperation import messages
from kooperation.models import JoinKind, JoinStatus, Kind, MatchStatus

ORG = "Zellwerk <Sachsen> & Co"
OTHER = "Gefahrgut Express GmbH"

SAMPLES: dict[messages.OutboxKind, list[messages.OutboxPayload]] = {
    messages.OutboxKind.DIGEST: [
        messages.WeeklyDigest(
            week="2026-W48",
            waiting=(
                messages.DigestWaiting(
                    match_id=1,
                    own_title="Kühlkette",
                    other_title="ADR-Transporte",
                    other_cluster="Logistik",
                    reason_de="Beide nennen ADR",
                    reason_en="Both mention ADR",
                ),
            ),
            introductions=tuple(
                messages.DigestIntroduction(
                    match_id=2 + n,
                    own_title="Kühlkette",
                    state=state,
                    other_title="Telematik",
                    other_cluster="IT",
                    other_org=ORG if state == messages.DigestState.INTRODUCED else "",
                )
                for n, state in enumerate(messages.DigestState)
            ),
            opportunities=tuple(
                messages.DigestOpportunity(
                    listing_id=10 + n,
                    kind=kind,
                    title=f"Chance {kind}",
                    cluster="Automotive",
                    own_title="Kühlkette",
                    score=0.61,
                    reason_de="Grund",
                    reason_en="reason",
                )
                for n, kind in enumerate(Kind)
            ),
        ),
        messages.WeeklyDigest(week="2026-W49"),
    ],
    messages.OutboxKind.FOLLOWUP: [
        messages.FollowupQuestion(match_id=3, own_title="Kühlkette", other_org=ORG)
    ],
    messages.OutboxKind.EXPIRY_REMINDER: [
        messages.ExpiryReminder(
            listing_id=7, title="Prüfstände", kind=Kind.NEED, expires_on=date(2026, 3, 11)
        )
    ],
    messages.OutboxKind.LISTING_CLOSED: [
        messages.ListingClosed(
            listing_id=7,
            title="Prüfstände",
            kind=Kind.OFFER,
            expires_on=date(2026, 3, 11),
            extend_days=60,
        )
    ],
    messages.OutboxKind.INTRO_OFFER: [
        messages.IntroOffer(
            match_id=12,
            side=side,
            own_title="Kühlkette",
            other_kind=Kind.OFFER if side == Kind.NEED else Kind.NEED,
            other_organization=ORG,
            other_cluster="Logistik",
            other_title="ADR <Polen>",
            other_text="Wir bieten <ADR>-Transporte.",
            reason_de="Beide nennen ADR",
            reason_en="",
        )
        for side in Kind
    ],
    messages.OutboxKind.INTRO_CONTACT: [
        messages.IntroContact(
            match_id=12,
            own_title="a",
            other_title="b",
            name="Ben <Kurz>",
            organization=ORG,
            cluster="Logistik",
            username="ben_k",
            email="ben@example.org",
        ),
        messages.IntroContact(
            match_id=12, own_title="a", other_title="b", name="", organization=ORG, cluster="IT"
        ),
    ],
    messages.OutboxKind.INTRO_CLOSED: [
        messages.IntroClosed(match_id=12, other_organization=ORG, own_title="x")
    ],
    messages.OutboxKind.INTRO_RESULT_MANAGER: [
        messages.IntroResult(
            match_id=12,
            outcome=MatchStatus.INTRODUCED,
            need_organization=ORG,
            offer_organization=OTHER,
        ),
        messages.IntroResult(
            match_id=12,
            outcome=MatchStatus.DECLINED,
            need_organization=ORG,
            offer_organization=OTHER,
            declined_by=OTHER,
        ),
    ],
    messages.OutboxKind.MANAGER_NEW_PROPOSALS: [
        messages.NewProposals(count=1, pending=1),
        messages.NewProposals(count=7, pending=9),
    ],
    messages.OutboxKind.JOIN_REQUEST: [
        messages.JoinRequested(request_id=5, organization=ORG, cluster="IT", requester="Mallory"),
        messages.JoinRequested(request_id=5, organization=ORG, for_staff=True, organization_id=9),
        messages.JoinRequested(
            request_id=6,
            organization=ORG,
            kind=JoinKind.CLAIM,
            cluster="Logistik",
            requester="Jana",
            username="jana",
            for_staff=True,
            organization_id=9,
            contact_name="Jana Import",
            contact_email="j@imp.de",
        ),
    ],
    messages.OutboxKind.JOIN_DECIDED: [
        messages.JoinDecided(organization=ORG, status=status, kind=JoinKind.JOIN)
        for status in (JoinStatus.APPROVED, JoinStatus.DECLINED, JoinStatus.EXPIRED)
    ],
    messages.OutboxKind.COMPANY_ORPHANED: [
        messages.CompanyOrphaned(organization=ORG, organization_id=9, paused=2),
    ],
    messages.OutboxKind.MEMBERSHIP_REVIEW: [
        messages.MembershipReview(
            companies=(
                messages.ReviewCompany(organization=ORG, contacts=("Anna", "Ben")),
                messages.ReviewCompany(organization=OTHER),
            )
        )
    ],
    messages.OutboxKind.JOB_FAILED: [
        messages.JobFailed(
            job=job, slot="2026-03-11 02:00", attempts=3, error="OperationalError: <x>"
        )
        for job in ("matching", "digest")
    ],
}
"""Every kind with each variant its renderer words differently."""

OLD_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "digest",
        {
            "week": "2026-W48",
            "waiting": [
                {
                    "match_id": 1,
                    "own_title": "Kühlkette",
                    "other_title": "ADR-Transporte",
                    "other_cluster": "Logistik",
                    "reason_de": "Beide nennen ADR",
                    "reason_en": "Both mention ADR",
                }
            ],
            "introductions": [
                {
                    "match_id": 2,
                    "own_title": "Kühlkette",
                    "other_title": "Telematik",
                    "other_cluster": "IT",
                    "state": "introduced",
                    "other_org": ORG,
                },
                {
                    "match_id": 3,
                    "own_title": "Kühlkette",
                    "other_title": "Routen",
                    "other_cluster": "IT",
                    "state": "closed",
                },
                {
                    "match_id": 4,
                    "own_title": "Kühlkette",
                    "other_title": "Lager",
                    "other_cluster": "Logistik",
                    "state": "waiting_other",
                },
            ],
            "opportunities": [
                {
                    "listing_id": 10,
                    "kind": "offer",
                    "title": "Prüfstand frei",
                    "cluster": "Automotive",
                    "own_title": "Kühlkette",
                    "score": 0.612,
                    "reason_de": "Beide nennen Prüfstand",
                    "reason_en": "Both mention test bench",
                }
            ],
        },
    ),
    ("followup", {"match_id": 3, "own_title": "Kühlkette", "other_org": ORG}),
    (
        "expiry_reminder",
        {
            "listing_id": 7,
            "title": "Prüfstände",
            "kind": "need",
            "expires_on": "2026-03-11",
            "extend_days": 90,
        },
    ),
    (
        "listing_closed",
        {
            "listing_id": 7,
            "title": "Prüfstände",
            "kind": "need",
            "expires_on": "2026-03-11",
            "extend_days": 90,
        },
    ),
    (
        "intro_offer",
        {
            "match_id": 12,
            "side": "need",
            "own_title": "Kühlkette",
            "other_kind": "offer",
            "other_organization": ORG,
            "other_cluster": "Netzwerk Logistik Mitteldeutschland",
            "other_title": "ADR <Polen>",
            "other_text": "Wir bieten ADR-Transporte.",
            "reason_de": "Beide nennen ADR",
            "reason_en": "Both mention ADR",
        },
    ),
    (
        "intro_contact",
        {
            "match_id": 12,
            "own_title": "Kühlkette",
            "other_title": "ADR",
            "name": "Ben Kurz",
            "organization": ORG,
            "cluster": "Logistik",
            "username": "ben_k",
            "email": "ben@example.org",
        },
    ),
    ("intro_closed", {"match_id": 12, "other_organization": ORG, "own_title": "Kühlkette"}),
    (
        "intro_result_manager",
        {
            "match_id": 12,
            "outcome": "introduced",
            "need_organization": ORG,
            "need_title": "Kühlkette",
            "offer_organization": OTHER,
            "offer_title": "ADR",
        },
    ),
    (
        "intro_result_manager",
        {
            "match_id": 12,
            "outcome": "declined",
            "need_organization": ORG,
            "need_title": "Kühlkette",
            "offer_organization": OTHER,
            "offer_title": "ADR",
            "declined_by": OTHER,
        },
    ),
    ("manager_new_proposals", {"count": 7, "pending": 9}),
    ("manager_new_proposals", {"count": 1, "pending": 4, "round_id": 3}),  # before issue 13
    (
        "join_request",
        {
            "request_id": 5,
            "kind": "join",
            "organization": ORG,
            "cluster": "Cluster IT Mitteldeutschland",
            "requester": "Mallory M",
            "username": "mallory",
        },
    ),
    (
        "join_request",
        {
            "request_id": 6,
            "kind": "claim",
            "organization": ORG,
            "cluster": "Netzwerk Logistik Mitteldeutschland",
            "requester": "Jana",
            "username": "",
            "for_staff": True,
            "organization_id": 9,
            "contact_name": "Jana Import",
            "contact_email": "j@imp.de",
        },
    ),
    ("join_decided", {"organization": ORG, "status": "approved", "kind": "join"}),
    ("join_decided", {"organization": ORG, "status": "expired", "kind": "claim"}),
    ("company_orphaned", {"organization": ORG, "organization_id": 9, "paused": 2}),
    (
        "membership_review",
        {
            "companies": [
                {"organization": ORG, "contacts": ["Anna"]},
                {"organization": OTHER, "contacts": []},
            ]
        },
    ),
    (
        "job_failed",
        {
            "job": "digest",
            "slot": "2026-03-11 02:00",
            "attempts": 3,
            "error": "OperationalError: (builtins.Exception) database is locked",
        },
    ),
]
"""One row per kind and variant, each exactly as the services wrote it before the typed
payloads (see git history of kooperation/services/*: `queue_message(kind=..., payload={...})`)."""
