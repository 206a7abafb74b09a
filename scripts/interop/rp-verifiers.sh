#!/usr/bin/env bash
# Relying-party libraries written by others verify Tandem's W3C PublicKeyCredential JSON:
# py_webauthn (PyPI `webauthn`) makes the options, drives Tandem (ctap-bridge WebAuthn channel) and verifies;
# @simplewebauthn/server (npm, pinned in tests/interop/node) re-verifies the same recorded ceremonies.
# Cases: attestation none / packed self / packed x5c × ES256 / Ed25519, two sign-ins each, negative controls.
source "$(dirname "$0")/common.sh"
PY="$(python_venv)"
node_modules
export TANDEM_CTAP_BRIDGE="$(timed "build ctap-bridge" build_bridge ctap-bridge)"
fixture="$INTEROP_DIR/rp-fixture.json"
rm -f "$fixture"
(cd "$ROOT/tests/interop/python" && timed "py_webauthn" "$PY" rp_verify.py "$fixture")
(cd "$ROOT/tests/interop/node" && timed "simplewebauthn" node verify.mjs "$fixture")
