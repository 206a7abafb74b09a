package dev.tandem

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Store housekeeping the library cannot do alone. Every `CredentialStore` call is itself a `suspend fun`
 * that runs on the library's own blocking pool, so apps call them from any coroutine, the UI's included.
 */
object Stores {
    /**
     * Starts over after `TandemException.KeyInvalidated`, when every passkey in the store is already lost:
     * deletes the store's files at [path], then calls [deletePlatformKey] (e.g.
     * `AndroidKeystoreProtector.deleteKey`, `KeystoreUvKey.deleteKey`) so the next `CredentialStore.open`
     * makes fresh keys instead of reusing dead ones. Close every `CredentialStore` on [path] first. Ask the
     * user before calling this.
     */
    suspend fun resetAfterKeyLoss(path: String, deletePlatformKey: () -> Unit) {
        deleteStoreFiles(path)
        // Keystore deletion is a binder call: keep it off the caller's (possibly main) thread.
        withContext(Dispatchers.IO) { deletePlatformKey() }
    }
}
