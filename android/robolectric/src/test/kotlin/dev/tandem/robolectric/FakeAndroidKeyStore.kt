package dev.tandem.robolectric

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.StrongBoxUnavailableException
import java.io.InputStream
import java.io.OutputStream
import java.security.Key
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.SecureRandom
import java.security.Security
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/**
 * Robolectric has no AndroidKeyStore: this JCA provider of the same name stands in. Its AES key generator
 * records every [KeyGenParameterSpec] it is given (what the protector asked the Keystore for) and keeps the
 * generated software keys under their aliases; [refuseStrongBox] makes it refuse StrongBox keys as a device
 * whose StrongBox cannot hold the key shape does.
 */
object FakeAndroidKeyStore {
    /** Specs passed to KeyGenerator.init, in order. */
    val specs: MutableList<KeyGenParameterSpec> = Collections.synchronizedList(mutableListOf())
    internal val keys: MutableMap<String, SecretKey> = Collections.synchronizedMap(mutableMapOf())

    @Volatile
    var refuseStrongBox = false

    /** Installs the provider with an empty key store (call in @Before). */
    fun install() {
        uninstall()
        specs.clear()
        keys.clear()
        refuseStrongBox = false
        Security.addProvider(ProviderImpl())
    }

    /** Removes the provider (call in @After). */
    fun uninstall() = Security.removeProvider(NAME)

    private const val NAME = "AndroidKeyStore"

    private class ProviderImpl : Provider(NAME, "1.0", "Robolectric stand-in for the Android Keystore") {
        init {
            put("KeyStore.$NAME", KeyStoreImpl::class.java.name)
            put("KeyGenerator.AES", AesGenerator::class.java.name)
        }
    }

    /** The key store: aliases to the generated keys. */
    class KeyStoreImpl : KeyStoreSpi() {
        override fun engineGetKey(alias: String, password: CharArray?): Key? = keys[alias]
        override fun engineGetCertificateChain(alias: String): Array<Certificate>? = null
        override fun engineGetCertificate(alias: String): Certificate? = null
        override fun engineGetCreationDate(alias: String): Date? = if (keys.containsKey(alias)) Date() else null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) {
            keys[alias] = key as SecretKey
        }
        override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException()
        override fun engineSetCertificateEntry(alias: String, cert: Certificate) = throw UnsupportedOperationException()
        override fun engineDeleteEntry(alias: String) {
            keys.remove(alias)
        }
        override fun engineAliases(): Enumeration<String> = Collections.enumeration(keys.keys.toList())
        override fun engineContainsAlias(alias: String): Boolean = keys.containsKey(alias)
        override fun engineSize(): Int = keys.size
        override fun engineIsKeyEntry(alias: String): Boolean = keys.containsKey(alias)
        override fun engineIsCertificateEntry(alias: String): Boolean = false
        override fun engineGetCertificateAlias(cert: Certificate): String? = null
        override fun engineStore(stream: OutputStream?, password: CharArray?) {}
        override fun engineLoad(stream: InputStream?, password: CharArray?) {}
    }

    /** AES key generation under a KeyGenParameterSpec, recorded. */
    class AesGenerator : KeyGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null

        override fun engineInit(random: SecureRandom?) = throw UnsupportedOperationException("needs a KeyGenParameterSpec")
        override fun engineInit(params: AlgorithmParameterSpec, random: SecureRandom?) {
            spec = params as KeyGenParameterSpec
            specs += params
        }
        override fun engineInit(keysize: Int, random: SecureRandom?) = throw UnsupportedOperationException("needs a KeyGenParameterSpec")

        override fun engineGenerateKey(): SecretKey {
            val s = spec ?: throw IllegalStateException("not initialised")
            if (s.isStrongBoxBacked && refuseStrongBox) throw StrongBoxUnavailableException()
            val key = SecretKeySpec(ByteArray(s.keySize / 8).also { SecureRandom().nextBytes(it) }, "AES")
            keys[s.keystoreAlias] = key
            return key
        }
    }
}
