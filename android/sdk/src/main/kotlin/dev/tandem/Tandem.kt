package dev.tandem

/**
 * Entry point of the Tandem SDK: where the native library comes from, and the core's version.
 *
 * On Android the library is packaged as `jniLibs/<abi>/libtandem_ffi.so` and found by JNA with no set-up.
 * On a desktop JVM (tests, tools) either put its folder on `jna.library.path` or call [useLibrary] before the
 * first Tandem call.
 */
object Tandem {
    /** uniffi namespace of the bindings; the override property below is keyed by it. */
    private const val COMPONENT = "tandem"

    /** Loads the native library from [path] (a file path or a JNA library name) instead of the default. */
    @JvmStatic
    fun useLibrary(path: String) {
        System.setProperty("uniffi.component.$COMPONENT.libraryOverride", path)
    }

    /** The version of the Rust core the native library was built from. */
    @JvmStatic
    val coreVersion: String
        get() = dev.tandem.coreVersion()
}
