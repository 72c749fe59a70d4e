# Every entry point of mailfleet. `make demo` and `make test` set up everything they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CACHE ?= $(HOME)/.cache/mailfleet
NODE_VERSION := $(shell cat .nvmrc)
NODE_ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
NODE_DIR := $(CACHE)/node-$(NODE_VERSION)
NODE_BIN := $(NODE_DIR)/node_modules/node-linux-$(NODE_ARCH)/bin
# The machine's Node may be older than 24: the pinned Node from the npm registry goes first on PATH.
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

NODE_STAMP := $(NODE_BIN)/node
DEPS_STAMP := node_modules/.package-lock.json
TEST_CONCURRENCY ?= 4

.PHONY: help deps system-deps control-plane lazyfs images cluster lint typecheck generate test test-unit test-integration test-node demo bench clean

help: ## list the entry points
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(NODE_STAMP): .nvmrc
	@echo "fetching Node $(NODE_VERSION) from the npm registry into $(NODE_DIR)"
	@mkdir -p $(NODE_DIR)
	@npm install --silent --no-save --no-audit --no-fund --prefix $(NODE_DIR) node-linux-$(NODE_ARCH)@$(NODE_VERSION)
	@touch $@

$(DEPS_STAMP): package.json package-lock.json $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

deps: $(DEPS_STAMP) ## install Node 24 (when the machine's is older) and the npm dependencies

system-deps: ## install the Debian packages the tests use as real peers (Postfix, swaks, dnsmasq, ...)
	@bash hack/system-deps.sh

control-plane: ## build (once, cached) kube-apiserver, etcd, kube-controller-manager, kubectl, and the oldest supported kube-apiserver
	@bash test/controlplane/build.sh >/dev/null
	@bash test/controlplane/build-oldest-apiserver.sh >/dev/null

lazyfs: ## build (once, cached) test/lazyfs, the FUSE filesystem of the power-loss test
	@bash test/lazyfs/build.sh >/dev/null

lint: deps ## eslint (type-checked rules), prettier and the layering rules of STYLE.md (.dependency-cruiser.json)
	eslint .
	prettier --check .
	depcruise operator relay hack bench test

typecheck: deps ## tsc --noEmit
	tsc --noEmit

generate: deps ## regenerate crds/, docs/reference, docs/relay-config.md and docs/relay-metrics.md from operator/api, relay/config and the metric declarations
	node hack/generate.ts
	bash hack/sync-chart-crds.sh
	bash deploy/render.sh

test-unit: deps ## pure, table-driven tests (no network but loopback)
	node --test --test-concurrency=$(TEST_CONCURRENCY) 'test/unit/**/*.test.ts'

test-integration: deps system-deps control-plane lazyfs ## tests against a real kube-apiserver and real SMTP peers
	node test/with-control-plane.ts -- node --test --test-concurrency=$(TEST_CONCURRENCY) 'test/integration/**/*.test.ts'

images: deps system-deps ## build the relay, operator and test images with buildah from the Dockerfiles (test/node/images.sh)
	@bash test/node/images.sh >/dev/null

cluster: deps system-deps control-plane ## a real single-node cluster (containerd, runc, kubelet, kube-proxy, CoreDNS, local-path) until Ctrl-C
	node hack/cluster.ts

test-node: deps system-deps control-plane ## end to end on a real node: images, helm install, pods, mail sent pod to pod (needs root)
	node test/with-cluster.ts -- node --test --test-concurrency=1 'test/e2e-node/**/*.test.ts'

test: lint typecheck test-unit test-integration test-node ## everything CI runs

demo: deps system-deps control-plane ## the main job on local defaults: control plane, operator, relays, a signed message end to end
	node hack/demo.ts

bench: deps system-deps ## measure Postfix, the machine's ceiling and mailfleet's relay → docs/benchmarks.md (BENCH_QUICK=1: smoke run; BENCH_SCENARIOS (realistic: STARTTLS + AUTH + DKIM set), BENCH_REPEATS, BENCH_OUTPUT: docs/benchmarks.md)
	node bench/main.ts

profile: deps system-deps ## where the relay's CPU goes for one load, per message and thread (PROFILE_* options: hack/profile-relay.sh)
	@bash hack/profile-relay.sh

floor-ratio: deps system-deps ## the floor goals over many rounds: smtp-server's floor, the relay receiving and end to end, in turns (FLOOR_ROUNDS, FLOOR_MESSAGES, FLOOR_OUTPUT: hack/floor-ratio.ts)
	@node hack/floor-ratio.ts

bench-node: deps system-deps control-plane ## one relay pod (1 CPU) through its Service on the real node, then 2 and 3 (needs root; MAILFLEET_NODE_* knobs: bench/node-scaling.ts) → docs/node-scaling.md
	node test/with-cluster.ts -- node bench/node-scaling.ts

bench-operator: deps control-plane ## the operator with 200 SmtpRelays and 2,000 SenderDomains → docs/operator-scale.md
	node bench/operator-scale.ts

bench-operator-secrets: deps control-plane ## the operator's RSS and V8 heap with 2,000 unrelated 100 KiB Secrets (case 37; MAILFLEET_SECRETS_* knobs: bench/operator-secrets.ts)
	node bench/operator-secrets.ts

.PHONY: bench-node bench-operator bench-operator-secrets soak soak-power profile floor-ratio
SOAK_CYCLES ?= 500
soak: deps system-deps ## the kill -9 durability loop (case 19) with hundreds of cycles: SOAK_CYCLES=500, MAILFLEET_SOAK_SEED to replay
	MAILFLEET_SOAK_CYCLES=$(SOAK_CYCLES) node --test --test-reporter=spec test/integration/reliability/kill-loop.test.ts

POWER_CUTS ?= 2000
soak-power: deps system-deps lazyfs ## the power-loss test (lazyfs) with thousands of cuts: POWER_CUTS=2000, MAILFLEET_POWER_SEED to replay
	MAILFLEET_POWER_CUTS=$(POWER_CUTS) node --test --test-reporter=spec test/integration/reliability/power-loss.test.ts

clean: ## remove node_modules (the cache in $(CACHE) stays)
	rm -rf node_modules
