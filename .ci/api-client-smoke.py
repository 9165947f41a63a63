"""Smoke test of a Python client generated from a node's OpenAPI document.

Usage: api-client-smoke.py BASE_URL USERNAME PASSWORD AUTHORITY_ID

Logs in, opens two cases, drafts requests in them, submits one, and checks that the
list filters (case_id, state, side) reach the node and are applied: a generated client
that dropped them would list every request.
"""

import importlib
import pkgutil
import sys

import comity_client.api
from comity_client import AuthenticatedClient, Client


def operation(name: str):
    """The generated module of an operation, whatever tag (module) it was filed under."""
    for package in pkgutil.iter_modules(comity_client.api.__path__):
        try:
            return importlib.import_module(f"comity_client.api.{package.name}.{name}")
        except ModuleNotFoundError:
            continue
    raise SystemExit(f"the generated client has no operation {name}")


create_case = operation("create_case")
create_request = operation("create_request")
list_requests = operation("list_requests")
login = operation("login")
transition = operation("transition")
from comity_client.models import (
    CaseInput,
    CaseView,
    RequestView,
    SessionView,
    ListRequestsSide,
    ListRequestsState,
    LoginInput,
    Problem,
    RequestContentDto,
    TransitionInput,
)


def expect(value, kind):
    if not isinstance(value, kind):
        raise SystemExit(f"expected {kind.__name__}, got {value!r}")
    return value


def main() -> None:
    base, username, password, authority = sys.argv[1:5]
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    session = login.sync(client=anonymous, body=LoginInput(username=username, password=password))
    session = expect(session, SessionView)
    client = AuthenticatedClient(base_url=base, token=session.token, raise_on_unexpected_status=True)

    draft = {
        "requesting_authority": authority,
        "requested_authority": "ma-contract-ca",
        "requested_country": "MA",
        "legal_basis": ["untoc"],
        "subject_matter": "Smoke test of a generated client",
        "measures": [{"kind": "bank_records", "description": "Statements, 2025-2026"}],
        "persons": [{"full_name": "Test Person", "role": "suspect", "nationalities": ["MA"]}],
        "requested_deadline": "2030-01-31",
    }
    cases = []
    requests = []
    for reference in ("SMOKE 1/2026", "SMOKE 2/2026"):
        case = create_case.sync(client=client, body=CaseInput(reference=reference, title="Smoke"))
        cases.append(expect(case, CaseView).id)
        created = create_request.sync(
            case_id=cases[-1], client=client, body=RequestContentDto.from_dict(draft)
        )
        requests.append(expect(created, RequestView).id)

    submitted = transition.sync(
        request_id=requests[0],
        client=client,
        body=TransitionInput.from_dict({"action": "submit_for_approval"}),
    )
    expect(submitted, RequestView)

    every = expect(list_requests.sync(client=client), list)
    assert len(every) >= 2, every
    in_case = list_requests.sync(client=client, case_id=cases[1])
    assert [item.id for item in in_case] == [requests[1]], in_case
    pending = list_requests.sync(client=client, state=ListRequestsState.PENDING_APPROVAL)
    assert [item.id for item in pending] == [requests[0]], pending
    requested_side = list_requests.sync(client=client, side=ListRequestsSide.REQUESTED)
    assert requested_side == [], requested_side

    refused = create_case.sync(
        client=client, body=CaseInput(reference="bad\u202ename", title="Spoof")
    )
    problem = expect(refused, Problem)
    assert problem.status == 422 and problem.field == "reference", problem
    print(f"generated client: ok ({len(every)} requests, filters applied)")


if __name__ == "__main__":
    main()
