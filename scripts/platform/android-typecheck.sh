#!/usr/bin/env bash
# Type-checks the Android SDK and app Kotlin (android/sdk, android/app, generated bindings) with Maven against
# Robolectric's android-all (Android 14) from Maven Central: no Android SDK, Gradle or AndroidX needed.
# What it cannot check (resources, manifest merge, packaging, running on a device) needs Android Studio; see
# android/README.md.
source "$(dirname "$0")/lib.sh"
timed android-typecheck
cd "$ROOT"
command -v mvn >/dev/null || need_apt maven

"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
MVN_OPTS=(-B -q -f android/typecheck/pom.xml)
if mvn "${MVN_OPTS[@]}" -o dependency:resolve-plugins dependency:resolve >/dev/null 2>&1; then
    MVN_OPTS+=(-o)
fi
run maven-android-typecheck mvn "${MVN_OPTS[@]}" compile
