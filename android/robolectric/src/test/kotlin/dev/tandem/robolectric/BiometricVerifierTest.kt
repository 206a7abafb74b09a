package dev.tandem.robolectric

import android.os.Looper
import dev.tandem.BiometricVerifier
import dev.tandem.Operation
import dev.tandem.VerificationException
import dev.tandem.VerificationPrompt
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.assertIs
import kotlin.test.assertTrue

/** BiometricVerifier on the oldest Android the app supports. */
@RunWith(RobolectricTestRunner::class)
class BiometricVerifierTest {
    private val prompt = VerificationPrompt(Operation.SIGN_IN, "example.com", null, null, "Sign in to example.com", null)

    /** The verifier builds its CryptoObject's cipher from the Keystore before the prompt. */
    @Before
    fun keystore() = FakeAndroidKeyStore.install()

    @After
    fun noKeystore() = FakeAndroidKeyStore.uninstall()

    /** Runs verify() on another thread while the main looper (where the prompt is built) keeps turning. */
    private fun verifyOffMain(verifier: BiometricVerifier, wrapped: ByteArray? = null): Throwable? {
        val outcome = AtomicReference<Throwable?>()
        val engine = Thread {
            try {
                callVerify(verifier, prompt, wrapped)
            } catch (t: Throwable) {
                outcome.set(t)
            }
        }
        engine.start()
        while (engine.isAlive) {
            // An Error thrown while building the prompt on the main thread surfaces here and fails the test.
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
        }
        return outcome.get()
    }

    @Test
    @Config(sdk = [28])
    fun `Android 9 builds and shows the prompt (no API 29 call, a negative button)`() {
        val e = verifyOffMain(BiometricVerifier(RuntimeEnvironment.getApplication(), timeoutSecs = 5))
        // The sandbox has no fingerprint sensor: the shown prompt answers BIOMETRIC_ERROR_HW_NOT_PRESENT (12)
        // through the callback, which proves it was built and shown. Building it with setDeviceCredentialAllowed
        // is a NoSuchMethodError on the main thread (an app crash, surfacing here from idle()), and without a
        // negative button Android 9 refuses to build it ("cannot show the prompt").
        assertIs<VerificationException.Unavailable>(e, "outcome: $e")
        assertTrue("BiometricPrompt error 12" in e.reason, e.reason)
    }

    @Test
    fun `a wrapped UV key whose Keystore key is gone is key loss, before any prompt`() {
        val e = verifyOffMain(BiometricVerifier(RuntimeEnvironment.getApplication(), timeoutSecs = 5), wrapped = ByteArray(60))
        assertIs<VerificationException.KeyInvalidated>(e, "outcome: $e")
        assertTrue("no Keystore key" in e.reason, e.reason)
    }
}
