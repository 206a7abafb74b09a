#!/usr/bin/env bash
# Runs every test Tandem has. Installs what it needs first (scripts/setup.sh). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# The BlueZ-over-D-Bus tests must run here, not skip: setup.sh installs dbus-daemon.
export TANDEM_REQUIRE_DBUS=1

step() { printf '\n=== %s\n' "$*"; }

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests"
cargo test --workspace --locked
