#!/usr/bin/env bash
# A real Chromium (Debian's `chromium` package, under Xvfb) is the desktop: it shows its QR sheet, finds
# `tandem phone`'s advert through a simulated BlueZ (fake-bluez on a private system bus), reaches Tandem's tunnel
# server over wss:// on loopback, and returns the credentials to a relying-party page; py_webauthn verifies.
# Registration, sign-in with an empty allow list and with allowCredentials, PRF (same salt → same result).
# Harness: tests/interop/chromium/harness.py. On failure, screenshots and logs stay in target/chromium-e2e/.
# Needs (installed here if missing): chromium xvfb zbar-tools imagemagick dbus-daemon openssl. No clicks are
# needed (hints: ["hybrid"] + cross-platform goes straight to the QR sheet), so no xdotool.
source "$(dirname "$0")/common.sh"

# Debian packages through the one installer (scripts/setup.sh, idempotent and quiet when all is there).
TANDEM_EXTRA_APT="chromium xvfb zbar-tools imagemagick openssl dbus-daemon" "$ROOT/scripts/setup.sh" >&2 \
    || die "set-up of the Debian packages failed"
# Missing after set-up is a failure, not a skip: this suite exists to run the real browser.
for tool in chromium Xvfb zbarimg import openssl dbus-daemon; do
    command -v "$tool" >/dev/null || die "$tool is not installed after set-up"
done
log "$(chromium --version 2>/dev/null | head -1)"

PY="$(python_venv)"
WS_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && timed "build tandem + fake-bluez" env CARGO_TARGET_DIR="$WS_TARGET" \
    cargo build --quiet -p tandem-cli -p tandem-radio --bins) >&2
TANDEM="$WS_TARGET/debug/tandem"; FAKE_BLUEZ="$WS_TARGET/debug/fake-bluez"
[ -x "$TANDEM" ] && [ -x "$FAKE_BLUEZ" ] || die "tandem or fake-bluez binary missing"

timed "chromium ceremonies" "$PY" "$ROOT/tests/interop/chromium/harness.py" \
    --tandem "$TANDEM" --fake-bluez "$FAKE_BLUEZ" --out "$ROOT/target/chromium-e2e" ${CHROMIUM_E2E_ARGS:-}
