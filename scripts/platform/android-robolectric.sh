#!/usr/bin/env bash
# The Android SDK and app running under Robolectric (android/robolectric): compiles android/sdk, android/app and
# the generated bindings and runs their JUnit 4 tests in Robolectric's Android sandbox at SDK 28, 29, 31, 33 and
# 34, with the host libtandem_ffi.so loaded through JNA and the tunnel server and desktop peer (the tandem binary)
# on loopback for whole hybrid ceremonies.
# Needs: JDK 17+, Maven, Maven Central once. The first run downloads Robolectric's android-all-instrumented jar
# for each SDK level (about 100-145 MB each) into ~/.m2; later runs work offline.
source "$(dirname "$0")/lib.sh"
timed android-robolectric
cd "$ROOT"
command -v mvn >/dev/null || need_apt maven
command -v javac >/dev/null || need_apt openjdk-17-jdk-headless

"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
run cargo-build-tandem cargo build -p tandem

MVN_OPTS=(-B -q -f android/robolectric/pom.xml "-Dtandem.lib.dir=$CARGO_TARGET_DIR/debug"
    "-Dtandem.bin.dir=$CARGO_TARGET_DIR/debug")
# Offline when every dependency is already in ~/.m2 (CI after the first run), online otherwise. Robolectric
# fetches the android-all-instrumented jars itself (not Maven dependencies), also into ~/.m2.
# Surefire's JUnit 4 provider is fetched at test time, so dependency:resolve does not vouch for it.
if [ -d "$HOME/.m2/repository/org/apache/maven/surefire/surefire-junit4" ] &&
    mvn "${MVN_OPTS[@]}" -o dependency:resolve-plugins dependency:resolve >/dev/null 2>&1; then
    MVN_OPTS+=(-o)
fi
run maven-robolectric mvn "${MVN_OPTS[@]}" test
grep -h "Tests run:" android/robolectric/target/surefire-reports/*.txt | awk -F'[ ,]+' \
    '{r+=$3; f+=$5; e+=$7; s+=$9} END {printf "android-robolectric: %d passed, %d failed, %d skipped\n", r-f-e-s, f+e, s}'
