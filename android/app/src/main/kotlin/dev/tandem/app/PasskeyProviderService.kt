package dev.tandem.app

import android.app.PendingIntent
import android.content.Intent
import android.credentials.ClearCredentialStateException
import android.credentials.CreateCredentialException
import android.credentials.GetCredentialException
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
import dev.tandem.ffi.TandemException
import dev.tandem.sdk.Base64Url
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.json.JSONException
import org.json.JSONObject

/**
 * Android 14 Credential Manager provider. The begin phase only offers entries (no UI, no signing): one
 * "save in Tandem" entry for a create, one entry per stored passkey of the requested RP for a get. The user's
 * choice launches [ProviderActivity], which runs the request through the same core as hybrid sessions.
 */
class PasskeyProviderService : CredentialProviderService() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private var requestCode = 0

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    private fun pending(action: String, extras: Intent.() -> Unit): PendingIntent {
        val intent = Intent(this, ProviderActivity::class.java).setAction(action).apply(extras)
        // MUTABLE: the system attaches the final request to the intent before launching it.
        return PendingIntent.getActivity(this, requestCode++, intent, PendingIntent.FLAG_MUTABLE or PendingIntent.FLAG_UPDATE_CURRENT)
    }

    override fun onBeginCreateCredential(
        request: BeginCreateCredentialRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<BeginCreateCredentialResponse, CreateCredentialException>,
    ) {
        if (request.type != ProviderSlices.TYPE_PUBLIC_KEY) {
            callback.onError(CreateCredentialException(CreateCredentialException.TYPE_NO_CREATE_OPTIONS, "Tandem only stores passkeys"))
            return
        }
        val entry = CreateEntry(ProviderSlices.createEntry("Tandem", pending(ProviderActivity.ACTION_CREATE) {}))
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
                    val rpId = rpIdOf(option.candidateQueryData.getString(ProviderSlices.KEY_REQUEST_JSON)) ?: continue
                    for (credential in store.listForRp(rpId)) {
                        val intent = pending(ProviderActivity.ACTION_GET) {
                            putExtra(ProviderActivity.EXTRA_CREDENTIAL_ID, Base64Url.encode(credential.id))
                        }
                        val slice = ProviderSlices.passkeyEntry(
                            credential.userName ?: credential.userDisplayName ?: rpId,
                            credential.userDisplayName,
                            option.id,
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

    private fun rpIdOf(requestJson: String?): String? = try {
        requestJson?.let { JSONObject(it).optString("rpId").takeIf(String::isNotEmpty) }
    } catch (_: JSONException) {
        null
    }
}
