package dev.tandem

import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.DecodeHintType
import com.google.zxing.NotFoundException
import com.google.zxing.PlanarYUVLuminanceSource
import com.google.zxing.ReaderException
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader

/**
 * Finds a hybrid QR code (`FIDO:/…`) in a camera frame's luminance plane (the Y plane of a YUV_420_888
 * image). Platform-neutral so the decode path is tested on the JVM; the Android camera code only hands it
 * frames.
 */
class QrDecoder {
    private val reader = QRCodeReader()
    private val hints = mapOf(
        DecodeHintType.POSSIBLE_FORMATS to listOf(BarcodeFormat.QR_CODE),
        DecodeHintType.TRY_HARDER to true,
    )

    /**
     * Decodes [luminance] (`rowStride` bytes per row, [width] × [height] pixels). Returns the text if it is a
     * FIDO hybrid QR code, null if there is no QR code or it is something else.
     */
    fun decode(luminance: ByteArray, width: Int, height: Int, rowStride: Int = width): String? {
        require(width > 0 && height > 0 && rowStride >= width) { "bad frame geometry ${width}x$height/$rowStride" }
        require(luminance.size >= rowStride * (height - 1) + width) { "frame buffer too small" }
        val source = PlanarYUVLuminanceSource(luminance, rowStride, height, 0, 0, width, height, false)
        return try {
            val text = reader.decode(BinaryBitmap(HybridBinarizer(source)), hints).text
            text.takeIf { isHybridQr(it) }
        } catch (_: NotFoundException) {
            null
        } catch (_: ReaderException) {
            null
        } finally {
            reader.reset()
        }
    }

    companion object {
        /** Whether [text] looks like a hybrid QR code (the core validates it fully). */
        @JvmStatic
        fun isHybridQr(text: String): Boolean = text.length > 6 && text.substring(0, 6).equals("FIDO:/", ignoreCase = true)
    }
}
