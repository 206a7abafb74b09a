// swift-tools-version:5.9
// TandemKit: the Tandem core for iOS. `TandemFFIC` is the Rust static library with its C header (an
// XCFramework built by scripts/platform/build-xcframework.sh on a Mac); `TandemFFI` is the uniffi-generated
// Swift (scripts/platform/gen-bindings.sh); `Tandem` adds the iOS pieces: Secure Enclave key protector,
// LocalAuthentication verifier, a CryptoKit software protector for tests.
import PackageDescription

let package = Package(
    name: "TandemKit",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "Tandem", targets: ["Tandem"]),
    ],
    targets: [
        .binaryTarget(name: "TandemFFIC", path: "TandemFFIC.xcframework"),
        .target(name: "TandemFFI", dependencies: ["TandemFFIC"], path: "Sources/TandemFFI"),
        .target(name: "Tandem", dependencies: ["TandemFFI"], path: "Sources/Tandem"),
        .testTarget(name: "TandemTests", dependencies: ["Tandem"], path: "Tests/TandemTests"),
    ]
)
