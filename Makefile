# tern: build, test, install.
#
# Programs are found, not listed: every DIR/tern-NAME.c is a main and becomes
# $(O)/bin/tern-NAME, linked with the other .c files of DIR (as an archive)
# and with lib/ (libtern.a). Unit tests are tests/unit/NAME.c, linked the same
# way against every archive. Nothing here needs editing to add a program.

O ?= build
SAN ?=
CC_CMD := $(shell head -n1 conf-cc) $(SAN)
LD_CMD := $(shell head -n1 conf-ld) $(SAN)
# The compiled home; `make O=DIR HOMEDIR=/path` builds for another one
# without touching conf-home (set-id programs use no other: docs/security.md).
HOMEDIR := $(shell head -n1 conf-home)
# make fuzz builds everything again with clang and libFuzzer's instrumentation
ifdef FUZZ
CCBASE := $(shell head -n1 conf-cc)
CC_CMD := clang $(wordlist 2,$(words $(CCBASE)),$(CCBASE)) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
LD_CMD := clang -fsanitize=fuzzer,address,undefined
endif
# skalibs, s6, BearSSL, c-ares and libsodium are linked statically: every
# exec on the per-message path (tern-smtpd, tern-queue, tern-remote,
# tern-dkimsign) then maps one library fewer; bench/RESULTS.md has the
# measurement. libc stays shared. An archive only adds the objects a program
# uses: libsodium (Ed25519 for DKIM) ends up in the dkim/ programs only.
# libpq (PostgreSQL: docs/fleet.md) is not linked: lib/pgdb.c loads it
# (dlopen) when a host with control/pgsql first queries the database, so
# that no exec maps its twenty libraries otherwise (about 20 ms of CPU per
# tern-smtpd exec). Only its header is needed at build time.
LIBS := -Wl,-Bstatic -ls6 -lskarnet -lbearssl -lcares -lsodium -Wl,-Bdynamic -lcrypt
PGINC := -I/usr/include/postgresql

