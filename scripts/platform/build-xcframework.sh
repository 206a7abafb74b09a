#!/usr/bin/env bash
# Builds ios/TandemKit/TandemFFIC.xcframework: the Rust static library for iOS devices (arm64) and the
# simulator (arm64 + x86_64, merged with lipo), with the uniffi C header and module map. Needs a Mac with Xcode
# (xcodebuild, lipo) and rustup. Then `swift build` / `swift test` in ios/TandemKit, or open ios/ with XcodeGen.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if [ "$(uname)" != Darwin ]; then
    echo "build-xcframework: needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 2
fi
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
need_target "${TARGETS[@]}"
"$ROOT/scripts/platform/gen-bindings.sh"
for t in "${TARGETS[@]}"; do
    run "ffi-release-$t" cargo build --release -p tandem-ffi --lib --target "$t"
done

WORK="$CARGO_TARGET_DIR/xcframework"
rm -rf "$WORK" && mkdir -p "$WORK/headers" "$WORK/sim"
cp crates/ffi/generated/swift/TandemFFIC.h "$WORK/headers/"
# Inside an XCFramework the module map must be called module.modulemap.
cp crates/ffi/generated/swift/TandemFFIC.modulemap "$WORK/headers/module.modulemap"
lipo -create \
    "$CARGO_TARGET_DIR/aarch64-apple-ios-sim/release/libtandem_ffi.a" \
    "$CARGO_TARGET_DIR/x86_64-apple-ios/release/libtandem_ffi.a" \
    -output "$WORK/sim/libtandem_ffi.a"

OUT="$ROOT/ios/TandemKit/TandemFFIC.xcframework"
rm -rf "$OUT"
run xcodebuild xcodebuild -create-xcframework \
    -library "$CARGO_TARGET_DIR/aarch64-apple-ios/release/libtandem_ffi.a" -headers "$WORK/headers" \
    -library "$WORK/sim/libtandem_ffi.a" -headers "$WORK/headers" \
    -output "$OUT"
echo "built ${OUT#$ROOT/}"
