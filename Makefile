# muppy-snap — GNU make build.
#
#   make                 build the tools, the library and the payload
#   make check           install missing Debian packages, build, run all tests
#   make check-layers    only the check that lib/ stays layered
#   make pythons         CPython 3.13 to 3.15 for the tests, from a Debian sid
#                        chroot made once per machine (scripts/newer-pythons)
#   make SANITIZE=address,undefined check
#                        the same with the CLI and library under sanitizers
#   make demo            build and show the tool on a bundled leaking program
#   make fuzz            run the snapshot parser fuzzer (FUZZ_SECONDS=600)
#   make mutate          check that the tests catch the regressions listed
#                        in scripts/mutate (slow; not part of check)
#   make install         PREFIX, DESTDIR, BINDIR, LIBDIR, MANDIR,
#                        BASHCOMPDIR honoured; binaries stripped unless
#                        INSTALL_STRIP= (STRIP names the strip program)
#   make dist            build/muppy-snap-VERSION.tar.gz of the files git
#                        tracks at HEAD
#
# Developers and CI get -Werror (DEVELOPER=1, or CI set); users do not.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGLIBDIR ?= $(LIBDIR)/muppy-snap

# make install strips the programs and the payload (install -s, with
# $(STRIP)); INSTALL_STRIP= installs them as built.
INSTALL ?= install
STRIP ?= strip
INSTALL_STRIP ?= -s --strip-program=$(STRIP)

VERSION := 0.1.0
CC ?= cc
CFLAGS ?= -O2 -g
SANITIZE ?=
FUZZ_SECONDS ?= 600

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wvla -Wundef \
	-Wno-missing-field-initializers
ifneq ($(DEVELOPER)$(CI),)
WARNINGS += -Werror
endif

comma := ,
ifeq ($(SANITIZE),)
O := build
SAN_FLAGS :=
else
O := build/san-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
endif

BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Ilib \
	-DMUPPY_VERSION='"$(VERSION)"' $(CPPFLAGS) $(WARNINGS) $(CFLAGS)
ALL_CFLAGS := $(BASE_CFLAGS) $(SAN_FLAGS) -MD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)

