package dev.tandem.robolectric

import android.app.Activity
import android.app.NotificationManager
import android.os.Looper
import dev.tandem.app.DialogAccountChooser
import dev.tandem.app.LinkedSessionNotifier
import dev.tandem.AccountInfo
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowAlertDialog
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.test.fail

/**
 * The app's other user-facing callbacks go away with their request: the library cancels the callback's
 * coroutine when the request is abandoned, and the account dialog / linked-session notification must not
 * stay on screen asking a question nobody waits for.
 */
@RunWith(RobolectricTestRunner::class)
class CallbackCancellationTest {
    private val app get() = RuntimeEnvironment.getApplication()

    /** Turns the main looper until [done] holds (the callbacks show their UI from the main thread). */
    private fun idleUntil(what: String, done: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (!done()) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
            if (System.nanoTime() > deadline) fail("timed out waiting for: $what")
        }
    }

    private fun launch(block: suspend () -> Unit): Job = CoroutineScope(Dispatchers.IO).launch { block() }

    @Test
    fun `cancelling the account choice dismisses its dialog`() {
        val activity = Robolectric.buildActivity(Activity::class.java).setup().get()
        val accounts = listOf(AccountInfo(byteArrayOf(1), "alice", null), AccountInfo(byteArrayOf(2), "bob", null))
        val job = launch { DialogAccountChooser(activity).choose("example.com", accounts) }
        idleUntil("the account dialog") { ShadowAlertDialog.getLatestAlertDialog()?.isShowing == true }
        val dialog = assertNotNull(ShadowAlertDialog.getLatestAlertDialog())
        job.cancel()
        idleUntil("the coroutine to end") { job.isCompleted }
        shadowOf(Looper.getMainLooper()).idle()
        assertFalse(dialog.isShowing, "the dialog outlived its request")
    }

    @Test
    fun `cancelling a linked-session question withdraws its notification`() {
        val manager = app.getSystemService(NotificationManager::class.java)
        val job = launch { LinkedSessionNotifier(app).accept("Work laptop") }
        idleUntil("the notification") { shadowOf(manager).allNotifications.isNotEmpty() }
        assertEquals(
            LinkedSessionNotifier.linkedSessionTitle("Work laptop"),
            shadowOf(manager).allNotifications.single().extras.getString("android.title"),
        )
        job.cancel()
        idleUntil("the coroutine to end") { job.isCompleted }
        assertTrue(shadowOf(manager).allNotifications.isEmpty(), "the notification outlived its request")
    }
}
