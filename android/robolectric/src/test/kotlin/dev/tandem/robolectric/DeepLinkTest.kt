package dev.tandem.robolectric

import android.Manifest
import android.app.AlertDialog
import android.content.DialogInterface
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Build
import android.os.Looper
import dev.tandem.app.MainActivity
import dev.tandem.app.TandemApp
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowAlertDialog
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * `FIDO:/` links (what the system camera opens for a desktop's QR code) reach MainActivity, in either case
 * (Android matches schemes case-sensitively). Any page can open such a link, so the app asks the user before it
 * starts anything, then asks for Bluetooth advertising.
 */
@RunWith(RobolectricTestRunner::class)
@Config(application = TandemApp::class)
class DeepLinkTest {
    private val qr = "FIDO:/" + "1".repeat(60)

    @Before
    fun setUp() {
        FakeAndroidKeyStore.install()
        val pm = shadowOf(RuntimeEnvironment.getApplication().packageManager)
        val main = AppManifest.component(".MainActivity")
        pm.addActivityIfNotPresent(main)
        AppManifest.intentFilters(".MainActivity").forEach { pm.addIntentFilterForActivity(main, it) }
    }

    @After
    fun tearDown() = FakeAndroidKeyStore.uninstall()

    private fun view(uri: String) = Intent(Intent.ACTION_VIEW, Uri.parse(uri))
        .addCategory(Intent.CATEGORY_BROWSABLE)
        .addCategory(Intent.CATEGORY_DEFAULT)

    private fun resolves(uri: String): Boolean =
        RuntimeEnvironment.getApplication().packageManager.queryIntentActivities(view(uri), 0)
            .any { it.activityInfo.name == "dev.tandem.app.MainActivity" }

    /** Opens MainActivity with the deep link and answers the "Connect to a computer?" dialog. */
    private fun openAndAnswer(button: Int): MainActivity {
        val activity = Robolectric.buildActivity(MainActivity::class.java, view(qr)).create().get()
        val dialog = ShadowAlertDialog.getLatestAlertDialog() as AlertDialog
        assertTrue(dialog.isShowing, "the deep link must ask first")
        dialog.getButton(button).performClick()
        shadowOf(Looper.getMainLooper()).idle()
        return activity
    }

    @Test
    fun `a deep link asks before it starts anything, and Cancel starts nothing`() {
        val activity = Robolectric.buildActivity(MainActivity::class.java, view(qr)).create().get()
        val dialog = ShadowAlertDialog.getLatestAlertDialog() as AlertDialog?
        assertTrue(dialog != null && dialog.isShowing, "a dialog must ask before a session starts")
        assertEquals(null, shadowOf(activity).lastRequestedPermission, "nothing is requested before the user answers")
        dialog.getButton(DialogInterface.BUTTON_NEGATIVE).performClick()
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(null, shadowOf(activity).lastRequestedPermission, "Cancel starts nothing")
        assertTrue(!dialog.isShowing)
    }

    @Test
    fun `FIDO and fido links both resolve to MainActivity, others do not`() {
        assertTrue(resolves(qr), "upper-case FIDO:/ (what QR codes carry)")
        assertTrue(resolves(qr.lowercase()), "lower-case fido:/")
        assertTrue(!resolves("https://example.com/"), "web links are not ours")
    }

    @Test
    fun `the manifest declares the Bluetooth permissions every SDK level needs`() {
        val declared = AppManifest.usesPermissions()
        assertTrue(Manifest.permission.BLUETOOTH_ADVERTISE in declared, "$declared")
        assertTrue(declared.containsKey(Manifest.permission.BLUETOOTH), "BLUETOOTH (Android 11 and older): $declared")
        assertTrue(declared.containsKey(Manifest.permission.BLUETOOTH_ADMIN), "BLUETOOTH_ADMIN (Android 11 and older): $declared")
    }

    @Test
    fun `a deep link asks for BLUETOOTH_ADVERTISE before it starts a session (Android 12+)`() {
        val activity = openAndAnswer(DialogInterface.BUTTON_POSITIVE)
        val requested = shadowOf(activity).lastRequestedPermission
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            assertTrue(requested != null && Manifest.permission.BLUETOOTH_ADVERTISE in requested.requestedPermissions, "requested: ${requested?.requestedPermissions?.toList()}")
            assertTrue(Manifest.permission.CAMERA !in requested.requestedPermissions, "a deep link needs no camera")
        } else {
            assertEquals(null, requested, "no run-time Bluetooth permission before Android 12")
        }
    }

    @Test
    fun `a deep link with the permission denied says so instead of starting`() {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.S) return
        val activity = openAndAnswer(DialogInterface.BUTTON_POSITIVE)
        val request = shadowOf(activity).lastRequestedPermission
        activity.onRequestPermissionsResult(request.requestCode, request.requestedPermissions, IntArray(request.requestedPermissions.size) { PackageManager.PERMISSION_DENIED })
        val status = activity.findViewById<android.view.View>(android.R.id.content).let { TextFinder.allText(it) }
        assertTrue(status.any { "Bluetooth" in it }, "status: $status")
    }
}
