package dev.tandem

import dev.tandem.testpeers.Peer
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.io.TempDir
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeout
import java.nio.file.Files
import java.nio.file.Path
import java.util.Collections
import java.util.concurrent.TimeUnit

/**
 * Whole hybrid ceremonies through the Kotlin API: the project's tunnel server and desktop peer (`tandem
 * tunnel`, `tandem desktop`, which verifies every result with webauthn-rs) on loopback, the phone side being
 * this JVM with Kotlin callbacks (software key protector, auto-approving verifier, UDP sim-radio advertiser).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HybridEndToEndTest {
    private lateinit var logs: Path
    private lateinit var tunnel: Peer
    private lateinit var tunnelUrl: String
    private val rpId = "tandem.example"

    @BeforeAll
    fun startTunnel() {
        logs = Files.createTempDirectory("tandem-e2e")
        tunnel = Peer(listOf("tunnel", "--listen", "127.0.0.1:0"), logs)
        tunnelUrl = tunnel.awaitLine("listening ")
        assertTrue(tunnelUrl.startsWith("ws://127.0.0.1:"), tunnelUrl)
    }

    @AfterAll
    fun stopTunnel() = tunnel.close()

    private fun desktop(vararg args: String): Peer = Peer(
        listOf("desktop", *args, "--tunnel-url", tunnelUrl, "--radio", "sim", "--rp-id", rpId, "--timeout", "60"),
        logs,
    )

    /** A phone: store in [dir], the given verifier, a UDP sim-radio advertiser and a recording listener. */
    private inner class Phone(dir: Path, verifier: UserVerifier = ApprovingVerifier(), stepTimeoutSecs: UInt = 0u) {
        val store = runBlocking { CredentialStore.open(dir.resolve("phone.db").toString(), SoftwareKeyProtector(ByteArray(32) { 3 })) }
        val authenticator = Authenticator(store, verifier, FixedChooser(0u), AuthenticatorOptions(ByteArray(0), BackupPolicy.SYNCED))
        val advertiser = UdpSimAdvertiser()
        val events: MutableList<ProgressEvent> = Collections.synchronizedList(mutableListOf())
        val advertising = CompletableDeferred<Unit>()
        val waitingForDesktop = CompletableDeferred<Unit>()
        /** Names of the linked desktops the user was asked about; the test user accepts every one. */
        val linkedAsked: MutableList<String> = Collections.synchronizedList(mutableListOf())
        val session = HybridSession(
            authenticator, store, advertiser, OkHttpWebSocketClient(),
            progressListener {
                events += it
                if (it is ProgressEvent.Advertising) advertising.complete(Unit)
                if (it is ProgressEvent.WaitingForDesktop) waitingForDesktop.complete(Unit)
            },
            object : LinkedSessionApprover {
                override suspend fun accept(desktopName: String): Boolean = linkedAsked.add(desktopName)
            },
            // The test user turned linking on (the default is off).
            sessionOptions(Tunnel.Url(tunnelUrl, 256u), "Kotlin test phone", allowInsecureLoopback = true, linking = true, stepTimeoutSecs = stepTimeoutSecs),
        )
    }

    @Test
    fun `register, sign in with the passkey, then sign in through the link`(@TempDir dir: Path): Unit = runBlocking {
        val phone = Phone(dir)
        val passkey = dir.resolve("passkey.json")
        val link = dir.resolve("link.json")

        desktop("register", "--user", "alice", "--passkey-out", "$passkey", "--link-out", "$link").use { d ->
            val outcome = phone.session.runQr(d.awaitLine("qr "))
            assertEquals(0, d.awaitExit(), d.diagnostics())
            assertTrue("registration verified by webauthn-rs" in d.diagnostics(), d.diagnostics())
            assertTrue(outcome.linked, "the desktop asked for linking")
            assertEquals(CtapStatus.Ok, outcome.lastStatus)
        }
        val credential = phone.store.list().single()
        assertEquals(rpId, credential.rpId)
        assertEquals("alice", credential.userName)
        assertEquals(1, phone.store.linkedDesktops().size)
        assertTrue(phone.events.any { it is ProgressEvent.HandshakeDone }, "${phone.events}")
        assertTrue(phone.events.any { it is ProgressEvent.RequestReceived && it.command == CtapCommand.MakeCredential }, "${phone.events}")
        assertTrue(phone.advertiser.stopped.count == 0L, "the advert is stopped when the session ends")

        phone.events.clear()
        desktop("login", "--passkey", "$passkey").use { d ->
            phone.session.runQr(d.awaitLine("qr "))
            assertEquals(0, d.awaitExit(), d.diagnostics())
            assertTrue("sign-in verified by webauthn-rs" in d.diagnostics(), d.diagnostics())
        }
        assertTrue(phone.events.any { it is ProgressEvent.RequestReceived && it.command == CtapCommand.GetAssertion }, "${phone.events}")

        // Linked: no QR code; the desktop wakes the phone through the tunnel service's wake channel.
        val served = async { phone.session.serveLinked(60u) }
        // The tunnel only knows the phone's contact ID while its wake channel is open (else the desktop gets 410).
        withTimeout(30_000) { phone.waitingForDesktop.await() }
        desktop("login", "--passkey", "$passkey", "--linked", "$link").use { d ->
            served.await()
            assertEquals(0, d.awaitExit(), d.diagnostics())
            assertEquals(listOf(phone.store.linkedDesktops().single().desktopName), phone.linkedAsked.toList())
            assertTrue("sign-in verified by webauthn-rs" in d.diagnostics(), d.diagnostics())
        }
        phone.store.close()
    }

    @Test
    fun `refused verification is a typed CTAP exception on the phone and fails the desktop`(@TempDir dir: Path): Unit = runBlocking {
        val phone = Phone(dir, RefusingVerifier { VerificationException.Denied() })
        desktop("register", "--user", "bob", "--no-linking").use { d ->
            val e = assertFailsWith<TandemException.Ctap> { phone.session.runQr(d.awaitLine("qr ")) }
            assertEquals(CtapStatus.OperationDenied, e.status)
            assertTrue(d.awaitExit() != 0, "the desktop must not report success")
        }
        assertEquals(emptyList(), phone.store.list())
    }

    @Test
    fun `bad QR codes are InvalidQr and nothing is advertised`(@TempDir dir: Path): Unit = runBlocking {
        val phone = Phone(dir)
        for (text in listOf("https://example.com", "FIDO:/1234", "FIDO:/" + "9".repeat(40), "")) {
            assertFailsWith<TandemException.InvalidQr>(text) { phone.session.runQr(text) }
        }
        assertEquals(0, phone.advertiser.starts.get())
        assertTrue(phone.events.any { it is ProgressEvent.Failed }, "${phone.events}")

        // A listener that throws must not turn a typed error into a crash.
        val throwing = HybridSession(
            phone.authenticator, phone.store, phone.advertiser, OkHttpWebSocketClient(), progressListener { throw IllegalStateException("UI bug") },
            object : LinkedSessionApprover {
                override suspend fun accept(desktopName: String): Boolean = false
            },
            sessionOptions(Tunnel.Url(tunnelUrl, 256u), "p", allowInsecureLoopback = true),
        )
        assertFailsWith<TandemException.InvalidQr> { throwing.runQr("FIDO:/1") }
    }

    @Test
    fun `a desktop that never comes is a typed timeout, and the advert is stopped`(@TempDir dir: Path): Unit = runBlocking {
        val phone = Phone(dir, stepTimeoutSecs = 2u)
        val qr = desktop("register", "--user", "carol").use { it.awaitLine("qr ") } // the desktop is gone
        val e = assertFailsWith<TandemException.Timeout> { phone.session.runQr(qr) }
        assertEquals(SessionStep.HANDSHAKE, e.step)
        assertTrue(phone.advertiser.stopped.await(10, TimeUnit.SECONDS), "advert stopped")
    }

    @Test
    fun `cancelling the coroutine cancels the session and stops the advert`(@TempDir dir: Path): Unit = runBlocking {
        val phone = Phone(dir)
        val qr = desktop("register", "--user", "dave").use { it.awaitLine("qr ") }
        val run = async { phone.session.runQr(qr) }
        withTimeout(60_000) { phone.advertising.await() }
        run.cancel()
        assertFailsWith<kotlinx.coroutines.CancellationException> { run.await() }
        assertTrue(phone.advertiser.stopped.await(10, TimeUnit.SECONDS), "cancel must stop the advert")
        assertTrue(phone.events.none { it is ProgressEvent.Finished }, "${phone.events}")
    }

    /**
     * The user never answers the prompt and the session's time limit passes: the session fails with a typed
     * timeout, the library cancels the verifier's coroutine (what takes a real BiometricPrompt down), and
     * nothing is stored.
     */
    @Test
    fun `a prompt left unanswered is cancelled when the session gives up`(@TempDir dir: Path): Unit = runBlocking {
        val shown = CompletableDeferred<Unit>()
        val dismissed = CompletableDeferred<Unit>()
        val unanswered = object : UserVerifier {
            override suspend fun verify(prompt: VerificationPrompt, wrappedKey: ByteArray?): UnlockedUvKey =
                suspendCancellableCoroutine { continuation ->
                    continuation.invokeOnCancellation { dismissed.complete(Unit) }
                    shown.complete(Unit)
                }
        }
        val phone = Phone(dir, unanswered, stepTimeoutSecs = 5u)
        desktop("register", "--user", "erin", "--no-linking").use { d ->
            val e = assertFailsWith<TandemException.Timeout> { phone.session.runQr(d.awaitLine("qr ")) }
            assertEquals(SessionStep.PROCESS_REQUEST, e.step)
            assertTrue(shown.isCompleted, "the prompt was shown")
            withTimeout(10_000) { dismissed.await() }
            assertTrue(d.awaitExit() != 0, "the desktop must not report success")
        }
        assertEquals(emptyList(), phone.store.list())
    }
}
