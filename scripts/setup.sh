#!/usr/bin/env bash
# Installs everything the demo and the test suite need on a fresh Debian machine. Idempotent and quiet when
# everything is already there. Run as root (CI and the dev machines are), or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Debian packages: OpenSSL headers (webauthn-rs as a relying-party verifier), D-Bus (btleplug, BlueZ simulation),
# cross toolchain + qemu (aarch64 checks), clang (C header check), Python (doc-reference check).
APT_PACKAGES=(pkg-config libssl-dev libdbus-1-dev dbus-daemon python3)
missing=()
for p in "${APT_PACKAGES[@]}" ${TANDEM_EXTRA_APT:-}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rust components used by the checks.
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
