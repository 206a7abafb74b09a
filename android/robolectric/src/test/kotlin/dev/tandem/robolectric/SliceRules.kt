package dev.tandem.robolectric

import android.app.slice.Slice

/**
 * What Jetpack's `fromSlice` (androidx.credentials.provider) accepts, restated: the Credential Manager selector
 * turns every provider slice back into an entry with it and silently drops the slices for which it returns
 * null. Items are matched hint by hint in the same order as Jetpack's if/else chain (an item with several hints
 * counts only for the first).
 */
object SliceRules {
    private const val ENTRY = "androidx.credentials.provider.credentialEntry."
    private const val CREATE = "androidx.credentials.provider.createEntry."

    /** A passkey entry as `PublicKeyCredentialEntry.fromSlice` would read it, or the reason it returns null. */
    data class PasskeyEntry(val userName: CharSequence, val displayName: CharSequence?, val typeDisplayName: CharSequence, val optionId: String)

    /** Problems `PublicKeyCredentialEntry.fromSlice` would return null for; empty when it accepts the slice. */
    fun passkeyEntryProblems(slice: Slice): List<String> {
        var typeDisplayName: CharSequence? = null
        var title: CharSequence? = null
        var icon: Any? = null
        var action: Any? = null
        var optionId: CharSequence? = null
        for (item in slice.items) {
            when {
                item.hasHint(ENTRY + "SLICE_HINT_TYPE_DISPLAY_NAME") -> typeDisplayName = item.text
                item.hasHint(ENTRY + "SLICE_HINT_USER_NAME") -> title = item.text
                item.hasHint(ENTRY + "SLICE_HINT_CREDENTIAL_TYPE_DISPLAY_NAME") -> Unit
                item.hasHint(ENTRY + "SLICE_HINT_PROFILE_ICON") -> icon = item.icon
                item.hasHint(ENTRY + "SLICE_HINT_PENDING_INTENT") -> action = item.action
                item.hasHint(ENTRY + "SLICE_HINT_OPTION_ID") -> optionId = item.text
            }
        }
        return buildList {
            if (slice.spec?.type != "androidx.credentials.TYPE_PUBLIC_KEY_CREDENTIAL") add("spec type ${slice.spec?.type}")
            if (title.isNullOrEmpty()) add("no user name")
            if (typeDisplayName.isNullOrEmpty()) add("no type display name")
            if (icon == null) add("no profile icon")
            if (action == null) add("no pending intent")
            if (optionId == null) add("no option id")
        }
    }

    /** Problems Jetpack's `CreateEntry.fromSlice` would return null for; empty when it accepts the slice. */
    fun createEntryProblems(slice: Slice): List<String> {
        var account: CharSequence? = null
        var action: Any? = null
        for (item in slice.items) {
            when {
                item.hasHint(CREATE + "SLICE_HINT_USER_PROVIDER_ACCOUNT_NAME") -> account = item.text
                item.hasHint(CREATE + "SLICE_HINT_PROFILE_ICON") -> Unit
                item.hasHint(CREATE + "SLICE_HINT_PENDING_INTENT") -> action = item.action
            }
        }
        return buildList {
            if (account.isNullOrEmpty()) add("no account name")
            if (action == null) add("no pending intent")
        }
    }

    /** Whether a create entry carries an icon (optional for Jetpack, but the selector shows a blank without it). */
    fun createEntryHasIcon(slice: Slice): Boolean =
        slice.items.any { it.hasHint(CREATE + "SLICE_HINT_PROFILE_ICON") && it.icon != null }
}
