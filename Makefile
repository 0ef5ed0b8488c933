# Updraft: the two commands a new machine needs are `make up` and `make test`.
GO       ?= go
BIN      := bin/updraft
DATA_DIR ?=

.PHONY: up build test test-short deps bench fmt vet clean

build:
	$(GO) build -o $(BIN) ./cmd/updraft

## up: build and start a node on 127.0.0.1:4566 with the example functions.
up: build
	./$(BIN) up $(if $(DATA_DIR),--data-dir $(DATA_DIR)) \
		--deploy examples/hello-go --deploy examples/hello-python --deploy examples/hello-node \
		--deploy examples/workflows/greet.json

## test: install what the tests need, then run the whole suite.
test: deps vet
	$(GO) test -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

## deps: the aws CLI (Debian's awscli), python3, node and curl (a shell
## bootstrap's Runtime API client) are used by the integration tests; on an x86-64 host that mounts cgroup v1, so are QEMU,
## a Debian kernel and a static busybox, to run the linux sandbox's tests
## on cgroup v2 in a VM (TestSandbox_CgroupV2). Install whichever is missing.
deps:
	@missing=""; \
	command -v aws >/dev/null 2>&1 || missing="$$missing awscli"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	if [ "$$(uname -m)" = x86_64 ] && [ "$$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ]; then \
		command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$$missing qemu-system-x86"; \
		ls /lib/modules/*/kernel/fs/9p/9p.ko >/dev/null 2>&1 || missing="$$missing linux-image-amd64"; \
		{ b=$$(command -v busybox) && ! ldd "$$b" >/dev/null 2>&1; } || missing="$$missing busybox-static"; \
	fi; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: build
	./$(BIN) bench all

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
