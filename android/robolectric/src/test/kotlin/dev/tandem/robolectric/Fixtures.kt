package dev.tandem.robolectric

import dev.tandem.AccountChooser
import dev.tandem.AccountInfo
import dev.tandem.Authenticator
import dev.tandem.AuthenticatorOptions
import dev.tandem.BackupPolicy
import dev.tandem.Base64Url
import dev.tandem.CallerContext
import dev.tandem.CredentialStore
import dev.tandem.UnlockedUvKey
import dev.tandem.UserVerifier
import dev.tandem.VerificationPrompt
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.security.MessageDigest

/** WebAuthn JSON and engine stand-ins shared by the tests. */
object Fixtures {
    /** Approves every prompt (the BiometricPrompt itself: BiometricPromptFlowTest, HybridInSandbox). */
    class ApprovingVerifier : UserVerifier {
        override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey =
            UnlockedUvKey(ByteArray(32) { 0x75 }, wrappedKey ?: ByteArray(1))
    }

    /** Picks the first account. */
    class FirstChooser : AccountChooser {
        override suspend fun choose(rpId: String, accounts: List<AccountInfo>): UInt? = 0u
    }

    fun creationOptions(rpId: String, userName: String, userId: ByteArray = userName.toByteArray()): String = """
        {"rp":{"id":"$rpId","name":"Example Corp"},
         "user":{"id":"${Base64Url.encode(userId)}","name":"$userName","displayName":"$userName"},
         "challenge":"${Base64Url.encode(ByteArray(32) { 7 })}",
         "pubKeyCredParams":[{"type":"public-key","alg":-7}],
         "authenticatorSelection":{"residentKey":"required","userVerification":"required"}}
    """.trimIndent()

    fun requestOptions(rpId: String, allow: List<ByteArray> = emptyList()): String {
        val list = allow.joinToString(",") { """{"type":"public-key","id":"${Base64Url.encode(it)}"}""" }
        return """{"rpId":"$rpId","challenge":"${Base64Url.encode(ByteArray(32) { 9 })}","allowCredentials":[$list],
            "userVerification":"required"}"""
    }

    /** Registers a passkey for [userName] at [rpId] in [store] and returns its credential ID. */
    suspend fun registerPasskey(store: CredentialStore, rpId: String, userName: String): ByteArray = withContext(Dispatchers.IO) {
        val engine = Authenticator(store, ApprovingVerifier(), FirstChooser(), AuthenticatorOptions(ByteArray(0), BackupPolicy.DEVICE_BOUND))
        val hash = MessageDigest.getInstance("SHA-256").digest("client data".toByteArray())
        engine.register(creationOptions(rpId, userName), CallerContext.OsVerified(hash)).credentialId
    }
}
