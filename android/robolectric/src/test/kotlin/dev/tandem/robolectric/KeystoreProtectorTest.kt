package dev.tandem.robolectric

import android.content.pm.PackageManager
import android.security.keystore.KeyProperties
import dev.tandem.AndroidKeystoreProtector
import dev.tandem.KeyProtectorException
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue

/** The Keystore key the protector asks for, and what it reports about it (FakeAndroidKeyStore records specs). */
@RunWith(RobolectricTestRunner::class)
class KeystoreProtectorTest {
    private val app get() = RuntimeEnvironment.getApplication()

    @Before
    fun keystore() = FakeAndroidKeyStore.install()

    @After
    fun noKeystore() = FakeAndroidKeyStore.uninstall()

    private fun strongBoxFeature(present: Boolean) =
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, present)

    @Test
    fun `the key is AES-256-GCM and wraps and unwraps`() {
        val protector = AndroidKeystoreProtector(app, requireUserAuthentication = false)
        val dataKey = ByteArray(32) { it.toByte() }
        assertContentEquals(dataKey, protector.unwrap(protector.wrap(dataKey)))
        val spec = FakeAndroidKeyStore.specs.single()
        assertEquals(256, spec.keySize)
        assertContentEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM), spec.blockModes)
        assertTrue(spec.isRandomizedEncryptionRequired)
        assertFalse(spec.isUserAuthenticationRequired)
        assertFalse(protector.isStrongBoxBacked(), "no StrongBox feature")
    }

    @Test
    fun `user authentication is required when asked`() {
        AndroidKeystoreProtector(app, requireUserAuthentication = true).wrap(ByteArray(32))
        assertTrue(FakeAndroidKeyStore.specs.single().isUserAuthenticationRequired)
    }

    @Test
    fun `StrongBox refusing the key falls back to the TEE and says so`() {
        strongBoxFeature(true)
        FakeAndroidKeyStore.refuseStrongBox = true
        val protector = AndroidKeystoreProtector(app, requireUserAuthentication = false)
        protector.wrap(ByteArray(32))
        assertEquals(listOf(true, false), FakeAndroidKeyStore.specs.map { it.isStrongBoxBacked }, "tried StrongBox, then the TEE")
        assertFalse(protector.isStrongBoxBacked(), "the key is in the TEE after the fallback")
    }

    @Test
    fun `a StrongBox key is reported as such`() {
        strongBoxFeature(true)
        val protector = AndroidKeystoreProtector(app, requireUserAuthentication = false)
        protector.wrap(ByteArray(32))
        assertTrue(FakeAndroidKeyStore.specs.single().isStrongBoxBacked)
        assertTrue(protector.isStrongBoxBacked())
    }

    @Test
    fun `a wrapped key without its Keystore key is lost, not transient`() {
        // No alias: a restored backup or a wiped Keystore. KeyInvalidated lets the app offer to start over.
        val protector = AndroidKeystoreProtector(app, requireUserAuthentication = false)
        assertIs<KeyProtectorException.KeyInvalidated>(runCatching { protector.unwrap(ByteArray(60)) }.exceptionOrNull())
    }
}
