#!/usr/bin/env python3
"""py_webauthn (Duo's `webauthn` package) verifies registrations and assertions that Tandem produced.

Tandem produces the W3C PublicKeyCredential JSON itself: the ctap-bridge's WebAuthn channel runs Tandem's
WebAuthn layer (tandem_desktop::webauthn) around the real engine and store. Cases: attestation none, packed
self and packed x5c (with the bridge's generated root trusted), each with ES256 and Ed25519; two sign-ins per
credential; and negative controls (tampered signature, wrong challenge, wrong origin) that must be rejected.

usage: rp_verify.py FIXTURE_OUT.json      (the fixture is re-verified by tests/interop/node/verify.mjs)
Exits non-zero on any failure; prints 'N passed, N failed'.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import traceback

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tandem_bridge import Bridge

RP_ID = "example.com"
ORIGIN = "https://example.com"
ALGS = {"ES256": COSEAlgorithmIdentifier.ECDSA_SHA_256, "Ed25519": COSEAlgorithmIdentifier.EDDSA}
# (case name, requested attestation, bridge flavour, expected fmt, expected x5c)
ATTESTATIONS = [
    ("none", AttestationConveyancePreference.NONE, "plain", "none"),
    ("packed-self", AttestationConveyancePreference.DIRECT, "plain", "packed"),
    ("packed-x5c", AttestationConveyancePreference.DIRECT, "batch", "packed"),
]

passed = 0
failed = 0


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


def check(name: str, fn) -> None:
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception:
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc()


def must_fail(what: str, fn) -> None:
    try:
        fn()
    except Exception:
        return
    raise AssertionError(f"{what} was accepted")


def webauthn(bridge: Bridge, op: str, options_json: str) -> dict:
    answer = bridge.webauthn({"op": op, "origin": ORIGIN, "options": json.loads(options_json)})
    if "credential" not in answer:
        raise AssertionError(f"bridge {op} failed: {answer}")
    return answer["credential"]


def run_case(bridge: Bridge, root_pem: bytes | None, case: str, att, fmt: str, alg_name: str, n: int, fixture: list):
    alg = ALGS[alg_name]
    user_id = bytes([n]) * 16
    reg_opts = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Example",
        user_id=user_id,
        user_name=f"user{n}@example.com",
        user_display_name=f"User {n}",
        attestation=att,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        supported_pub_key_algs=[alg],
    )
    reg_json = options_to_json(reg_opts)
    credential = webauthn(bridge, "create", reg_json)
    roots = {AttestationFormat.PACKED: [root_pem]} if root_pem else None
    verified = verify_registration_response(
        credential=credential,
        expected_challenge=reg_opts.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
        supported_pub_key_algs=[alg],
        pem_root_certs_bytes_by_fmt=roots,
    )
    got_fmt = getattr(verified.fmt, "value", verified.fmt)
    assert got_fmt == fmt, f"fmt {got_fmt} != {fmt}"
    assert verified.user_verified
    att_obj = b64u_dec(credential["response"]["attestationObject"])
    has_x5c = b"x5c" in att_obj
    assert has_x5c == (case == "packed-x5c"), f"x5c present = {has_x5c} for {case}"
    other_root = None
    if case == "packed-x5c":
        # The same statement must fail against a root that did not issue it (the harness can fail).
        with Bridge(os.path.join(tempfile.mkdtemp(), "other.sqlite3"), "--batch-attestation") as other:
            other_root = pem(b64u_dec(other.control(info=True)["root_certificate"]))
        must_fail(
            "x5c chain under an unrelated root",
            lambda: verify_registration_response(
                credential=credential,
                expected_challenge=reg_opts.challenge,
                expected_rp_id=RP_ID,
                expected_origin=ORIGIN,
                supported_pub_key_algs=[alg],
                pem_root_certs_bytes_by_fmt={AttestationFormat.PACKED: [other_root]},
            ),
        )
    record = {
        "case": f"{case}/{alg_name}",
        "fmt": fmt,
        "alg": int(alg),
        "root_pem": root_pem.decode() if root_pem else None,
        "unrelated_root_pem": other_root.decode() if other_root else None,
        "registration": {"challenge": b64u(reg_opts.challenge), "credential": credential},
        "authentications": [],
    }
    sign_count = verified.sign_count
    for _ in range(2):
        auth_opts = generate_authentication_options(
            rp_id=RP_ID,
            allow_credentials=[PublicKeyCredentialDescriptor(id=verified.credential_id)],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        assertion = webauthn(bridge, "get", options_to_json(auth_opts))
        result = verify_authentication_response(
            credential=assertion,
            expected_challenge=auth_opts.challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=verified.credential_public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
        assert result.user_verified
        assert result.credential_id == verified.credential_id
        sign_count = result.new_sign_count
        record["authentications"].append({"challenge": b64u(auth_opts.challenge), "credential": assertion})

        # Negative controls on this very assertion.
        def verify_with(cred=assertion, challenge=auth_opts.challenge, origin=ORIGIN):
            verify_authentication_response(
                credential=cred,
                expected_challenge=challenge,
                expected_rp_id=RP_ID,
                expected_origin=origin,
                credential_public_key=verified.credential_public_key,
                credential_current_sign_count=0,
                require_user_verification=True,
            )

        sig = bytearray(b64u_dec(assertion["response"]["signature"]))
        sig[len(sig) // 2] ^= 0x01
        tampered = json.loads(json.dumps(assertion))
        tampered["response"]["signature"] = b64u(bytes(sig))
        must_fail("tampered signature", lambda: verify_with(cred=tampered))
        must_fail("wrong challenge", lambda: verify_with(challenge=os.urandom(32)))
        must_fail("wrong origin", lambda: verify_with(origin="https://evil.example"))

    # Discoverable sign-in (empty allow list) returns the user handle.
    auth_opts = generate_authentication_options(rp_id=RP_ID, user_verification=UserVerificationRequirement.REQUIRED)
    bridge.control(choose=0)
    assertion = webauthn(bridge, "get", options_to_json(auth_opts))
    assert b64u_dec(assertion["response"]["userHandle"]) in {bytes([k]) * 16 for k in range(1, n + 1)}
    fixture.append(record)


def main() -> int:
    fixture_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.mkdtemp(), "fixture.json")
    fixture: list = []
    tmp = tempfile.mkdtemp(prefix="tandem-rp-")
    with Bridge(os.path.join(tmp, "plain.sqlite3")) as plain, Bridge(
        os.path.join(tmp, "batch.sqlite3"), "--batch-attestation"
    ) as batch:
        root_pem = pem(b64u_dec(batch.control(info=True)["root_certificate"]))
        n = 0
        for case, att, flavour, fmt in ATTESTATIONS:
            for alg_name in ALGS:
                n += 1
                bridge = batch if flavour == "batch" else plain
                root = root_pem if flavour == "batch" else None
                check(
                    f"py_webauthn {case}/{alg_name}",
                    lambda: run_case(bridge, root, case, att, fmt, alg_name, n, fixture),
                )
    with open(fixture_path, "w") as f:
        json.dump({"rp_id": RP_ID, "origin": ORIGIN, "cases": fixture}, f, indent=1)
    print(f"py_webauthn: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
