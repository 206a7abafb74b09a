package dev.tandem.sdk

import java.security.MessageDigest

/**
 * The WebAuthn `CollectedClientData` a client builds, and its SHA-256 (the clientDataHash the authenticator
 * signs over).
 *
 * Android hands a credential provider a ready clientDataHash only when the caller is a privileged browser;
 * for a native app the provider builds the client data itself from the calling app's origin. Tests use it to
 * play the client's role.
 */
class ClientData private constructor(
    /** The exact clientDataJSON bytes. */
    val json: ByteArray,
) {
    /** SHA-256 of [json]. */
    val hash: ByteArray = MessageDigest.getInstance("SHA-256").digest(json)

    companion object {
        /** `webauthn.create` client data for [challenge] from [origin]. */
        @JvmStatic
        fun forCreate(challenge: ByteArray, origin: String): ClientData = build("webauthn.create", challenge, origin)

        /** `webauthn.get` client data for [challenge] from [origin]. */
        @JvmStatic
        fun forGet(challenge: ByteArray, origin: String): ClientData = build("webauthn.get", challenge, origin)

        private fun build(type: String, challenge: ByteArray, origin: String): ClientData {
            // Members in the order WebAuthn §5.8.1.1 serialises them; origin is escaped as a JSON string.
            val text = buildString {
                append("{\"type\":\"").append(type).append('"')
                append(",\"challenge\":\"").append(Base64Url.encode(challenge)).append('"')
                append(",\"origin\":").append(jsonString(origin))
                append(",\"crossOrigin\":false}")
            }
            return ClientData(text.toByteArray(Charsets.UTF_8))
        }

        private fun jsonString(s: String): String = buildString {
            append('"')
            for (c in s) {
                when {
                    c == '"' -> append("\\\"")
                    c == '\\' -> append("\\\\")
                    c < ' ' -> append(String.format("\\u%04x", c.code))
                    else -> append(c)
                }
            }
            append('"')
        }
    }
}
