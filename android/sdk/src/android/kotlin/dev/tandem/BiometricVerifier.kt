package dev.tandem

import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.TimeUnit
import kotlin.coroutines.resumeWithException

/**
 * A [UserVerifier] that shows the platform BiometricPrompt (strong biometric, or the screen lock on Android
 * 11+) and suspends until the user answers; no thread waits meanwhile. [context] must be an Activity (or have
 * one on screen): the prompt is shown over it.
 *
 * The prompt authenticates a `CryptoObject`: the cipher of [uvKey]'s auth-bound Keystore key, which then
 * unwraps the engine's UV key (or wraps a new one on the store's first verification). Code that fakes the
 * prompt's success callback gets a cipher the Keystore refuses to use, so no key and no signature.
 *
 * Cancelling the calling coroutine (the library does when the request is abandoned: the app's own coroutine
 * cancelled, a hybrid session timed out) dismisses the prompt through its `CancellationSignal`; so does
 * [timeoutSecs] passing without an answer ([VerificationException.TimedOut]).
 */
class BiometricVerifier(
    private val context: Context,
    private val timeoutSecs: Long = 120,
    private val uvKey: KeystoreUvKey = KeystoreUvKey(context),
) : UserVerifier {
    override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey {
        val cipher = uvKey.cipherFor(wrappedKey)
        return withTimeoutOrNull(TimeUnit.SECONDS.toMillis(timeoutSecs)) {
            suspendCancellableCoroutine { continuation ->
                val cancel = CancellationSignal()
                val executor = context.mainExecutor
                val callback = object : BiometricPrompt.AuthenticationCallback() {
                    override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                        // The cipher the framework hands back is the one it authorised for this operation; a
                        // success without one (a faked callback) unlocks nothing.
                        val answer = runCatching {
                            val authorised = result.cryptoObject?.cipher
                                ?: throw VerificationException.Unavailable("the prompt returned no CryptoObject")
                            // Only the cipher this prompt was asked to authorise: a forged callback carrying
                            // some other cipher is a refusal, not a reason to call the UV key lost.
                            if (authorised !== cipher) {
                                throw VerificationException.Unavailable("the prompt returned another CryptoObject")
                            }
                            uvKey.finish(authorised, wrappedKey)
                        }
                        if (continuation.isActive) continuation.resumeWith(answer)
                    }

                    override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                        if (continuation.isActive) continuation.resumeWithException(mapError(errorCode, errString.toString()))
                    }
                    // onAuthenticationFailed is one rejected attempt; the prompt stays up for another.
                }
                // Cancelled coroutine (request abandoned, timeout): take the prompt down. Its error callback
                // (BIOMETRIC_ERROR_CANCELED) then finds the continuation no longer active.
                continuation.invokeOnCancellation { cancel.cancel() }
                executor.execute {
                    if (!continuation.isActive) return@execute
                    try {
                        val dialog = build(prompt) {
                            // Android 9 and 10: the negative button. The framework tells only this listener,
                            // never the callback, so without an answer here the engine would wait out the
                            // whole timeout.
                            if (continuation.isActive) {
                                continuation.resumeWithException(
                                    mapError(BiometricPrompt.BIOMETRIC_ERROR_NEGATIVE_BUTTON, "the user pressed Cancel"),
                                )
                            }
                        }
                        dialog.authenticate(BiometricPrompt.CryptoObject(cipher), cancel, executor, callback)
                    } catch (e: RuntimeException) {
                        if (continuation.isActive) {
                            continuation.resumeWithException(VerificationException.Unavailable("cannot show the prompt: $e"))
                        }
                    }
                }
            }
        } ?: throw VerificationException.TimedOut()
    }

    private fun build(prompt: VerificationPrompt, onNegativeButton: () -> Unit): BiometricPrompt {
        // Title from the RP ID (built in Rust, VerificationPrompt::title); the RP's claimed name only in the
        // subtitle, beside the account, so "Google" cannot front evil.example.
        val builder = BiometricPrompt.Builder(context)
            .setTitle(prompt.title)
            .apply { prompt.subtitle?.let(::setSubtitle) }
        when {
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.R -> builder.setAllowedAuthenticators(
                BiometricManager.Authenticators.BIOMETRIC_STRONG or BiometricManager.Authenticators.DEVICE_CREDENTIAL,
            )
            // Before Android 11 a CryptoObject can only be authorised by a biometric (Android 10's
            // setDeviceCredentialAllowed refuses crypto, and Android 9 has no screen-lock fallback at all), so
            // the prompt has a negative button instead. Pressing it reaches only the button's listener (the
            // AuthenticationCallback gets no BIOMETRIC_ERROR_NEGATIVE_BUTTON from the framework; that code is
            // the support library's), so the listener ends the verification.
            else -> builder.setNegativeButton("Cancel", context.mainExecutor) { _, _ -> onNegativeButton() }
        }
        return builder.build()
    }

    companion object {
        /** Maps a BiometricPrompt error code to the engine's verification outcome. */
        @JvmStatic
        fun mapError(code: Int, message: String): VerificationException = when (code) {
            BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED,
            BiometricPrompt.BIOMETRIC_ERROR_CANCELED -> VerificationException.Cancelled()
            BiometricPrompt.BIOMETRIC_ERROR_NEGATIVE_BUTTON -> VerificationException.Denied()
            BiometricPrompt.BIOMETRIC_ERROR_TIMEOUT -> VerificationException.TimedOut()
            else -> VerificationException.Unavailable("$message (BiometricPrompt error $code)")
        }
    }
}
