package dev.tandem.robolectric

import android.Manifest
import android.bluetooth.BluetoothManager
import android.bluetooth.le.AdvertiseData
import android.os.Build
import android.os.Looper
import android.os.ParcelUuid
import dev.tandem.AdvertiseException
import dev.tandem.AndroidBleAdvertiser
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import java.io.ByteArrayOutputStream
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue

/** The advert Android broadcasts for a hybrid session, and how the advertiser fails. */
@RunWith(RobolectricTestRunner::class)
class AndroidBleAdvertiserTest {
    private val app get() = RuntimeEnvironment.getApplication()
    private val adapter get() = app.getSystemService(BluetoothManager::class.java).adapter
    private val advert = ByteArray(20) { (it + 1).toByte() }

    @Before
    fun bluetoothOn() {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) shadowOf(app).grantPermissions(Manifest.permission.BLUETOOTH_ADVERTISE)
        shadowOf(adapter).setEnabled(true)
        shadowOf(adapter).setIsMultipleAdvertisementSupported(true)
    }

    /** Runs [block] on an engine thread while the main looper (where the stack answers) keeps turning. */
    private fun offMain(block: () -> Unit): Throwable? {
        val outcome = AtomicReference<Throwable?>()
        val t = Thread { try { block() } catch (e: Throwable) { outcome.set(e) } }
        t.start()
        while (t.isAlive) {
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(2)
        }
        return outcome.get()
    }

    /** The advertising-data bytes of [data] as the controller sends them (16-bit UUIDs only, as here). */
    private fun airBytes(data: AdvertiseData): ByteArray {
        fun short(uuid: ParcelUuid): Int {
            val s = uuid.toString()
            check(s.endsWith("-0000-1000-8000-00805f9b34fb") && s.startsWith("0000")) { "not a 16-bit UUID: $s" }
            return s.substring(4, 8).toInt(16)
        }
        val out = ByteArrayOutputStream()
        check(!data.includeDeviceName && !data.includeTxPowerLevel && data.manufacturerSpecificData.size() == 0)
        if (data.serviceUuids.isNotEmpty()) {
            out.write(1 + 2 * data.serviceUuids.size)
            out.write(0x03) // complete list of 16-bit service UUIDs
            data.serviceUuids.forEach { short(it).let { u -> out.write(u and 0xFF); out.write(u shr 8) } }
        }
        for ((uuid, bytes) in data.serviceData) {
            out.write(1 + 2 + bytes.size)
            out.write(0x16) // service data, 16-bit UUID
            short(uuid).let { u -> out.write(u and 0xFF); out.write(u shr 8) }
            out.write(bytes)
        }
        return out.toByteArray()
    }

    @Test
    fun `the advert is 0xFFF9 in the UUID list and as service data, as Chromium's phone sends it`() {
        val advertiser = AndroidBleAdvertiser(app)
        assertEquals(null, offMain { advertiser.start(advert) })
        val data = shadowOf(adapter.bluetoothLeAdvertiser).lastAdvertisingData
        val expected = byteArrayOf(0x03, 0x03, 0xF9.toByte(), 0xFF.toByte(), 0x17, 0x16, 0xF9.toByte(), 0xFF.toByte()) + advert
        assertContentEquals(expected, airBytes(data))
        assertEquals(28, expected.size, "fits the 31-byte legacy advert")
        advertiser.stop()
    }

    @Test
    fun `start on the main thread fails at once instead of stalling the UI`() {
        val began = System.nanoTime()
        val e = runCatching { AndroidBleAdvertiser(app).start(advert) }.exceptionOrNull()
        val millis = (System.nanoTime() - began) / 1_000_000
        assertIs<AdvertiseException>(e, "outcome: $e")
        assertTrue(millis < 1000, "took $millis ms")
    }

    @Test
    fun `Bluetooth off, a wrong advert length and a missing permission are typed failures`() {
        assertIs<AdvertiseException.Failed>(offMain { AndroidBleAdvertiser(app).start(ByteArray(19)) })
        shadowOf(adapter).setEnabled(false)
        assertIs<AdvertiseException.Unavailable>(offMain { AndroidBleAdvertiser(app).start(advert) })
        shadowOf(adapter).setEnabled(true)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            shadowOf(app).denyPermissions(Manifest.permission.BLUETOOTH_ADVERTISE)
            assertIs<AdvertiseException.Unavailable>(offMain { AndroidBleAdvertiser(app).start(advert) })
        }
    }
}
