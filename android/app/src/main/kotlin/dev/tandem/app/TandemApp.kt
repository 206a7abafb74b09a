package dev.tandem.app

import android.app.Activity
import android.app.Application
import dev.tandem.AndroidBleAdvertiser
import dev.tandem.AndroidKeystoreProtector
import dev.tandem.Authenticator
import dev.tandem.AuthenticatorOptions
import dev.tandem.BackupPolicy
import dev.tandem.BiometricVerifier
import dev.tandem.CredentialStore
import dev.tandem.HybridSession
import dev.tandem.KeystoreUvKey
import dev.tandem.OkHttpWebSocketClient
import dev.tandem.ProgressListener
import dev.tandem.SessionOptions
import dev.tandem.Stores
import dev.tandem.Tunnel
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import java.io.File

/**
 * Holds the one credential store of the app and builds engines and sessions for the activity on screen (the
 * verifier and chooser show UI over it).
 */
class TandemApp : Application() {
    private val lock = Mutex()
    private var store: CredentialStore? = null
    private val protector by lazy { AndroidKeystoreProtector(this, requireUserAuthentication = false) }
    private val storePath get() = File(noBackupFilesDir, "tandem-credentials.db").path

    /**
     * The credential store, opened on first use. The Keystore key is used without a per-use authentication
     * window: the credential provider must list passkeys before any UI exists, and every signature is already
     * gated by BiometricPrompt through the verifier. Set `requireUserAuthentication = true` to also gate
     * opening the store.
     */
    suspend fun store(): CredentialStore = lock.withLock {
        store ?: CredentialStore.open(storePath, protector).also { store = it }
    }

    /**
     * After `TandemException.KeyInvalidated` and the user's yes: deletes the dead Keystore keys (the store's
     * and the UV key's) and the database, so the next [store] starts empty with fresh keys. The old passkeys
     * were already lost.
     */
    suspend fun startOver(): Unit = lock.withLock {
        store?.close()
        store = null
        Stores.resetAfterKeyLoss(storePath) {
            protector.deleteKey()
            KeystoreUvKey(this).deleteKey()
        }
    }

    /** An engine whose prompts appear over [activity]. */
    suspend fun authenticator(activity: Activity): Authenticator = Authenticator(
        store(),
        BiometricVerifier(activity),
        DialogAccountChooser(activity),
        AuthenticatorOptions(aaguid = ByteArray(0), backup = BackupPolicy.DEVICE_BOUND),
    )

    /** A hybrid session for a QR code scanned in [activity]. */
    suspend fun hybridSession(activity: Activity, listener: ProgressListener): HybridSession = HybridSession(
        authenticator(activity),
        store(),
        AndroidBleAdvertiser(activity),
        OkHttpWebSocketClient(),
        listener,
        LinkedSessionNotifier(this),
        sessionOptions(),
    )

    /**
     * The options of the app's hybrid sessions. Linking is off: a linked desktop reaches the phone through the
     * tunnel service's wake channel, Google's service (domain 0) has no channel for Tandem and the app runs no
     * background service, so a link would promise the user something that cannot work.
     */
    fun sessionOptions(): SessionOptions = dev.tandem.sessionOptions(TUNNEL, authenticatorName = android.os.Build.MODEL ?: "Tandem", linking = false)

    companion object {
        /**
         * The tunnel service: Google's assigned domain, falling back to hashed domain 266 for desktops that do
         * not know it. A self-hosted service is `Tunnel.Url("wss://tunnel.example.net", <its hashed ID>)`.
         */
        val TUNNEL: Tunnel = Tunnel.Assigned(id = 0u, fallback = 266u)
    }
}
