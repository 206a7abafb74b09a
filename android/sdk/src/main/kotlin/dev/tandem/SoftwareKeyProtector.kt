package dev.tandem

import java.security.GeneralSecurityException
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * A [KeyProtector] that wraps the store's data key with AES-256-GCM under a key held in memory.
 *
 * For tests, tools and emulators only: the wrapping key is as safe as the process memory and whatever the
 * caller persists it in. Phones use the hardware keystore (`AndroidKeystoreProtector`, the iOS Keychain).
 *
 * Wrapped format: `nonce (12) || ciphertext || tag (16)`, with a fixed associated-data label so a blob made
 * for another purpose does not unwrap.
 */
class SoftwareKeyProtector(key: ByteArray) : KeyProtector {
    private val key = SecretKeySpec(key.copyOf(), "AES")

    init {
        require(key.size == KEY_LEN) { "key must be $KEY_LEN bytes, got ${key.size}" }
    }

    override fun wrap(dataKey: ByteArray): ByteArray {
        val nonce = ByteArray(NONCE_LEN).also { RANDOM.nextBytes(it) }
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(TAG_BITS, nonce))
            cipher.updateAAD(LABEL)
            nonce + cipher.doFinal(dataKey)
        } catch (e: GeneralSecurityException) {
            throw KeyProtectorException.Unavailable("AES-GCM wrap failed: $e")
        }
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        if (wrapped.size < NONCE_LEN + TAG_BITS / 8) {
            throw KeyProtectorException.Rejected("wrapped key is ${wrapped.size} bytes, too short")
        }
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, NONCE_LEN))
            cipher.updateAAD(LABEL)
            cipher.doFinal(wrapped, NONCE_LEN, wrapped.size - NONCE_LEN)
        } catch (e: AEADBadTagException) {
            throw KeyProtectorException.Rejected("wrapped key does not authenticate under this key")
        } catch (e: GeneralSecurityException) {
            throw KeyProtectorException.Unavailable("AES-GCM unwrap failed: $e")
        }
    }

    companion object {
        /** Length of the wrapping key in bytes (AES-256). */
        const val KEY_LEN = 32
        private const val NONCE_LEN = 12
        private const val TAG_BITS = 128
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private val LABEL = "tandem data key v1".toByteArray()
        private val RANDOM = SecureRandom()

        /** A protector with a fresh random key (lives as long as the object: for throw-away stores). */
        @JvmStatic
        fun random(): SoftwareKeyProtector = SoftwareKeyProtector(ByteArray(KEY_LEN).also { RANDOM.nextBytes(it) })
    }
}
