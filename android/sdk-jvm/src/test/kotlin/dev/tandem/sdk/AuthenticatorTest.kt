package dev.tandem.sdk

import dev.tandem.ffi.Authenticator
import dev.tandem.ffi.AuthenticatorOptions
import dev.tandem.ffi.BackupPolicy
import dev.tandem.ffi.CredentialStore
import dev.tandem.ffi.Operation
import dev.tandem.ffi.TandemException
import dev.tandem.ffi.VerificationException
import dev.tandem.ffi.assertionResponseJson
import dev.tandem.ffi.registrationResponseJson
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Test
import java.nio.ByteBuffer
import java.security.KeyFactory
import java.security.MessageDigest
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The engine through the Kotlin API: WebAuthn-level registration and sign-in, checked with java.security. */
class AuthenticatorTest {
    private val store = CredentialStore.openInMemory(SoftwareKeyProtector.random())
    private val rpId = "example.com"
    private val origin = "https://example.com"
    private val userId = byteArrayOf(1, 2, 3, 4)

    @AfterEach
    fun close() = store.close()

    private fun engine(verifier: dev.tandem.ffi.UserVerifier, chooser: FixedChooser = FixedChooser(0u)) =
        Authenticator(store, verifier, chooser, AuthenticatorOptions(ByteArray(0), BackupPolicy.DEVICE_BOUND))

    private fun sha256(b: ByteArray) = MessageDigest.getInstance("SHA-256").digest(b)

    @Test
    fun `register then sign in, signature verifies with the registered public key`(): Unit = runBlocking {
        val verifier = ApprovingVerifier()
        val auth = engine(verifier)
        val createData = ClientData.forCreate(byteArrayOf(9, 9), origin)
        val reg = auth.register(creationOptions(rpId, userId, "alice@example.com", byteArrayOf(9, 9)), createData.hash)
        assertEquals(-7L, reg.publicKeyAlgorithm)
        assertContentEquals(sha256(rpId.toByteArray()), reg.authenticatorData.copyOfRange(0, 32))
        assertTrue(reg.clientExtensionResultsJson.contains("\"credProps\""), reg.clientExtensionResultsJson)
        assertEquals(Operation.REGISTER, verifier.prompts.single().operation)
        assertEquals(rpId, verifier.prompts.single().rpId)

        val listed = store.list().single()
        assertContentEquals(reg.credentialId, listed.id)
        assertEquals("alice@example.com", listed.userName)
        assertTrue(listed.discoverable)

        val getData = ClientData.forGet(byteArrayOf(7), origin)
        val assertion = auth.authenticate(requestOptions(rpId, byteArrayOf(7)), getData.hash)
        assertContentEquals(reg.credentialId, assertion.credentialId)
        assertContentEquals(userId, assertNotNull(assertion.userHandle))
        val flags = assertion.authenticatorData[32].toInt()
        assertEquals(0x05, flags and 0x05, "UP and UV must be set")
        assertEquals(1, ByteBuffer.wrap(assertion.authenticatorData, 33, 4).int, "device-bound counter starts at 1")

        val key = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(reg.publicKeySpkiDer))
        val sig = Signature.getInstance("SHA256withECDSA")
        sig.initVerify(key)
        sig.update(assertion.authenticatorData + getData.hash)
        assertTrue(sig.verify(assertion.signature), "assertion signature must verify")
        sig.initVerify(key)
        sig.update(assertion.authenticatorData + createData.hash)
        assertTrue(!sig.verify(assertion.signature), "signature must bind the clientDataHash")

        val regJson = registrationResponseJson(reg, createData.json)
        assertTrue(regJson.contains("\"id\":\"${Base64Url.encode(reg.credentialId)}\""), regJson)
        val authJson = assertionResponseJson(assertion, getData.json)
        assertTrue(authJson.contains("\"userHandle\":\"${Base64Url.encode(userId)}\""), authJson)
    }

    @Test
    fun `refused verification surfaces as CTAP operation denied and stores nothing`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { VerificationException.Denied() })
        val e = assertFailsWith<TandemException.Ctap> {
            auth.register(creationOptions(rpId, userId, "bob", byteArrayOf(1)), ClientData.forCreate(byteArrayOf(1), origin).hash)
        }
        assertEquals(0x27.toUByte(), e.status)
        assertEquals(emptyList(), store.list())
    }

    @Test
    fun `unavailable biometrics surface as CTAP UV blocked`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { VerificationException.Unavailable("no fingerprint enrolled") })
        val e = assertFailsWith<TandemException.Ctap> {
            auth.register(creationOptions(rpId, userId, "bob", byteArrayOf(1)), ByteArray(32))
        }
        assertEquals(0x3C.toUByte(), e.status)
        assertTrue("no fingerprint enrolled" in e.reason, e.reason)
    }

    @Test
    fun `a verifier that throws an undeclared exception is a typed failure`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { IllegalStateException("UI gone") })
        val e = assertFailsWith<TandemException.Ctap> { auth.register(creationOptions(rpId, userId, "c", byteArrayOf(1)), ByteArray(32)) }
        assertTrue("UI gone" in e.reason, e.reason)
    }

    @Test
    fun `sign-in without a credential is CTAP no credentials`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        val e = assertFailsWith<TandemException.Ctap> { auth.authenticate(requestOptions(rpId, byteArrayOf(1)), ByteArray(32)) }
        assertEquals(0x2E.toUByte(), e.status)
    }

    @Test
    fun `several accounts ask the chooser, and a cancel is operation denied`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        for (name in listOf("a", "b")) {
            auth.register(creationOptions(rpId, name.toByteArray(), name, byteArrayOf(1)), ByteArray(32))
        }
        val chooser = FixedChooser(null)
        val picky = engine(ApprovingVerifier(), chooser)
        val e = assertFailsWith<TandemException.Ctap> { picky.authenticate(requestOptions(rpId, byteArrayOf(2)), ByteArray(32)) }
        assertEquals(0x27.toUByte(), e.status)
        assertEquals(setOf("a", "b"), chooser.shown.single().map { it.name }.toSet())

        val second = engine(ApprovingVerifier(), FixedChooser(1u))
        val chosen = second.authenticate(requestOptions(rpId, byteArrayOf(2)), ByteArray(32))
        assertNotNull(chosen.userHandle)
    }

    @Test
    fun `malformed requests are InvalidInput`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        assertFailsWith<TandemException.InvalidInput> { auth.register("{not json", ByteArray(32)) }
        assertFailsWith<TandemException.InvalidInput> { auth.register(creationOptions(rpId, userId, "x", byteArrayOf(1)), ByteArray(31)) }
        assertFailsWith<TandemException.InvalidInput> { auth.authenticate("""{"challenge":"AA"}""", ByteArray(32)) }
        assertFailsWith<TandemException.InvalidInput> {
            Authenticator(store, ApprovingVerifier(), FixedChooser(0u), AuthenticatorOptions(ByteArray(3), BackupPolicy.SYNCED))
        }
    }

    @Test
    fun `raw CTAP getInfo answers with status OK`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        val response = auth.handleCtap(byteArrayOf(0x04))
        assertEquals(0, response[0].toInt())
        assertContentEquals(response.copyOfRange(1, response.size), auth.getInfo())
        assertEquals(0x01, auth.handleCtap(byteArrayOf(0x7e))[0].toInt(), "unknown command is CTAP1_ERR_INVALID_COMMAND")
    }
}
