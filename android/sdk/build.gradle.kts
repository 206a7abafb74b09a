// The Tandem SDK as an Android library: uniffi-generated Kotlin (crates/ffi/generated/kotlin), the
// platform-neutral wrapper (src/main/kotlin, also built and tested on the JVM by android/sdk-jvm), the Android
// platform pieces (src/android/kotlin) and libtandem_ffi.so for arm64-v8a and x86_64 (src/main/jniLibs, built
// by scripts/platform/android-libs.sh with cargo-ndk).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.tandem"
    compileSdk = 35
    defaultConfig {
        minSdk = 28
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].apply {
        kotlin.srcDirs("src/main/kotlin", "src/android/kotlin", "../../crates/ffi/generated/kotlin")
        jniLibs.srcDirs("src/main/jniLibs")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    // JNA's Android flavour carries libjnidispatch.so for every ABI.
    api("net.java.dev.jna:jna:5.19.1@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    // The tunnel's WebSocket (OkHttpWebSocketClient): the platform's TLS, trust store and proxies.
    api("com.squareup.okhttp3:okhttp:4.12.0")
    implementation("com.google.zxing:core:3.5.4")
}

// Regenerates the Kotlin bindings and rebuilds the native libraries when the Rust side changed.
val rustLibs by tasks.registering(Exec::class) {
    workingDir = rootDir.parentFile
    commandLine("scripts/platform/android-libs.sh")
}
tasks.named("preBuild") { dependsOn(rustLibs) }
