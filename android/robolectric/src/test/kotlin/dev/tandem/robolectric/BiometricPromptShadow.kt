package dev.tandem.robolectric

import android.content.DialogInterface
import android.hardware.biometrics.BiometricManager.Authenticators
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.Bundle
import android.os.CancellationSignal
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.annotation.RealObject
import org.robolectric.util.ReflectionHelpers
import java.util.Collections
import java.util.concurrent.Executor

/**
 * The system side of `android.hardware.biometrics.BiometricPrompt`, which Robolectric 4.16 does not simulate (its
 * real `authenticate` reaches for a fingerprint service the sandbox lacks and answers HW_NOT_PRESENT; 4.17 has a
 * shadow but breaks advertising on SDK 34, see pom.xml). Register it with `@Config(shadows = [BiometricPromptShadow::class])`.
 *
 * `authenticate` records what the user would see ([Shown]: title, subtitle, negative button, allowed
 * authenticators, the CryptoObject) and leaves the prompt up; the test answers it as the user or the system would,
 * through [Shown]'s methods, which call back through the caller's executor as the framework does. [onShow], when
 * set, is called (on the main thread) with each prompt as it appears, so code that shows prompts deep inside a
 * ceremony can be answered.
 *
 * The argument checks the real `authenticate` makes before it contacts the system are repeated here (null
 * arguments; on Android 10 a device-credential prompt with a CryptoObject; on 11+ a CryptoObject with anything but
 * strong biometrics or the screen lock), so code that would throw on a device throws here too.
 */
@Implements(BiometricPrompt::class, minSdk = Build.VERSION_CODES.P)
class BiometricPromptShadow {
    @RealObject
    private lateinit var real: BiometricPrompt

    /** One prompt on screen and the ways it can end. */
    class Shown internal constructor(
        val title: CharSequence?,
        val subtitle: CharSequence?,
        /** The negative button's text; null when the prompt has none (the screen lock is offered instead). */
        val negativeButtonText: CharSequence?,
        /** `BiometricManager.Authenticators` flags (Android 11+); null before, where the concept does not exist. */
        val allowedAuthenticators: Int?,
        /** The screen lock offered as an alternative (Android 10's flag, or DEVICE_CREDENTIAL on 11+). */
        val deviceCredentialAllowed: Boolean,
        /** What the prompt was asked to authorise; null for the overload without one. */
        val crypto: BiometricPrompt.CryptoObject?,
        private val signal: CancellationSignal,
        private val executor: Executor,
        private val callback: BiometricPrompt.AuthenticationCallback,
        private val negativeButton: Any?,
    ) {
        /** Set when the caller cancelled through the CancellationSignal it passed to `authenticate`. */
        @Volatile
        var cancelled = false
            internal set

        @Volatile
        private var ended = false

        init {
            // The framework listens on the signal the same way (OnAuthenticationCancelListener). It does not
            // promise an error callback after the caller's own cancel, so none is sent.
            signal.setOnCancelListener { cancelled = true }
        }

        /** The user passed: the framework hands back the CryptoObject it was asked to authorise. */
        fun succeed() = succeedWith(crypto)

        /**
         * A success callback carrying [forged] instead of what the prompt authorised, e.g. null: what code
         * faking the callback (a hooked framework, a tapjacked listener) could deliver without any user.
         */
        fun succeedWith(forged: BiometricPrompt.CryptoObject?) = end {
            callback.onAuthenticationSucceeded(authenticationResult(forged))
        }

        /** One rejected attempt (a wrong finger): the prompt stays up for another. */
        fun rejectAttempt() {
            check(!ended) { "the prompt was already answered" }
            executor.execute { callback.onAuthenticationFailed() }
        }

        /** The prompt ends with BiometricPrompt error [code] (BIOMETRIC_ERROR_*), as the system reports it. */
        fun error(code: Int, message: String = "BiometricPrompt error $code") = end {
            callback.onAuthenticationError(code, message)
        }

        /**
         * The user pressed the negative button. As in the framework (BiometricPrompt's IBiometricPromptReceiver,
         * and on Android 9 the fingerprint service, which stops the authentication "initiated by client"), only
         * the button's own listener hears of it: the AuthenticationCallback gets no error.
         */
        fun pressNegativeButton() {
            val info = checkNotNull(negativeButton) { "this prompt has no negative button" }
            val buttonExecutor = ReflectionHelpers.getField<Executor>(info, "executor")
            val listener = ReflectionHelpers.getField<DialogInterface.OnClickListener>(info, "listener")
            end(buttonExecutor) { listener.onClick(null, DialogInterface.BUTTON_NEGATIVE) }
        }

        private fun end(on: Executor = executor, answer: () -> Unit) {
            check(!ended) { "the prompt was already answered" }
            ended = true
            on.execute(answer)
        }
    }

