package dev.tandem.robolectric

import android.content.pm.ActivityInfo
import android.content.res.Configuration
import dev.tandem.app.MainActivity
import dev.tandem.app.TandemApp
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.test.assertFalse
import kotlin.test.assertSame
import kotlin.test.assertTrue

/**
 * Rotating the screen must not recreate the activities that run ceremonies: recreation cancels the
 * ceremony's coroutine (onDestroy) while the BiometricPrompt stays up, answering nobody.
 */
@RunWith(RobolectricTestRunner::class)
@Config(application = TandemApp::class)
class RotationTest {
    private val rotation = ActivityInfo.CONFIG_ORIENTATION or ActivityInfo.CONFIG_SCREEN_SIZE

    @Before
    fun setUp() {
        FakeAndroidKeyStore.install()
        // What the manifest says about MainActivity, installed in Robolectric's package manager (see AppManifest).
        val info = ActivityInfo().apply {
            // The sandbox's package name (no merged manifest sets dev.tandem.app), as buildActivity uses it.
            packageName = RuntimeEnvironment.getApplication().packageName
            name = MainActivity::class.java.name
            configChanges = AppManifest.configChanges(".MainActivity")
            applicationInfo = RuntimeEnvironment.getApplication().applicationInfo
        }
        shadowOf(RuntimeEnvironment.getApplication().packageManager).addOrUpdateActivity(info)
    }

    @After
    fun tearDown() = FakeAndroidKeyStore.uninstall()

    @Test
    fun `rotating MainActivity keeps the same instance (the ceremony goes on)`() {
        val controller = Robolectric.buildActivity(MainActivity::class.java).setup()
        val before = controller.get()
        val landscape = Configuration(before.resources.configuration).apply {
            orientation = if (orientation == Configuration.ORIENTATION_LANDSCAPE) Configuration.ORIENTATION_PORTRAIT else Configuration.ORIENTATION_LANDSCAPE
            val w = screenWidthDp
            screenWidthDp = screenHeightDp
            screenHeightDp = w
        }
        // What a rotation changes: orientation and screen size (the explicit bits keep Robolectric's own
        // diff of its default configuration out of the question).
        controller.configurationChange(landscape, before.resources.displayMetrics, rotation)
        assertSame(before, controller.get(), "the activity was recreated")
        assertFalse(before.isDestroyed)
    }

    @Test
    fun `both ceremony activities handle rotation and resizing themselves`() {
        for (activity in listOf(".MainActivity", ".ProviderActivity")) {
            val flags = AppManifest.configChanges(activity)
            assertTrue(flags and rotation == rotation, "$activity configChanges=$flags")
            assertTrue(flags and ActivityInfo.CONFIG_SCREEN_LAYOUT != 0 && flags and ActivityInfo.CONFIG_SMALLEST_SCREEN_SIZE != 0, activity)
        }
    }
}
