package dev.tandem.robolectric

import android.hardware.biometrics.BiometricManager.Authenticators
import android.hardware.biometrics.BiometricPrompt
import android.os.Looper
import dev.tandem.AccountInfo
import dev.tandem.BiometricVerifier
import dev.tandem.KeystoreUvKey
import dev.tandem.Operation
import dev.tandem.UnlockedUvKey
import dev.tandem.VerificationException
import dev.tandem.VerificationPrompt
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import org.robolectric.annotation.Config
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import kotlin.reflect.KClass
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail

/**
 * BiometricVerifier against the BiometricPrompt answers a device gives (BiometricPromptShadow): the user passing
 * (the UV key wrapped, then unwrapped, through the CryptoObject's cipher), cancelling, the negative button,
 * lockout, no hardware, timeouts, and a success callback that carries no CryptoObject. At every SDK level of
 * the suite.
 */
@RunWith(RobolectricTestRunner::class)
@Config(shadows = [BiometricPromptShadow::class])
class BiometricPromptFlowTest {
    private val app get() = RuntimeEnvironment.getApplication()

    // What the engine builds for a sign-in at evil.example whose RP claims to be "Google" (bindings' From impl).
    private val prompt = VerificationPrompt(
        Operation.SIGN_IN, "evil.example", "Google", AccountInfo(byteArrayOf(1), "alice@gmail.com", null),
        "Sign in to evil.example", "alice@gmail.com · named \"Google\"",
    )

    @Before
    fun setUp() {
        FakeAndroidKeyStore.install()
        BiometricPromptShadow.reset()
    }

    @After
    fun tearDown() {
        FakeAndroidKeyStore.uninstall()
        BiometricPromptShadow.reset()
    }

