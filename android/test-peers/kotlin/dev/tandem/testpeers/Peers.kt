package dev.tandem.testpeers

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** The `tandem` binary built from this workspace (the script passes its folder as tandem.bin.dir). */
private val tandemBin: String by lazy {
    val dir = System.getProperty("tandem.bin.dir") ?: error("system property tandem.bin.dir is not set")
    File(dir, "tandem").also { check(it.canExecute()) { "no tandem binary at $it (cargo build -p tandem)" } }.path
}

/** Upper bound on waiting for a peer's output line: a guard against hangs, not a speed requirement. */
private const val LINE_WAIT_SECS = 60L

/**
 * A `tandem` subprocess (tunnel server or desktop peer) with its stdout read line by line in the background
 * and its stderr kept in a file for failure messages.
 */
class Peer(args: List<String>, logDir: Path) : AutoCloseable {
    private val lines = LinkedBlockingQueue<String>()
    private val stderr: File = Files.createTempFile(logDir, "peer-", ".log").toFile()
    val process: Process = ProcessBuilder(listOf(tandemBin) + args)
        .redirectError(stderr)
        .redirectInput(ProcessBuilder.Redirect.PIPE)
        .start()
    private val output = StringBuffer()

    init {
        Thread {
            process.inputStream.bufferedReader().forEachLine {
                output.append(it).append('\n')
                lines.put(it)
            }
        }.apply { isDaemon = true; start() }
    }

    /** The first line starting with [prefix], without the prefix; fails if the peer exits or stays silent. */
    fun awaitLine(prefix: String): String {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LINE_WAIT_SECS)
        while (System.nanoTime() < deadline) {
            val line = lines.poll(200, TimeUnit.MILLISECONDS)
            if (line != null && line.startsWith(prefix)) return line.removePrefix(prefix).trim()
            if (line == null && !process.isAlive && lines.isEmpty()) break
        }
        error("peer never printed '$prefix'; exit=${exitOrNull()}\nstdout:\n$output\nstderr:\n${diagnostics()}")
    }

    /** Waits for the peer to exit and returns its exit code. */
    fun awaitExit(): Int {
        check(process.waitFor(LINE_WAIT_SECS * 2, TimeUnit.SECONDS)) { "peer did not exit\n${diagnostics()}" }
        return process.exitValue()
    }

    /** Everything the peer wrote to stdout so far. */
    fun stdout(): String = output.toString()

    /** The peer's stderr so far. */
    fun diagnostics(): String = stderr.readText()

    private fun exitOrNull(): Int? = if (process.isAlive) null else process.exitValue()

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}
