# aiops - AIOps model management as small Unix tools over one static library.
#
# Adding a command (the checklist):
#   1. cmd/aiops-NAME.c  - options, I/O wiring, exit statuses; calls lib/ only
#   2. man/aiops-NAME.1  - mdoc; SYNOPSIS identical to the -h usage string
#   3. tests/tNNNN-NAME.sh - git-style shell tests (bad inputs too)
#   (CMDS is every cmd/aiops-*.c; nothing to register)
# Adding a library file: lib/NAME.c (+ its header); it is picked up by the wildcard.
#
# make              build build/lib/libaiops.a and build/bin/aiops-*
# make check        unit + shell tests under prove
# make check SANITIZE=address,undefined   the same, sanitized (objects in build/san/)
# make bench        benchmarks; ratios against peers measured in the same run
# make install PREFIX=/usr/local

CMDS = $(patsubst cmd/aiops-%.c,%,$(wildcard cmd/aiops-*.c))

CC      ?= cc
PREFIX  ?= /usr/local
PKGS     = openblas lapacke zlib libarchive libcurl libcrypto jansson
PROVE   ?= prove
JOBS    ?= 2

# BUILD: the output directory (default build; build/san when sanitized)
ifeq ($(strip $(SANITIZE)),)
B        = $(or $(BUILD),build)
SANFLAGS =
else
B        = $(or $(BUILD),build/san)
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
$(error pkg-config cannot find $(PKGS): run scripts/install-deps.sh)
endif
# LAPACKE is a thin C layer over LAPACK. Debian's liblapacke.a is linked in
# where it exists, so that its calls go to OpenBLAS's own LAPACK: the shared
# liblapacke would load a second LAPACK, BLAS and libtmglib (some 7000
# relocations, about 1 ms at every start of every command).
LAPACKE_A := $(wildcard $(shell pkg-config --variable=libdir lapacke 2>/dev/null)/liblapacke.a)
ifneq ($(LAPACKE_A),)
PKG_LIBS   := $(LAPACKE_A) $(shell pkg-config --libs $(filter-out lapacke,$(PKGS)) 2>/dev/null)
endif

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN      = -Wall -Wextra -Wshadow -Wno-sign-compare -Wmissing-prototypes -Wstrict-prototypes
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
	     -Ilib $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS) $(SANFLAGS)
LIBS      = $(PKG_LIBS) -lm -lpthread

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:lib/%.c=$(B)/obj/lib/%.o)
LIBA     = $(B)/lib/libaiops.a
BINS     = $(CMDS:%=$(B)/bin/aiops-%)
UNIT_SRC = $(wildcard tests/unit/test-*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELPER_SRC = $(wildcard tests/helpers/*.c)
HELPERS  = $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/%)
BENCH_SRC = $(wildcard scripts/bench/*.c)
BENCHES  = $(BENCH_SRC:scripts/bench/%.c=$(B)/bench/%)

all: $(BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(B)/bin/aiops-%: $(B)/obj/cmd/aiops-%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(B)/tests/test-%: $(B)/obj/tests/unit/test-%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(B)/bench/%: $(B)/obj/scripts/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(B)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra $(SANFLAGS) -o $@ $<

check: all $(UNITS) $(HELPERS)
	AIOPS_BIN=$(CURDIR)/$(B)/bin AIOPS_TESTBIN=$(CURDIR)/$(B)/tests \
	AIOPS_SANITIZE="$(SANITIZE)" \
	$(PROVE) -j$(JOBS) --exec '' $(UNITS) :: && \
	AIOPS_BIN=$(CURDIR)/$(B)/bin AIOPS_TESTBIN=$(CURDIR)/$(B)/tests \
	AIOPS_SANITIZE="$(SANITIZE)" \
	$(PROVE) -j$(JOBS) --exec 'sh' tests/t[0-9]*.sh

bench: all $(HELPERS) $(BENCHES)
	AIOPS_BIN=$(CURDIR)/$(B)/bin AIOPS_TESTBIN=$(CURDIR)/$(B)/tests \
	AIOPS_BENCHBIN=$(CURDIR)/$(B)/bench scripts/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	for f in man/*.7; do test -e "$$f" || continue; install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/man/man7/; done

# libFuzzer targets of tests/fuzz/ (clang; their own build in build/fuzz):
# fuzz runs each for AIOPS_FUZZ_SECONDS, fuzz-regress replays the seeds and saved crashes.
fuzz:
	scripts/fuzz.sh

fuzz-regress:
	scripts/fuzz.sh --regress

lint-man:
	mandoc -Tlint -Wwarning man/*.[157]

clean:
	rm -rf build

.PHONY: all check bench install lint-man clean fuzz fuzz-regress
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
