#!/usr/bin/env bash
# The main job: a full hybrid ceremony on this machine. A tunnel server on loopback, the desktop peer and a virtual
# phone with a simulated radio and a SQLite credential file run in one process; the phone registers a passkey,
# then signs in with it, and both results are verified by a relying-party library (webauthn-rs).
# Extra arguments go to `tandem demo` (see `tandem demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --locked -q -p tandem-cli -- demo "$@"
