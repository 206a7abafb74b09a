# Shared helpers for scripts/platform/*.sh (sourced, not run).
# Every script is quiet on success: tool output goes to a log that is printed only when a step fails.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TERM_COLOR=never
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
LOG_DIR="${TANDEM_LOG_DIR:-$CARGO_TARGET_DIR/platform-logs}"
mkdir -p "$LOG_DIR"

# run NAME CMD...: runs CMD with its output in $LOG_DIR/NAME.log; on failure prints the log's tail and exits.
run() {
    local name="$1"
    shift
    if ! "$@" >"$LOG_DIR/$name.log" 2>&1; then
        echo "FAILED: $name ($*)" >&2
        tail -n 80 "$LOG_DIR/$name.log" >&2
        exit 1
    fi
}

# need_apt PKG...: installs the Debian packages that are missing.
need_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        run apt-update $SUDO apt-get update -qq
        run apt-install env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
    fi
}

# need_target TRIPLE...: adds the rustup targets that are missing.
need_target() {
    local installed t
    installed="$(rustup target list --installed)"
    for t in "$@"; do
        grep -qx "$t" <<<"$installed" || run "rustup-$t" rustup target add "$t"
    done
}

# timed LABEL: prints how long the script took when it exits successfully (set TANDEM_QUIET_TIME=1 to hide).
timed() {
    TIMED_LABEL="$1"
    TIMED_START=$SECONDS
    trap 'rc=$?; [ $rc -eq 0 ] && [ -z "${TANDEM_QUIET_TIME:-}" ] && echo "$TIMED_LABEL: ok ($((SECONDS - TIMED_START))s)"; exit $rc' EXIT
}
