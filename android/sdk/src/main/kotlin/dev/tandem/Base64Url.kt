package dev.tandem

import java.util.Base64

/** base64url without padding, the encoding WebAuthn JSON uses for binary fields. */
object Base64Url {
    private val encoder = Base64.getUrlEncoder().withoutPadding()
    private val decoder = Base64.getUrlDecoder()

    /** Encodes [bytes] as unpadded base64url. */
    @JvmStatic
    fun encode(bytes: ByteArray): String = encoder.encodeToString(bytes)

    /** Decodes base64url, padded or not; throws [IllegalArgumentException] on anything else. */
    @JvmStatic
    fun decode(text: String): ByteArray = decoder.decode(text.trimEnd('='))
}
