# ckpt - build, test, install.
#
#   make            build ckpt, libckpt.a, libckpt.so
#   make demo       install missing deps, build, run the demo
#   make check      install missing deps, build, run unit + bats tests
#   make sanitize   the same suite with ASan+UBSan
#   make bench      benchmarks, as ratios against reference tools
#   make fuzz       build libFuzzer targets (clang)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: adding lib/<module>/<file>.c or
# cmd/<verb>.c needs no edit here.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libarchive libcurl libcjson libzstd liblz4 libxxhash zlib
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
RL_LIBS    := $(shell $(PKG_CONFIG) --libs readline 2>/dev/null || echo -lreadline)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
OPT     ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(PKG_CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -lpthread $(EXTRA_LDFLAGS) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c lib/*/*.c))
CMD_SRC := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELPERS := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
TOOLS   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REGRESS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all deps demo check check-unit check-cli sanitize bench fuzz \
	install uninstall clean golden stress lint

all: $(BUILD)/ckpt $(BUILD)/libckpt.a $(BUILD)/libckpt.so $(TOOLS) \
	$(FUZZ_REGRESS)

$(BUILD)/%.o: %.c lib/ckpt.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)

$(BUILD)/libckpt.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libckpt.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/ckpt: $(CMD_OBJ) $(BUILD)/libckpt.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libckpt.a $(LDLIBS_ALL) $(RL_LIBS)

# Test-only programs (fixture makers, reference loops for benchmarks).
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libckpt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< $(BUILD)/libckpt.a $(LDLIBS_ALL)

# Fuzz targets linked with the corpus replayer instead of libFuzzer, so
# `make check` replays tests/fuzz/corpus/ (tests/cli/fuzz.bats).
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/regression_driver.c $(BUILD)/libckpt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< tests/fuzz/regression_driver.c $(BUILD)/libckpt.a $(LDLIBS_ALL)

# Unit tests: one binary, tests found by grepping DEFINE_TEST.
$(BUILD)/unit/list.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	grep -h '^DEFINE_TEST(' $(UNIT_SRC) | sed 's/^DEFINE_TEST(\(.*\)).*/TEST(\1)/' > $@.tmp
	mv $@.tmp $@

$(BUILD)/unit/runner: $(UNIT_SRC) $(UNIT_HELPERS) $(BUILD)/unit/list.h $(BUILD)/libckpt.a
	$(CC) $(CFLAGS_ALL) -Ilib -I$(BUILD)/unit -Itests/unit -o $@ $(UNIT_SRC) $(UNIT_HELPERS) $(BUILD)/libckpt.a $(LDLIBS_ALL)

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(BUILD)/unit/runner
	@sh tests/run-all.sh $(BUILD)

check-unit: all $(BUILD)/unit/runner
	$(BUILD)/unit/runner

check-cli: all
	CKPT=$(CURDIR)/$(BUILD)/ckpt bats tests/cli

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh $(BUILD)/ckpt

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-san CC=clang \
		OPT="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		all build-san/unit/runner
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		CKPT_SANITIZE=1 sh tests/run-all.sh build-san

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh $(BUILD)

stress: deps
	@$(MAKE) --no-print-directory all
	@sh tests/stress.sh $(BUILD)

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk

golden: all
	CKPT_GOLDEN_UPDATE=1 CKPT=$(CURDIR)/$(BUILD)/ckpt bats tests/cli

lint:
	@for m in man/*.[15]; do mandoc -Tlint -W warning $$m || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BUILD)/ckpt $(DESTDIR)$(PREFIX)/bin/ckpt
	install -m 644 $(BUILD)/libckpt.a $(DESTDIR)$(PREFIX)/lib/libckpt.a
	install -m 755 $(BUILD)/libckpt.so $(DESTDIR)$(PREFIX)/lib/libckpt.so
	install -m 644 lib/ckpt.h $(DESTDIR)$(PREFIX)/include/ckpt.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' \
		-e 's|@PKGS@|$(PKGS)|g' libckpt.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libckpt.pc
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 completions/ckpt.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ckpt
	install -m 644 completions/_ckpt $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ckpt
	install -m 644 completions/ckpt.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ckpt.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ckpt $(DESTDIR)$(PREFIX)/lib/libckpt.a \
		$(DESTDIR)$(PREFIX)/lib/libckpt.so $(DESTDIR)$(PREFIX)/include/ckpt.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/libckpt.pc \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ckpt \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ckpt \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ckpt.fish
	for m in man/*.1; do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$${m#man/}; done
	for m in man/*.5; do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$${m#man/}; done

clean:
	rm -rf build build-san build-fuzz
