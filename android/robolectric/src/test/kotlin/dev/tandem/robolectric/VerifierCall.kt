package dev.tandem.robolectric

import dev.tandem.ffi.UnlockedUvKey
import dev.tandem.ffi.VerificationPrompt
import dev.tandem.sdk.android.BiometricVerifier

/**
 * The one place the tests call [BiometricVerifier.verify] directly (the engine's own calls go through uniffi).
 * verify is becoming a cancellable `suspend fun`: then only this body changes (to `runBlocking { ... }`).
 */
fun callVerify(verifier: BiometricVerifier, prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey =
    verifier.verify(prompt, wrappedKey)
