package dev.tandem.robolectric

import android.content.pm.PackageManager
import android.security.keystore.KeyProperties
import dev.tandem.KeystoreUvKey
import dev.tandem.VerificationException
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue

/**
 * The Keystore key the UV key is wrapped under: what BiometricVerifier asks the Keystore for
 * (FakeAndroidKeyStore records the specs), and the wrap/unwrap it does with the cipher the prompt authorised.
 * That the real Keystore refuses the cipher without the prompt only a device can show.
 */
@RunWith(RobolectricTestRunner::class)
class KeystoreUvKeyTest {
    private val app get() = RuntimeEnvironment.getApplication()

    @Before
    fun keystore() = FakeAndroidKeyStore.install()

    @After
    fun noKeystore() = FakeAndroidKeyStore.uninstall()

    @Test
    @Config(sdk = [31, 33, 34, 35])
    fun `the key needs its own authentication for every use, dies with a new enrolment, needs an unlocked device`() {
        KeystoreUvKey(app).cipherFor(null)
        val spec = FakeAndroidKeyStore.specs.single()
        assertEquals(256, spec.keySize)
        assertContentEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM), spec.blockModes)
        assertTrue(spec.isUserAuthenticationRequired)
        assertEquals(0, spec.userAuthenticationValidityDurationSeconds, "validity 0: one CryptoObject per use")
        assertEquals(
            KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
            spec.userAuthenticationType,
        )
        assertTrue(spec.isInvalidatedByBiometricEnrollment)
        assertTrue(spec.isUnlockedDeviceRequired)
        assertFalse(spec.isStrongBoxBacked, "no StrongBox feature")
    }

    @Test
    @Config(sdk = [28, 29])
    fun `before Android 11 every use needs a biometric`() {
        KeystoreUvKey(app).cipherFor(null)
        val spec = FakeAndroidKeyStore.specs.single()
        assertTrue(spec.isUserAuthenticationRequired)
        assertEquals(-1, spec.userAuthenticationValidityDurationSeconds)
        assertTrue(spec.isInvalidatedByBiometricEnrollment)
        assertTrue(spec.isUnlockedDeviceRequired)
    }

    @Test
    fun `StrongBox when the device has it, the TEE when it refuses`() {
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        KeystoreUvKey(app).cipherFor(null)
        assertTrue(FakeAndroidKeyStore.specs.single().isStrongBoxBacked)
        FakeAndroidKeyStore.install()
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        FakeAndroidKeyStore.refuseStrongBox = true
        KeystoreUvKey(app).cipherFor(null)
        assertEquals(listOf(true, false), FakeAndroidKeyStore.specs.map { it.isStrongBoxBacked })
    }

    @Test
    fun `a fresh UV key is wrapped through the cipher and unwrapped again, once per store`() {
        val uvKey = KeystoreUvKey(app)
        val first = uvKey.finish(uvKey.cipherFor(null), null)
        assertEquals(32, first.key.size)
        assertEquals(12 + 32 + 16, first.wrappedKey.size)
        val again = uvKey.finish(uvKey.cipherFor(first.wrappedKey), first.wrappedKey)
        assertContentEquals(first.key, again.key)
        assertContentEquals(first.wrappedKey, again.wrappedKey)
        assertEquals(1, FakeAndroidKeyStore.specs.size, "the Keystore key is made once")

        val tampered = first.wrappedKey.copyOf().also { it[20] = (it[20].toInt() xor 1).toByte() }
        val e = runCatching { uvKey.finish(uvKey.cipherFor(tampered), tampered) }.exceptionOrNull()
        assertIs<VerificationException.KeyInvalidated>(e)
    }

    @Test
    fun `a wrapped UV key without its Keystore key is key loss, not a new key`() {
        val e = runCatching { KeystoreUvKey(app).cipherFor(ByteArray(60)) }.exceptionOrNull()
        assertIs<VerificationException.KeyInvalidated>(e)
        assertTrue(FakeAndroidKeyStore.specs.isEmpty(), "no key was made")
    }
}
