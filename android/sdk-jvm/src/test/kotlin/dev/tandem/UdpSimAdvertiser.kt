package dev.tandem

import java.net.DatagramPacket
import java.net.DatagramSocket
import java.net.InetAddress
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicInteger

/**
 * A [BleAdvertiser] on the project's simulated radio (tandem-radio's loopback UDP medium): each advert is
 * sent as one datagram `uuid (2 bytes, little-endian) || service data` to 127.0.0.1:[port], repeated every
 * 100 ms until stopped, where the desktop peer's scanner listens. It plays the part Android's
 * BluetoothLeAdvertiser plays on a phone.
 */
class UdpSimAdvertiser(private val port: Int = SIM_UDP_PORT) : BleAdvertiser {
    /** Number of start() calls that were accepted. */
    val starts = AtomicInteger()

    /** Counted down on every stop() call. */
    val stopped = CountDownLatch(1)

    private val socket = DatagramSocket(0, InetAddress.getLoopbackAddress())
    private var sender: Thread? = null

    @Synchronized
    override fun start(advert: ByteArray) {
        if (advert.size != 20) throw AdvertiseException.Failed("a hybrid advert is 20 bytes, got ${advert.size}")
        halt()
        val frame = byteArrayOf(0xF9.toByte(), 0xFF.toByte()) + advert
        val packet = DatagramPacket(frame, frame.size, InetAddress.getLoopbackAddress(), port)
        sender = Thread {
            try {
                while (!Thread.currentThread().isInterrupted) {
                    socket.send(packet)
                    Thread.sleep(100)
                }
            } catch (_: InterruptedException) {
            } catch (_: java.io.IOException) {
            }
        }.apply {
            isDaemon = true
            name = "udp-sim-advertiser"
            start()
        }
        starts.incrementAndGet()
    }

    @Synchronized
    override fun stop() {
        halt()
        stopped.countDown()
    }

    private fun halt() {
        sender?.let {
            it.interrupt()
            it.join()
        }
        sender = null
    }

    companion object {
        /** The simulated radio's default port, 0xFFF9. */
        const val SIM_UDP_PORT = 0xFFF9
    }
}
