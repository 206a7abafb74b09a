package dev.tandem.robolectric

import android.app.Activity
import android.content.Intent
import android.content.pm.SigningInfo
import android.credentials.CreateCredentialException
import android.credentials.CredentialOption
import android.credentials.GetCredentialException
import android.os.Bundle
import android.os.Looper
import android.service.credentials.CallingAppInfo
import android.service.credentials.CreateCredentialRequest
import android.service.credentials.CredentialProviderService
import android.service.credentials.GetCredentialRequest
import dev.tandem.app.ProviderActivity
import dev.tandem.app.ProviderSlices
import dev.tandem.app.TandemApp
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The provider activity answers malformed caller input with a Credential Manager error, never a crash. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], application = TandemApp::class)
class ProviderActivityTest {
    private val caller = CallingAppInfo("com.example.app", SigningInfo())

    @Before
    fun keystore() = FakeAndroidKeyStore.install()

    @After
    fun noKeystore() = FakeAndroidKeyStore.uninstall()

    private fun run(intent: Intent): Activity {
        val activity = Robolectric.buildActivity(ProviderActivity::class.java, intent).create().get()
        // The engine answers on its own thread (the core parses the request JSON), then the result is posted to
        // the main looper: keep it turning until the activity finishes, or give up after a generous bound.
        val giveUp = System.nanoTime() + 20_000_000_000L
        while (!activity.isFinishing && System.nanoTime() < giveUp) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(10)
        }
        assertTrue(activity.isFinishing, "the activity answers and finishes")
        assertEquals(Activity.RESULT_OK, shadowOf(activity).resultCode)
        return activity
    }

    private fun createIntent(requestJson: String) = Intent(ProviderActivity.ACTION_CREATE).putExtra(
        CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST,
        CreateCredentialRequest(caller, ProviderSlices.TYPE_PUBLIC_KEY, Bundle().apply { putString(ProviderSlices.KEY_REQUEST_JSON, requestJson) }),
    )

    private fun getIntent(requestJson: String): Intent {
        val data = Bundle().apply { putString(ProviderSlices.KEY_REQUEST_JSON, requestJson) }
        val option = CredentialOption.Builder(ProviderSlices.TYPE_PUBLIC_KEY, data, data).build()
        return Intent(ProviderActivity.ACTION_GET)
            .putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_REQUEST, GetCredentialRequest(caller, listOf(option)))
            .putExtra(ProviderActivity.EXTRA_CREDENTIAL_ID, "AAAA")
    }

    @Test
    fun `malformed get JSON is a GetCredentialException result`() {
        for (json in listOf("{not json", "[]")) {
            val result = shadowOf(run(getIntent(json))).resultIntent
            val e = result.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_EXCEPTION, GetCredentialException::class.java)
            assertNotNull(e, "error extra for $json")
        }
    }

    @Test
    fun `malformed create JSON is a CreateCredentialException result`() {
        for (json in listOf("{not json", """{"challenge":"***"}""", "{}")) {
            val result = shadowOf(run(createIntent(json))).resultIntent
            val e = result.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_EXCEPTION, CreateCredentialException::class.java)
            assertNotNull(e, "error extra for $json")
        }
    }

    @Test
    fun `a request without extras is an error result`() {
        val result = shadowOf(run(Intent(ProviderActivity.ACTION_GET))).resultIntent
        assertNotNull(result.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_EXCEPTION, GetCredentialException::class.java))
    }
}
