package dev.tandem.app

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build
import dev.tandem.LinkedSessionApprover
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.TimeUnit
import kotlin.coroutines.resume

/**
 * Asks the user before a linked computer's session starts, as Google's phones do: a notification "Sign in on
 * <computer>?" that the user taps to accept. Suspends until the tap, a dismissal or [timeoutSecs]; anything but
 * a tap refuses, and the session ends before any request is served. A cancelled coroutine (the session gave
 * up waiting) withdraws the notification.
 * Without the notification permission (Android 13+) nothing shows and every linked session is refused.
 */
class LinkedSessionNotifier(
    private val context: Context,
    private val timeoutSecs: Long = 60,
) : LinkedSessionApprover {
    override suspend fun accept(desktopName: String): Boolean {
        val manager = context.getSystemService(NotificationManager::class.java) ?: return false
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            manager.createNotificationChannel(
                NotificationChannel(CHANNEL, "Linked computers", NotificationManager.IMPORTANCE_HIGH),
            )
        }
        // A receiver registered only for this request: the action names this request, so a stale tap on an
        // older notification answers nothing.
        val action = "$ACTION_PREFIX.${System.nanoTime()}"
        fun answer(code: Int, accept: Boolean): PendingIntent = PendingIntent.getBroadcast(
            context,
            code,
            Intent(action).setPackage(context.packageName).putExtra(EXTRA_ACCEPT, accept),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val builder = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            Notification.Builder(context, CHANNEL)
        } else {
            @Suppress("DEPRECATION")
            Notification.Builder(context)
        }
        val notification = builder
            .setSmallIcon(android.R.drawable.ic_lock_lock)
            .setContentTitle(linkedSessionTitle(desktopName))
            .setContentText("Tap to continue. Ignore it if you did not start a sign-in.")
            .setContentIntent(answer(1, true))
            .setDeleteIntent(answer(2, false))
            .setAutoCancel(true)
            .build()
        var receiver: BroadcastReceiver? = null
        return try {
            withTimeoutOrNull(TimeUnit.SECONDS.toMillis(timeoutSecs)) {
                suspendCancellableCoroutine { continuation ->
                    receiver = object : BroadcastReceiver() {
                        override fun onReceive(c: Context, intent: Intent) {
                            if (continuation.isActive) continuation.resume(intent.getBooleanExtra(EXTRA_ACCEPT, false))
                        }
                    }.also { r ->
                        val filter = IntentFilter(action)
                        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
                            context.registerReceiver(r, filter, Context.RECEIVER_NOT_EXPORTED)
                        } else {
                            context.registerReceiver(r, filter)
                        }
                    }
                    manager.notify(NOTIFICATION_ID, notification)
                }
            } ?: false
        } finally {
            // Answered, timed out or cancelled: the question goes away with the request.
            manager.cancel(NOTIFICATION_ID)
            receiver?.let(context::unregisterReceiver)
        }
    }

    companion object {
        private const val CHANNEL = "linked-sessions"
        private const val NOTIFICATION_ID = 0x7a4d
        private const val ACTION_PREFIX = "dev.tandem.app.LINKED_SESSION"
        private const val EXTRA_ACCEPT = "accept"

        /** The notification's title for a request from [desktopName]. */
        fun linkedSessionTitle(desktopName: String): String = "Sign in on $desktopName?"
    }
}
