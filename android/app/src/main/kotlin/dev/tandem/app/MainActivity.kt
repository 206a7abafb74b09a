package dev.tandem.app

import android.Manifest
import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import android.view.ViewGroup
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ListView
import android.widget.TextView
import dev.tandem.Credential
import dev.tandem.CtapStatus
import dev.tandem.TandemException
import dev.tandem.UnreadableCredential
import dev.tandem.describe
import dev.tandem.progressListener
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import java.text.DateFormat
import java.util.Date

/**
 * The app's one screen: scan a desktop's QR code, watch the ceremony's progress, and manage the passkeys on
 * this phone (tap one to delete it). Built in code: no layout resources, so the Kotlin type-checks without
 * the Android resource compiler.
 */
class MainActivity : Activity() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main)
    private val app get() = application as TandemApp
    private lateinit var status: TextView
    private lateinit var adapter: ArrayAdapter<String>
    private var shown: List<Credential> = emptyList()
    /** A deep-linked QR code waiting for the Bluetooth permission. */
    private var pendingQr: String? = null
    private var broken: List<UnreadableCredential> = emptyList()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        status = TextView(this).apply { text = "Scan the QR code your computer shows." ; setPadding(32, 32, 32, 16) }
        val scan = Button(this).apply { text = "Scan QR code"; setOnClickListener { startScan() } }
        // Asked before the scan, off by default: only then may this session link the computer.
        adapter = ArrayAdapter(this, android.R.layout.simple_list_item_1, mutableListOf())
        val list = ListView(this).apply {
            adapter = this@MainActivity.adapter
            setOnItemClickListener { _, _, position, _ ->
                shown.getOrNull(position)?.let(::confirmDelete)
                    ?: broken.getOrNull(position - shown.size)?.let(::confirmDeleteUnreadable)
            }
        }
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                addView(status)
                addView(scan)
                addView(list, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
            },
        )
        intent?.data?.toString()?.let { if (it.startsWith("FIDO:/", ignoreCase = true)) confirmDeepLink(it) }
        refresh()
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    private fun startScan() {
        val needed = buildList {
            add(Manifest.permission.CAMERA)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) add(Manifest.permission.BLUETOOTH_ADVERTISE)
        }.filter { checkSelfPermission(it) != PackageManager.PERMISSION_GRANTED }
        if (needed.isNotEmpty()) {
            requestPermissions(needed.toTypedArray(), REQUEST_PERMISSIONS)
            return
        }
        startActivityForResult(Intent(this, ScanActivity::class.java), REQUEST_SCAN)
    }

    /** A QR code that arrived as a link (the system camera): no camera needed, but the advert needs Bluetooth. */
    private fun runDeepLink(qr: String) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S &&
            checkSelfPermission(Manifest.permission.BLUETOOTH_ADVERTISE) != PackageManager.PERMISSION_GRANTED
        ) {
            pendingQr = qr
            requestPermissions(arrayOf(Manifest.permission.BLUETOOTH_ADVERTISE), REQUEST_LINK_PERMISSIONS)
            return
        }
        runSession(qr)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        val granted = grantResults.isNotEmpty() && grantResults.all { it == PackageManager.PERMISSION_GRANTED }
        when (requestCode) {
            REQUEST_PERMISSIONS ->
                if (granted) startScan()
                else status.text = "The camera and Bluetooth advertising permissions are needed to sign in on a computer."
            REQUEST_LINK_PERMISSIONS -> {
                val qr = pendingQr
                pendingQr = null
                if (granted && qr != null) runSession(qr)
                else status.text = "The Bluetooth advertising permission is needed to sign in on a computer."
            }
        }
    }

    @Deprecated("Activity result API without AndroidX")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        val qr = data?.getStringExtra(ScanActivity.EXTRA_QR)
        if (requestCode == REQUEST_SCAN && resultCode == RESULT_OK && qr != null) runSession(qr)
    }

    /**
     * A `FIDO:/` link can come from any web page or app, not only from the user's own camera: ask before
     * starting a session. (No "remember this computer": the app's tunnel has no wake path, see
     * [TandemApp.sessionOptions].)
     */
    private fun confirmDeepLink(qr: String) {
        AlertDialog.Builder(this)
            .setTitle(DEEP_LINK_TITLE)
            .setMessage(DEEP_LINK_MESSAGE)
            .setPositiveButton("Continue") { _, _ -> runDeepLink(qr) }
            .setNegativeButton("Cancel", null)
            .show()
    }

    private fun runSession(qr: String) = scope.launch {
        try {
            val session = app.hybridSession(this@MainActivity, progressListener { e -> runOnUiThread { status.text = e.describe() } })
            // No promise that the computer can reach this phone later: no wake path exists (TandemApp.sessionOptions).
            session.runQr(qr)
            status.text = "Done."
        } catch (e: TandemException.KeyInvalidated) {
            // The UV key's Keystore key died (new biometric enrolled, screen lock removed): passkeys are lost.
            offerStartOver()
        } catch (e: TandemException.Ctap) {
            status.text = if (e.status == CtapStatus.OperationDenied) "Cancelled." else "The request was refused (${e.reason})."
        } catch (e: TandemException.InvalidQr) {
            status.text = "That is not a passkey QR code."
        } catch (e: TandemException.Advertise) {
            status.text = "Bluetooth: ${e.reason}"
        } catch (e: TandemException) {
            status.text = "Failed: ${e.message}"
        }
        refresh()
    }

    private fun refresh() = scope.launch {
        try {
            shown = app.store().list()
            broken = app.store().unreadable()
        } catch (e: TandemException.KeyInvalidated) {
            shown = emptyList()
            broken = emptyList()
            offerStartOver()
        } catch (e: TandemException) {
            status.text = "Cannot open the passkey store: ${e.message}"
            shown = emptyList()
            broken = emptyList()
        }
        val date = DateFormat.getDateInstance()
        adapter.clear()
        adapter.addAll(shown.map { "${it.rpId}\n${it.userDisplayName ?: it.userName ?: "?"} · ${date.format(Date(it.createdAt.toLong() * 1000))}" })
        adapter.addAll(broken.map { "${it.rpId ?: "Unknown site"}\nDamaged passkey: cannot be used. Tap to delete." })
    }

    /** The Keystore key is gone for good (screen lock removed): say so plainly and offer a fresh start. */
    private fun offerStartOver() {
        status.text = "The passkeys on this phone can no longer be used."
        AlertDialog.Builder(this)
            .setTitle("Passkeys can no longer be used")
            .setMessage(
                "The key protecting the passkeys on this phone was removed by Android (because a new " +
                    "fingerprint or face was added, or the screen lock was turned off). They cannot be recovered. Start over to create new " +
                    "passkeys; sign in to each site another way to add one again.",
            )
            .setPositiveButton("Start over") { _, _ ->
                scope.launch {
                    try {
                        app.startOver()
                        status.text = "Started over: no passkeys yet."
                    } catch (e: TandemException) {
                        status.text = "Could not start over: ${e.message}"
                    }
                    refresh()
                }
            }
            .setNegativeButton("Not now", null)
            .show()
    }

    private fun confirmDeleteUnreadable(u: UnreadableCredential) {
        AlertDialog.Builder(this)
            .setTitle("Delete damaged passkey?")
            .setMessage("${u.rpId ?: "Unknown site"}: this passkey cannot be read (${u.reason}) and cannot be used.")
            .setPositiveButton("Delete") { _, _ ->
                scope.launch {
                    try {
                        app.store().delete(u.id)
                    } catch (e: TandemException) {
                        status.text = "Delete failed: ${e.message}"
                    }
                    refresh()
                }
            }
            .setNegativeButton("Keep", null)
            .show()
    }

    private fun confirmDelete(c: Credential) {
        AlertDialog.Builder(this)
            .setTitle("Delete passkey?")
            .setMessage("${c.rpId} — ${c.userName ?: ""}\nYou will no longer be able to sign in with it.")
            .setPositiveButton("Delete") { _, _ ->
                scope.launch {
                    try {
                        app.store().delete(c.id)
                    } catch (e: TandemException) {
                        status.text = "Delete failed: ${e.message}"
                    }
                    refresh()
                }
            }
            .setNegativeButton("Keep", null)
            .show()
    }

    private companion object {
        const val REQUEST_SCAN = 1
        const val REQUEST_PERMISSIONS = 2
        const val REQUEST_LINK_PERMISSIONS = 3
        const val DEEP_LINK_TITLE = "Connect to a computer?"
        const val DEEP_LINK_MESSAGE =
            "A link asks this phone to sign in on a computer. Continue only if you just scanned a QR code on " +
                "your own computer."
    }
}
