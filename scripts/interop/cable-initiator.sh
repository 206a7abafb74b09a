#!/usr/bin/env bash
# A real third-party hybrid initiator (kanidm's webauthn-authenticator-rs 0.6.2, features cable +
# cable-override-tunnel) registers and signs in with Tandem's phone (`tandem phone`); webauthn-rs verifies.
# BLE: the library scans through btleplug → BlueZ (D-Bus system bus); we run tandem-radio's fake-bluez on a
# private dbus-daemon and point DBUS_SYSTEM_BUS_ADDRESS at it; the phone's printed advert is injected there
# as 0xFFF9 service data. Runs twice: through Tandem's tunnel server and through webauthn-rs'
# cable-tunnel-server-backend (plain HTTP on loopback).
#   CABLE_TUNNELS="tandem webauthn-rs"   which tunnel servers to use (default both)
# Needs: dbus-daemon + dbus-send (Debian dbus-daemon, dbus-bin), libdbus-1-dev, libssl-dev, pkg-config.
source "$(dirname "$0")/common.sh"
TUNNELS="${CABLE_TUNNELS:-tandem webauthn-rs}"
command -v dbus-daemon >/dev/null && command -v dbus-send >/dev/null || die "dbus-daemon and dbus-send are required"

# Builds (the initiator has its own workspace, lockfile and target dir, kept out of the main build).
WS_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && timed "build tandem + fake-bluez" env CARGO_TARGET_DIR="$WS_TARGET" \
    cargo build --quiet -p tandem-cli -p tandem-radio --bins) >&2
TANDEM="$WS_TARGET/debug/tandem"; FAKE_BLUEZ="$WS_TARGET/debug/fake-bluez"
[ -x "$TANDEM" ] && [ -x "$FAKE_BLUEZ" ] || die "tandem or fake-bluez binary missing"
INIT_TARGET="$INTEROP_DIR/cable-initiator-target"
(cd "$ROOT/tests/interop/cable-initiator" && timed "build cable-initiator" \
    env CARGO_TARGET_DIR="$INIT_TARGET" cargo build --quiet --locked) >&2
INITIATOR="$INIT_TARGET/debug/tandem-cable-initiator"
if [[ " $TUNNELS " == *" webauthn-rs "* ]]; then
    # A debug build in the initiator's target dir: it shares most of its dependency tree (tokio, hyper,
    # openssl, the webauthn-rs crates) with the initiator, and a test server needs no optimisation.
    INSTALL_TARGET_DIR="$INIT_TARGET" timed "install cable-tunnel-server-backend" \
        cargo_install_local cable-tunnel-server-backend 0.1.0 --debug
fi

work="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Private system bus with the fake BlueZ.
"$FAKE_BLUEZ" --private-bus >"$work/bluez.out" 2>"$work/bluez.err" & pids+=($!)
for _ in $(seq 100); do grep -q FAKE_BLUEZ_READY "$work/bluez.out" && break; sleep 0.1; done
addr="$(sed -n 's/^FAKE_BLUEZ_READY //p' "$work/bluez.out")"
[ -n "$addr" ] || { cat "$work/bluez.err" >&2; die "fake-bluez did not start"; }
export DBUS_SYSTEM_BUS_ADDRESS="$addr"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

passed=0; failed=0
for tunnel in $TUNNELS; do
    port="$(free_port)"
    case "$tunnel" in
        tandem) "$TANDEM" tunnel --listen "127.0.0.1:$port" >"$work/tunnel-$tunnel.log" 2>&1 & pids+=($!) ;;
        webauthn-rs) cable-tunnel-server-backend --bind-address "127.0.0.1:$port" --insecure-http-server \
                        >"$work/tunnel-$tunnel.log" 2>&1 & pids+=($!) ;;
        *) die "unknown tunnel $tunnel" ;;
    esac
    wait_port "$port" || die "$tunnel tunnel server did not listen on $port"
    log "webauthn-authenticator-rs via the $tunnel tunnel server"
    if timed "ceremony via $tunnel" timeout 180 "$INITIATOR" --tandem "$TANDEM" \
        --tunnel-url "ws://127.0.0.1:$port" --store "$work/phone-$tunnel.sqlite3"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); tail -20 "$work/tunnel-$tunnel.log" >&2 || true
    fi
done
echo "cable-initiator: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
