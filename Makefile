# Two commands do all set-up on a machine with Python 3.11 and make: `make demo` and `make test`.
# Everything is installed into .venv from the pinned requirements. Tools that need the collection under
# ansible_collections/<namespace>/<name> (ansible-test, antsibull-docs, ansible-lint) run from a copy of the tree in
# build/ansible_collections/hyperv/replica; the integration tests run from the tarball, installed as a user would.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
ROOT   := build/ansible_collections/hyperv/replica
STAMP  := $(VENV)/.installed
TEST_PY := 3.11
# ansible-test finds tools such as shellcheck on PATH.
export PATH := $(BIN):$(PATH)

# The tarball that `ansible-galaxy collection build` makes, and where `make build` installs it.
NAMESPACE := $(shell sed -n 's/^namespace: *//p' galaxy.yml)
NAME      := $(shell sed -n 's/^name: *//p' galaxy.yml)
VERSION   := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL   := build/$(NAMESPACE)-$(NAME)-$(VERSION).tar.gz
INSTALLED := build/installed/ansible_collections/$(NAMESPACE)/$(NAME)

# Debian's chromium takes the screenshot of report.html in the dr_drill integration target.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all venv collection browser sanity units docs docs-lint changelog lint build ee-check integration soak \
	test demo bench clean

all: test

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt tests/utils/get_pip_bootstrap.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# ansible-test --venv downloads a pip bootstrap script from a host we cannot reach; give it ours.
	pipv=$$($(BIN)/python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; \
	  print(g(type("P", (), {"version": "$(TEST_PY)"})())["pip"].replace(".", "_"))') && \
	  mkdir -p $(HOME)/.ansible/test/cache && \
	  { test -e $(HOME)/.ansible/test/cache/get_pip_$$pipv.py || \
	    cp tests/utils/get_pip_bootstrap.py $(HOME)/.ansible/test/cache/get_pip_$$pipv.py; }
	touch $@

# A real copy (not a symlink) of every file git tracks or would track, rebuilt each time.
collection: venv
	rm -rf build/ansible_collections
	mkdir -p $(ROOT)
	git ls-files -z --cached --others --exclude-standard \
	  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(ROOT)
	# Its own (empty) git repo: otherwise ansible-test finds ours, where build/ is ignored, and sees no files.
	git -C $(ROOT) init --quiet

# ansible-test's sanity tests (validate-modules, pylint, shellcheck, ...) on the source copy.
sanity: collection
	cd $(ROOT) && $(BIN)/ansible-test sanity --venv --python $(TEST_PY) --requirements --color no

# Unit tests of module_utils, the modules and the simulator, on the source copy.
units: collection
	cd $(ROOT) && $(BIN)/ansible-test units --venv --python $(TEST_PY) --requirements --color no

# The reference docs of the modules, the filter and the role, as ansible-doc knows them, rendered by antsibull-docs
# into docs/collection/ (committed: reST that GitHub/GitLab show, and readable as text; no Sphinx needed). Run it after
# changing a DOCUMENTATION, EXAMPLES or RETURN block, a filter's .yml or the role's meta/argument_specs.yml;
# `make docs-lint` fails while the committed files are not what this renders. (Playbooks have no docs format.)
DOCS_RENDER = ANSIBLE_COLLECTIONS_PATH=$(abspath build) $(BIN)/antsibull-docs collection --use-current \
	--output-format simplified-rst --squash-hierarchy --fail-on-error --cleanup everything

docs: collection
	mkdir -p docs/collection
	$(DOCS_RENDER) --dest-dir docs/collection $(NAMESPACE).$(NAME)

# What `ansible-test sanity` does not check in the docs: antsibull-docs' schema and markup validation of every
# plugin's and role's docs (references to options, modules, ...; rstcheck of the rendered pages), run from the copy
# as ansible-test would; then that docs/collection/ is up to date.
docs-lint: collection
	cd $(ROOT) && ANSIBLE_COLLECTIONS_PATH=$(abspath build) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .
	rm -rf build/docs && mkdir -p build/docs
	$(DOCS_RENDER) --dest-dir build/docs $(NAMESPACE).$(NAME) >/dev/null
	@diff -r docs/collection build/docs >build/docs.diff 2>&1 || \
	  { cat build/docs.diff; echo "docs/collection/ is out of date (diff above): run \`make docs\` and commit it" >&2; \
	    exit 1; }
	@echo "docs/collection/ is up to date"

# The changelog fragments (changelogs/fragments/*.yml) and changelogs/changelog.yaml lint clean, and the release notes
# the next release would get are previewed in build/changelog/.../CHANGELOG.rst (on a copy: nothing here changes).
# A release: set `version` in galaxy.yml, run `make docs changelog` and read the preview, then
# `antsibull-changelog release` (it moves the fragments into changelogs/changelog.yaml and writes CHANGELOG.rst;
# --date YYYY-MM-DD sets the day), `make test`, commit, tag, and publish the tarball `make build` made.
CHANGELOG_COPY := build/changelog/ansible_collections/$(NAMESPACE)/$(NAME)
changelog: collection
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	rm -rf build/changelog && mkdir -p $(CHANGELOG_COPY)
	tar -C $(ROOT) --exclude=./.git --exclude=./tests/output -cf - . | tar -xf - -C $(CHANGELOG_COPY)
	cd $(CHANGELOG_COPY) && ANSIBLE_COLLECTIONS_PATH=$(abspath build/changelog) $(BIN)/antsibull-changelog release --reload-plugins
	@echo "Release notes of $(VERSION) as they would be: $(CHANGELOG_COPY)/CHANGELOG.rst"

# ansible-lint's production profile (settings and exclusions in .ansible-lint) on the role, the playbook, the test
# playbooks and the collection's metadata. From the copy, so that hyperv.replica.* names resolve.
lint: collection
	cd $(ROOT) && ANSIBLE_COLLECTIONS_PATH=$(abspath build) $(BIN)/ansible-lint --nocolor

# The tarball a release publishes, built from the source tree as a maintainer would (galaxy.yml's build_ignore
# keeps out what make, ansible-test and git leave there), then installed into build/installed with ansible-galaxy
# as a user would: the integration tests run from that install.
build: venv
	rm -f build/$(NAMESPACE)-$(NAME)-*.tar.gz
	$(BIN)/ansible-galaxy collection build --output-path build --force
	@if tar -tzf $(TARBALL) | grep -E '^(build|\.venv|\.git|\.ansible|tests/output)/|__pycache__|\.pytest_cache'; then \
	  echo "$(TARBALL) holds the files above, which build_ignore in galaxy.yml should keep out" >&2; exit 1; fi
	@echo "$(TARBALL): $$(wc -c <$(TARBALL)) bytes ($$(( $$(wc -c <$(TARBALL)) / 1024 )) KiB), \
	$$(tar -tzf $(TARBALL) | grep -vc '/$$') files"
	rm -rf build/installed
	ANSIBLE_COLLECTIONS_PATH=$(abspath build/installed) $(BIN)/ansible-galaxy collection install $(TARBALL) \
	  -p build/installed --force --offline
	# ansible-test needs a git repo of its own there too (ours ignores build/).
	git -C $(INSTALLED) init --quiet

# What ansible-builder would add to an execution environment for the installed tarball (meta/execution-environment.yml
# and the files it names): the controller's Python requirements must be found there. No container is built.
ee-check: build
	$(BIN)/ansible-builder introspect build/installed >build/ee-introspect.txt
	@cat build/ee-introspect.txt
	@grep -q "^- 'pywinrm.*from collection $(NAMESPACE).$(NAME)'" build/ee-introspect.txt || \
	  { echo "ansible-builder does not see the collection's Python requirements" >&2; exit 1; }

# Installed once; apt's package lists are refreshed only when the install cannot find the package.
browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the report screenshot test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }; }
	@test -x $(CHROMIUM) || { echo "no $(CHROMIUM): install Debian's chromium package" >&2; exit 1; }

