package dev.tandem.robolectric

import android.view.View
import android.view.ViewGroup
import android.widget.TextView

/** The texts of every TextView under a view (the app builds its UI in code, without IDs). */
object TextFinder {
    fun allText(view: View): List<String> = when (view) {
        is TextView -> listOf(view.text.toString())
        is ViewGroup -> (0 until view.childCount).flatMap { allText(view.getChildAt(it)) }
        else -> emptyList()
    }
}
