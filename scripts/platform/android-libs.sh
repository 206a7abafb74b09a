#!/usr/bin/env bash
# Builds libtandem_ffi.so for Android (arm64-v8a, x86_64) with cargo-ndk into android/sdk/src/main/jniLibs,
# and regenerates the Kotlin bindings. Needs the Android NDK (ANDROID_NDK_HOME); installs cargo-ndk and the
# rustup targets. Release profile (LTO, strip); set TANDEM_ANDROID_PROFILE=dev for a quick debug build.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if [ -z "${ANDROID_NDK_HOME:-}" ] || [ ! -d "$ANDROID_NDK_HOME" ]; then
    echo "android-libs: set ANDROID_NDK_HOME to an installed Android NDK (r26 or newer)" >&2
    exit 2
fi
need_target aarch64-linux-android x86_64-linux-android
command -v cargo-ndk >/dev/null || run cargo-install-ndk cargo install --locked cargo-ndk
"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
PROFILE_ARGS=(--release)
[ "${TANDEM_ANDROID_PROFILE:-release}" = dev ] && PROFILE_ARGS=()
run cargo-ndk cargo ndk -t arm64-v8a -t x86_64 --platform 28 -o android/sdk/src/main/jniLibs \
    build -p tandem-ffi --lib "${PROFILE_ARGS[@]}"
echo "android-libs: $(find android/sdk/src/main/jniLibs -name '*.so' | wc -l) libraries in android/sdk/src/main/jniLibs"
