package dev.tandem.sdk

import dev.tandem.ffi.Credential
import dev.tandem.ffi.CredentialStore
import dev.tandem.ffi.KeyProtector
import dev.tandem.ffi.UnreadableCredential
import dev.tandem.ffi.deleteStoreFiles
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Suspending versions of the credential store's calls: each is one SQLite transaction (and, on open, a
 * keystore call that may wait for the user), so they run on [Dispatchers.IO], never on the UI thread.
 */
object Stores {
    /** Opens (creating if needed) the store at [path], its data key protected by [protector]. */
    suspend fun open(path: String, protector: KeyProtector): CredentialStore =
        withContext(Dispatchers.IO) { CredentialStore.open(path, protector) }

    /**
     * Starts over after `TandemException.KeyInvalidated`, when every passkey in the store is already lost:
     * deletes the store's files at [path], then calls [deletePlatformKey] (e.g.
     * `AndroidKeystoreProtector.deleteKey`) so the next [open] makes a fresh key instead of reusing the dead
     * one. Close every `CredentialStore` on [path] first. Ask the user before calling this.
     */
    suspend fun resetAfterKeyLoss(path: String, deletePlatformKey: () -> Unit): Unit =
        withContext(Dispatchers.IO) {
            deleteStoreFiles(path)
            deletePlatformKey()
        }
}

/** Stored passkeys that cannot be read (damaged rows `list` skips), for the user to delete. */
suspend fun CredentialStore.unreadableCredentials(): List<UnreadableCredential> =
    withContext(Dispatchers.IO) { unreadable() }

/** Every readable credential, newest first, read off the UI thread. */
suspend fun CredentialStore.credentials(): List<Credential> = withContext(Dispatchers.IO) { list() }

/** Deletes one credential off the UI thread; throws `TandemException.NotFound` if it does not exist. */
suspend fun CredentialStore.remove(credentialId: ByteArray): Unit = withContext(Dispatchers.IO) { delete(credentialId) }
