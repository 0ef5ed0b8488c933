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

## deps: the aws CLI (Debian's awscli), python3 and node are used by the
## integration tests; install whichever is missing.
deps:
	@missing=""; \
	command -v aws >/dev/null 2>&1 || missing="$$missing awscli"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: build
	./$(BIN) bench all

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
