package dev.tandem

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The Keystore key that the engine's UV key is wrapped under: non-exportable AES-256-GCM that can do one
 * operation only right after the user passed a strong biometric (or, on Android 11+, the screen lock) through
 * a `BiometricPrompt.CryptoObject` (validity 0), is invalidated when a new biometric is enrolled, works only
 * while the device is unlocked, and lives in StrongBox when the device has one.
 *
 * [BiometricVerifier] asks [cipherFor] for the cipher to authenticate, shows the prompt with it, and hands the
 * authenticated cipher to [finish]. Wrapped format: `iv (12) || ciphertext || tag (16)`; the Keystore chooses
 * the IV.
 */
class KeystoreUvKey(
    private val context: Context,
    private val alias: String = DEFAULT_ALIAS,
) {
    /**
     * The cipher the prompt must authenticate: encryption under a (new, if needed) Keystore key when there is
     * no wrapped UV key yet, else decryption of [wrapped]. Nothing is processed until the user passed.
     */
    fun cipherFor(wrapped: ByteArray?): Cipher = guarded {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        if (wrapped == null) {
            try {
                cipher.init(Cipher.ENCRYPT_MODE, keyOrCreate())
            } catch (e: KeyPermanentlyInvalidatedException) {
                // No UV key is wrapped under the dead key (there is no wrapped key): replace it.
                deleteKey()
                cipher.init(Cipher.ENCRYPT_MODE, keyOrCreate())
            }
        } else {
            if (wrapped.size < IV_LEN + TAG_BITS / 8) {
                throw VerificationException.Unavailable("the wrapped UV key is ${wrapped.size} bytes, too short")
            }
            // A wrapped key without its Keystore key (a wiped Keystore, a restored backup) is lost for good.
            val key = existingKey() ?: throw VerificationException.KeyInvalidated(
                "no Keystore key '$alias' for the UV key: the passkeys on this phone can no longer be used",
            )
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_LEN))
        }
        cipher
    }

    /**
     * With the cipher the prompt authenticated: wraps 32 fresh random bytes as the UV key (no [wrapped] yet),
     * or unwraps [wrapped].
     */
    fun finish(cipher: Cipher, wrapped: ByteArray?): UnlockedUvKey = guarded {
        // The associated data goes in only now: an auth-per-use Keystore operation refuses any step before
        // the user passed.
        cipher.updateAAD(LABEL)
        if (wrapped == null) {
            val key = ByteArray(UV_KEY_LEN).also { SecureRandom().nextBytes(it) }
            val iv = cipher.iv
            check(iv.size == IV_LEN) { "unexpected IV length ${iv.size}" }
            UnlockedUvKey(key, iv + cipher.doFinal(key))
        } else {
            UnlockedUvKey(cipher.doFinal(wrapped, IV_LEN, wrapped.size - IV_LEN), wrapped)
        }
    }

    /** Deletes the Keystore key (starting over after key loss: what it wrapped cannot be recovered). */
    fun deleteKey() {
        val ks = keyStore()
        if (ks.containsAlias(alias)) ks.deleteEntry(alias)
    }

    private inline fun <T> guarded(block: () -> T): T = try {
        block()
    } catch (e: VerificationException) {
        throw e
    } catch (e: KeyPermanentlyInvalidatedException) {
        // Lost for good, not a transient refusal: the app offers to start over (TandemException.KeyInvalidated).
        throw VerificationException.KeyInvalidated(
            "the UV key's Keystore key was invalidated (new biometric enrolled or screen lock removed): " +
                "the passkeys on this phone can no longer be used",
        )
    } catch (e: AEADBadTagException) {
        // The alias now holds a different key than the one that wrapped the UV key: the UV key is lost.
        throw VerificationException.KeyInvalidated("the wrapped UV key does not authenticate under the Keystore key")
    } catch (e: GeneralSecurityException) {
        throw VerificationException.Unavailable("Android Keystore: $e")
    } catch (e: java.io.IOException) {
        throw VerificationException.Unavailable("Android Keystore: $e")
    } catch (e: IllegalStateException) {
        throw VerificationException.Unavailable("Android Keystore: $e")
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun existingKey(): SecretKey? = keyStore().getKey(alias, null) as? SecretKey

    private fun keyOrCreate(): SecretKey = existingKey() ?: create(strongBox = hasStrongBox())

    private fun hasStrongBox(): Boolean =
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)

    private fun create(strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .setUserAuthenticationRequired(true)
            .setInvalidatedByBiometricEnrollment(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    // 0: every use needs its own authentication, bound to this operation (CryptoObject).
                    setUserAuthenticationParameters(
                        0,
                        KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
                    )
                } else {
                    // -1: every use needs a biometric through a CryptoObject (Android 9 and 10 cannot bind the
                    // screen lock to one operation).
                    @Suppress("DEPRECATION")
                    setUserAuthenticationValidityDurationSeconds(-1)
                }
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                    setUnlockedDeviceRequired(true)
                    if (strongBox) setIsStrongBoxBacked(true)
                }
            }
            .build()
        return try {
            KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE).run {
                init(spec)
                generateKey()
            }
        } catch (e: StrongBoxUnavailableException) {
            // The feature flag can be set while StrongBox refuses this key shape: fall back to the TEE.
            create(strongBox = false)
        }
    }

    companion object {
        /** Keystore alias used unless the app picks its own. */
        const val DEFAULT_ALIAS = "dev.tandem.uv-key"
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_LEN = 12
        private const val TAG_BITS = 128
        private const val UV_KEY_LEN = 32
        private val LABEL = "tandem uv key v1".toByteArray()
    }
}
