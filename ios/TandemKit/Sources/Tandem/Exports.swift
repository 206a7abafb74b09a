// Apps import `Tandem` only: re-export the generated bindings (CredentialStore, Authenticator, errors...).
@_exported import TandemFFI
