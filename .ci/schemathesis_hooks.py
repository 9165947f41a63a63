"""Schemathesis hooks for .ci/api-contract: make generated request content coherent
across fields the way a real client's is, without touching what each field may hold.

A request must come from the caller's own authority (COMITY_CONTRACT_AUTHORITY, in
COMITY_CONTRACT_COUNTRY) to another one, and an authority the node does not know needs
its country. JSON Schema cannot say "this field equals the caller's authority" or "these
two fields differ", so a valid authority id in a generated body is replaced, just before
the call and in every phase, by one that satisfies those rules. Values that are not
valid ids are left as they are, and Schemathesis revalidates an edited case against the
schema, so a negative test case stays negative.
"""

import os
import re

import schemathesis

AUTHORITY = os.environ.get("COMITY_CONTRACT_AUTHORITY", "")
COUNTRY = os.environ.get("COMITY_CONTRACT_COUNTRY", "ES")
PEER_AUTHORITY = "ma-contract-ca"
AUTHORITY_ID = re.compile(r"[a-z][a-z0-9.-]{2,63}")
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
CONTENT_OPERATIONS = {
    "POST /api/v1/cases/{case_id}/requests",
    "PUT /api/v1/requests/{request_id}",
    "POST /api/v1/assessments",
}


def _valid(pattern, value):
    return isinstance(value, str) and pattern.fullmatch(value) is not None


@schemathesis.hook
def before_call(context, case, **kwargs):
    operation = context.operation
    body = case.body
    if operation is None or not isinstance(body, dict) or not AUTHORITY:
        return
    label = f"{str(operation.method).upper()} {operation.path}"
    if label in CONTENT_OPERATIONS:
        if _valid(AUTHORITY_ID, body.get("requesting_authority")):
            body["requesting_authority"] = AUTHORITY
        if _valid(COUNTRY_CODE, body.get("requesting_country")):
            body["requesting_country"] = COUNTRY
        if _valid(AUTHORITY_ID, body.get("requested_authority")):
            body["requested_authority"] = PEER_AUTHORITY
            if body.get("requested_country") is None:
                body["requested_country"] = "MA"
    elif label == "POST /api/v1/users":
        if _valid(AUTHORITY_ID, body.get("authority")):
            body["authority"] = AUTHORITY
