package dev.tandem.robolectric

import android.content.ComponentName
import android.content.IntentFilter
import android.content.pm.ActivityInfo
import org.w3c.dom.Element
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory

/**
 * The app's AndroidManifest.xml (android/app/src/main), read as the package manager reads it: Robolectric
 * cannot merge a manifest without the Android Gradle plugin, so the tests install what it declares (intent
 * filters, permissions) into Robolectric's package manager themselves and let Android's own IntentFilter and
 * resolution code do the matching.
 */
object AppManifest {
    const val PACKAGE = "dev.tandem.app"
    private const val NS = "http://schemas.android.com/apk/res/android"

    private val root: Element by lazy {
        val dir = System.getProperty("tandem.app.dir") ?: error("system property tandem.app.dir is not set")
        val factory = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
        factory.newDocumentBuilder().parse(File(dir, "src/main/AndroidManifest.xml")).documentElement
    }

    private fun Element.children(tag: String): List<Element> {
        val nodes = getElementsByTagName(tag)
        return (0 until nodes.length).map { nodes.item(it) as Element }.filter { it.parentNode == this }
    }

    private fun Element.android(attr: String): String? = getAttributeNS(NS, attr).takeIf { it.isNotEmpty() }

    /** Permissions the app declares with uses-permission, with their maxSdkVersion (null: all levels). */
    fun usesPermissions(): Map<String, Int?> =
        root.children("uses-permission").associate { it.android("name")!! to it.android("maxSdkVersion")?.toInt() }

    /** The component of an activity named like ".MainActivity". */
    fun component(activity: String): ComponentName = ComponentName(PACKAGE, PACKAGE + activity)

    /** The ActivityInfo.CONFIG_* flags of the activity's android:configChanges (the changes it handles itself). */
    fun configChanges(name: String): Int {
        val application = root.children("application").single()
        val activity = application.children("activity").single { it.android("name") == name }
        val flags = mapOf(
            "orientation" to ActivityInfo.CONFIG_ORIENTATION,
            "screenSize" to ActivityInfo.CONFIG_SCREEN_SIZE,
            "screenLayout" to ActivityInfo.CONFIG_SCREEN_LAYOUT,
            "smallestScreenSize" to ActivityInfo.CONFIG_SMALLEST_SCREEN_SIZE,
            "keyboardHidden" to ActivityInfo.CONFIG_KEYBOARD_HIDDEN,
            "keyboard" to ActivityInfo.CONFIG_KEYBOARD,
            "density" to ActivityInfo.CONFIG_DENSITY,
            "uiMode" to ActivityInfo.CONFIG_UI_MODE,
            "locale" to ActivityInfo.CONFIG_LOCALE,
        )
        return (activity.android("configChanges") ?: return 0).split('|').fold(0) { acc, n -> acc or (flags[n] ?: error("unknown configChanges '$n'")) }
    }

    /** The intent filters the manifest gives the activity [name] (e.g. ".MainActivity"). */
    fun intentFilters(name: String): List<IntentFilter> {
        val application = root.children("application").single()
        val activity = application.children("activity").single { it.android("name") == name }
        return activity.children("intent-filter").map { f ->
            IntentFilter().apply {
                f.children("action").forEach { addAction(it.android("name")) }
                f.children("category").forEach { addCategory(it.android("name")) }
                f.children("data").forEach { d ->
                    d.android("scheme")?.let(::addDataScheme)
                    d.android("host")?.let { addDataAuthority(it, d.android("port")) }
                    d.android("path")?.let { addDataPath(it, android.os.PatternMatcher.PATTERN_LITERAL) }
                }
            }
        }
    }
}