    /**
     * Runs verify on an engine thread (as the engine calls it) while the main looper turns (the prompt is shown
     * and answered there); [answer] is called with each prompt as it appears.
     */
    private fun verifyAnswering(
        wrapped: ByteArray?,
        verifier: BiometricVerifier = BiometricVerifier(app, timeoutSecs = 10),
        answer: (BiometricPromptShadow.Shown) -> Unit,
    ): Result<UnlockedUvKey> {
        BiometricPromptShadow.onShow = answer
        val result = AtomicReference<Result<UnlockedUvKey>>()
        val engine = Thread { result.set(runCatching { callVerify(verifier, prompt, wrapped) }) }
        val started = System.nanoTime()
        engine.start()
        while (engine.isAlive) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
            if (System.nanoTime() - started > TimeUnit.SECONDS.toNanos(30)) fail("verify did not return")
        }
        return result.get()
    }

    private fun outcomeOf(code: Int): Throwable? = verifyAnswering(null) { it.error(code) }.exceptionOrNull()

    /** The UV key KeystoreUvKey wrapped, unwrapped here with the Keystore key itself (not through the verifier). */
    private fun unwrapWithKeystoreKey(wrapped: ByteArray): ByteArray {
        val key = assertNotNull(FakeAndroidKeyStore.keys[KeystoreUvKey.DEFAULT_ALIAS], "no Keystore key was made")
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        cipher.updateAAD("tandem uv key v1".toByteArray())
        return cipher.doFinal(wrapped, 12, wrapped.size - 12)
    }

    @Test
    fun `the user passes - a fresh UV key wrapped under the Keystore key, then the same key unwrapped`() {
        val first = verifyAnswering(null) { it.succeed() }.getOrThrow()
        assertEquals(32, first.key.size)
        assertContentEquals(first.key, unwrapWithKeystoreKey(first.wrappedKey), "the key returned is the key wrapped")

        val again = verifyAnswering(first.wrappedKey) { it.succeed() }.getOrThrow()
        assertContentEquals(first.key, again.key)
        assertContentEquals(first.wrappedKey, again.wrappedKey)

        // Both prompts authorised the UV key's own cipher: encryption first, then decryption of the wrapped key
        // (its IV is the wrapped key's first 12 bytes).
        val (wrap, unwrap) = BiometricPromptShadow.shown.map { assertNotNull(it.crypto?.cipher, "no CryptoObject cipher") }
        assertEquals("AES/GCM/NoPadding", wrap.algorithm)
        assertContentEquals(first.wrappedKey.copyOf(12), unwrap.iv)
        assertEquals(1, FakeAndroidKeyStore.specs.size, "one Keystore key")
    }

    @Test
    fun `a success callback without a CryptoObject yields no key`() {
        // What hooking the framework or faking the callback gets: no cipher the Keystore authorised, so nothing
        // is unwrapped and no key reaches the engine.
        val e = verifyAnswering(null) { it.succeedWith(null) }.exceptionOrNull()
        assertIs<VerificationException.Unavailable>(e, "outcome: $e")
        assertTrue("no CryptoObject" in e.reason, e.reason)

        val enrolled = verifyAnswering(null) { it.succeed() }.getOrThrow()
        val forgedUnwrap = verifyAnswering(enrolled.wrappedKey) { it.succeedWith(null) }.exceptionOrNull()
        assertIs<VerificationException.Unavailable>(forgedUnwrap, "outcome: $forgedUnwrap")
    }

    @Test
    fun `a success callback carrying some other cipher yields no key and is not key loss`() {
        val enrolled = verifyAnswering(null) { it.succeed() }.getOrThrow()
        // A cipher the hook made itself (any key): not the one the prompt was asked to authorise.
        val other = Cipher.getInstance("AES/GCM/NoPadding").apply {
            init(Cipher.ENCRYPT_MODE, javax.crypto.spec.SecretKeySpec(ByteArray(32), "AES"))
        }
        val e = verifyAnswering(enrolled.wrappedKey) {
            it.succeedWith(android.hardware.biometrics.BiometricPrompt.CryptoObject(other))
        }.exceptionOrNull()
        assertIs<VerificationException.Unavailable>(e, "outcome: $e")
        assertTrue("another CryptoObject" in e.reason, e.reason)
    }

    @Test
    fun `the user cancels the prompt`() {
        assertIs<VerificationException.Cancelled>(outcomeOf(BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED))
    }

    @Test
    fun `lockout, temporary or permanent, is unavailable verification`() {
        // Too many failed attempts: the core's Unavailable ("no biometric ... or it is locked out", CTAP2 UV blocked).
        for (code in listOf(BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT, BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT_PERMANENT)) {
            val e = outcomeOf(code)
            assertIs<VerificationException.Unavailable>(e, "error $code: $e")
            assertTrue("BiometricPrompt error $code" in e.reason, e.reason)
        }
    }

    @Test
    fun `no hardware, or nothing enrolled, is unavailable verification`() {
        for (code in listOf(
            BiometricPrompt.BIOMETRIC_ERROR_HW_NOT_PRESENT,
            BiometricPrompt.BIOMETRIC_ERROR_HW_UNAVAILABLE,
            BiometricPrompt.BIOMETRIC_ERROR_NO_BIOMETRICS,
        )) {
            assertIs<VerificationException.Unavailable>(outcomeOf(code), "error $code")
        }
    }

    @Test
    fun `every BiometricPrompt error maps to its verification outcome`() {
        val expected: List<Pair<Int, KClass<out VerificationException>>> = listOf(
            BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED to VerificationException.Cancelled::class,
            BiometricPrompt.BIOMETRIC_ERROR_CANCELED to VerificationException.Cancelled::class,
            BiometricPrompt.BIOMETRIC_ERROR_NEGATIVE_BUTTON to VerificationException.Denied::class,
            BiometricPrompt.BIOMETRIC_ERROR_TIMEOUT to VerificationException.TimedOut::class,
            BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT_PERMANENT to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_HW_NOT_PRESENT to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_HW_UNAVAILABLE to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_NO_BIOMETRICS to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_NO_DEVICE_CREDENTIAL to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_UNABLE_TO_PROCESS to VerificationException.Unavailable::class,
            BiometricPrompt.BIOMETRIC_ERROR_VENDOR to VerificationException.Unavailable::class,
        )
        for ((code, outcome) in expected) {
            val e = outcomeOf(code)
            assertTrue(outcome.isInstance(e), "error $code: expected ${outcome.simpleName}, got $e")
        }
    }

    @Test
    fun `a rejected attempt leaves the prompt up for another`() {
        val key = verifyAnswering(null) { it.rejectAttempt(); it.succeed() }.getOrThrow()
        assertContentEquals(key.key, unwrapWithKeystoreKey(key.wrappedKey))
    }

    @Test
    fun `a wrapped key that no longer authenticates after the user passed is key loss`() {
        val enrolled = verifyAnswering(null) { it.succeed() }.getOrThrow()
        val tampered = enrolled.wrappedKey.copyOf().also { it[20] = (it[20].toInt() xor 1).toByte() }
        assertIs<VerificationException.KeyInvalidated>(verifyAnswering(tampered) { it.succeed() }.exceptionOrNull())
    }

    @Test
    fun `an unanswered prompt times out and is cancelled through its CancellationSignal`() {
        val e = verifyAnswering(null, BiometricVerifier(app, timeoutSecs = 1)) { }.exceptionOrNull()
        assertIs<VerificationException.TimedOut>(e, "outcome: $e")
        assertTrue(BiometricPromptShadow.shown.single().cancelled, "the prompt was left up")
    }

    /**
     * The library cancels the verifier's coroutine when the request is abandoned (the app's coroutine
     * cancelled, a hybrid session's time limit): the prompt goes down through its CancellationSignal at once.
     */
    @Test
    fun `cancelling the verifying coroutine takes the prompt down`() {
        val verifier = BiometricVerifier(app, timeoutSecs = 60)
        val job = CoroutineScope(Dispatchers.IO).launch { verifier.verify(prompt, null) }
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (BiometricPromptShadow.shown.isEmpty()) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
            if (System.nanoTime() > deadline) fail("the prompt was never shown")
        }
        job.cancel()
        while (!job.isCompleted) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
            if (System.nanoTime() > deadline) fail("verify did not end after cancellation")
        }
        assertTrue(job.isCancelled)
        assertTrue(BiometricPromptShadow.shown.single().cancelled, "the prompt was left up")
    }

    @Test
    fun `the prompt is titled with the RP id, never the name the RP claims`() {
        verifyAnswering(null) { it.succeed() }.getOrThrow()
        val shown = BiometricPromptShadow.shown.single()
        assertEquals("Sign in to evil.example", shown.title.toString())
        assertFalse("Google" in shown.title.toString())
        assertEquals("alice@gmail.com · named \"Google\"", shown.subtitle.toString())
        assertNotNull(shown.crypto, "the prompt authorises a CryptoObject")
    }

    @Test
    @Config(sdk = [31, 33, 34, 35])
    fun `Android 11+ offers strong biometrics or the screen lock, with no negative button`() {
        verifyAnswering(null) { it.succeed() }.getOrThrow()
        val shown = BiometricPromptShadow.shown.single()
        assertEquals(Authenticators.BIOMETRIC_STRONG or Authenticators.DEVICE_CREDENTIAL, shown.allowedAuthenticators)
        assertNull(shown.negativeButtonText)
    }

    @Test
    @Config(sdk = [28, 29])
    fun `before Android 11 the prompt is biometric only, with a Cancel button`() {
        verifyAnswering(null) { it.succeed() }.getOrThrow()
        val shown = BiometricPromptShadow.shown.single()
        assertEquals("Cancel", shown.negativeButtonText.toString())
        assertFalse(shown.deviceCredentialAllowed, "Android 10 refuses a screen-lock prompt with a CryptoObject")
        assertNull(shown.allowedAuthenticators, "no Authenticators flags before Android 11")
    }

    @Test
    @Config(sdk = [28, 29])
    fun `the Cancel button ends the verification at once`() {
        // Only the button's listener hears of the press (the framework sends the callback no error), so the
        // verifier must answer from the listener, not wait out its timeout.
        val started = System.nanoTime()
        val e = verifyAnswering(null, BiometricVerifier(app, timeoutSecs = 8)) { it.pressNegativeButton() }.exceptionOrNull()
        assertIs<VerificationException.Denied>(e, "outcome: $e")
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "waited for the verifier's timeout")
    }
}
