package dev.tandem.robolectric

import android.Manifest
import android.app.Activity
import android.bluetooth.BluetoothManager
import android.os.Build
import android.os.Looper
import dev.tandem.app.TandemApp
import dev.tandem.AndroidBleAdvertiser
import dev.tandem.BleAdvertiser
import dev.tandem.CtapStatus
import dev.tandem.HybridSession
import dev.tandem.KeystoreUvKey
import dev.tandem.LinkedSessionApprover
import dev.tandem.OkHttpWebSocketClient
import dev.tandem.TandemException
import dev.tandem.Tunnel
import dev.tandem.progressListener
import dev.tandem.sessionOptions
import dev.tandem.testpeers.Peer
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import java.net.DatagramPacket
import java.net.DatagramSocket
import java.net.InetAddress
import java.nio.file.Files
import java.util.concurrent.atomic.AtomicReference

/**
 * Whole hybrid ceremonies inside the Robolectric sandbox with the app's own pieces: TandemApp's store (the
 * Keystore protector over FakeAndroidKeyStore), AndroidBleAdvertiser on Robolectric's Bluetooth (its advert
 * bytes relayed onto the project's simulated radio, where the desktop peer scans), OkHttp to the tunnel server
 * and desktop peer (`tandem tunnel`, `tandem desktop`, verifying with webauthn-rs) on loopback, the app's
 * session options except the tunnel, and the app's engine (`TandemApp.authenticator`: BiometricVerifier over an
 * activity, the UV key wrapped and unwrapped through the prompt's CryptoObject). Only the system side of the
 * BiometricPrompt is simulated (BiometricPromptShadow), answered as each test says.
 *
 * One class per SDK level, each in its own JVM (pom.xml): the native library keeps the callback tables of the
 * first sandbox that registered them, so a second sandbox's callbacks would be unknown handles to it.
 */
abstract class HybridInSandbox {
    private val app get() = RuntimeEnvironment.getApplication() as TandemApp
    private val rpId = "tandem.example"
    private lateinit var tunnel: Peer
    private lateinit var tunnelUrl: String
    private val logs = Files.createTempDirectory("tandem-robolectric")