# The integration targets against the simulator, run from the installed tarball: a file the tarball leaves out
# fails here, not on a user's machine.
integration: build browser
	cd $(INSTALLED) && $(BIN)/ansible-test integration --venv --python $(TEST_PY) --requirements --color no

test: sanity units docs-lint changelog lint build ee-check integration soak

# A bounded soak: 1000 failover/revert cycles (10 rounds of 100 simulated VMs, every VM in one call each way) under
# random drops, bare 500s, operation timeouts and failing jobs, a third of the failed-over VMs booted before each
# revert; then failures in a row (drops, w:TimedOut on Invoke, 5xx bursts) and two runs at once on the same VMs. Fails
# on any VM whose reported state is not the host's, any operation started twice, any error that does not name its VM,
# and, in the last two kinds of run, any VM left in the wrong state or failed. About a minute, so `make test` runs it;
# SOAK_ARGS="--rounds 100 --fault-rate 0.08 --seed 7" for a longer one. Figures in build/soak/soak.json.
soak: collection
	$(BIN)/python tests/soak/soak.py $(SOAK_ARGS)

demo: collection
	$(BIN)/python tests/demo/demo.py --collections build

# Figures, not tests: one failover task for N = 1, 10, 100, 500 VMs against the simulator with 20 ms of network
# latency and 2 s jobs, against a loop of one-VM tasks; requests, wall and CPU time, peak memory. About 10 minutes
# (the loops take N times a job); BENCH_ARGS="--vms 1 10" for a quick look. Also written to build/bench/bench.json.
# It exits 1 when a target is missed; a target read from a run in which any VM failed is missed, with its error.
bench: collection
	$(BIN)/python tests/bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf build $(VENV)
