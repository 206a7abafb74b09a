package dev.tandem

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec

/**
 * A [KeyProtector] backed by the Android Keystore: the store's data key is wrapped with a non-exportable
 * AES-256-GCM key that lives in StrongBox when the device has one (else the TEE) and, by default, can only be
 * used for [authValiditySecs] seconds after the user passed a strong biometric or device-credential check
 * (the app shows `BiometricVerifier` first, e.g. when it opens the store).
 *
 * Wrapped format: `iv (12) || ciphertext || tag (16)`; the Keystore chooses the IV.
 *
 * Key loss is reported as `KeyProtectorException.KeyInvalidated` (the store then fails with
 * `TandemException.KeyInvalidated`), never as the transient `Unavailable`: the Keystore invalidates an
 * auth-bound key for good when the screen lock is removed, and a restored backup brings the database without
 * its key. Either way the store's passkeys are gone; the app offers to start over with
 * `Stores.resetAfterKeyLoss(path, ::deleteKey)`.
 */
class AndroidKeystoreProtector(
    private val context: Context,
    private val alias: String = DEFAULT_ALIAS,
    private val requireUserAuthentication: Boolean = true,
    private val authValiditySecs: Int = 30,
) : KeyProtector {
    override fun wrap(dataKey: ByteArray): ByteArray = guarded {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        try {
            cipher.init(Cipher.ENCRYPT_MODE, keyOrCreate())
        } catch (e: KeyPermanentlyInvalidatedException) {
            // wrap runs only for a new, empty store: nothing depends on the dead key, so replace it rather
            // than wrapping under a key that can never unwrap.
            deleteKey()
            cipher.init(Cipher.ENCRYPT_MODE, keyOrCreate())
        }
        cipher.updateAAD(LABEL)
        val iv = cipher.iv
        check(iv.size == IV_LEN) { "unexpected IV length ${iv.size}" }
        iv + cipher.doFinal(dataKey)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        if (wrapped.size < IV_LEN + TAG_BITS / 8) {
            throw KeyProtectorException.Rejected("wrapped key is ${wrapped.size} bytes, too short")
        }
        return guarded {
            val key = existingKey()
                ?: throw KeyProtectorException.KeyInvalidated(
                    "no Keystore key '$alias' (deleted, or the store was restored from another device)",
                )
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_LEN))
            cipher.updateAAD(LABEL)
            cipher.doFinal(wrapped, IV_LEN, wrapped.size - IV_LEN)
        }
    }

    private inline fun <T> guarded(block: () -> T): T = try {
        block()
    } catch (e: KeyProtectorException) {
        throw e
    } catch (e: UserNotAuthenticatedException) {
        throw KeyProtectorException.Unavailable("the user must authenticate first (biometric or screen lock)")
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw KeyProtectorException.KeyInvalidated("the Keystore key was invalidated (screen lock removed): $e")
    } catch (e: AEADBadTagException) {
        throw KeyProtectorException.Rejected("wrapped key does not authenticate under the Keystore key")
    } catch (e: GeneralSecurityException) {
        throw KeyProtectorException.Unavailable("Android Keystore: $e")
    } catch (e: java.io.IOException) {
        throw KeyProtectorException.Unavailable("Android Keystore: $e")
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
            .apply {
                if (requireUserAuthentication) {
                    setUserAuthenticationRequired(true)
                    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                        setUserAuthenticationParameters(
                            authValiditySecs,
                            KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
                        )
                    } else {
                        @Suppress("DEPRECATION")
                        setUserAuthenticationValidityDurationSeconds(authValiditySecs)
                    }
                }
                if (strongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(true)
            }
            .build()
        return try {
            KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE).run {
                init(spec)
                generateKey()
            }.also { createdInStrongBox = strongBox }
        } catch (e: StrongBoxUnavailableException) {
            // The feature flag can be set while StrongBox refuses this key shape: fall back to the TEE.
            create(strongBox = false)
        }
    }

    /**
     * Deletes the Keystore key, so the next [wrap] (of a new store) creates a fresh one. Only for starting
     * over after key loss: whatever the old key wrapped cannot be recovered.
     */
    fun deleteKey() {
        val ks = keyStore()
        if (ks.containsAlias(alias)) ks.deleteEntry(alias)
    }

    /** Where this instance's create() put the key: null until it made one. */
    @Volatile
    private var createdInStrongBox: Boolean? = null

    /**
     * Whether the wrapping key lives in StrongBox: false before it exists or in the TEE (also after StrongBox
     * refused the key and it fell back). For a key made by another instance, Android 12+ reports its security
     * level; earlier versions cannot tell, so false (never a claim that cannot be checked).
     */
    fun isStrongBoxBacked(): Boolean {
        val key = existingKey() ?: return false
        createdInStrongBox?.let { return it }
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.S) return false
        return try {
            val info = SecretKeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE).getKeySpec(key, KeyInfo::class.java) as KeyInfo
            info.securityLevel == KeyProperties.SECURITY_LEVEL_STRONGBOX
        } catch (e: GeneralSecurityException) {
            false
        }
    }

    companion object {
        /** Keystore alias used unless the app picks its own. */
        const val DEFAULT_ALIAS = "dev.tandem.store-data-key"
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_LEN = 12
        private const val TAG_BITS = 128
        private val LABEL = "tandem data key v1".toByteArray()
    }
}
