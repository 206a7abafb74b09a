"""Checks the iOS app's XcodeGen spec (ios/project.yml), entitlements and Info.plists for what an install on a
device needs and Xcode does not check until a Mac signs the build.

    python3 scripts/platform/check_ios_project.py ios

Each check prints `ok` or `FAIL <why>`; the script exits non-zero if any check failed. What is checked, and why:

- the app and its credential-provider extension declare the same App Group (the store's database lives in its
  container) and the same keychain access group (the Secure Enclave keys that unlock the store are kept there:
  without a shared group each target makes its own key and whichever opens the database second fails);
- both carry the AutoFill credential provider entitlement (the system lists only extensions whose app has it);
- the groups Swift uses (`ios/Shared/TandemShared.swift`) are the ones the entitlements declare;
- the extension's Info.plist has every key an install needs (bundle identity, `XPC!`, the credential-provider
  extension point, the principal class, `ProvidesPasskeys` = true), its principal class is a class declared in
  the extension's Swift sources, and every `$(SETTING)` a plist uses is a setting Xcode or the spec defines;
- the extension's bundle identifier starts with the app's plus a dot (iOS refuses to install it otherwise), and
  its version strings are the app's.

`test_check_ios_project.py` breaks a copy of the files one way per check and shows that each check fails.

Needs PyYAML (the XcodeGen spec is YAML) and the standard library's plistlib.
"""

from __future__ import annotations

import plistlib
import re
import sys
from pathlib import Path

import yaml

AUTOFILL = "com.apple.developer.authentication-services.autofill-credential-provider"
APP_GROUPS = "com.apple.security.application-groups"
KEYCHAIN_GROUPS = "keychain-access-groups"
EXTENSION_POINT = "com.apple.authentication-services-credential-provider-ui"
# The prefix Xcode substitutes with the team ID and a dot at signing time; Swift reads it back from Info.plist.
PREFIX = "$(AppIdentifierPrefix)"
PREFIX_INFO_KEY = "TandemAppIdentifierPrefix"

# Build settings Xcode itself defines for every target; anything else a plist names must be set in the spec.
XCODE_SETTINGS = {
    "AppIdentifierPrefix",
    "TeamIdentifierPrefix",
    "DEVELOPMENT_LANGUAGE",
    "EXECUTABLE_NAME",
    "PRODUCT_BUNDLE_IDENTIFIER",
    "PRODUCT_BUNDLE_PACKAGE_TYPE",
    "PRODUCT_MODULE_NAME",
    "PRODUCT_NAME",
}

# Keys a bundle needs to install, with the value it must have (None: any non-empty string).
EXTENSION_BUNDLE_KEYS = {
    "CFBundleIdentifier": None,
    "CFBundleName": None,
    "CFBundleExecutable": None,
    "CFBundleVersion": None,
    "CFBundleShortVersionString": None,
    "CFBundleInfoDictionaryVersion": "6.0",
    "CFBundlePackageType": "XPC!",
}


class Checker:
    """Collects the outcome of each named check."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed = 0

    def check(self, name: str, problems: list[str]) -> None:
        """Records `name` as passed when `problems` is empty, else as failed with each problem."""
        if problems:
            for problem in problems:
                print(f"FAIL {name}: {problem}")
            self.failures.append(name)
        else:
            print(f"ok   {name}")
            self.passed += 1


def load_plist(path: Path) -> tuple[dict | None, str | None]:
    """The plist at `path` as a dict, or the reason it cannot be read."""
    try:
        with path.open("rb") as f:
            value = plistlib.load(f)
    except FileNotFoundError:
        return None, f"{path} does not exist"
    except (plistlib.InvalidFileException, ValueError) as e:
        return None, f"{path} is not a valid plist: {e}"
    if not isinstance(value, dict):
        return None, f"{path} is not a dictionary"
    return value, None


def targets_of(spec: dict) -> tuple[tuple[str, dict] | None, tuple[str, dict] | None]:
    """The (name, target) of the application and of the app extension in the spec."""
    app = ext = None
    for name, target in (spec.get("targets") or {}).items():
        kind = (target or {}).get("type")
        if kind == "application" and app is None:
            app = (name, target)
        elif kind == "app-extension" and ext is None:
            ext = (name, target)
    return app, ext


def entitlements_of(target: dict) -> dict:
    """The entitlements the spec declares for a target (XcodeGen writes them into the .entitlements file)."""
    return ((target.get("entitlements") or {}).get("properties")) or {}


def settings_of(target: dict) -> dict:
    """A target's base build settings (`settings:` either flat or under `base:`)."""
    settings = target.get("settings") or {}
    if "base" in settings or "configs" in settings or "groups" in settings:
        return settings.get("base") or {}
    return settings


