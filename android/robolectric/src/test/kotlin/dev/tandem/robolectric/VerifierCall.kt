package dev.tandem.robolectric

import dev.tandem.BiometricVerifier
import dev.tandem.UnlockedUvKey
import dev.tandem.VerificationPrompt
import kotlinx.coroutines.runBlocking

/**
 * The one place the tests call [BiometricVerifier.verify] directly (the engine's own calls go through uniffi):
 * from a plain thread, waiting for the suspend fun to finish.
 */
fun callVerify(verifier: BiometricVerifier, prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey =
    runBlocking { verifier.verify(prompt, wrappedKey) }
