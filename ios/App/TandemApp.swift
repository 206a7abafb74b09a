import SwiftUI
import Tandem

@main
struct TandemApp: App {
    var body: some Scene {
        WindowGroup { CredentialsView() }
    }
}

/// The passkeys on this device, with swipe-to-delete. Passkeys are created and used through the system
/// sheet (Settings › Passwords › Password Options › Tandem), which runs the credential-provider extension.
///
/// Hybrid (QR) sign-in on a computer is not offered on iOS: apps cannot put service data in a BLE
/// advertisement (CoreBluetooth only advertises a local name and service UUIDs), and the hybrid advert is
/// service data under 0xFFF9. iOS itself is the hybrid authenticator there.
struct CredentialsView: View {
    @State private var credentials: [Credential] = []
    @State private var message: String?

    var body: some View {
        NavigationStack {
            List {
                if let message { Text(message).foregroundStyle(.secondary) }
                ForEach(credentials, id: \.id) { credential in
                    VStack(alignment: .leading) {
                        Text(credential.rpId).font(.headline)
                        Text(credential.userDisplayName ?? credential.userName ?? "").font(.subheadline)
                    }
                }
                .onDelete(perform: delete)
            }
            .navigationTitle("Passkeys")
            .task { await reload() }
            .refreshable { await reload() }
        }
    }

    private func reload() async {
        do {
            let store = try TandemShared.openStore()
            credentials = try store.list()
            message = credentials.isEmpty ? "No passkeys yet. Create one on a website to see it here." : nil
        } catch {
            message = "Cannot open the passkey store: \(error.localizedDescription)"
        }
    }

    private func delete(at offsets: IndexSet) {
        do {
            let store = try TandemShared.openStore()
            for index in offsets {
                try store.delete(credentialId: credentials[index].id)
            }
        } catch {
            message = "Delete failed: \(error.localizedDescription)"
        }
        Task { await reload() }
    }
}
