"""Verified company membership: who speaks for a company, and the three honest ways in.

`Member.organization_id` means "verified contact of this company", so every check that
compares it with a listing's organization keeps its meaning. Ways in:

1. the company's colleague invite link (`Organization.invite_code`, shown only to its
   contacts) or a manager's single-use company invite (`CompanyInvite`): joins at once;
2. a join request (`JoinRequest`, kind join) that any contact of the company or its cluster
   manager approves; the first decision wins; unanswered after 7 days it expires;
3. a claim (kind claim) of a company without any contact (imported from CSV), decided by its
   cluster manager only, who sees the imported contact data next to the claimant's Telegram
   name and @username.

Until approved the requester has no organization. Every message goes through the outbox.

The code lives in `company_contacts` (who speaks for a company, becoming and ceasing to be a
contact, the errors), `join_requests` (ways 2 and 3), `company_invites` (way 1's single-use
link) and `companies` (the staff's views, merging, the one-off review); this module names
them together for the front ends (`membership.<function>`).
"""

from kooperation.services.companies import (
    CompanyRow,
    Merged,
    find_company,
    merge_candidates,
    merge_companies,
    new_companies,
    queue_membership_review,
)
from kooperation.services.company_contacts import (
    NOT_A_CONTACT,
    Action,
    AlreadyContact,
    AlreadyDecided,
    CompanyInviteInvalid,
    CompanyNotFound,
    Left,
    MembershipError,
    NotAContact,
    RequestNotFound,
    TooManyRequests,
    become_contact,
    cluster_staff,
    contacts_of,
    is_contact,
    leave_company,
    may_manage,
    own_contact_data,
    pending_company,
    pending_request,
    refuse_not_yours,
    withdraw_requests,
)
from kooperation.services.company_invites import (
    COMPANY_INVITE_PREFIX,
    INVITE_LIFETIME,
    company_invite_payload,
    create_company_invite,
    join_by_company_link,
    redeem_company_invite,
)
from kooperation.services.join_requests import (
    REQUEST_LIFETIME,
    REQUESTS_PER_DAY,
    Decision,
    OpenRequest,
    Requested,
    decide_request,
    expire_requests,
    open_requests,
    request_to_join,
)

__all__ = [
    "COMPANY_INVITE_PREFIX",
    "INVITE_LIFETIME",
    "NOT_A_CONTACT",
    "REQUESTS_PER_DAY",
    "REQUEST_LIFETIME",
    "Action",
    "AlreadyContact",
    "AlreadyDecided",
    "CompanyInviteInvalid",
    "CompanyNotFound",
    "CompanyRow",
    "Decision",
    "Left",
    "MembershipError",
    "Merged",
    "NotAContact",
    "OpenRequest",
    "RequestNotFound",
    "Requested",
    "TooManyRequests",
    "become_contact",
    "cluster_staff",
    "company_invite_payload",
    "contacts_of",
    "create_company_invite",
    "decide_request",
    "expire_requests",
    "find_company",
    "is_contact",
    "join_by_company_link",
    "leave_company",
    "may_manage",
    "merge_candidates",
    "merge_companies",
    "new_companies",
    "open_requests",
    "own_contact_data",
    "pending_company",
    "pending_request",
    "queue_membership_review",
    "redeem_company_invite",
    "refuse_not_yours",
    "request_to_join",
    "withdraw_requests",
]
