#!/usr/bin/env bash
# python-fido2 (2.x, strict CBOR) drives Tandem's engine through tests/src/bin/ctap-bridge.rs.
# Installs fido2/pytest into a venv under target/interop (idempotent). Exits non-zero on any failure.
source "$(dirname "$0")/common.sh"
PY="$(python_venv)"
export TANDEM_CTAP_BRIDGE="$(timed "build ctap-bridge" build_bridge ctap-bridge)"
cd "$ROOT/tests/interop/python"
timed "python-fido2 suite" "$PY" -m pytest -q -p no:cacheprovider test_fido2_client.py test_get_info_rules.py
