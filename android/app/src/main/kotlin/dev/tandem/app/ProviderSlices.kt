package dev.tandem.app

import android.app.PendingIntent
import android.app.slice.Slice
import android.app.slice.SliceSpec
import android.graphics.drawable.Icon
import android.net.Uri

/**
 * The Slice layouts the Android 14 credential selector reads for provider entries. Without AndroidX the
 * provider builds them itself; the hint names and spec types are the ones the system UI parses (the same the
 * Jetpack `androidx.credentials.provider` classes produce). The selector turns each slice back into an entry
 * with Jetpack's `fromSlice`, which drops (returns null for) a passkey entry without a user name, a type
 * display name, a profile icon, an option ID or a pending intent, and a create entry without an account name
 * or a pending intent: `ProviderSlicesTest` restates those rules.
 */
object ProviderSlices {
    /** Credential type of passkeys in Credential Manager requests. */
    const val TYPE_PUBLIC_KEY = "androidx.credentials.TYPE_PUBLIC_KEY_CREDENTIAL"
    /** Request bundle key: the WebAuthn options JSON. */
    const val KEY_REQUEST_JSON = "androidx.credentials.BUNDLE_KEY_REQUEST_JSON"
    /** Request bundle key: the clientDataHash a privileged caller (a browser) computed. */
    const val KEY_CLIENT_DATA_HASH = "androidx.credentials.BUNDLE_KEY_CLIENT_DATA_HASH"
    /** Response bundle key for a registration. */
    const val KEY_REGISTRATION_RESPONSE_JSON = "androidx.credentials.BUNDLE_KEY_REGISTRATION_RESPONSE_JSON"
    /** Response bundle key for an authentication. */
    const val KEY_AUTHENTICATION_RESPONSE_JSON = "androidx.credentials.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON"

    private const val CREATE = "androidx.credentials.provider.createEntry."
    private const val ENTRY = "androidx.credentials.provider.credentialEntry."
    private const val REVISION = 1

    /** A "save a passkey in Tandem" entry, shown with [icon]. */
    fun createEntry(accountName: CharSequence, icon: Icon, pendingIntent: PendingIntent): Slice =
        Slice.Builder(Uri.EMPTY, SliceSpec("CreateEntry", REVISION))
            .addText(accountName, null, listOf(CREATE + "SLICE_HINT_USER_PROVIDER_ACCOUNT_NAME"))
            .addIcon(icon, null, listOf(CREATE + "SLICE_HINT_PROFILE_ICON"))
            .addAction(
                pendingIntent,
                Slice.Builder(Slice.Builder(Uri.EMPTY, SliceSpec("CreateEntry", REVISION)))
                    .addHints(listOf(CREATE + "SLICE_HINT_PENDING_INTENT"))
                    .build(),
                null,
            )
            .build()

    /**
     * A passkey entry in the sign-in selector, for the option [optionId] of the request, shown with [icon]
     * (the selector drops entries without one). An empty [userName] would be dropped too: "Passkey" stands in.
     */
    fun passkeyEntry(userName: CharSequence, displayName: CharSequence?, optionId: String, icon: Icon, pendingIntent: PendingIntent): Slice =
        Slice.Builder(Uri.EMPTY, SliceSpec(TYPE_PUBLIC_KEY, REVISION))
            .addText("Passkey", null, listOf(ENTRY + "SLICE_HINT_TYPE_DISPLAY_NAME"))
            .addText(userName.ifEmpty { "Passkey" }, null, listOf(ENTRY + "SLICE_HINT_USER_NAME"))
            .apply { if (!displayName.isNullOrEmpty()) addText(displayName, null, listOf(ENTRY + "SLICE_HINT_CREDENTIAL_TYPE_DISPLAY_NAME")) }
            .addText(optionId, null, listOf(ENTRY + "SLICE_HINT_OPTION_ID"))
            .addText("false", null, listOf(ENTRY + "SLICE_HINT_AUTO_ALLOWED"))
            .addIcon(icon, null, listOf(ENTRY + "SLICE_HINT_PROFILE_ICON"))
            .addAction(
                pendingIntent,
                Slice.Builder(Slice.Builder(Uri.EMPTY, SliceSpec(TYPE_PUBLIC_KEY, REVISION)))
                    .addHints(listOf(ENTRY + "SLICE_HINT_PENDING_INTENT"))
                    .build(),
                null,
            )
            .build()
}
