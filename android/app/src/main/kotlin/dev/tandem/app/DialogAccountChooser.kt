package dev.tandem.app

import android.app.Activity
import android.app.AlertDialog
import android.os.Looper
import dev.tandem.ffi.AccountChooser
import dev.tandem.ffi.AccountInfo
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

/** Asks the user which account to sign in with, in a dialog over [activity]; blocks the engine thread. */
class DialogAccountChooser(private val activity: Activity, private val timeoutSecs: Long = 120) : AccountChooser {
    override fun choose(rpId: String, accounts: List<AccountInfo>): UInt? {
        if (Looper.myLooper() == Looper.getMainLooper()) return null
        val answer = AtomicReference<UInt?>(null)
        val done = CountDownLatch(1)
        val labels = accounts.map { a -> a.displayName ?: a.name ?: "Account ${a.userId.size}-byte id" }.toTypedArray()
        activity.runOnUiThread {
            AlertDialog.Builder(activity)
                .setTitle("Sign in to $rpId as")
                .setItems(labels) { _, which -> answer.set(which.toUInt()) }
                .setOnDismissListener { done.countDown() }
                .show()
        }
        if (!done.await(timeoutSecs, TimeUnit.SECONDS)) return null
        return answer.get()
    }
}
