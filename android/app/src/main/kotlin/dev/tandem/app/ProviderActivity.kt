package dev.tandem.app

import android.app.Activity
import android.content.Intent
import android.content.pm.SigningInfo
import android.credentials.CreateCredentialException
import android.credentials.CreateCredentialResponse
import android.credentials.Credential
import android.credentials.GetCredentialException
import android.credentials.GetCredentialResponse
import android.os.Bundle
import android.service.credentials.CallingAppInfo
import android.service.credentials.CreateCredentialRequest
import android.service.credentials.CredentialProviderService
import android.service.credentials.GetCredentialRequest
import dev.tandem.ffi.TandemException
import dev.tandem.ffi.assertionResponseJson
import dev.tandem.ffi.registrationResponseJson
import dev.tandem.sdk.Base64Url
import dev.tandem.sdk.ClientData
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.json.JSONArray
import org.json.JSONException
import org.json.JSONObject
import java.security.MessageDigest

/**
 * Runs the create or get the user picked in the system selector: BiometricPrompt (through the engine's
 * verifier), then the core's WebAuthn-level call with the request JSON and clientDataHash, then the W3C
 * response JSON back to Credential Manager.
 */
class ProviderActivity : Activity() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main)
    private val app get() = application as TandemApp

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        when (intent.action) {
            ACTION_CREATE -> create()
            ACTION_GET -> get()
            else -> finish()
        }
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    /** The clientDataJSON to report and its hash: the caller's hash when it gave one (a browser), else ours. */
    private fun clientData(type: String, requestJson: String, given: ByteArray?, caller: CallingAppInfo): Pair<ByteArray, ByteArray> {
        if (given != null) return Pair(PLACEHOLDER_CLIENT_DATA, given)
        val challenge = Base64Url.decode(JSONObject(requestJson).getString("challenge"))
        val data = if (type == "webauthn.create") ClientData.forCreate(challenge, appOrigin(caller)) else ClientData.forGet(challenge, appOrigin(caller))
        return Pair(data.json, data.hash)
    }

    private fun create() {
        val request = intent.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST, CreateCredentialRequest::class.java)
            ?: return fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "no request"))
        val json = request.data.getString(ProviderSlices.KEY_REQUEST_JSON)
            ?: return fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "no requestJson"))
        scope.launch {
            try {
                val (clientDataJson, hash) = clientData("webauthn.create", json, request.data.getByteArray(ProviderSlices.KEY_CLIENT_DATA_HASH), request.callingAppInfo)
                val result = app.authenticator(this@ProviderActivity).register(json, hash)
                val response = Bundle().apply { putString(ProviderSlices.KEY_REGISTRATION_RESPONSE_JSON, registrationResponseJson(result, clientDataJson)) }
                setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_RESPONSE, CreateCredentialResponse(response)))
                finish()
            } catch (e: TandemException) {
                val type = if (e is TandemException.Ctap && e.status.toInt() == 0x27) CreateCredentialException.TYPE_USER_CANCELED else CreateCredentialException.TYPE_UNKNOWN
                fail(CreateCredentialException(type, e.message))
            } catch (e: JSONException) {
                fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "malformed requestJson: ${e.message}"))
            } catch (e: IllegalArgumentException) {
                fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "malformed requestJson: ${e.message}"))
            }
        }
    }

    private fun get() {
        val request = intent.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_REQUEST, GetCredentialRequest::class.java)
            ?: return fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "no request"))
        val chosen = intent.getStringExtra(EXTRA_CREDENTIAL_ID)
            ?: return fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "no credential chosen"))
        val option = request.credentialOptions.firstOrNull { it.type == ProviderSlices.TYPE_PUBLIC_KEY }
            ?: return fail(GetCredentialException(GetCredentialException.TYPE_NO_CREDENTIAL, "no passkey option"))
        val json = option.credentialRetrievalData.getString(ProviderSlices.KEY_REQUEST_JSON)
            ?: return fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "no requestJson"))
        // Sign with exactly the passkey the user picked in the selector. The caller's JSON is untrusted input:
        // malformed JSON is an error result for the caller, never a crash of the provider process.
        val narrowed = try {
            JSONObject(json).put("allowCredentials", JSONArray().put(JSONObject().put("type", "public-key").put("id", chosen))).toString()
        } catch (e: JSONException) {
            return fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "malformed requestJson: ${e.message}"))
        }
        scope.launch {
            try {
                val (clientDataJson, hash) = clientData("webauthn.get", json, option.credentialRetrievalData.getByteArray(ProviderSlices.KEY_CLIENT_DATA_HASH), request.callingAppInfo)
                val result = app.authenticator(this@ProviderActivity).authenticate(narrowed, hash)
                val data = Bundle().apply { putString(ProviderSlices.KEY_AUTHENTICATION_RESPONSE_JSON, assertionResponseJson(result, clientDataJson)) }
                val response = GetCredentialResponse(Credential(ProviderSlices.TYPE_PUBLIC_KEY, data))
                setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_RESPONSE, response))
                finish()
            } catch (e: TandemException) {
                val type = if (e is TandemException.Ctap && e.status.toInt() == 0x27) GetCredentialException.TYPE_USER_CANCELED else GetCredentialException.TYPE_UNKNOWN
                fail(GetCredentialException(type, e.message))
            } catch (e: JSONException) {
                fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "malformed requestJson: ${e.message}"))
            } catch (e: IllegalArgumentException) {
                fail(GetCredentialException(GetCredentialException.TYPE_UNKNOWN, "malformed requestJson: ${e.message}"))
            }
        }
    }

    private fun fail(e: CreateCredentialException) {
        setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_EXCEPTION, e))
        finish()
    }

    private fun fail(e: GetCredentialException) {
        setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_EXCEPTION, e))
        finish()
    }

    companion object {
        /** Intent action: run a create. */
        const val ACTION_CREATE = "dev.tandem.app.PROVIDER_CREATE"
        /** Intent action: run a get. */
        const val ACTION_GET = "dev.tandem.app.PROVIDER_GET"
        /** base64url credential ID the user picked. */
        const val EXTRA_CREDENTIAL_ID = "dev.tandem.app.CREDENTIAL_ID"

        /** A browser that passes clientDataHash replaces clientDataJSON in the response with its own. */
        private val PLACEHOLDER_CLIENT_DATA = "{}".toByteArray()

        /** The WebAuthn origin of a calling app: the browser-supplied origin, else `android:apk-key-hash:…`. */
        fun appOrigin(caller: CallingAppInfo): String {
            caller.origin?.let { return it }
            val signing: SigningInfo = caller.signingInfo
            val cert = signing.apkContentsSigners.firstOrNull()?.toByteArray() ?: ByteArray(0)
            return "android:apk-key-hash:" + Base64Url.encode(MessageDigest.getInstance("SHA-256").digest(cert))
        }
    }
}
