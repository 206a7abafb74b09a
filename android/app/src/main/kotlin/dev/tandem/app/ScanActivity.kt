package dev.tandem.app

import android.app.Activity
import android.content.Intent
import android.graphics.ImageFormat
import android.graphics.SurfaceTexture
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.hardware.camera2.CameraMetadata
import android.hardware.camera2.CaptureRequest
import android.hardware.camera2.params.OutputConfiguration
import android.hardware.camera2.params.SessionConfiguration
import android.media.ImageReader
import android.os.Bundle
import android.os.Handler
import android.os.HandlerThread
import android.view.Surface
import android.view.TextureView
import dev.tandem.QrDecoder
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Scans the desktop's QR code with camera2: a preview on a TextureView and 1280×720 YUV frames into an
 * ImageReader, whose Y plane goes to [QrDecoder] on a background thread. Returns the `FIDO:/…` text as
 * [EXTRA_QR].
 */
class ScanActivity : Activity() {
    private lateinit var preview: TextureView
    private lateinit var worker: HandlerThread
    private lateinit var handler: Handler
    private var camera: CameraDevice? = null
    private var reader: ImageReader? = null
    private val decoder = QrDecoder()
    private val found = AtomicBoolean(false)

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        preview = TextureView(this)
        setContentView(preview)
    }

    override fun onResume() {
        super.onResume()
        worker = HandlerThread("qr-scan").also { it.start() }
        handler = Handler(worker.looper)
        if (preview.isAvailable) openCamera()
        else preview.surfaceTextureListener = object : TextureView.SurfaceTextureListener {
            override fun onSurfaceTextureAvailable(surface: SurfaceTexture, width: Int, height: Int) = openCamera()
            override fun onSurfaceTextureSizeChanged(surface: SurfaceTexture, width: Int, height: Int) {}
            override fun onSurfaceTextureDestroyed(surface: SurfaceTexture) = true
            override fun onSurfaceTextureUpdated(surface: SurfaceTexture) {}
        }
    }

    override fun onPause() {
        camera?.close()
        camera = null
        reader?.close()
        reader = null
        worker.quitSafely()
        super.onPause()
    }

    private fun backCamera(manager: CameraManager): String? = manager.cameraIdList.firstOrNull {
        manager.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == CameraMetadata.LENS_FACING_BACK
    } ?: manager.cameraIdList.firstOrNull()

    private fun openCamera() {
        val manager = getSystemService(CameraManager::class.java) ?: return finishWith(null)
        val id = backCamera(manager) ?: return finishWith(null)
        val frames = ImageReader.newInstance(WIDTH, HEIGHT, ImageFormat.YUV_420_888, 2)
        frames.setOnImageAvailableListener({ r ->
            val image = r.acquireLatestImage() ?: return@setOnImageAvailableListener
            image.use {
                if (found.get()) return@use
                val plane = it.planes[0]
                val buffer = plane.buffer
                val bytes = ByteArray(buffer.remaining()).also { b -> buffer.get(b) }
                decoder.decode(bytes, it.width, it.height, plane.rowStride)?.let { text ->
                    if (found.compareAndSet(false, true)) runOnUiThread { finishWith(text) }
                }
            }
        }, handler)
        reader = frames
        try {
            manager.openCamera(id, object : CameraDevice.StateCallback() {
                override fun onOpened(device: CameraDevice) {
                    camera = device
                    startSession(device, frames)
                }
                override fun onDisconnected(device: CameraDevice) = device.close()
                override fun onError(device: CameraDevice, error: Int) {
                    device.close()
                    runOnUiThread { finishWith(null) }
                }
            }, handler)
        } catch (e: SecurityException) {
            finishWith(null)
        }
    }

    private fun startSession(device: CameraDevice, frames: ImageReader) {
        val texture = preview.surfaceTexture ?: return
        texture.setDefaultBufferSize(WIDTH, HEIGHT)
        val previewSurface = Surface(texture)
        val request = device.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW).apply {
            addTarget(previewSurface)
            addTarget(frames.surface)
            set(CaptureRequest.CONTROL_AF_MODE, CaptureRequest.CONTROL_AF_MODE_CONTINUOUS_PICTURE)
        }.build()
        val outputs = listOf(OutputConfiguration(previewSurface), OutputConfiguration(frames.surface))
        val config = SessionConfiguration(SessionConfiguration.SESSION_REGULAR, outputs, mainExecutor,
            object : CameraCaptureSession.StateCallback() {
                override fun onConfigured(session: CameraCaptureSession) {
                    session.setRepeatingRequest(request, null, handler)
                }
                override fun onConfigureFailed(session: CameraCaptureSession) = finishWith(null)
            })
        device.createCaptureSession(config)
    }

    private fun finishWith(qr: String?) {
        if (qr != null) setResult(RESULT_OK, Intent().putExtra(EXTRA_QR, qr)) else setResult(RESULT_CANCELED)
        finish()
    }

    companion object {
        /** Result extra: the scanned `FIDO:/…` text. */
        const val EXTRA_QR = "dev.tandem.app.QR"
        private const val WIDTH = 1280
        private const val HEIGHT = 720
    }
}
