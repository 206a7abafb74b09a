package dev.tandem

import java.util.Collections

/**
 * A verifier that approves every prompt, unlocking [key] (a software stand-in for the Keystore: the "wrapped"
 * form is the key with a marker in front), and records what it was shown and handed.
 */
class ApprovingVerifier(@Volatile var key: ByteArray = ByteArray(32) { 0x75 }) : UserVerifier {
    val prompts: MutableList<VerificationPrompt> = Collections.synchronizedList(mutableListOf())
    val wrappedKeys: MutableList<ByteArray?> = Collections.synchronizedList(mutableListOf())

    override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey {
        prompts += prompt
        wrappedKeys += wrappedKey
        return UnlockedUvKey(key, wrappedKey ?: (MARKER + key))
    }

    private companion object {
        val MARKER = "wrapped:".toByteArray()
    }
}

/** A verifier that fails every prompt with [error]. */
class RefusingVerifier(private val error: () -> Exception) : UserVerifier {
    override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey = throw error()
}

/** A chooser that answers with a fixed index (null = cancel) and records the lists it was shown. */
class FixedChooser(private val answer: UInt?) : AccountChooser {
    val shown: MutableList<List<AccountInfo>> = Collections.synchronizedList(mutableListOf())

    override suspend fun choose(rpId: String, accounts: List<AccountInfo>): UInt? {
        shown += accounts
        return answer
    }
}

/** W3C PublicKeyCredentialCreationOptions JSON for a discoverable ES256 credential. */
fun creationOptions(rpId: String, userId: ByteArray, userName: String, challenge: ByteArray): String = """
    {"rp":{"id":"$rpId","name":"Example Corp"},
     "user":{"id":"${Base64Url.encode(userId)}","name":"$userName","displayName":"$userName"},
     "challenge":"${Base64Url.encode(challenge)}",
     "pubKeyCredParams":[{"type":"public-key","alg":-7}],
     "authenticatorSelection":{"residentKey":"required","userVerification":"required"},
     "extensions":{"credProps":true}}
""".trimIndent()

/** W3C PublicKeyCredentialRequestOptions JSON; an empty allow list asks for a discoverable credential. */
fun requestOptions(rpId: String, challenge: ByteArray, allow: List<ByteArray> = emptyList()): String {
    val list = allow.joinToString(",") { """{"type":"public-key","id":"${Base64Url.encode(it)}"}""" }
    return """{"rpId":"$rpId","challenge":"${Base64Url.encode(challenge)}","allowCredentials":[$list],
        "userVerification":"required"}"""
}