def bundle_id(spec: dict, name: str, target: dict) -> str:
    """The target's PRODUCT_BUNDLE_IDENTIFIER: its own setting, else XcodeGen's `bundleIdPrefix`.name."""
    explicit = settings_of(target).get("PRODUCT_BUNDLE_IDENTIFIER")
    if explicit:
        return str(explicit)
    prefix = (spec.get("options") or {}).get("bundleIdPrefix")
    return f"{prefix}.{name}" if prefix else name


def info_plist(root: Path, target: dict) -> tuple[dict | None, Path | None, str | None]:
    """The Info.plist a target builds with: a committed file (INFOPLIST_FILE), or the properties XcodeGen
    generates from `info:` (those are all the spec controls, so they are what is checked)."""
    file = settings_of(target).get("INFOPLIST_FILE")
    if file:
        path = root / file
        value, error = load_plist(path)
        return value, path, error
    info = target.get("info")
    if info and isinstance(info.get("properties"), dict):
        return info["properties"], None, None
    return None, None, "the target has neither INFOPLIST_FILE nor info.properties"


def same_groups(app_ent: dict, ext_ent: dict, key: str) -> list[str]:
    """Problems with `key` (a list of groups) in the two targets' entitlements."""
    app_groups, ext_groups = app_ent.get(key), ext_ent.get(key)
    problems = []
    if not app_groups:
        problems.append(f"the app declares no {key}")
    if not ext_groups:
        problems.append(f"the extension declares no {key}")
    if app_groups and ext_groups and not set(app_groups) & set(ext_groups):
        problems.append(f"no {key} entry is shared: app {app_groups}, extension {ext_groups}")
    return problems


def swift_string_constant(source: str, name: str) -> str | None:
    """The literal assigned to `static let <name>` (a plain string, no interpolation) in Swift source."""
    m = re.search(r"static\s+let\s+" + re.escape(name) + r"\s*(?::\s*String\??\s*)?=\s*\"([^\"\\]*)\"", source)
    return m.group(1) if m else None


def strip_swift_comments(source: str) -> str:
    """Swift source without // and /* */ comments (string literals holding them are rare enough here)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"//[^\n]*", "", source)


def declares_class(sources: list[Path], name: str) -> bool:
    """Whether any of `sources` declares `class <name>` (final/open/public modifiers allowed)."""
    pattern = re.compile(r"(?m)^\s*(?:@\w+\s+)*(?:(?:final|open|public|internal)\s+)*class\s+" + re.escape(name) + r"\b")
    return any(pattern.search(strip_swift_comments(p.read_text(encoding="utf-8"))) for p in sources)


def plist_settings(value: object) -> set[str]:
    """Every $(SETTING) or ${SETTING} named in a plist's strings (a `:modifier` suffix ignored)."""
    found: set[str] = set()
    if isinstance(value, str):
        for m in re.finditer(r"\$[({]([A-Za-z0-9_]+)(?::[^)}]*)?[)}]", value):
            found.add(m.group(1))
    elif isinstance(value, dict):
        for v in value.values():
            found |= plist_settings(v)
    elif isinstance(value, list):
        for v in value:
            found |= plist_settings(v)
    return found


def target_sources(root: Path, target: dict) -> list[Path]:
    """The Swift files under a target's source folders."""
    files: list[Path] = []
    for entry in target.get("sources") or []:
        path = entry.get("path") if isinstance(entry, dict) else entry
        files += sorted((root / str(path)).rglob("*.swift"))
    return files


