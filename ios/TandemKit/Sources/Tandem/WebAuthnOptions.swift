import Foundation

/// Builds the W3C options JSON the core's WebAuthn-level calls take from what iOS hands a credential-provider
/// extension (which gives fields, not JSON).
public enum WebAuthnOptions {
    /// `PublicKeyCredentialCreationOptions` for a discoverable credential. `exclude` lists the account's
    /// existing credential IDs (iOS 18 hands them to the extension): the engine refuses to make a second one.
    public static func creation(rpId: String, userName: String, userHandle: Data, algorithms: [Int], challenge: Data,
                                exclude: [Data] = []) -> String {
        let params = (algorithms.isEmpty ? [-7] : algorithms).map { ["type": "public-key", "alg": $0] as [String: Any] }
        let object: [String: Any] = [
            "excludeCredentials": exclude.map { ["type": "public-key", "id": base64url($0)] },
            "rp": ["id": rpId, "name": rpId],
            "user": ["id": base64url(userHandle), "name": userName, "displayName": userName],
            "challenge": base64url(challenge),
            "pubKeyCredParams": params,
            "authenticatorSelection": ["residentKey": "required", "userVerification": "required"],
        ]
        return json(object)
    }

    /// `PublicKeyCredentialRequestOptions` for `rpId`, restricted to `allow` when it is not empty.
    public static func request(rpId: String, allow: [Data], challenge: Data) -> String {
        let object: [String: Any] = [
            "rpId": rpId,
            "challenge": base64url(challenge),
            "allowCredentials": allow.map { ["type": "public-key", "id": base64url($0)] },
            "userVerification": "required",
        ]
        return json(object)
    }

    /// Unpadded base64url.
    public static func base64url(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func json(_ object: [String: Any]) -> String {
        // Only strings, numbers, arrays and dictionaries go in, so serialisation cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
