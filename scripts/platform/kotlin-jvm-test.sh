#!/usr/bin/env bash
# Kotlin SDK on the JVM: builds the host library, generates the Kotlin bindings, compiles them with the SDK
# wrapper (android/sdk/src/main/kotlin) and runs the JUnit 5 tests in android/sdk-jvm with Maven.
# Needs: JDK 17+, Maven (Debian: maven), Maven Central once (later runs work offline from ~/.m2).
source "$(dirname "$0")/lib.sh"
timed kotlin-jvm-test
cd "$ROOT"
command -v mvn >/dev/null || need_apt maven
command -v javac >/dev/null || need_apt openjdk-17-jdk-headless

"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
# The end-to-end tests drive the real tunnel server and desktop peer (the tandem binary) on loopback.
run cargo-build-tandem cargo build -p tandem-cli

MVN_OPTS=(-B -q -f android/sdk-jvm/pom.xml "-Dtandem.lib.dir=$CARGO_TARGET_DIR/debug"
    "-Dtandem.bin.dir=$CARGO_TARGET_DIR/debug")
# Offline when every dependency is already in ~/.m2 (CI after the first run), online otherwise.
if mvn "${MVN_OPTS[@]}" -o dependency:resolve-plugins dependency:resolve >/dev/null 2>&1; then
    MVN_OPTS+=(-o)
fi
run maven-test mvn "${MVN_OPTS[@]}" test
# Surefire's summary line, so CI logs show the count.
grep -h "Tests run:" android/sdk-jvm/target/surefire-reports/*.txt | awk -F'[ ,]+' \
    '{r+=$3; f+=$5; e+=$7; s+=$9} END {printf "kotlin-jvm: %d passed, %d failed, %d skipped\n", r-f-e-s, f+e, s}'
