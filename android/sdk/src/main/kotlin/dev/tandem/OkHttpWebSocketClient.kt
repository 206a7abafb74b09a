package dev.tandem

import java.io.EOFException
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.channels.Channel
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.WebSocketListener
import okio.ByteString
import okio.ByteString.Companion.toByteString
import dev.tandem.WebSocket as TunnelWebSocket
import okhttp3.WebSocket as OkWebSocket

/**
 * The hybrid tunnel's WebSocket over OkHttp, so the platform's TLS, trust store and proxy settings apply.
 *
 * A self-hosted tunnel with a private CA is trusted the OkHttp way: pass a client built with your
 * `sslSocketFactory` / `certificatePinner` (or use Android's network security config). Time limits are applied
 * by the core, so the default client has none of its own.
 */
class OkHttpWebSocketClient(
    private val client: OkHttpClient = defaultClient,
) : WebSocketClient {
    override fun connect(url: String, subprotocol: String, headers: List<HttpHeader>): TunnelWebSocket {
        val request = try {
            Request.Builder().url(url).apply {
                header("Sec-WebSocket-Protocol", subprotocol)
                headers.forEach { header(it.name, it.value) }
            }.build()
        } catch (e: IllegalArgumentException) {
            throw WebSocketException.Failed("bad tunnel request: ${e.message}")
        }
        val socket = OkHttpTunnelSocket()
        socket.attach(client.newWebSocket(request, socket.listener))
        return socket
    }

    companion object {
        /** Shared client (OkHttp wants one per app): no read/write timeouts, the core applies its own. */
        val defaultClient: OkHttpClient by lazy {
            OkHttpClient.Builder()
                .readTimeout(0, TimeUnit.MILLISECONDS)
                .writeTimeout(0, TimeUnit.MILLISECONDS)
                .build()
        }
    }
}

/** One OkHttp WebSocket: listener callbacks feed a channel that [receive] drains in order. */
private class OkHttpTunnelSocket : TunnelWebSocket {
    private sealed interface Inbound {
        class Binary(val bytes: ByteArray) : Inbound
        object Text : Inbound
        object Closed : Inbound
        class Failure(val error: Throwable) : Inbound
    }

    private val upgrade = CompletableDeferred<Response>()
    private val inbox = Channel<Inbound>(Channel.UNLIMITED)
    @Volatile private var socket: OkWebSocket? = null

    fun attach(ws: OkWebSocket) {
        socket = ws
    }

    val listener = object : WebSocketListener() {
        override fun onOpen(webSocket: OkWebSocket, response: Response) {
            upgrade.complete(response)
        }

        override fun onMessage(webSocket: OkWebSocket, bytes: ByteString) {
            inbox.trySend(Inbound.Binary(bytes.toByteArray()))
        }

        override fun onMessage(webSocket: OkWebSocket, text: String) {
            inbox.trySend(Inbound.Text)
        }

        override fun onClosing(webSocket: OkWebSocket, code: Int, reason: String) {
            webSocket.close(1000, null)
            inbox.trySend(Inbound.Closed)
        }

        override fun onClosed(webSocket: OkWebSocket, code: Int, reason: String) {
            inbox.trySend(Inbound.Closed)
        }

        override fun onFailure(webSocket: OkWebSocket, t: Throwable, response: Response?) {
            // Before the upgrade: the server's status if it answered, else the I/O or TLS failure.
            val failure = when {
                response != null && response.code != 101 -> WebSocketException.Rejected(response.code.toUShort())
                else -> WebSocketException.Failed(t.toString())
            }
            upgrade.completeExceptionally(failure)
            // After it: a connection that simply ended reads as closed, like the core's own client does.
            inbox.trySend(if (t is EOFException) Inbound.Closed else Inbound.Failure(t))
        }
    }

    override suspend fun opened(): List<HttpHeader> {
        val response = upgrade.await()
        return response.headers.map { (name, value) -> HttpHeader(name, value) }
    }

    override suspend fun send(data: ByteArray) {
        val ws = socket ?: throw WebSocketException.Failed("not connected")
        if (!ws.send(data.toByteString())) throw WebSocketException.Failed("the connection is closing or closed")
    }

    override suspend fun receive(): ByteArray? = when (val next = inbox.receive()) {
        is Inbound.Binary -> next.bytes
        Inbound.Text -> throw WebSocketException.TextMessage()
        Inbound.Closed -> {
            inbox.trySend(Inbound.Closed) // stays closed for any later receive
            null
        }
        is Inbound.Failure -> {
            inbox.trySend(next)
            throw WebSocketException.Failed(next.error.toString())
        }
    }

    override fun disconnect() {
        // close() is a no-op on an already closed socket; cancel() also stops a pending upgrade.
        socket?.let { if (!it.close(1000, null)) it.cancel() }
        if (!upgrade.isCompleted) socket?.cancel()
    }
}