    @Implementation
    protected fun authenticate(
        crypto: BiometricPrompt.CryptoObject?,
        cancel: CancellationSignal?,
        executor: Executor?,
        callback: BiometricPrompt.AuthenticationCallback?,
    ) {
        requireNotNull(crypto) { "Must supply a crypto object" }
        show(crypto, cancel, executor, callback)
    }

    @Implementation
    protected fun authenticate(
        cancel: CancellationSignal?,
        executor: Executor?,
        callback: BiometricPrompt.AuthenticationCallback?,
    ) = show(null, cancel, executor, callback)

    private fun show(
        crypto: BiometricPrompt.CryptoObject?,
        cancel: CancellationSignal?,
        executor: Executor?,
        callback: BiometricPrompt.AuthenticationCallback?,
    ) {
        requireNotNull(cancel) { "Must supply a cancellation signal" }
        requireNotNull(executor) { "Must supply an executor" }
        requireNotNull(callback) { "Must supply a callback" }
        val sdk = Build.VERSION.SDK_INT
        val shown = if (sdk >= Build.VERSION_CODES.R) {
            // Android 11+: public getters over the prompt's PromptInfo (or bundle on 11).
            val allowed = real.allowedAuthenticators
            if (crypto != null) {
                // BiometricPrompt.authenticate(CryptoObject, ...) on 11+: no authenticators means strong biometrics.
                val effective = if (allowed == 0) Authenticators.BIOMETRIC_STRONG else allowed
                require((effective and Authenticators.BIOMETRIC_WEAK and Authenticators.BIOMETRIC_STRONG.inv()) == 0) {
                    "Only Strong biometrics supported with crypto"
                }
            }
            Shown(
                real.title, real.subtitle, real.negativeButtonText, allowed,
                allowed and Authenticators.DEVICE_CREDENTIAL != 0, crypto, cancel, executor, callback, negativeButton(),
            )
        } else {
            // Android 9 and 10 keep the builder's settings in a Bundle under these keys.
            val bundle = ReflectionHelpers.getField<Bundle>(real, "mBundle")
            val deviceCredential = bundle.getBoolean("allow_device_credential")
            require(crypto == null || !deviceCredential) { "Device credential not supported with crypto" }
            Shown(
                bundle.getCharSequence("title"), bundle.getCharSequence("subtitle"), bundle.getCharSequence("negative_text"),
                null, deviceCredential, crypto, cancel, executor, callback, negativeButton(),
            )
        }
        shownPrompts += shown
        onShow?.invoke(shown)
    }

    private fun negativeButton(): Any? = ReflectionHelpers.getField<Any?>(real, "mNegativeButtonInfo")

    companion object {
        private val shownPrompts: MutableList<Shown> = Collections.synchronizedList(mutableListOf())

        /** Every prompt shown since [reset], in order. */
        val shown: List<Shown> get() = synchronized(shownPrompts) { shownPrompts.toList() }

        /** Called on the main thread with each prompt as it is shown (answer it here, or later). */
        @Volatile
        var onShow: ((Shown) -> Unit)? = null

        /** Forgets the prompts and the [onShow] hook (call in @Before: the state is static). */
        fun reset() {
            shownPrompts.clear()
            onShow = null
        }

        /**
         * The framework's AuthenticationResult for [crypto]. Its constructor is hidden and differs by level:
         * (CryptoObject, BiometricIdentifier, userId) on 9, (CryptoObject) on 10, (CryptoObject, authenticationType)
         * on 11+.
         */
        private fun authenticationResult(crypto: BiometricPrompt.CryptoObject?): BiometricPrompt.AuthenticationResult {
            val constructor = BiometricPrompt.AuthenticationResult::class.java.declaredConstructors
                .single { it.parameterTypes.firstOrNull() == BiometricPrompt.CryptoObject::class.java }
            val args = constructor.parameterTypes.mapIndexed { i, type ->
                when {
                    i == 0 -> crypto
                    // 11+: how the user passed; 9: the user ID (0, the owner).
                    type == Int::class.javaPrimitiveType ->
                        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) BiometricPrompt.AUTHENTICATION_RESULT_TYPE_BIOMETRIC else 0
                    else -> null
                }
            }
            constructor.isAccessible = true
            return constructor.newInstance(*args.toTypedArray()) as BiometricPrompt.AuthenticationResult
        }
    }
}
