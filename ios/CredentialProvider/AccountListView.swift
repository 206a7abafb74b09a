import SwiftUI
import Tandem

/// The accounts the extension offers when the user picked Tandem in the passkey sheet but not a passkey
/// (`prepareCredentialList`). The core chose and ordered them (`accountChoices`); tapping one signs in with
/// it after Face ID / Touch ID, Cancel ends the request as cancelled by the user.
struct AccountListView: View {
    let rpId: String
    let choices: [AccountChoice]
    let onChoose: @MainActor (AccountChoice) -> Void
    let onCancel: @MainActor () -> Void

    var body: some View {
        NavigationStack {
            List(choices, id: \.credentialId) { choice in
                Button {
                    onChoose(choice)
                } label: {
                    VStack(alignment: .leading) {
                        Text(choice.title).font(.headline)
                        if let subtitle = choice.subtitle {
                            Text(subtitle).font(.subheadline).foregroundStyle(.secondary)
                        }
                    }
                }
            }
            .navigationTitle("Sign in to \(rpId)")
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel", action: onCancel)
                }
            }
        }
    }
}
