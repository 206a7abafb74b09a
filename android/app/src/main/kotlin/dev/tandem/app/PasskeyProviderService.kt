package dev.tandem.app

import android.app.PendingIntent
import android.content.Intent
import android.credentials.ClearCredentialStateException
import android.credentials.CreateCredentialException
import android.credentials.GetCredentialException
import android.graphics.drawable.Icon
import android.os.CancellationSignal
import android.os.OutcomeReceiver
import android.service.credentials.BeginCreateCredentialRequest
import android.service.credentials.BeginCreateCredentialResponse
import android.service.credentials.BeginGetCredentialRequest
import android.service.credentials.BeginGetCredentialResponse
import android.service.credentials.ClearCredentialStateRequest
import android.service.credentials.CreateEntry
import android.service.credentials.CredentialEntry
import android.service.credentials.CredentialProviderService
import dev.tandem.Base64Url
import dev.tandem.TandemException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.json.JSONException
import org.json.JSONObject
import java.util.concurrent.atomic.AtomicInteger

/**
 * Android 14 Credential Manager provider. The begin phase only offers entries (no UI, no signing): one
 * "save in Tandem" entry for a create, one entry per stored passkey of the requested RP for a get. The user's
 * choice launches [ProviderActivity], which runs the request through the same core as hybrid sessions.
 */
class PasskeyProviderService : CredentialProviderService() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    private fun pending(action: String, extras: Intent.() -> Unit): PendingIntent {
        val intent = Intent(this, ProviderActivity::class.java).setAction(action).apply(extras)
        // MUTABLE: the system attaches the final request to the intent before launching it. The request code
        // is unique in the process (not per service instance, which the system recreates between requests):
        // PendingIntents differing only in extras are one PendingIntent, so a reused code would hand an older
        // entry this entry's extras (FLAG_UPDATE_CURRENT) or this entry the older extras (no flag).
        return PendingIntent.getActivity(this, nextRequestCode.getAndIncrement(), intent, PendingIntent.FLAG_MUTABLE)
    }

    /** The icon of Tandem's entries: the selector drops entries without one. */
    private fun entryIcon(): Icon = Icon.createWithResource(this, android.R.drawable.ic_lock_lock)

    override fun onBeginCreateCredential(
        request: BeginCreateCredentialRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<BeginCreateCredentialResponse, CreateCredentialException>,
    ) {
        if (request.type != ProviderSlices.TYPE_PUBLIC_KEY) {
            callback.onError(CreateCredentialException(CreateCredentialException.TYPE_NO_CREATE_OPTIONS, "Tandem only stores passkeys"))
            return
        }
        val entry = CreateEntry(ProviderSlices.createEntry("Tandem", entryIcon(), pending(ProviderActivity.ACTION_CREATE) {}))
        callback.onResult(BeginCreateCredentialResponse.Builder().addCreateEntry(entry).build())
    }

    override fun onBeginGetCredential(
        request: BeginGetCredentialRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<BeginGetCredentialResponse, GetCredentialException>,
    ) {
        val job = scope.launch {
            try {
                val store = (application as TandemApp).store()
                val response = BeginGetCredentialResponse.Builder()
                for (option in request.beginGetCredentialOptions) {
                    if (option.type != ProviderSlices.TYPE_PUBLIC_KEY) continue
                    val query = queryOf(option.candidateQueryData.getString(ProviderSlices.KEY_REQUEST_JSON)) ?: continue
                    val rpId = query.rpId
                    for (credential in store.listForRp(rpId)) {
                        // A non-empty allowCredentials names the only passkeys the RP accepts.
                        if (query.allowed != null && Base64Url.encode(credential.id) !in query.allowed) continue
                        val intent = pending(ProviderActivity.ACTION_GET) {
                            putExtra(ProviderActivity.EXTRA_CREDENTIAL_ID, Base64Url.encode(credential.id))
                        }
                        val slice = ProviderSlices.passkeyEntry(
                            credential.userName ?: credential.userDisplayName ?: rpId,
                            credential.userDisplayName,
                            option.id,
                            entryIcon(),
                            intent,
                        )
                        response.addCredentialEntry(CredentialEntry(option, slice))
                    }
                }
                callback.onResult(response.build())
            } catch (e: TandemException) {
                callback.onError(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, e.message))
            }
        }
        cancellationSignal.setOnCancelListener { job.cancel() }
    }

    override fun onClearCredentialState(
        request: ClearCredentialStateRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<Void?, ClearCredentialStateException>,
    ) {
        // Tandem keeps no sign-in session state to clear.
        callback.onResult(null)
    }

    private companion object {
        /** Request codes for entry PendingIntents, unique for the life of the process. */
        val nextRequestCode = AtomicInteger()
    }

    /** What the begin phase needs from a get request: the RP and, when the RP gave one, its allow list. */
    private class Query(val rpId: String, val allowed: Set<String>?)

    /** The request's RP ID and allowCredentials (base64url IDs, re-encoded without padding); null if malformed. */
    private fun queryOf(requestJson: String?): Query? = try {
        requestJson?.let { text ->
            val json = JSONObject(text)
            val rpId = json.optString("rpId").takeIf(String::isNotEmpty) ?: return null
            val list = json.optJSONArray("allowCredentials")
            val allowed = if (list == null || list.length() == 0) null else (0 until list.length()).map {
                Base64Url.encode(Base64Url.decode(list.getJSONObject(it).getString("id")))
            }.toSet()
            Query(rpId, allowed)
        }
    } catch (_: JSONException) {
        null
    } catch (_: IllegalArgumentException) {
        null
    }
}
