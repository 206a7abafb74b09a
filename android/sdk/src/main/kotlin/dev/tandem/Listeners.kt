package dev.tandem

/** A [ProgressListener] from a lambda. It runs on the session's thread: post UI work to the main thread. */
fun progressListener(block: (ProgressEvent) -> Unit): ProgressListener = object : ProgressListener {
    override fun onEvent(event: ProgressEvent) = block(event)
}

/**
 * Session settings with the defaults an app wants: linking off (the user turns it on, or chooses "remember
 * this computer" for one scan: `HybridSession.runQrRemembering`), default per-step limits. Trust for a self-hosted
 * tunnel's private CA belongs to the WebSocket client (see [OkHttpWebSocketClient]).
 */
fun sessionOptions(
    tunnel: Tunnel,
    authenticatorName: String,
    allowInsecureLoopback: Boolean = false,
    linking: Boolean = false,
    stepTimeoutSecs: UInt = 0u,
): SessionOptions = SessionOptions(tunnel, allowInsecureLoopback, linking, authenticatorName, stepTimeoutSecs)

/** Short, user-facing text for a progress event (English; apps localise from the event type). */
fun ProgressEvent.describe(): String = when (this) {
    is ProgressEvent.QrParsed -> "QR code read"
    is ProgressEvent.WaitingForDesktop -> "Waiting for your computer"
    is ProgressEvent.TunnelConnected -> "Connected to the tunnel service"
    is ProgressEvent.Advertising -> "Proving this phone is nearby (Bluetooth)"
    is ProgressEvent.HandshakeDone -> "Secure channel with the computer established"
    is ProgressEvent.RequestReceived -> when (command) {
        CtapCommand.MakeCredential -> "The computer asks to create a passkey"
        CtapCommand.GetAssertion -> "The computer asks to sign in"
        else -> "The computer sent a request"
    }
    is ProgressEvent.AwaitingUser -> "Waiting for you to confirm"
    is ProgressEvent.Responded -> when (status) {
        CtapStatus.Ok -> "Answer sent"
        CtapStatus.OperationDenied -> "Request declined"
        else -> "Request refused (0x%02x)".format(ctapStatusCode(status).toInt())
    }
    is ProgressEvent.Finished -> "Done"
    is ProgressEvent.Failed -> "Failed: $reason"
}
