package dev.tandem

import com.google.zxing.BarcodeFormat
import com.google.zxing.EncodeHintType
import com.google.zxing.qrcode.QRCodeWriter
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The camera decode path on synthetic frames: a QR code drawn into a luminance plane with padding. */
class QrDecoderTest {
    // A QR payload as desktops show it (digits of the CBOR payload).
    private val fido = "FIDO:/" + "0123456789".repeat(12)

    /** Renders [text] as a QR code into a width×height Y plane with [stride] bytes per row, dark on light. */
    private fun frame(text: String, width: Int = 640, height: Int = 480, stride: Int = 704): ByteArray {
        val matrix = QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 400, 400, mapOf(EncodeHintType.MARGIN to 4))
        val y = ByteArray(stride * height) { 0xE0.toByte() }
        val left = (width - matrix.width) / 2
        val top = (height - matrix.height) / 2
        for (r in 0 until matrix.height) for (c in 0 until matrix.width) {
            if (matrix[c, r]) y[(top + r) * stride + left + c] = 0x10
        }
        return y
    }

    @Test
    fun `decodes a hybrid QR code from a padded luminance plane`() {
        assertEquals(fido, QrDecoder().decode(frame(fido), 640, 480, 704))
    }

    @Test
    fun `ignores QR codes that are not hybrid and frames without one`() {
        val decoder = QrDecoder()
        assertNull(decoder.decode(frame("https://example.com/login"), 640, 480, 704))
        assertNull(decoder.decode(ByteArray(640 * 480) { 0x80.toByte() }, 640, 480))
    }

    @Test
    fun `rejects impossible geometry instead of reading out of bounds`() {
        assertFailsWith<IllegalArgumentException> { QrDecoder().decode(ByteArray(10), 640, 480) }
        assertFailsWith<IllegalArgumentException> { QrDecoder().decode(ByteArray(640 * 480), 640, 480, 100) }
    }

    @Test
    fun `hybrid prefix check is case-insensitive and needs a payload`() {
        assertTrue(QrDecoder.isHybridQr("fido:/123"))
        assertFalse(QrDecoder.isHybridQr("FIDO:/"))
        assertFalse(QrDecoder.isHybridQr("FIDO:123"))
    }
}
