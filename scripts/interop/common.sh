# Shared helpers for scripts/interop/*.sh (sourced, not run).
# Everything these scripts install goes under $INTEROP_DIR (default: target/interop in the repo), so the
# scripts are idempotent and leave the system alone apart from Debian packages and rustup toolchains.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INTEROP_DIR="${TANDEM_INTEROP_DIR:-$ROOT/target/interop}"
mkdir -p "$INTEROP_DIR"
TOOLS="$INTEROP_DIR/tools"
export PATH="$TOOLS/bin:$PATH"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Runs a step and prints how long it took (the lead wants per-harness timings).
timed() {
    local label="$1"; shift
    local t0; t0=$(date +%s)
    "$@"
    log "$label took $(( $(date +%s) - t0 )) s"
}

# cargo install into the local tools root, only when the wanted version is not there yet.
cargo_install_local() { # crate version [extra cargo install args...]
    local crate="$1" version="$2"; shift 2
    if [ -f "$TOOLS/.crates.toml" ] && grep -q "\"$crate $version " "$TOOLS/.crates.toml"; then
        return 0
    fi
    log "installing $crate $version into $TOOLS"
    CARGO_TARGET_DIR="${INSTALL_TARGET_DIR:-$INTEROP_DIR/cargo-install-target}" \
        cargo install --locked --quiet --root "$TOOLS" --version "$version" "$crate" "$@"
}

# A Python venv with the interop packages (pinned), created or updated only when requirements change.
python_venv() {
    local venv="$INTEROP_DIR/venv" req="$ROOT/tests/interop/python/requirements.txt"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! cmp -s "$req" "$venv/.installed-requirements"; then
        log "installing Python packages into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
        cp "$req" "$venv/.installed-requirements"
    fi
    echo "$venv/bin/python"
}

# npm ci for tests/interop/node, only when the lockfile changed.
node_modules() {
    local dir="$ROOT/tests/interop/node"
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock" 2>/dev/null; then
        log "npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock"
    fi
}

# Builds a tandem-tests bridge binary (debug profile) into the interop target dir and prints its path.
build_bridge() { # bin-name
    local target="${CARGO_TARGET_DIR:-$ROOT/target}"
    # The test build makes tandem-tests' binaries too, with the workspace's test feature set. After the "rust
    # tests" suite this is a no-op; `cargo build -p tandem-tests` would resolve features differently and
    # rebuild half the tree (about 2 minutes cold).
    (cd "$ROOT" && CARGO_TARGET_DIR="$target" cargo test --workspace --locked --no-run --quiet) >&2
    [ -x "$target/debug/$1" ] || die "$1 was not built by the workspace test build"
    echo "$target/debug/$1"
}
