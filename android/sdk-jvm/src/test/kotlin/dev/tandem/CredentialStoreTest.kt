package dev.tandem

import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

class CredentialStoreTest {
    @TempDir
    lateinit var dir: Path

    private val key = ByteArray(32) { it.toByte() }

    @Test
    fun `a new store is empty and reopens with the same key protector`(): Unit = runBlocking {
        val path = dir.resolve("creds.db").toString()
        CredentialStore.open(path, SoftwareKeyProtector(key)).use { store ->
            assertEquals(emptyList(), store.list())
            assertEquals(emptyList(), store.listForRp("example.com"))
            assertEquals(emptyList(), store.linkedDesktops())
            assertEquals(0uL, store.deleteAll())
        }
        CredentialStore.open(path, SoftwareKeyProtector(key)).use { store -> assertEquals(emptyList(), store.list()) }
    }

    @Test
    fun `reopening with another key is a typed KeyProtector error`(): Unit = runBlocking {
        val path = dir.resolve("creds.db").toString()
        CredentialStore.open(path, SoftwareKeyProtector(key)).close()
        val e = assertFailsWith<TandemException.KeyProtector> { CredentialStore.open(path, SoftwareKeyProtector.random()) }
        assertTrue("rejected" in e.reason, e.reason)
    }

    @Test
    fun `a protector that throws an undeclared exception gives a typed error, not a crash`(): Unit = runBlocking {
        val broken = object : KeyProtector {
            override fun wrap(dataKey: ByteArray): ByteArray = throw IllegalStateException("keystore exploded")
            override fun unwrap(wrapped: ByteArray): ByteArray = throw IllegalStateException("keystore exploded")
        }
        val e = assertFailsWith<TandemException.KeyProtector> { CredentialStore.openInMemory(broken) }
        assertTrue("keystore exploded" in e.reason, e.reason)
    }

    @Test
    fun `bad input is rejected with typed exceptions`(): Unit = runBlocking {
        CredentialStore.openInMemory(SoftwareKeyProtector.random()).use { store ->
            assertFailsWith<TandemException.InvalidInput> { store.delete(ByteArray(0)) }
            assertFailsWith<TandemException.InvalidInput> { store.listForRp("") }
            assertFailsWith<TandemException.InvalidInput> { store.unlinkDesktop(ByteArray(3)) }
            assertFailsWith<TandemException.NotFound> { store.delete(byteArrayOf(1, 2, 3)) }
            assertFailsWith<TandemException.NotFound> { store.rename(byteArrayOf(1, 2, 3), "x") }
            assertFailsWith<TandemException.NotFound> { store.unlinkDesktop(ByteArray(8)) }
        }
        assertFailsWith<TandemException.InvalidInput> { CredentialStore.open("", SoftwareKeyProtector.random()) }
    }

    @Test
    fun `an unopenable path is a typed database error`(): Unit = runBlocking {
        val e = assertFailsWith<TandemException.Database> {
            CredentialStore.open(dir.resolve("missing/dir/creds.db").toString(), SoftwareKeyProtector.random())
        }
        assertTrue(e.reason.isNotEmpty())
    }

    @Test
    fun `software protector round-trips and rejects tampering`(): Unit = runBlocking {
        val p = SoftwareKeyProtector(key)
        val dataKey = ByteArray(32) { (it * 7).toByte() }
        val wrapped = p.wrap(dataKey)
        assertContentEquals(dataKey, p.unwrap(wrapped))
        wrapped[wrapped.size - 1] = (wrapped.last().toInt() xor 1).toByte()
        assertFailsWith<KeyProtectorException.Rejected> { p.unwrap(wrapped) }
        assertFailsWith<KeyProtectorException.Rejected> { p.unwrap(ByteArray(5)) }
    }

    /**
     * Store calls suspend instead of blocking: opening a store whose key protector waits (as the Keystore
     * does for the user) leaves the caller's thread free. Here the only thread of the calling event loop is
     * the one that releases the protector; a blocking `open` would hold it, and the protector gives up.
     */
    @Test
    fun `store calls never block the caller's thread`(): Unit = runBlocking {
        val release = CountDownLatch(1)
        val waiting = object : KeyProtector {
            private val inner = SoftwareKeyProtector(key)
            override fun wrap(dataKey: ByteArray): ByteArray {
                if (!release.await(5, TimeUnit.SECONDS)) throw KeyProtectorException.Unavailable("caller's thread was blocked")
                return inner.wrap(dataKey)
            }
            override fun unwrap(wrapped: ByteArray): ByteArray = inner.unwrap(wrapped)
        }
        val opening = async { CredentialStore.open(dir.resolve("s.db").toString(), waiting) }
        launch { release.countDown() }
        opening.await().use {
            assertEquals(emptyList(), it.list())
            assertFailsWith<TandemException.NotFound> { it.delete(byteArrayOf(9)) }
        }
    }

    @Test
    fun `a permanently invalidated key is KeyInvalidated and resetAfterKeyLoss starts over`(): Unit = runBlocking {
        val path = dir.resolve("s.db").toString()
        CredentialStore.open(path, SoftwareKeyProtector(key)).close()
        val dead = object : KeyProtector {
            override fun wrap(dataKey: ByteArray): ByteArray = throw KeyProtectorException.KeyInvalidated("lock screen removed")
            override fun unwrap(wrapped: ByteArray): ByteArray = throw KeyProtectorException.KeyInvalidated("lock screen removed")
        }
        val e = assertFailsWith<TandemException.KeyInvalidated> { CredentialStore.open(path, dead) }
        assertTrue(e.reason.contains("lock screen removed"))
        // A transient failure stays its own kind: the app must not offer to wipe on "device locked".
        val locked = object : KeyProtector {
            override fun wrap(dataKey: ByteArray): ByteArray = throw KeyProtectorException.Unavailable("locked")
            override fun unwrap(wrapped: ByteArray): ByteArray = throw KeyProtectorException.Unavailable("locked")
        }
        assertFailsWith<TandemException.KeyProtector> { CredentialStore.open(path, locked) }

        var keyDeleted = false
        Stores.resetAfterKeyLoss(path) { keyDeleted = true }
        assertTrue(keyDeleted)
        assertTrue(!dir.resolve("s.db").toFile().exists())
        // A new key opens a new, empty store at the same path.
        CredentialStore.open(path, SoftwareKeyProtector.random()).use {
            assertEquals(emptyList(), it.list())
            assertEquals(emptyList(), it.unreadable())
        }
    }
}
