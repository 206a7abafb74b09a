package dev.tandem.sdk.android

import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import android.os.Looper
import dev.tandem.ffi.UserVerifier
import dev.tandem.ffi.VerificationException
import dev.tandem.ffi.VerificationPrompt
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

/**
 * A [UserVerifier] that shows the platform BiometricPrompt (strong biometric or the screen lock) and blocks
 * the calling engine thread until the user answers. [context] must be an Activity (or have one on screen):
 * the prompt is shown over it.
 */
class BiometricVerifier(
    private val context: Context,
    private val timeoutSecs: Long = 120,
) : UserVerifier {
    override fun verify(prompt: VerificationPrompt) {
        if (Looper.myLooper() == Looper.getMainLooper()) {
            // Blocking the main thread would deadlock: the prompt's callbacks arrive on it.
            throw VerificationException.Unavailable("verify() called on the main thread")
        }
        val outcome = AtomicReference<VerificationException?>()
        val done = CountDownLatch(1)
        val cancel = CancellationSignal()
        val executor = context.mainExecutor
        val callback = object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                done.countDown()
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                outcome.set(mapError(errorCode, errString.toString()))
                done.countDown()
            }
            // onAuthenticationFailed is one rejected attempt; the prompt stays up for another.
        }
        executor.execute {
            try {
                build(prompt).authenticate(cancel, executor, callback)
            } catch (e: RuntimeException) {
                outcome.set(VerificationException.Unavailable("cannot show the prompt: $e"))
                done.countDown()
            }
        }
        if (!done.await(timeoutSecs, TimeUnit.SECONDS)) {
            cancel.cancel()
            throw VerificationException.TimedOut()
        }
        outcome.get()?.let { throw it }
    }

    private fun build(prompt: VerificationPrompt): BiometricPrompt {
        // Title from the RP ID (built in Rust, VerificationPrompt::title); the RP's claimed name only in the
        // subtitle, beside the account, so "Google" cannot front evil.example.
        val builder = BiometricPrompt.Builder(context)
            .setTitle(prompt.title)
            .apply { prompt.subtitle?.let(::setSubtitle) }
        when {
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.R -> builder.setAllowedAuthenticators(
                BiometricManager.Authenticators.BIOMETRIC_STRONG or BiometricManager.Authenticators.DEVICE_CREDENTIAL,
            )
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q -> {
                @Suppress("DEPRECATION")
                builder.setDeviceCredentialAllowed(true)
            }
            // Android 9 has no screen-lock fallback in BiometricPrompt (setDeviceCredentialAllowed is API 29:
            // calling it there is a NoSuchMethodError) and requires a negative button instead. Pressing it also
            // reaches the callback as BIOMETRIC_ERROR_NEGATIVE_BUTTON, so the listener has nothing to do.
            else -> builder.setNegativeButton("Cancel", context.mainExecutor) { _, _ -> }
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