DIRS := rules smtpd queue send remote auth tls pop3 dkim setup stats tlsrpt
MAINS := $(sort $(wildcard $(addsuffix /tern-*.c,$(DIRS))))
PROGS := $(patsubst %.c,$(O)/bin/%,$(notdir $(MAINS)))
LIBSRC := $(sort $(wildcard lib/*.c))
UNITSRC := $(sort $(wildcard tests/unit/*.c))
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%.t,$(UNITSRC))
FUZZSRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZSRC))
SCRIPTS := $(sort $(wildcard $(addsuffix /tern-*.sh,$(DIRS))))
SCRIPTPROGS := $(patsubst %.sh,$(O)/bin/%,$(notdir $(SCRIPTS)))

# The tests' LD_PRELOAD library (tests/faultinject/faultinject.c): built
# without sanitizers, never installed.
FAULTLIB := $(O)/tests/faultinject.so

# sanitizer builds link their default options into every program
SANOBJ := $(if $(SAN),$(O)/tests/asan_options.o)

dirhelpers = $(filter-out $(1)/tern-%.c,$(wildcard $(1)/*.c))
DIRARS := $(foreach d,$(DIRS),$(O)/$(d)/libdir.a)

.PHONY: all deps test test-asan unit install run clean check-warnings bench fuzz fuzzers fuzz-smoke mutate
.DEFAULT_GOAL := all
.SECONDARY:

all: deps $(PROGS) $(SCRIPTPROGS) $(UNITS) $(FAULTLIB)

deps:
	@./deps

$(O)/include/tern_conf.h: conf-home
	@mkdir -p $(dir $@)
	printf '#define TERN_HOME_DEFAULT "%s"\n' '$(HOMEDIR)' > $@.tmp && mv $@.tmp $@

$(O)/%.o: %.c $(O)/include/tern_conf.h | deps
	@mkdir -p $(dir $@)
	$(CC_CMD) -Ilib -I$(O)/include $(PGINC) -MMD -MP -c -o $@ $<

# The folder is a prerequisite too: a source moved away or removed changes
# its mtime, and the archive must not keep the old member.
$(O)/lib/libtern.a: $(patsubst %.c,$(O)/%.o,$(LIBSRC)) lib
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

define dir_rule
$(O)/$(1)/libdir.a: $(patsubst %.c,$(O)/%.o,$(call dirhelpers,$(1))) $(1)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef
$(foreach d,$(DIRS),$(eval $(call dir_rule,$(d))))

define prog_rule
$(O)/bin/$(basename $(notdir $(1))): $(O)/$(1:.c=.o) $(O)/$(patsubst %/,%,$(dir $(1)))/libdir.a $(O)/lib/libtern.a $(SANOBJ)
	@mkdir -p $$(dir $$@)
	$(LD_CMD) -o $$@ $$^ $(LIBS)
endef
$(foreach m,$(MAINS),$(eval $(call prog_rule,$(m))))

define script_rule
$(O)/bin/$(basename $(notdir $(1))): $(1)
	@mkdir -p $$(dir $$@)
	cp $$< $$@ && chmod 755 $$@
endef
$(foreach s,$(SCRIPTS),$(eval $(call script_rule,$(s))))

$(FAULTLIB): tests/faultinject/faultinject.c | deps
	@mkdir -p $(dir $@)
	$(shell head -n1 conf-cc) -fPIC -shared -o $@ $< -ldl

$(O)/tests/unit/%.t: $(O)/tests/unit/%.o $(DIRARS) $(O)/lib/libtern.a
	$(LD_CMD) -o $@ $< -Wl,--start-group $(DIRARS) $(O)/lib/libtern.a -Wl,--end-group $(LIBS)

$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(DIRARS) $(O)/lib/libtern.a
	@mkdir -p $(dir $@)
	$(LD_CMD) -o $@ $< -Wl,--start-group $(DIRARS) $(O)/lib/libtern.a -Wl,--end-group $(LIBS)

# libFuzzer targets (tests/fuzz/), built into build-fuzz/fuzz/
fuzz: deps
	$(MAKE) O=build-fuzz FUZZ=1 fuzzers

fuzzers: $(FUZZERS)

# each fuzzer for a short while over its committed corpus
fuzz-smoke: fuzz
	tests/fuzz/smoke $(abspath build-fuzz/fuzz)

# TERN_SAN: tests that build the set-id programs again for a home of their
# own (tests/lib/tern.py, setid_build) build them with the same sanitizers.
test: all fuzz
	TERN_BIN=$(abspath $(O)/bin) TERN_UNIT=$(abspath $(O)/tests/unit) TERN_FUZZ=$(abspath build-fuzz/fuzz) TERN_SAN='$(SAN)' tests/run

# The same suite, built into build-asan/ with AddressSanitizer and UBSan.
test-asan:
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) O=build-asan SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer' test

# The mutation score (tests/mutants.txt, one at a time in a scratch copy;
# results in tests/MUTATION.md). Slow: not part of make test.
mutate:
	tests/mutate --results tests/MUTATION.md

# Fails when the build prints a warning (CI runs it).
check-warnings:
	@$(MAKE) -s O=build-warn all 2>&1 | tee build-warn.log | grep -E 'warning:' && exit 1 || rm -f build-warn.log

# As root: programs under conf-home, the users of conf-users, owners and
# modes, and the instance (tern-setup -r). DESTDIR=... stages the programs only.
install: all
	setup/make-install $(abspath $(O)/bin) $(HOMEDIR) $(DESTDIR)

run: all
	@if [ -x $(O)/bin/tern-setup ]; then setup/make-run $(abspath $(O)/bin); \
	else echo "make run: not yet: tern-setup does not exist yet (issue 8)"; exit 1; fi

# tern beside Postfix (as root; installs postfix): bench/RESULTS.md
bench: all
	bench/run

clean:
	rm -rf build build-asan build-warn build-fuzz

-include $(shell find $(O) -name '*.d' 2>/dev/null)
