package dev.tandem

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeout
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
    private val store = runBlocking { CredentialStore.openInMemory(SoftwareKeyProtector.random()) }
    private val rpId = "example.com"
    private val origin = "https://example.com"
    private val userId = byteArrayOf(1, 2, 3, 4)

    @AfterEach
    fun close() = store.close()

    private fun engine(verifier: dev.tandem.UserVerifier, chooser: FixedChooser = FixedChooser(0u)) =
        Authenticator(store, verifier, chooser, AuthenticatorOptions(ByteArray(0), BackupPolicy.DEVICE_BOUND))

    private fun sha256(b: ByteArray) = MessageDigest.getInstance("SHA-256").digest(b)

    /** A stand-in browser certificate and an allowlist naming it (Google's format). */
    private val browserCert = "test browser certificate".toByteArray()
    private val allowlist = sha256(browserCert).joinToString(":") { "%02X".format(it) }.let {
        """{"apps":[{"type":"android","info":{"package_name":"com.example.browser","signatures":[{"build":"release","cert_fingerprint_sha256":"$it"}]}}]}"""
    }

    /** The allowlisted browser showing [origin]; Tandem builds the clientDataJSON when it gives no hash. */
    private fun browser(hash: ByteArray? = null, pkg: String = "com.example.browser", cert: ByteArray = browserCert) =
        CallerContext.Android(pkg, listOf(cert), false, emptyList(), origin, hash, allowlist)

    /** A client that built and hashed its own clientDataJSON (as iOS does for its extensions). */
    private fun os(hash: ByteArray) = CallerContext.OsVerified(hash)

    @Test
    fun `register then sign in, signature verifies with the registered public key`(): Unit = runBlocking {
        val verifier = ApprovingVerifier()
        val auth = engine(verifier)
        val reg = auth.register(creationOptions(rpId, userId, "alice@example.com", byteArrayOf(9, 9)), browser())
        val createJson = assertNotNull(reg.clientDataJson, "Tandem built the clientDataJSON")
        assertEquals(
            """{"type":"webauthn.create","challenge":"CQk","origin":"https://example.com","crossOrigin":false}""",
            createJson.decodeToString(),
        )
        assertEquals(-7L, reg.publicKeyAlgorithm)
        assertContentEquals(sha256(rpId.toByteArray()), reg.authenticatorData.copyOfRange(0, 32))
        assertEquals(true, reg.clientExtensionResults.credProps?.rk, "${reg.clientExtensionResults}")
        assertEquals(Operation.REGISTER, verifier.prompts.single().operation)
        assertEquals(rpId, verifier.prompts.single().rpId)

        val listed = store.list().single()
        assertContentEquals(reg.credentialId, listed.id)
        assertEquals("alice@example.com", listed.userName)
        assertTrue(listed.discoverable)

        val assertion = auth.authenticate(requestOptions(rpId, byteArrayOf(7)), browser())
        val getJson = assertNotNull(assertion.clientDataJson)
        assertContentEquals(reg.credentialId, assertion.credentialId)
        assertContentEquals(userId, assertNotNull(assertion.userHandle))
        val flags = assertion.authenticatorData[32].toInt()
        assertEquals(0x05, flags and 0x05, "UP and UV must be set")
        assertEquals(1, ByteBuffer.wrap(assertion.authenticatorData, 33, 4).int, "device-bound counter starts at 1")

        val key = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(reg.publicKeySpkiDer))
        val sig = Signature.getInstance("SHA256withECDSA")
        sig.initVerify(key)
        sig.update(assertion.authenticatorData + sha256(getJson))
        assertTrue(sig.verify(assertion.signature), "assertion signature must verify")
        sig.initVerify(key)
        sig.update(assertion.authenticatorData + sha256(createJson))
        assertTrue(!sig.verify(assertion.signature), "signature must bind the clientDataHash")

        val regJson = registrationResponseJson(reg, createJson)
        assertTrue(regJson.contains("\"id\":\"${Base64Url.encode(reg.credentialId)}\""), regJson)
        val authJson = assertionResponseJson(assertion, getJson)
        assertTrue(authJson.contains("\"userHandle\":\"${Base64Url.encode(userId)}\""), authJson)
    }

    @Test
    fun `an app that is not an allowlisted browser may not pass a clientDataHash, and nothing is stored`(): Unit = runBlocking {
        val verifier = ApprovingVerifier()
        val auth = engine(verifier)
        // A phishing app replaying the hash of the real site's clientData, and a repackaged "browser".
        for (caller in listOf(browser(ByteArray(32), pkg = "com.evil.app"), browser(ByteArray(32), cert = "evil".toByteArray()))) {
            val e = assertFailsWith<TandemException.CallerRefused> {
                auth.register(creationOptions(rpId, userId, "mallory", byteArrayOf(1)), caller)
            }
            assertEquals(CallerRefusal.UNPRIVILEGED_CLIENT_DATA_HASH, e.kind)
        }
        assertEquals(emptyList(), store.list())
        assertEquals(emptyList(), verifier.prompts, "the user is not asked")
        // The allowlisted browser may, for an RP ID on its page's origin only.
        auth.register(creationOptions(rpId, userId, "alice", byteArrayOf(1)), browser(ByteArray(32)))
        val e = assertFailsWith<TandemException.CallerRefused> {
            auth.authenticate(requestOptions("bank.com", byteArrayOf(1)), browser(ByteArray(32)))
        }
        assertEquals(CallerRefusal.RP_ID_MISMATCH, e.kind)
    }

    @Test
    fun `a verifier that approves without the enrolled UV key gets no signature and registers nothing`(): Unit = runBlocking {
        val verifier = ApprovingVerifier()
        val auth = engine(verifier)
        val reg = auth.register(creationOptions(rpId, userId, "alice@example.com", byteArrayOf(9, 9)), browser())
        assertEquals(null, verifier.wrappedKeys.single(), "the first verification creates the key")
        // A hook answering "verified" without the Keystore unlock has no way to the real key.
        verifier.key = ByteArray(32) { 0x66 }
        val e = assertFailsWith<TandemException.Ctap> { auth.authenticate(requestOptions(rpId, byteArrayOf(7)), browser()) }
        assertEquals(CtapStatus.UvInvalid, e.status)
        assertFailsWith<TandemException.Ctap> {
            auth.register(creationOptions(rpId, byteArrayOf(5), "mallory@example.com", byteArrayOf(9, 9)), browser())
        }
        assertContentEquals(reg.credentialId, store.list().single().id)
        assertContentEquals("wrapped:".toByteArray() + ByteArray(32) { 0x75 }, verifier.wrappedKeys.last(), "the kept wrapped key came back")
        verifier.key = ByteArray(32) { 0x75 }
        assertContentEquals(reg.credentialId, auth.authenticate(requestOptions(rpId, byteArrayOf(7)), browser()).credentialId)
    }

    @Test
    fun `refused verification surfaces as CTAP operation denied and stores nothing`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { VerificationException.Denied() })
        val e = assertFailsWith<TandemException.Ctap> {
            auth.register(creationOptions(rpId, userId, "bob", byteArrayOf(1)), browser())
        }
        assertEquals(CtapStatus.OperationDenied, e.status)
        assertEquals(emptyList(), store.list())
    }

    @Test
    fun `unavailable biometrics surface as CTAP UV blocked`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { VerificationException.Unavailable("no fingerprint enrolled") })
        val e = assertFailsWith<TandemException.Ctap> {
            auth.register(creationOptions(rpId, userId, "bob", byteArrayOf(1)), os(ByteArray(32)))
        }
        assertEquals(CtapStatus.UvBlocked, e.status)
        assertTrue("no fingerprint enrolled" in e.reason, e.reason)
    }

    @Test
    fun `a verifier that throws an undeclared exception is a typed failure`(): Unit = runBlocking {
        val auth = engine(RefusingVerifier { IllegalStateException("UI gone") })
        val e = assertFailsWith<TandemException.Ctap> { auth.register(creationOptions(rpId, userId, "c", byteArrayOf(1)), os(ByteArray(32))) }
        assertTrue("UI gone" in e.reason, e.reason)
    }

    @Test
    fun `sign-in without a credential is CTAP no credentials`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        val e = assertFailsWith<TandemException.Ctap> { auth.authenticate(requestOptions(rpId, byteArrayOf(1)), os(ByteArray(32))) }
        assertEquals(CtapStatus.NoCredentials, e.status)
    }

    @Test
    fun `several accounts ask the chooser, and a cancel is operation denied`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        for (name in listOf("a", "b")) {
            auth.register(creationOptions(rpId, name.toByteArray(), name, byteArrayOf(1)), os(ByteArray(32)))
        }
        val chooser = FixedChooser(null)
        val picky = engine(ApprovingVerifier(), chooser)
        val e = assertFailsWith<TandemException.Ctap> { picky.authenticate(requestOptions(rpId, byteArrayOf(2)), os(ByteArray(32))) }
        assertEquals(CtapStatus.OperationDenied, e.status)
        assertEquals(setOf("a", "b"), chooser.shown.single().map { it.name }.toSet())

        val second = engine(ApprovingVerifier(), FixedChooser(1u))
        val chosen = second.authenticate(requestOptions(rpId, byteArrayOf(2)), os(ByteArray(32)))
        assertNotNull(chosen.userHandle)
    }

    @Test
    fun `malformed requests are InvalidInput`(): Unit = runBlocking {
        val auth = engine(ApprovingVerifier())
        assertFailsWith<TandemException.InvalidInput> { auth.register("{not json", os(ByteArray(32))) }
        assertFailsWith<TandemException.InvalidInput> { auth.register(creationOptions(rpId, userId, "x", byteArrayOf(1)), os(ByteArray(31))) }
        assertFailsWith<TandemException.InvalidInput> { auth.authenticate("""{"challenge":"AA"}""", os(ByteArray(32))) }
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

    /**
     * The app cancels the coroutine awaiting `register` while the prompt is up: the library cancels the
     * verifier's coroutine (what dismisses a real BiometricPrompt) and stores nothing.
     */
    @Test
    fun `cancelling a registration cancels the verifier's prompt and stores nothing`(): Unit = runBlocking {
        val shown = CompletableDeferred<Unit>()
        val dismissed = CompletableDeferred<Unit>()
        val waiting = object : dev.tandem.UserVerifier {
            override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey =
                suspendCancellableCoroutine { continuation ->
                    continuation.invokeOnCancellation { dismissed.complete(Unit) }
                    shown.complete(Unit)
                }
        }
        val call = launch(Dispatchers.IO) { engine(waiting).register(creationOptions(rpId, userId, "alice", byteArrayOf(1)), os(ByteArray(32) { 7 })) }
        withTimeout(10_000) { shown.await() }
        call.cancel()
        withTimeout(10_000) { dismissed.await() }
        assertEquals(emptyList(), store.list())
    }
}
