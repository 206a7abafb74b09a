package dev.tandem.app

import android.app.Activity
import android.app.AlertDialog
import dev.tandem.AccountChooser
import dev.tandem.AccountInfo
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.TimeUnit
import kotlin.coroutines.resume

/**
 * Asks the user which account to sign in with, in a dialog over [activity]. Suspends until the user picks
 * one or dismisses the dialog; a cancelled coroutine (the request abandoned) or [timeoutSecs] without an
 * answer closes the dialog and answers null.
 */
class DialogAccountChooser(private val activity: Activity, private val timeoutSecs: Long = 120) : AccountChooser {
    override suspend fun choose(rpId: String, accounts: List<AccountInfo>): UInt? {
        val labels = accounts.map { a -> a.displayName ?: a.name ?: "Account ${a.userId.size}-byte id" }.toTypedArray()
        return withTimeoutOrNull(TimeUnit.SECONDS.toMillis(timeoutSecs)) {
            withContext(Dispatchers.Main) {
                suspendCancellableCoroutine { continuation ->
                    var picked: UInt? = null
                    val dialog = AlertDialog.Builder(activity)
                        .setTitle("Sign in to $rpId as")
                        .setItems(labels) { _, which -> picked = which.toUInt() }
                        // Picking an item dismisses too: the answer is delivered once, here.
                        .setOnDismissListener { if (continuation.isActive) continuation.resume(picked) }
                        .show()
                    continuation.invokeOnCancellation { activity.runOnUiThread { dialog.dismiss() } }
                }
            }
        }
    }
}
