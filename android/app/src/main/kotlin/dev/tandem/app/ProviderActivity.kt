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
import dev.tandem.CallerContext
import dev.tandem.CtapStatus
import dev.tandem.TandemException
import dev.tandem.assertionResponseJson
import dev.tandem.registrationResponseJson
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.json.JSONArray
import org.json.JSONException
import org.json.JSONObject

/**
 * Runs the create or get the user picked in the system selector: the core's WebAuthn-level call with the
 * request JSON and what Credential Manager says about the caller (package, signing certificates, origin,
 * clientDataHash), then the W3C response JSON back to Credential Manager.
 *
 * The core decides whose origin the request speaks for (crates/engine/src/caller.rs): a clientDataHash and web origin
 * count only from an allowlisted browser (package AND certificate, the way androidx's
 * `CallingAppInfo.getOrigin(privilegedAllowlist)` checks); any other app signs as
 * `android:apk-key-hash:<cert hash>` with clientDataJSON Tandem builds, and only for an RP whose Digital Asset
 * Links list it. A refused caller sees no prompt, and nothing is stored.
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

    /** Credential Manager's facts about the caller, for the core's checks; [clientDataHash] as the request gave it. */
    private fun caller(info: CallingAppInfo, clientDataHash: ByteArray?): CallerContext {
        val signing: SigningInfo = info.signingInfo
        val multiple = signing.hasMultipleSigners()
        return CallerContext.Android(
            packageName = info.packageName,
            apkContentsSigners = signing.apkContentsSigners.orEmpty().map { it.toByteArray() },
            hasMultipleSigners = multiple,
            // As androidx: the rotation lineage only for a single signer (the platform gives none otherwise).
            signingCertificateHistory = if (multiple) emptyList() else signing.signingCertificateHistory.orEmpty().map { it.toByteArray() },
            // Set by the framework only for callers allowed to claim one; the core honours it only for allowlisted browsers.
            origin = info.origin,
            clientDataHash = clientDataHash,
            // null: the allowlist built into the library (crates/engine/data/privileged_allowlist.json).
            privilegedAllowlistJson = null,
        )
    }

    private fun create() {
        val request = intent.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST, CreateCredentialRequest::class.java)
            ?: return fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "no request"))
        val json = request.data.getString(ProviderSlices.KEY_REQUEST_JSON)
            ?: return fail(CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, "no requestJson"))
        scope.launch {
            try {
                val caller = caller(request.callingAppInfo, request.data.getByteArray(ProviderSlices.KEY_CLIENT_DATA_HASH))
                val result = app.authenticator(this@ProviderActivity).register(json, caller)
                val clientDataJson = result.clientDataJson ?: PLACEHOLDER_CLIENT_DATA
                val response = Bundle().apply { putString(ProviderSlices.KEY_REGISTRATION_RESPONSE_JSON, registrationResponseJson(result, clientDataJson)) }
                setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_RESPONSE, CreateCredentialResponse(response)))
                finish()
            } catch (e: TandemException) {
                val type = when {
                    e is TandemException.Ctap && e.status == CtapStatus.OperationDenied -> CreateCredentialException.TYPE_USER_CANCELED
                    e is TandemException.CallerRefused -> CREATE_SECURITY_ERROR
                    else -> CreateCredentialException.TYPE_UNKNOWN
                }
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
                val caller = caller(request.callingAppInfo, option.credentialRetrievalData.getByteArray(ProviderSlices.KEY_CLIENT_DATA_HASH))
                val result = app.authenticator(this@ProviderActivity).authenticate(narrowed, caller)
                val clientDataJson = result.clientDataJson ?: PLACEHOLDER_CLIENT_DATA
                val data = Bundle().apply { putString(ProviderSlices.KEY_AUTHENTICATION_RESPONSE_JSON, assertionResponseJson(result, clientDataJson)) }
                val response = GetCredentialResponse(Credential(ProviderSlices.TYPE_PUBLIC_KEY, data))
                setResult(RESULT_OK, Intent().putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_RESPONSE, response))
                finish()
            } catch (e: TandemException) {
                val type = when {
                    e is TandemException.Ctap && e.status == CtapStatus.OperationDenied -> GetCredentialException.TYPE_USER_CANCELED
                    e is TandemException.CallerRefused -> GET_SECURITY_ERROR
                    else -> GetCredentialException.TYPE_UNKNOWN
                }
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

        /**
         * A refused caller, as androidx reports a WebAuthn `SecurityError` (`CreatePublicKeyCredentialDomException` /
         * `GetPublicKeyCredentialDomException` with `SecurityError`): the type string androidx parses back.
         */
        private const val CREATE_SECURITY_ERROR =
            "androidx.credentials.TYPE_CREATE_PUBLIC_KEY_CREDENTIAL_DOM_EXCEPTION/androidx.credentials.TYPE_SECURITY_ERROR"
        private const val GET_SECURITY_ERROR =
            "androidx.credentials.TYPE_GET_PUBLIC_KEY_CREDENTIAL_DOM_EXCEPTION/androidx.credentials.TYPE_SECURITY_ERROR"
    }
}