# Library: every .c in the layers of lib/ (one folder each, README "How it
# works") and their subfolders, but the payload, which is built apart.
LIB_SRC := $(sort $(filter-out lib/payload/%,$(wildcard lib/*/*.c lib/*/*/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LIB := $(O)/libmuppy.a
LIB_LIBS := -lelf -lunwind-ptrace -lunwind-generic -lunwind -lpthread

# Command-line tools: cli/<tool>.c each, plus shared cli/common*.c.
CLI_MAINS := $(sort $(wildcard cli/muppy-*.c))
CLI_COMMON := $(sort $(filter-out $(CLI_MAINS),$(wildcard cli/*.c)))
PROGS := $(CLI_MAINS:cli/%.c=$(O)/%)

# The payload: one .so per lib/payload/, no sanitizers, links nothing.
PAYLOAD_SRC := $(sort $(wildcard lib/payload/*.c))
PAYLOAD := $(if $(PAYLOAD_SRC),$(O)/muppy-payload.so)
PYTHON_CONFIG ?= /usr/bin/python3-config
PYTHON_INC := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)

# Unit tests (CMocka): tests/unit/test_<module>.c; extra link flags per
# test in test_<module>_LDFLAGS.
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

# Helper programs for integration tests: tests/progs/<name>.c.
TPROG_SRC := $(sort $(wildcard tests/progs/*.c))
TPROG_BIN := $(TPROG_SRC:tests/progs/%.c=$(O)/tests/progs/%)
TPROG_SO_SRC := $(sort $(wildcard tests/progs/so/*.c))
TPROG_SO := $(TPROG_SO_SRC:tests/progs/so/%.c=$(O)/tests/progs/%.so)

MANPAGES := $(sort $(wildcard man/*.[1-8]))
# A path as roff text in a sed replacement: - as \-.
roff = $(subst -,\\-,$(1))

.PHONY: all check deps pythons unit test-cli test-integration manlint fuzz \
	fuzz-smoke demo install uninstall clean mutate dist

all: $(PROGS) $(PAYLOAD)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/muppy-%: $(O)/cli/muppy-%.o $(CLI_COMMON:%.c=$(O)/%.o) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

# Where muppy-snap looks for the installed payload is compiled in: a stamp
# holds it, rewritten only when PKGLIBDIR (PREFIX, LIBDIR) changes, so
# that `make PREFIX=/usr install` after a plain `make` rebuilds it.
PATHS_STAMP := $(O)/paths.stamp
$(PATHS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(PKGLIBDIR)' | cmp -s - $@ || echo '$(PKGLIBDIR)' >$@
$(O)/cli/muppy-snap.o: $(PATHS_STAMP)
$(O)/cli/muppy-snap.o: ALL_CFLAGS += -DMUPPY_PKGLIBDIR='"$(PKGLIBDIR)"'
.PHONY: FORCE
FORCE:

# The payload runs inside the target: -fPIC, hidden by default, no libc
# beyond what every Python process already has, no sanitizers.
PAYLOAD_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Ilib $(PYTHON_INC) $(WARNINGS) \
	-O2 -g -fPIC -fvisibility=hidden -fno-strict-aliasing \
	-fno-omit-frame-pointer -MD -MP
$(O)/payload/%.o: lib/payload/%.c
	@mkdir -p $(@D)
	$(CC) $(PAYLOAD_CFLAGS) -c -o $@ $<
$(O)/muppy-payload.so: $(PAYLOAD_SRC:lib/payload/%.c=$(O)/payload/%.o)
	$(CC) -shared -Wl,-z,defs -Wl,-z,now -Wl,--no-undefined \
		-o $@ $^ -lpthread -ldl
# A test build of it that checks every object's size against
# sys.getsizeof's and aborts on a difference (tests/snap/size-check.test).
$(O)/payload-check/%.o: lib/payload/%.c
	@mkdir -p $(@D)
	$(CC) $(PAYLOAD_CFLAGS) -DMUPPY_PAYLOAD_CHECK -c -o $@ $<
$(O)/tests/muppy-payload-check.so: $(PAYLOAD_SRC:lib/payload/%.c=$(O)/payload-check/%.o)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-z,defs -Wl,-z,now -Wl,--no-undefined \
		-o $@ $^ -lpthread -ldl

$(O)/tests/test_%: tests/unit/test_%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) \
		$(test_$*_LDFLAGS) -lcmocka $(LIB_LIBS)

$(O)/tests/progs/%: tests/progs/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -MD -MP -pthread -o $@ $< $(LIB) $(LIB_LIBS) -lm
# Injection victims never run sanitizers (their allocator's locks are
# invisible to the injector's safe-point check).
$(addprefix $(O)/tests/progs/,victim vforker pickme pausesig allocbusy rseqspin relsleep pinexec): \
	private SAN_FLAGS :=
$(O)/tests/progs/%.so: tests/progs/so/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -MD -MP -fPIC -shared -o $@ $< -lpthread

# --- tests ------------------------------------------------------------
deps:
	@scripts/install-deps

# The interpreters Debian 12 lacks: wrappers in $(O)/pythons that run
# them in a chroot of Debian sid, made by the first run (about a minute);
# tests/lib.sh's list_pythons lists them.
pythons: deps
	scripts/newer-pythons $(O)/pythons

# Unit tests always run under ASan/UBSan; with SANITIZE set, so does
# everything else.
UNIT_O := $(if $(SANITIZE),$(O),build/san-address-undefined)
check: deps pythons
	$(MAKE) tests
	$(if $(SANITIZE),,$(MAKE) SANITIZE=address,undefined unit-bins)
	scripts/run-tests $(O) $(UNIT_O)

.PHONY: unit-bins
unit-bins: $(UNIT_BIN)

.PHONY: tests
tests: $(PROGS) $(PAYLOAD) $(UNIT_BIN) $(TPROG_BIN) $(TPROG_SO) \
	$(if $(PAYLOAD),$(O)/tests/muppy-payload-check.so)

# Each mutation of scripts/mutate in a scratch copy of HEAD, built, and
# the tests that must catch it run there (about 10 minutes).
mutate: deps pythons
	BUILD=$(O) scripts/mutate

# lib/ layered, no call cycle (also tests/build/layers.test in make check)
.PHONY: check-layers
check-layers: $(PROGS) $(PAYLOAD)
	scripts/check-layers $(O)

manlint:
	@for m in $(MANPAGES); do \
		mandoc -T lint -W warning $$m || exit 1; done

# --- fuzzing (clang's libFuzzer) --------------------------------------
FUZZ_BIN := build/fuzz/fuzz-snapshot
# Only the snapshot format: the rest of lib/ needs ptrace and libelf.
FUZZ_SRC := $(addprefix lib/,base/error.c base/escape.c model/snapfile.c \
	model/snapshot.c base/time.c base/units.c)
$(FUZZ_BIN): tests/fuzz/fuzz-snapshot.c $(FUZZ_SRC) lib/muppy.h
	@mkdir -p $(@D)
	clang -std=gnu11 -D_GNU_SOURCE -Ilib -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz-snapshot.c $(FUZZ_SRC)

fuzz: deps $(FUZZ_BIN)
	mkdir -p build/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=tests/fuzz/snapshot.dict build/fuzz/corpus tests/data

# --- demo ----------------------------------------------------------------
demo: deps all
	scripts/demo $(O)

# --- install -------------------------------------------------------------
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 755 $(INSTALL_STRIP) $(PROGS) $(DESTDIR)$(BINDIR)/
	$(if $(PAYLOAD),$(INSTALL) -d $(DESTDIR)$(PKGLIBDIR))
	$(if $(PAYLOAD),$(INSTALL) -m 644 $(INSTALL_STRIP) $(PAYLOAD) \
		$(DESTDIR)$(PKGLIBDIR)/)
	for m in $(MANPAGES); do \
		s=$${m##*.}; t=$(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; \
		sed -e 's|^\.ds bindir .*|.ds bindir $(call roff,$(BINDIR))|' \
		    -e 's|^\.ds pkglibdir .*|.ds pkglibdir $(call roff,$(PKGLIBDIR))|' \
		    $$m >$$t.tmp && chmod 644 $$t.tmp && mv -f $$t.tmp $$t || exit 1; \
	done
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR)
	for c in muppy-snap muppy-diff muppy-cron; do \
		$(INSTALL) -m 644 scripts/completion/$$c.bash \
			$(DESTDIR)$(BASHCOMPDIR)/$$c; done
	$(INSTALL) -m 755 scripts/muppy-cron $(DESTDIR)$(BINDIR)/

uninstall:
	rm -f $(PROGS:$(O)/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(BINDIR)/muppy-cron
	rm -f $(DESTDIR)$(BASHCOMPDIR)/muppy-snap $(DESTDIR)$(BASHCOMPDIR)/muppy-diff $(DESTDIR)$(BASHCOMPDIR)/muppy-cron
	rm -f $(DESTDIR)$(PKGLIBDIR)/muppy-payload.so
	-rmdir $(DESTDIR)$(PKGLIBDIR) 2>/dev/null
	for m in $(MANPAGES); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; \
	done

clean:
	rm -rf build

# A release tarball: what git tracks at HEAD, in muppy-snap-VERSION/.
dist:
	@mkdir -p $(O)
	git archive --format=tar.gz --prefix=muppy-snap-$(VERSION)/ \
		-o $(O)/muppy-snap-$(VERSION).tar.gz HEAD
	@echo "$(O)/muppy-snap-$(VERSION).tar.gz"

-include $(shell find build -name '*.d' 2>/dev/null)
