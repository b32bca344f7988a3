#!/usr/bin/env bash
# Package dist/Filterscope.app into dist/filterscope-VERSION-macos-ARCH.dmg (run on macOS).
#
# Build the app first, from the repository's root, with the build environment's Python:
#   pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/filterscope.spec
#   packaging/macos/make-dmg.sh
# The disk image holds the app and a link to /Applications to drag it onto.
# Optional, for distribution outside this machine (both need an Apple Developer account):
#   CODESIGN_IDENTITY="Developer ID Application: NAME (TEAMID)"  signs the app (hardened runtime)
#     and the image; without it the app keeps PyInstaller's ad-hoc signature (fine locally,
#     Gatekeeper asks elsewhere).
#   NOTARY_PROFILE=PROFILE  notarises and staples the image (a profile saved with
#     `xcrun notarytool store-credentials PROFILE`); needs CODESIGN_IDENTITY.
set -euo pipefail
cd "$(dirname "$0")/../.."

app=dist/Filterscope.app
[ -d "$app" ] || { echo "make-dmg.sh: $app is missing: build it with PyInstaller first" >&2; exit 1; }
version="$(/usr/libexec/PlistBuddy -c 'Print CFBundleShortVersionString' "$app/Contents/Info.plist")"
dmg="dist/filterscope-${version}-macos-$(uname -m).dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
  codesign --verify --deep --strict "$app"
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/Filterscope.app"  # ditto keeps the bundle's symlinks and signatures
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname Filterscope -srcfolder "$staging" -ov -format UDZO "$dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$dmg"
fi
if [ -n "${NOTARY_PROFILE:-}" ]; then
  [ -n "${CODESIGN_IDENTITY:-}" ] || { echo "make-dmg.sh: NOTARY_PROFILE needs CODESIGN_IDENTITY" >&2; exit 1; }
  xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "$dmg: $(du -h "$dmg" | cut -f1)"
