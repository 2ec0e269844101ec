"""A second-language client for the contract tests: stubs generated from proto/ at run time by grpc_tools.

usage: credits_client.py PROTO_ROOT ADDRESS TOKEN IDENTIFIER
Prints one JSON object: what ResolveUser, GetBalance and ListTransactions answered, or their status and error code.
"""
import importlib
import json
import os
import sys
import tempfile

import grpc
import grpc_tools
from grpc_tools import protoc

# The well-known types (google/protobuf/timestamp.proto) ship inside grpc_tools, pip's and Debian's alike.
WELL_KNOWN_TYPES = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")


def load_stubs(proto_root: str, out_dir: str):
    status = protoc.main(
        ["protoc", f"-I{proto_root}", f"-I{WELL_KNOWN_TYPES}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", "credits/v1/credits.proto"]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with {status}")
    sys.path.insert(0, out_dir)
    return importlib.import_module("credits.v1.credits_pb2"), importlib.import_module("credits.v1.credits_pb2_grpc")


def outcome(call):
    try:
        response = call()
    except grpc.RpcError as error:
        codes = dict(error.trailing_metadata() or ())
        return {"status": error.code().name, "error_code": codes.get("credits-error-code")}
    return {"status": "OK", "response": response}


def main() -> None:
    proto_root, address, token, identifier = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as out_dir:
        pb2, pb2_grpc = load_stubs(proto_root, out_dir)
        metadata = [("authorization", f"Bearer {token}")]
        with grpc.insecure_channel(address) as channel:
            stub = pb2_grpc.CreditsServiceStub(channel)
            resolved = outcome(lambda: stub.ResolveUser(pb2.ResolveUserRequest(identifier=identifier), metadata=metadata, timeout=10))
            if resolved["status"] == "OK":
                r = resolved["response"]
                resolved["response"] = {
                    "id": r.user.id,
                    "legacy_id": r.user.legacy_id,
                    "email": r.user.email,
                    "credits_balance": r.user.credits_balance,
                    "matched_by": pb2.MatchKind.Name(r.matched_by),
                }
            balance = outcome(lambda: stub.GetBalance(pb2.GetBalanceRequest(identifier=identifier), metadata=metadata, timeout=10))
            if balance["status"] == "OK":
                b = balance["response"]
                balance["response"] = {"user_id": b.user_id, "balance": b.balance, "held": b.held, "available": b.available}
            listed = outcome(lambda: stub.ListTransactions(pb2.ListTransactionsRequest(identifier=identifier, page_size=1), metadata=metadata, timeout=10))
            if listed["status"] == "OK":
                page = listed["response"]
                listed["response"] = {
                    "transactions": [
                        {
                            "kind": pb2.TransactionKind.Name(t.kind),
                            "amount": t.amount,
                            "balance_after": t.balance_after,
                            "reference": t.reference,
                            "create_time": t.create_time.ToJsonString(),
                        }
                        for t in page.transactions
                    ],
                    "has_next_page": page.next_page_token != "",
                }
    print(json.dumps({"resolve_user": resolved, "get_balance": balance, "list_transactions": listed}))


if __name__ == "__main__":
    main()
