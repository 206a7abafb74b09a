#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the debug (unstripped) build of tandem-ffi.
#
#   scripts/platform/gen-bindings.sh            # -> crates/ffi/generated/{kotlin,swift,python}
#
# uniffi reads the interface from metadata symbols in the library, so the library must not be stripped: that is
# why this uses the debug build. The generated files are not committed (they must match the library byte for
# byte: uniffi checks a checksum per function at load time); every consumer (Maven, Gradle, SwiftPM) reads them
# from crates/ffi/generated/. The Swift sources are also copied into the Swift package (ios/TandemKit).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

OUT="$ROOT/crates/ffi/generated"
run cargo-build-ffi cargo build -p tandem-ffi --features bindgen-cli --lib --bin uniffi-bindgen
LIB="$CARGO_TARGET_DIR/debug/libtandem_ffi.so"
BINDGEN="$CARGO_TARGET_DIR/debug/uniffi-bindgen"

rm -rf "$OUT"
for lang in kotlin swift python; do
    run "bindgen-$lang" "$BINDGEN" generate --library "$LIB" --language "$lang" --out-dir "$OUT/$lang" --no-format
done

# SwiftPM wants sources inside the package: the generated Swift goes into the TandemFFI target. The C header and
# module map travel inside the XCFramework (scripts/platform/build-xcframework.sh).
SWIFT_PKG="$ROOT/ios/TandemKit"
if [ -d "$SWIFT_PKG" ]; then
    mkdir -p "$SWIFT_PKG/Sources/TandemFFI"
    cp "$OUT/swift/TandemFFI.swift" "$SWIFT_PKG/Sources/TandemFFI/TandemFFI.swift"
fi
echo "bindings generated in ${OUT#$ROOT/}"