def run(root: Path) -> Checker:
    """Runs every check on the iOS folder `root`."""
    c = Checker()
    with (root / "project.yml").open(encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    app, ext = targets_of(spec)
    c.check("spec has an application and an app-extension target",
            [] if app and ext else ["need one target of type application and one of type app-extension"])
    if not (app and ext):
        return c
    (app_name, app_t), (ext_name, ext_t) = app, ext
    app_ent, ext_ent = entitlements_of(app_t), entitlements_of(ext_t)
    shared_swift = (root / "Shared" / "TandemShared.swift").read_text(encoding="utf-8")

    # Entitlements.
    c.check("app and extension share an App Group", same_groups(app_ent, ext_ent, APP_GROUPS))
    c.check("app and extension share a keychain access group", same_groups(app_ent, ext_ent, KEYCHAIN_GROUPS))
    c.check("both targets have the AutoFill credential provider entitlement",
            [f"{who} lacks {AUTOFILL} = true" for who, ent in (("the app", app_ent), ("the extension", ext_ent))
             if ent.get(AUTOFILL) is not True])
    problems = []
    for group in set(app_ent.get(KEYCHAIN_GROUPS) or []) | set(ext_ent.get(KEYCHAIN_GROUPS) or []):
        if not str(group).startswith(PREFIX):
            problems.append(f"keychain group {group!r} lacks the {PREFIX} prefix iOS requires")
    c.check("keychain access groups carry the team prefix", problems)

    # Swift uses the groups the entitlements declare.
    problems = []
    app_group = swift_string_constant(shared_swift, "appGroup")
    if app_group not in (app_ent.get(APP_GROUPS) or []) or app_group not in (ext_ent.get(APP_GROUPS) or []):
        problems.append(f"TandemShared.appGroup {app_group!r} is not in both targets' App Groups")
    suffix = swift_string_constant(shared_swift, "keychainGroupSuffix")
    shared_keychain = set(app_ent.get(KEYCHAIN_GROUPS) or []) & set(ext_ent.get(KEYCHAIN_GROUPS) or [])
    if suffix is None:
        problems.append("TandemShared has no `static let keychainGroupSuffix = \"...\"` (the shared keychain group)")
    elif PREFIX + suffix not in shared_keychain:
        problems.append(f"TandemShared.keychainGroupSuffix {suffix!r} is not {PREFIX}<suffix> of a shared keychain group")
    c.check("Swift opens the store with the shared groups", problems)

    # Info.plists.
    ext_info, ext_info_path, error = info_plist(root, ext_t)
    app_info, _, app_error = info_plist(root, app_t)
    c.check("the extension's Info.plist is readable", [error] if error else [])
    c.check("the app's Info.plist properties are readable", [app_error] if app_error else [])
    if ext_info is None or app_info is None:
        return c
    problems = []
    for key, want in EXTENSION_BUNDLE_KEYS.items():
        got = ext_info.get(key)
        if not isinstance(got, str) or not got:
            problems.append(f"{key} is missing")
        elif want is not None and got != want:
            problems.append(f"{key} is {got!r}, must be {want!r}")
    c.check("the extension's Info.plist has the bundle keys an install needs", problems)

    extension = ext_info.get("NSExtension") or {}
    problems = []
    if extension.get("NSExtensionPointIdentifier") != EXTENSION_POINT:
        problems.append(f"NSExtension.NSExtensionPointIdentifier must be {EXTENSION_POINT}")
    capabilities = (extension.get("NSExtensionAttributes") or {}).get("ASCredentialProviderExtensionCapabilities") or {}
    if capabilities.get("ProvidesPasskeys") is not True:
        problems.append("NSExtensionAttributes.ASCredentialProviderExtensionCapabilities.ProvidesPasskeys must be true")
    c.check("the extension is a passkey credential provider", problems)

    principal = extension.get("NSExtensionPrincipalClass")
    problems = []
    if not isinstance(principal, str) or not principal:
        problems.append("NSExtension.NSExtensionPrincipalClass is missing")
    else:
        module, _, cls = principal.rpartition(".")
        if module not in ("$(PRODUCT_MODULE_NAME)", ""):
            problems.append(f"principal class module {module!r} should be $(PRODUCT_MODULE_NAME)")
        if not declares_class(target_sources(root, ext_t), cls):
            problems.append(f"no `class {cls}` in the extension's Swift sources")
    c.check("the extension's principal class exists", problems)

    problems = []
    for who, info in (("app", app_info), ("extension", ext_info)):
        if info.get(PREFIX_INFO_KEY) != PREFIX:
            problems.append(f"the {who}'s Info.plist lacks {PREFIX_INFO_KEY} = {PREFIX} (Swift reads the team prefix from it)")
    c.check("both Info.plists carry the team prefix for Swift", problems)

    problems = []
    spec_settings = set(((spec.get("settings") or {}).get("base") or spec.get("settings") or {}).keys())
    for who, target, info in (("app", app_t, app_info), ("extension", ext_t, ext_info)):
        defined = XCODE_SETTINGS | spec_settings | set(settings_of(target).keys())
        for name in sorted(plist_settings(info) - defined):
            problems.append(f"the {who}'s Info.plist uses $({name}), which neither Xcode nor project.yml defines")
    c.check("every build setting the plists name is defined", problems)

    # iOS expects an extension's version strings to equal its app's (App Store validation rejects a mismatch).
    c.check("the extension's versions are the app's",
            [f"{key}: app {app_info.get(key)!r}, extension {ext_info.get(key)!r}"
             for key in ("CFBundleShortVersionString", "CFBundleVersion")
             if app_info.get(key) != ext_info.get(key)])

    # Bundle identifiers.
    app_id, ext_id = bundle_id(spec, app_name, app_t), bundle_id(spec, ext_name, ext_t)
    c.check("the extension's bundle id is prefixed by the app's",
            [] if ext_id.startswith(app_id + ".") else [f"extension {ext_id!r} is not under app {app_id!r}"])
    return c


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "ios")
    c = run(root)
    print(f"ios-project: {c.passed} passed, {len(c.failures)} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
