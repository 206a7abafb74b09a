package dev.tandem.robolectric

import android.app.PendingIntent
import android.content.pm.SigningInfo
import android.credentials.CreateCredentialException
import android.credentials.GetCredentialException
import android.os.Bundle
import android.os.CancellationSignal
import android.os.OutcomeReceiver
import android.service.credentials.BeginCreateCredentialResponse
import android.service.credentials.BeginCreateCredentialRequest
import android.service.credentials.BeginGetCredentialOption
import android.service.credentials.BeginGetCredentialRequest
import android.service.credentials.BeginGetCredentialResponse
import android.service.credentials.CallingAppInfo
import dev.tandem.app.PasskeyProviderService
import dev.tandem.app.ProviderActivity
import dev.tandem.app.ProviderSlices
import dev.tandem.app.TandemApp
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue

/**
 * The Credential Manager provider's begin phase (Android 14+): every entry it offers must survive Jetpack's
 * `fromSlice` (else the system selector drops it), and entries from different service instances must not
 * share a PendingIntent.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], application = TandemApp::class)
class ProviderServiceTest {
    private val app get() = RuntimeEnvironment.getApplication() as TandemApp
    private val caller = CallingAppInfo("com.example.browser", SigningInfo())

    @Before
    fun keystore() = FakeAndroidKeyStore.install()

    @After
    fun noKeystore() = FakeAndroidKeyStore.uninstall()

    private fun beginCreate(service: PasskeyProviderService): BeginCreateCredentialResponse {
        val result = CompletableFuture<BeginCreateCredentialResponse>()
        val request = BeginCreateCredentialRequest(
            ProviderSlices.TYPE_PUBLIC_KEY,
            Bundle().apply { putString(ProviderSlices.KEY_REQUEST_JSON, Fixtures.creationOptions("example.com", "alice")) },
            caller,
        )
        service.onBeginCreateCredential(
            request, CancellationSignal(),
            object : OutcomeReceiver<BeginCreateCredentialResponse, CreateCredentialException> {
                override fun onResult(r: BeginCreateCredentialResponse) { result.complete(r) }
                override fun onError(e: CreateCredentialException) { result.completeExceptionally(e) }
            },
        )
        return result.get(10, TimeUnit.SECONDS)
    }

    private fun beginGet(service: PasskeyProviderService, rpId: String, allow: List<ByteArray> = emptyList()): BeginGetCredentialResponse {
        val result = CompletableFuture<BeginGetCredentialResponse>()
        val query = Bundle().apply { putString(ProviderSlices.KEY_REQUEST_JSON, Fixtures.requestOptions(rpId, allow)) }
        val request = BeginGetCredentialRequest.Builder()
            .addBeginGetCredentialOption(BeginGetCredentialOption("option-1", ProviderSlices.TYPE_PUBLIC_KEY, query))
            .setCallingAppInfo(caller)
            .build()
        service.onBeginGetCredential(
            request, CancellationSignal(),
            object : OutcomeReceiver<BeginGetCredentialResponse, GetCredentialException> {
                override fun onResult(r: BeginGetCredentialResponse) { result.complete(r) }
                override fun onError(e: GetCredentialException) { result.completeExceptionally(e) }
            },
        )
        // The store is read on Dispatchers.IO; the answer arrives on that thread.
        return result.get(30, TimeUnit.SECONDS)
    }

    @Test
    fun `the create entry is one Jetpack's CreateEntry fromSlice accepts, with an icon`() {
        val service = Robolectric.setupService(PasskeyProviderService::class.java)
        val entry = beginCreate(service).createEntries.single()
        assertEquals(emptyList(), SliceRules.createEntryProblems(entry.slice))
        assertTrue(SliceRules.createEntryHasIcon(entry.slice), "the create entry has a profile icon")
    }

    @Test
    fun `every passkey entry is one Jetpack's PublicKeyCredentialEntry fromSlice accepts`() {
        runBlocking { Fixtures.registerPasskey(app.store(), "example.com", "alice") }
        val service = Robolectric.setupService(PasskeyProviderService::class.java)
        val entries = beginGet(service, "example.com").credentialEntries
        assertEquals(1, entries.size, "one passkey for example.com")
        assertEquals(emptyList(), SliceRules.passkeyEntryProblems(entries.single().slice))
        assertEquals("option-1", entries.single().beginGetCredentialOptionId)
        assertEquals(0, beginGet(service, "other.example").credentialEntries.size)
    }

    @Test
    fun `entries of two service instances do not share a PendingIntent`() {
        runBlocking {
            Fixtures.registerPasskey(app.store(), "example.com", "alice")
        }
        // The system binds a fresh service instance per request: each must mint its own PendingIntents.
        val first = beginGet(Robolectric.setupService(PasskeyProviderService::class.java), "example.com")
        val second = beginGet(Robolectric.setupService(PasskeyProviderService::class.java), "example.com")
        val a = first.credentialEntries.single().slice.items.first { it.format == android.app.slice.SliceItem.FORMAT_ACTION }.action
        val b = second.credentialEntries.single().slice.items.first { it.format == android.app.slice.SliceItem.FORMAT_ACTION }.action
        assertNotEquals<PendingIntent>(a, b, "a reused request code makes both entries one PendingIntent")
        val id = shadowOf(a).savedIntent.getStringExtra(ProviderActivity.EXTRA_CREDENTIAL_ID)
        assertTrue(!id.isNullOrEmpty(), "the entry names the chosen credential")
    }

    @Test
    fun `sign-in offers only the passkeys in a non-empty allowCredentials`() {
        val (alice, bob) = runBlocking {
            Fixtures.registerPasskey(app.store(), "example.com", "alice") to Fixtures.registerPasskey(app.store(), "example.com", "bob")
        }
        val service = Robolectric.setupService(PasskeyProviderService::class.java)
        assertEquals(2, beginGet(service, "example.com").credentialEntries.size, "no allow list: every passkey of the RP")
        val only = beginGet(service, "example.com", listOf(bob)).credentialEntries
        assertEquals(1, only.size, "allowCredentials names bob's passkey only")
        val chosen = shadowOf(only.single().slice.items.first { it.format == android.app.slice.SliceItem.FORMAT_ACTION }.action).savedIntent
            .getStringExtra(ProviderActivity.EXTRA_CREDENTIAL_ID)
        assertEquals(dev.tandem.Base64Url.encode(bob), chosen)
        assertEquals(0, beginGet(service, "example.com", listOf(ByteArray(16))).credentialEntries.size, "unknown IDs only: nothing")
        check(!alice.contentEquals(bob))
    }
}
