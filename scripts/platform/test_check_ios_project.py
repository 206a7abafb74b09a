"""Shows that every check of check_ios_project.py can fail: each test copies ios/ (spec, plists, Swift), breaks
it the way a real mistake would, and expects exactly the matching check to fail. The unbroken copy must pass.

    python3 scripts/platform/test_check_ios_project.py
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_ios_project  # noqa: E402

IOS = Path(__file__).resolve().parents[2] / "ios"


class BrokenCopy(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ios-check-"))
        shutil.copy(IOS / "project.yml", self.tmp / "project.yml")
        for folder in ("App", "Shared", "CredentialProvider"):
            shutil.copytree(IOS / folder, self.tmp / folder)

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp)

    def edit(self, relative: str, old: str, new: str, count: int = 1) -> None:
        """Replaces `old` (which must occur) by `new` in a copied file, the first `count` times (0: all)."""
        path = self.tmp / relative
        text = path.read_text(encoding="utf-8")
        self.assertIn(old, text, f"{relative} no longer contains {old!r}: update this test")
        path.write_text(text.replace(old, new, count if count else -1), encoding="utf-8")

    def drop_plist_key(self, relative: str, key: str) -> None:
        """Removes `<key>key</key>` and the value after it from a copied plist."""
        path = self.tmp / relative
        text = path.read_text(encoding="utf-8")
        pattern = rf"\s*<key>{re.escape(key)}</key>\s*(<string>[^<]*</string>|<true/>|<false/>)"
        new, n = re.subn(pattern, "", text)
        self.assertEqual(n, 1, f"{key} not found once in {relative}")
        path.write_text(new, encoding="utf-8")

    def failures(self) -> list[str]:
        with contextlib.redirect_stdout(io.StringIO()):
            return check_ios_project.run(self.tmp).failures

    def assert_fails(self, check: str) -> None:
        self.assertEqual(self.failures(), [check])

    def test_the_committed_files_pass(self) -> None:
        self.assertEqual(self.failures(), [])

    def test_app_group_only_in_the_app(self) -> None:
        spec = "project.yml"
        text = (self.tmp / spec).read_text(encoding="utf-8")
        first = text.index("com.apple.security.application-groups: [group.dev.tandem]")
        second = text.index("com.apple.security.application-groups: [group.dev.tandem]", first + 1)
        (self.tmp / spec).write_text(
            text[:second] + "com.apple.security.application-groups: [group.dev.other]" +
            text[second + len("com.apple.security.application-groups: [group.dev.tandem]"):], encoding="utf-8")
        self.assertEqual(self.failures(), ["app and extension share an App Group",
                                           "Swift opens the store with the shared groups"])

    def test_no_keychain_group(self) -> None:
        # Today's defect: neither target declared one, so each kept its Secure Enclave keys apart.
        self.edit("project.yml", '        keychain-access-groups: ["$(AppIdentifierPrefix)dev.tandem.shared"]\n', "", 0)
        self.assertEqual(self.failures(), ["app and extension share a keychain access group",
                                           "Swift opens the store with the shared groups"])

    def test_keychain_group_without_team_prefix(self) -> None:
        self.edit("project.yml", '"$(AppIdentifierPrefix)dev.tandem.shared"', '"dev.tandem.shared"', 0)
        self.assertEqual(self.failures(), ["keychain access groups carry the team prefix",
                                           "Swift opens the store with the shared groups"])

    def test_swift_uses_another_keychain_group(self) -> None:
        self.edit("Shared/TandemShared.swift", 'keychainGroupSuffix = "dev.tandem.shared"',
                  'keychainGroupSuffix = "dev.tandem.other"')
        self.assert_fails("Swift opens the store with the shared groups")

    def test_autofill_entitlement_missing_in_the_extension(self) -> None:
        text = (self.tmp / "project.yml").read_text(encoding="utf-8")
        line = "        com.apple.developer.authentication-services.autofill-credential-provider: true\n"
        last = text.rindex(line)
        (self.tmp / "project.yml").write_text(text[:last] + text[last + len(line):], encoding="utf-8")
        self.assert_fails("both targets have the AutoFill credential provider entitlement")

    def test_each_bundle_key_is_required(self) -> None:
        for key in check_ios_project.EXTENSION_BUNDLE_KEYS:
            with self.subTest(key=key):
                self.tearDown()  # a fresh copy per key
                self.setUp()
                self.drop_plist_key("CredentialProvider/Info.plist", key)
                self.assertIn("the extension's Info.plist has the bundle keys an install needs", self.failures())

    def test_package_type_must_be_xpc(self) -> None:
        self.edit("CredentialProvider/Info.plist", "<string>XPC!</string>", "<string>APPL</string>")
        self.assert_fails("the extension's Info.plist has the bundle keys an install needs")

    def test_provides_passkeys_false(self) -> None:
        self.edit("CredentialProvider/Info.plist", "<key>ProvidesPasskeys</key>\n                <true/>",
                  "<key>ProvidesPasskeys</key>\n                <false/>")
        self.assert_fails("the extension is a passkey credential provider")

    def test_wrong_extension_point(self) -> None:
        self.edit("CredentialProvider/Info.plist", "com.apple.authentication-services-credential-provider-ui",
                  "com.apple.share-services")
        self.assert_fails("the extension is a passkey credential provider")

    def test_principal_class_renamed_in_swift(self) -> None:
        self.edit("CredentialProvider/CredentialProviderViewController.swift",
                  "final class CredentialProviderViewController:", "final class ProviderViewController:")
        self.assert_fails("the extension's principal class exists")

    def test_principal_class_only_in_a_comment(self) -> None:
        self.edit("CredentialProvider/CredentialProviderViewController.swift",
                  "final class CredentialProviderViewController:", "// class CredentialProviderViewController\nfinal class Other:")
        self.assert_fails("the extension's principal class exists")

    def test_team_prefix_key_missing(self) -> None:
        self.drop_plist_key("CredentialProvider/Info.plist", "TandemAppIdentifierPrefix")
        self.assert_fails("both Info.plists carry the team prefix for Swift")

    def test_undefined_build_setting(self) -> None:
        self.edit("project.yml", '    MARKETING_VERSION: "0.1.0"\n', "")
        self.assert_fails("every build setting the plists name is defined")

    def test_versions_differ(self) -> None:
        self.edit("project.yml", "        CFBundleVersion: $(CURRENT_PROJECT_VERSION)\n", "        CFBundleVersion: \"7\"\n")
        self.assert_fails("the extension's versions are the app's")

    def test_extension_id_not_under_the_app(self) -> None:
        # Today's defect: XcodeGen's bundleIdPrefix gave dev.tandem.Tandem and dev.tandem.TandemCredentialProvider.
        self.edit("project.yml", "PRODUCT_BUNDLE_IDENTIFIER: dev.tandem.app.credential-provider",
                  "PRODUCT_BUNDLE_IDENTIFIER: dev.tandem.credential-provider")
        self.assert_fails("the extension's bundle id is prefixed by the app's")

    def test_no_extension_target(self) -> None:
        self.edit("project.yml", "type: app-extension", "type: framework")
        self.assert_fails("spec has an application and an app-extension target")


if __name__ == "__main__":
    unittest.main(verbosity=1)
