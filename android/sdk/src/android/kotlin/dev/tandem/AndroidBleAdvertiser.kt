package dev.tandem

import android.Manifest
import android.bluetooth.BluetoothManager
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.os.Looper
import android.os.ParcelUuid
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * A [BleAdvertiser] on Android's BluetoothLeAdvertiser: 0xFFF9 (the FIDO 16-bit UUID) in the service-UUID
 * list and the 20-byte hybrid advert as service data under it, as Chromium's phone sends it; non-connectable,
 * low latency, high power, no device name, until [stop].
 * Needs BLUETOOTH_ADVERTISE (Android 12+) granted at run time. [start] blocks until the stack confirms the
 * advert, so it must not be called on the main thread (where the confirmation arrives): it fails at once there.
 */
class AndroidBleAdvertiser(private val context: Context) : BleAdvertiser {
    private var callback: AdvertiseCallback? = null

    @Synchronized
    override fun start(advert: ByteArray) {
        if (advert.size != ADVERT_LEN) throw AdvertiseException.Failed("a hybrid advert is $ADVERT_LEN bytes, got ${advert.size}")
        if (Looper.myLooper() == Looper.getMainLooper()) {
            // The stack confirms the advert on the main thread: waiting for it there would stall the UI for
            // START_WAIT_SECS and then fail anyway. The engine calls start() on its own threads.
            throw AdvertiseException.Failed("start() called on the main thread")
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S &&
            context.checkSelfPermission(Manifest.permission.BLUETOOTH_ADVERTISE) != PackageManager.PERMISSION_GRANTED
        ) {
            throw AdvertiseException.Unavailable("BLUETOOTH_ADVERTISE permission not granted")
        }
        val adapter = context.getSystemService(BluetoothManager::class.java)?.adapter
            ?: throw AdvertiseException.Unavailable("this device has no Bluetooth")
        if (!adapter.isEnabled) throw AdvertiseException.Unavailable("Bluetooth is off")
        val advertiser = adapter.bluetoothLeAdvertiser
            ?: throw AdvertiseException.Unavailable("this device cannot advertise over BLE")
        stopLocked()

        val settings = AdvertiseSettings.Builder()
            .setAdvertiseMode(AdvertiseSettings.ADVERTISE_MODE_LOW_LATENCY)
            .setTxPowerLevel(AdvertiseSettings.ADVERTISE_TX_POWER_HIGH)
            .setConnectable(false)
            .setTimeout(0)
            .build()
        val data = AdvertiseData.Builder()
            .setIncludeDeviceName(false)
            .setIncludeTxPowerLevel(false)
            // As Chromium's phone (BLEAdvert.java): 0xFFF9 in the 16-bit service-UUID list and as service
            // data, `03 03 F9 FF 17 16 F9 FF <20 bytes>` = 28 bytes (tandem-phone's `ble::advertising_data`).
            .addServiceUuid(FIDO_UUID)
            .addServiceData(FIDO_UUID, advert)
            .build()
        val started = CountDownLatch(1)
        val failure = AtomicInteger(0)
        val cb = object : AdvertiseCallback() {
            override fun onStartSuccess(settingsInEffect: AdvertiseSettings) = started.countDown()
            override fun onStartFailure(errorCode: Int) {
                failure.set(errorCode)
                started.countDown()
            }
        }
        try {
            advertiser.startAdvertising(settings, data, cb)
        } catch (e: SecurityException) {
            throw AdvertiseException.Unavailable("not allowed to advertise: $e")
        }
        // The stack answers in milliseconds; the bound only guards against a stack that never answers.
        if (!started.await(START_WAIT_SECS, TimeUnit.SECONDS)) {
            advertiser.stopAdvertising(cb)
            throw AdvertiseException.Failed("the Bluetooth stack did not confirm the advert")
        }
        failure.get().takeIf { it != 0 }?.let { throw AdvertiseException.Failed(describe(it)) }
        callback = cb
    }

    @Synchronized
    override fun stop() = stopLocked()

    private fun stopLocked() {
        val cb = callback ?: return
        callback = null
        try {
            context.getSystemService(BluetoothManager::class.java)?.adapter?.bluetoothLeAdvertiser?.stopAdvertising(cb)
        } catch (_: SecurityException) {
            // Permission revoked mid-session: the system stops our adverts anyway.
        }
    }

    companion object {
        /** The FIDO Alliance service UUID 0xFFF9 in Bluetooth base-UUID form. */
        @JvmField
        val FIDO_UUID: ParcelUuid = ParcelUuid.fromString("0000fff9-0000-1000-8000-00805f9b34fb")
        private const val ADVERT_LEN = 20
        private const val START_WAIT_SECS = 5L

        private fun describe(code: Int): String = when (code) {
            AdvertiseCallback.ADVERTISE_FAILED_DATA_TOO_LARGE -> "advert too large"
            AdvertiseCallback.ADVERTISE_FAILED_TOO_MANY_ADVERTISERS -> "too many advertisers"
            AdvertiseCallback.ADVERTISE_FAILED_ALREADY_STARTED -> "already advertising"
            AdvertiseCallback.ADVERTISE_FAILED_INTERNAL_ERROR -> "internal Bluetooth error"
            AdvertiseCallback.ADVERTISE_FAILED_FEATURE_UNSUPPORTED -> "BLE advertising unsupported"
            else -> "advertising failed with code $code"
        }
    }
}
