#!/usr/bin/env bash
# The Android SDK and app running under Robolectric (android/robolectric): compiles android/sdk, android/app and
# the generated bindings and runs their JUnit 4 tests in Robolectric's Android sandbox at SDK 28, 29, 31, 33 and
# 34, and at SDK 35 in a JDK 21+, with the host libtandem_ffi.so loaded through JNA and the tunnel server and
# desktop peer (the tandem binary) on loopback for whole hybrid ceremonies.
# Needs: JDK 17+, Maven, Maven Central once, and for SDK 35 a JDK 21+ (found under /usr/lib/jvm or $TANDEM_JAVA21,
# else Debian's openjdk-21-jdk-headless where the release has it; without one SDK 35 is skipped, and said so).
# The first run downloads Robolectric's android-all-instrumented jar for each SDK level (about 100-145 MB each,
# SDK 35 about 200 MB) into ~/.m2; later runs work offline.
source "$(dirname "$0")/lib.sh"
timed android-robolectric
cd "$ROOT"
command -v mvn >/dev/null || need_apt maven
command -v javac >/dev/null || need_apt openjdk-17-jdk-headless

"$ROOT/scripts/platform/gen-bindings.sh" >/dev/null
run cargo-build-tandem cargo build -p tandem-cli

# A JDK 21+ for SDK 35 (Robolectric refuses it on 17). Maven and the other executions stay on the default JDK.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}'; }
java21=""
for j in ${TANDEM_JAVA21:-} /usr/lib/jvm/*/bin/java; do
    [ -x "$j" ] && [ "$(java_major "$j")" -ge 21 ] 2>/dev/null && { java21="$j"; break; }
done
if [ -z "$java21" ]; then
    run apt-update $SUDO apt-get update -qq
    if apt-cache policy openjdk-21-jdk-headless | grep -q 'Candidate: [0-9]'; then
        need_apt openjdk-21-jdk-headless
        java21="$(ls /usr/lib/jvm/java-21-openjdk-*/bin/java | head -n 1)"
    fi
fi

MVN_OPTS=(-B -q -f android/robolectric/pom.xml "-Dtandem.lib.dir=$CARGO_TARGET_DIR/debug"
    "-Dtandem.bin.dir=$CARGO_TARGET_DIR/debug")
if [ -n "$java21" ]; then
    MVN_OPTS+=(-Dtandem.sdk35.skip=false "-Dtandem.sdk35.java=$java21")
else
    echo "android-robolectric: SDK 35 NOT run: no JDK 21+ installed, and none installable from apt" >&2
fi
rm -rf android/robolectric/target/surefire-reports-sdk35
# Offline when every dependency is already in ~/.m2 (CI after the first run), online otherwise. Robolectric
# fetches the android-all-instrumented jars itself (not Maven dependencies), also into ~/.m2.
# Surefire's JUnit 4 provider is fetched at test time, so dependency:resolve does not vouch for it.
if [ -d "$HOME/.m2/repository/org/apache/maven/surefire/surefire-junit4" ] &&
    mvn "${MVN_OPTS[@]}" -o dependency:resolve-plugins dependency:resolve >/dev/null 2>&1; then
    MVN_OPTS+=(-o)
fi
run maven-robolectric mvn "${MVN_OPTS[@]}" test
cat android/robolectric/target/surefire-reports/*.txt android/robolectric/target/surefire-reports-sdk35/*.txt 2>/dev/null |
    grep -h "Tests run:" | awk -F'[ ,]+' \
    '{r+=$3; f+=$5; e+=$7; s+=$9} END {printf "android-robolectric: %d passed, %d failed, %d skipped\n", r-f-e-s, f+e, s}'
