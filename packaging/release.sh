#!/bin/sh
# Builds every release artifact into $DIST (default dist/) reproducibly:
#   binaries for linux/windows/darwin × amd64/arm64 (-trimpath, empty build id, version stamp),
#   .deb and .rpm for linux, a zip (binary + install scripts + example) for Windows, an MSI when
#   wixl is installed, a tarball (binary + plist + install scripts) for macOS, and SHA256SUMS.
# Env: VERSION COMMIT DATE (stamps), TAGS (build tags; default nethttpomithttp2: no HTTP/2),
#   SOURCE_DATE_EPOCH (file times; default: last commit), GO,
#   MINISIGN_KEY: a minisign secret key file; when set, every binary is also published bare and
#   signed (<binary>.minisig, with the Debian `minisign` tool), for `omniagent self-update`.
set -eu
cd "$(dirname "$0")/.."
if [ -n "${MINISIGN_KEY:-}" ] && ! command -v minisign >/dev/null 2>&1; then
	echo "release.sh: MINISIGN_KEY is set but minisign is not installed (Debian package minisign)" >&2
	exit 1
fi
GO=${GO:-go}
# Build tags of every shipped binary (the Makefile passes its own TAGS, the same by default).
TAGS=${TAGS-nethttpomithttp2}
DIST=${DIST:-dist}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
DATE=${DATE:-$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)}
export SOURCE_DATE_EPOCH
# Package versions must start with a digit.
PKGVERSION=$(echo "$VERSION" | sed -e 's/^v//' -e 's/^\([^0-9]\)/0.0.0~\1/' -e 's/-/~/g')
PKG=github.com/omniagent/omniagent
LDFLAGS="-s -w -buildid= -X $PKG/version.Version=$VERSION -X $PKG/version.Commit=$COMMIT -X $PKG/version.Date=$DATE"
EXAMPLE=agent.toml.example
[ -f "$EXAMPLE" ] || { echo "release.sh: $EXAMPLE missing" >&2; exit 1; }

rm -rf "$DIST"
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stamp() { find "$@" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + ; }

TARGETS=${TARGETS:-linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64}
for target in $TARGETS; do
	os=${target%/*} arch=${target#*/}
	ext=; [ "$os" = windows ] && ext=.exe
	stage="$work/omniagent-$VERSION-$os-$arch"
	mkdir -p "$stage"
	echo "build $os/$arch"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false -tags "$TAGS" -ldflags "$LDFLAGS" -o "$stage/omniagent$ext" ./cmd/omniagent
	cp "$EXAMPLE" "$stage/agent.toml.example"
	if [ -n "${MINISIGN_KEY:-}" ]; then
		bare="$DIST/omniagent-$VERSION-$os-$arch$ext"
		cp "$stage/omniagent$ext" "$bare"
		minisign -S -s "$MINISIGN_KEY" -m "$bare" -t "omniagent $VERSION $os/$arch" >/dev/null
		cp "$bare.minisig" "$stage/omniagent$ext.minisig"
	fi
	case $os in
	linux)
		cp "$stage/omniagent" "$DIST/omniagent-$VERSION-linux-$arch"
		rm -f "$stage/omniagent.minisig" # the packages ship the binary; its signature is beside it in $DIST
		sed -e "s|\${BINARY}|$stage/omniagent|" -e "s|\${EXAMPLE_CONFIG}|$EXAMPLE|" packaging/nfpm.yaml >"$work/nfpm-$arch.yaml"
		stamp "$stage" packaging/omniagent.service packaging/scripts "$EXAMPLE"
		for fmt in deb rpm; do
			ARCH=$arch VERSION=$PKGVERSION "$GO" tool nfpm package -f "$work/nfpm-$arch.yaml" -p $fmt -t "$DIST/"
		done
		;;
	windows)
		cp packaging/windows/install.ps1 packaging/windows/uninstall.ps1 "$stage/"
		stamp "$stage"
		(cd "$work" && find "$(basename "$stage")" | LC_ALL=C sort | zip -X -q -@ "$DIST/omniagent-$VERSION-windows-$arch.zip")
		if command -v wixl >/dev/null 2>&1 && [ "$arch" = amd64 ]; then
			# wixl resolves File sources relative to the working directory only.
			top=$PWD msiver=$(echo "$PKGVERSION" | sed 's/[^0-9.].*//')
			(cd "$stage" && wixl -a x64 -D Version="${msiver:-0.0.0}" -D SourceDir=. \
				-o "$DIST/omniagent-$VERSION-windows-$arch.msi" "$top/packaging/windows/omniagent.wxs")
		fi
		;;
	darwin)
		cp packaging/omniagent.plist packaging/darwin/install.sh packaging/darwin/uninstall.sh "$stage/"
		stamp "$stage"
		tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
			-cf - "$(basename "$stage")" | gzip -n -9 >"$DIST/omniagent-$VERSION-darwin-$arch.tar.gz"
		;;
	esac
done
(cd "$DIST" && sha256sum $(ls | LC_ALL=C sort) >SHA256SUMS)
echo "artifacts in $DIST:"; ls -l "$DIST"
