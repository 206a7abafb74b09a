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
@MainActor
struct CredentialsView: View {
    @State private var credentials: [Credential] = []
    @State private var unreadable: [UnreadableCredential] = []
    @State private var message: String?
    @State private var keyLost = false

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
                ForEach(unreadable, id: \.id) { broken in
                    VStack(alignment: .leading) {
                        Text(broken.rpId ?? "Unknown site").font(.headline)
                        Text("Damaged passkey: it cannot be used. Swipe to delete.").font(.subheadline)
                    }
                }
                .onDelete(perform: deleteUnreadable)
            }
            .navigationTitle("Passkeys")
            .alert("Passkeys can no longer be used", isPresented: $keyLost) {
                Button("Start over", role: .destructive) { startOver() }
                Button("Not now", role: .cancel) {}
            } message: {
                Text("The key protecting the passkeys on this iPhone is gone (for example after a restore onto " +
                     "another device). They cannot be recovered. Start over to create new passkeys; sign in to " +
                     "each site another way to add one again.")
            }
            .task {
                // App launch: the system's passkey list is rebuilt from the store (repairs missed saves and
                // removes passkeys deleted while it was not listening).
                await TandemShared.syncCredentialIdentities()
                await reload()
            }
            .refreshable { await reload() }
        }
    }

    /// Reads the store; its calls are async and run off the main actor (SQLite and the Secure Enclave unwrap
    /// must not stall the UI).
    private func reload() async {
        do {
            let store = try await TandemShared.openStore()
            let readable = try await store.list()
            let broken = try await store.unreadable()
            credentials = readable
            unreadable = broken
            message = credentials.isEmpty ? "No passkeys yet. Create one on a website to see it here." : nil
        } catch TandemError.KeyInvalidated {
            credentials = []
            unreadable = []
            message = "The passkeys on this iPhone can no longer be used."
            keyLost = true
        } catch {
            message = "Cannot open the passkey store: \(error.localizedDescription)"
        }
    }

    private func delete(at offsets: IndexSet) {
        remove(offsets.map { credentials[$0].id })
    }

    private func deleteUnreadable(at offsets: IndexSet) {
        remove(offsets.map { unreadable[$0].id })
    }

    /// Deletes (off the main actor, inside the core), then re-syncs the system's passkey list so the deleted passkeys stop being
    /// offered, then shows the store again.
    private func remove(_ ids: [Data]) {
        Task {
            do {
                let store = try await TandemShared.openStore()
                for id in ids { try await store.delete(credentialId: id) }
            } catch {
                message = "Delete failed: \(error.localizedDescription)"
            }
            await TandemShared.syncCredentialIdentities()
            await reload()
        }
    }

    private func startOver() {
        Task {
            do {
                try await TandemShared.startOver()
            } catch {
                message = "Could not start over: \(error.localizedDescription)"
            }
            await TandemShared.syncCredentialIdentities()
            await reload()
        }
    }
}