    @Before
    fun setUp() {
        FakeAndroidKeyStore.install()
        BiometricPromptShadow.reset()
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) shadowOf(app).grantPermissions(Manifest.permission.BLUETOOTH_ADVERTISE)
        val adapter = app.getSystemService(BluetoothManager::class.java).adapter
        shadowOf(adapter).setEnabled(true)
        shadowOf(adapter).setIsMultipleAdvertisementSupported(true)
        tunnel = Peer(listOf("tunnel", "--listen", "127.0.0.1:0"), logs)
        tunnelUrl = tunnel.awaitLine("listening ")
    }

    @After
    fun tearDown() {
        tunnel.close()
        FakeAndroidKeyStore.uninstall()
        BiometricPromptShadow.reset()
    }

    /** AndroidBleAdvertiser, with what it handed Android's advertiser repeated onto the simulated radio. */
    private inner class RelayedAdvertiser : BleAdvertiser {
        private val android = AndroidBleAdvertiser(app)
        private val socket = DatagramSocket(0, InetAddress.getLoopbackAddress())
        private var relay: Thread? = null
        var starts = 0

        @Synchronized
        override fun start(advert: ByteArray) {
            android.start(advert)
            starts++
            val adapter = app.getSystemService(BluetoothManager::class.java).adapter
            val data = shadowOf(adapter.bluetoothLeAdvertiser).lastAdvertisingData
            val serviceData = data.serviceData[AndroidBleAdvertiser.FIDO_UUID] ?: error("no 0xFFF9 service data")
            val frame = byteArrayOf(0xF9.toByte(), 0xFF.toByte()) + serviceData
            relay?.interrupt()
            relay = Thread {
                try {
                    while (true) {
                        socket.send(DatagramPacket(frame, frame.size, InetAddress.getLoopbackAddress(), 0xFFF9))
                        Thread.sleep(100)
                    }
                } catch (_: InterruptedException) {
                } catch (_: java.io.IOException) {
                }
            }.apply { isDaemon = true; start() }
        }

        @Synchronized
        override fun stop() {
            relay?.interrupt()
            relay = null
            android.stop()
        }
    }

    /** Runs [block] on a worker thread while the main looper (Bluetooth callbacks) keeps turning. */
    private fun <T> withMainLooper(block: () -> T): T {
        val result = AtomicReference<Result<T>>()
        val t = Thread { result.set(runCatching(block)) }
        t.start()
        while (t.isAlive) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
        }
        return result.get().getOrThrow()
    }

    private fun desktop(vararg args: String): Peer = Peer(
        listOf("desktop", *args, "--tunnel-url", tunnelUrl, "--radio", "sim", "--rp-id", rpId, "--timeout", "60"),
        logs,
    )

    /** The app's hybrid session as TandemApp.hybridSession builds it, but on the loopback tunnel and radio relay. */
    private fun session(advertiser: RelayedAdvertiser): HybridSession {
        val store = runBlocking { app.store() }
        // The app's engine, with its prompts over an activity on screen (BiometricVerifier, DialogAccountChooser).
        val activity = Robolectric.buildActivity(Activity::class.java).setup().get()
        val appOptions = app.sessionOptions()
        assertFalse(appOptions.linking, "no wake path exists: the app must not offer linking")
        return HybridSession(
            runBlocking { app.authenticator(activity) },
            store,
            advertiser,
            OkHttpWebSocketClient(),
            progressListener { },
            // The app offers no linking, so no linked session can start; refuse any that did.
            object : LinkedSessionApprover {
                override suspend fun accept(desktopName: String): Boolean = false
            },
            sessionOptions(Tunnel.Url(tunnelUrl, 256u), appOptions.authenticatorName, allowInsecureLoopback = true, linking = appOptions.linking),
        )
    }

    @Test
    fun `register and sign in through a QR code, and the app declines linking`() {
        val store = runBlocking { app.store() }
        val advertiser = RelayedAdvertiser()
        val session = session(advertiser)
        // The user passes every prompt.
        BiometricPromptShadow.onShow = { it.succeed() }
        val passkey = logs.resolve("passkey.json")
        desktop("register", "--user", "alice", "--passkey-out", "$passkey", "--link-out", "${logs.resolve("link.json")}").use { d ->
            val outcome = withMainLooper { runBlocking { session.runQr(d.awaitLine("qr ")) } }
            assertEquals(0, d.awaitExit(), d.diagnostics())
            assertTrue("registration verified by webauthn-rs" in d.diagnostics(), d.diagnostics())
            assertFalse(outcome.linked)
            assertTrue("the phone offered no link" in d.diagnostics(), d.diagnostics())
        }
        val credential = runBlocking { store.list() }.single()
        assertEquals(rpId, credential.rpId)
        assertEquals(0, runBlocking { store.linkedDesktops() }.size)

        desktop("login", "--passkey", "$passkey").use { d ->
            withMainLooper { runBlocking { session.runQr(d.awaitLine("qr ")) } }
            assertEquals(0, d.awaitExit(), d.diagnostics())
            assertTrue("sign-in verified by webauthn-rs" in d.diagnostics(), d.diagnostics())
        }
        assertEquals(2, advertiser.starts, "one Android advert per ceremony")

        // One prompt per ceremony, titled by the core from the RP ID, each authorising the UV key's cipher:
        // encryption of a fresh UV key at registration, decryption of that wrapped key at sign-in.
        val prompts = BiometricPromptShadow.shown
        assertEquals(listOf("Create a passkey for $rpId", "Sign in to $rpId"), prompts.map { it.title.toString() })
        assertTrue(prompts.all { it.crypto?.cipher != null }, "every prompt authorises a CryptoObject")
        assertNotNull(FakeAndroidKeyStore.keys[KeystoreUvKey.DEFAULT_ALIAS], "the UV key's Keystore key")
        assertEquals(12, prompts[1].crypto!!.cipher.iv.size, "the sign-in prompt unwraps (GCM IV from the wrapped key)")
    }

    @Test
    fun `a cancelled prompt fails the registration, and nothing is stored`() {
        val store = runBlocking { app.store() }
        val session = session(RelayedAdvertiser())
        BiometricPromptShadow.onShow = { it.error(android.hardware.biometrics.BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED) }
        desktop("register", "--user", "bob", "--passkey-out", "${logs.resolve("bob.json")}").use { d ->
            val e = assertFailsWith<TandemException.Ctap> { withMainLooper { runBlocking { session.runQr(d.awaitLine("qr ")) } } }
            assertEquals(CtapStatus.OperationDenied, e.status)
            assertTrue(d.awaitExit() != 0, "the desktop must not report success: ${d.diagnostics()}")
        }
        assertEquals(1, BiometricPromptShadow.shown.size)
        assertEquals(emptyList(), runBlocking { store.list() })
    }

    @Test
    fun `a success callback without a CryptoObject signs nothing`() {
        val session = session(RelayedAdvertiser())
        val passkey = logs.resolve("carol.json")
        BiometricPromptShadow.onShow = { it.succeed() }
        desktop("register", "--user", "carol", "--passkey-out", "$passkey").use { d ->
            withMainLooper { runBlocking { session.runQr(d.awaitLine("qr ")) } }
            assertEquals(0, d.awaitExit(), d.diagnostics())
        }
        // Faked: "the user passed", but no cipher the Keystore authorised, so no UV key and no signature.
        BiometricPromptShadow.onShow = { it.succeedWith(null) }
        desktop("login", "--passkey", "$passkey").use { d ->
            val e = assertFailsWith<TandemException.Ctap> { withMainLooper { runBlocking { session.runQr(d.awaitLine("qr ")) } } }
            // The verifier's Unavailable ("no CryptoObject") as the engine reports it: no approval was minted.
            assertEquals(CtapStatus.UvBlocked, e.status)
            assertTrue(d.awaitExit() != 0, "the desktop must not report success: ${d.diagnostics()}")
            assertFalse("sign-in verified" in d.diagnostics(), d.diagnostics())
        }
        assertEquals(2, BiometricPromptShadow.shown.size, "the sign-in prompt was shown, and answered by the fake")
    }
}

/** The ceremonies on Android 9, the app's minSdk. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [28], application = TandemApp::class, shadows = [BiometricPromptShadow::class])
class HybridInSandboxSdk28Test : HybridInSandbox()

/** The ceremonies on Android 14. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], application = TandemApp::class, shadows = [BiometricPromptShadow::class])
class HybridInSandboxSdk34Test : HybridInSandbox()

/** The ceremonies on Android 15 (run under a JDK 21+: the pom's sdk-35 executions). */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = TandemApp::class, shadows = [BiometricPromptShadow::class])
class HybridInSandboxSdk35Test : HybridInSandbox()
