// Tandem for Android: the `sdk` library (Kotlin bindings + Android platform pieces + native libraries) and
// the sample `app` (QR scanning, BLE advertising, BiometricPrompt, Keystore, credential provider).
// Before the first build: scripts/platform/gen-bindings.sh and scripts/platform/android-libs.sh (see README.md).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "tandem-android"
include(":sdk", ":app")
