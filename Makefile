# Coxswain build. `make test` and `make demo` install what they need on a
# fresh Debian machine (idempotently) and then run.

GO            ?= go
TOOLS         := $(CURDIR)/.tools
GOBIN_DIR     := $(TOOLS)/bin
CNI_BIN_DIR   := $(TOOLS)/cni/bin
PROTOC_GEN_GO_VERSION := v1.36.11
STATICCHECK_VERSION   := v0.8.2
APT_PACKAGES  := protobuf-compiler libprotobuf-dev iptables nftables busybox-static iproute2 ca-certificates e2fsprogs util-linux
export PATH   := $(GOBIN_DIR):$(PATH)
export COXSWAIN_CNI_BIN_DIR := $(CNI_BIN_DIR)

.PHONY: all setup apt-deps tools cni-plugins generate check-generated lint vet staticcheck fmt-check \
	test test-unit demo bench clean

all: test

## setup: install apt packages, pinned Go tools and the CNI plugins (idempotent).
setup: apt-deps tools cni-plugins

apt-deps:
	@bash hack/apt-deps.sh $(APT_PACKAGES)

tools: $(GOBIN_DIR)/protoc-gen-go $(GOBIN_DIR)/staticcheck

$(GOBIN_DIR)/protoc-gen-go:
	GOBIN=$(GOBIN_DIR) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(GOBIN_DIR)/staticcheck:
	GOBIN=$(GOBIN_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## cni-plugins: build the containernetworking plugins pinned in go.mod.
cni-plugins:
	@bash hack/build-cni-plugins.sh $(CNI_BIN_DIR)

## generate: regenerate Go code from api/*.proto.
generate: apt-deps $(GOBIN_DIR)/protoc-gen-go
	@bash hack/protoc.sh

## check-generated: fail when the committed generated code is stale.
check-generated: apt-deps $(GOBIN_DIR)/protoc-gen-go
	@bash hack/check-generated.sh

lint: vet staticcheck fmt-check

vet:
	$(GO) vet ./...

staticcheck: $(GOBIN_DIR)/staticcheck
	staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: set up, lint, check generated code, run every test with the race detector.
test: setup lint check-generated test-unit

test-unit:
	$(GO) test -race -timeout 30m ./...

## demo: validate the example manifests, then run the single-machine demo
## (coxd all with real containers, a Deployment and a Service; needs root).
demo: setup
	$(GO) run ./cmd/coxctl validate -f examples/manifests
	bash examples/quickstart/run.sh

## bench-AREA: run an area's benchmarks (bench/AREA/run.sh); each prints
## `figure: NAME VALUE UNIT` lines.
BENCH_AREAS := $(patsubst bench/%/run.sh,%,$(wildcard bench/*/run.sh))
bench: $(addprefix bench-,$(BENCH_AREAS))

bench-%: setup
	@bash bench/$*/run.sh

clean:
	rm -rf $(TOOLS)
