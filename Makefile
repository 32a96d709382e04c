# omniagent build, test and release targets. `make test` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --dirty 2>/dev/null || echo 0.0.0~git$$(git rev-parse --short HEAD 2>/dev/null || echo unknown))
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE     ?= $(shell git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
PKG      := github.com/omniagent/omniagent
# nethttpomithttp2: the agent speaks HTTP/1.1 to every server; without net/http's bundled HTTP/2
# the binary is ~0.55 MB smaller and the five-server daemon ~0.7 MiB lighter (docs/architecture.md).
TAGS     ?= nethttpomithttp2
LDFLAGS  := -s -w -buildid= -X $(PKG)/version.Version=$(VERSION) -X $(PKG)/version.Commit=$(COMMIT) -X $(PKG)/version.Date=$(DATE)
TARGETS  := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64

.PHONY: all build test fmt-check vet unit cross bench clean dist test-windows test-linux-vm

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/omniagent ./cmd/omniagent

test: fmt-check vet unit cross test-windows test-linux-vm

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# Every package must build for every OS and arch without cgo.
cross:
	@set -e; for t in $(TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; \
		echo "cross-build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build ./... ; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) vet ./... ; \
	done

# The Windows build, its service and its MSI run under Wine (wintest/, docs/windows.md). Skips
# with a message naming the Debian packages (wine64, wixl, gcc-mingw-w64-x86-64) when they are
# missing, unless CI is set: then it fails.
test-windows:
	OMNIAGENT_WINE_TEST=1 $(GO) test -count=1 -timeout 15m -v ./wintest/
# The .deb, the systemd unit, the shutdown actions and the journal on a real systemd: a Debian VM
# booted with qemu (TCG). Skips with a message without qemu-system-x86_64, debootstrap or root,
# unless CI is set. See docs/linux-systemd.md.
test-linux-vm:
	GO=$(GO) ./packaging/vmtest/run.sh

bench:
	./bench/run.sh

# Every release artifact (binaries, .deb/.rpm, Windows zip [+ MSI with wixl], macOS tarball)
# for every target, reproducibly, plus SHA256SUMS, into dist/. Not part of `test`.
dist:
	GO=$(GO) TAGS='$(TAGS)' VERSION=$(VERSION) COMMIT=$(COMMIT) ./packaging/release.sh

clean:
	rm -rf bin dist
