# fuzz.mk - libFuzzer builds of every tests/fuzz/fuzz_<target>.c.
#
#   make fuzz                          build every target into build-fuzz/
#   make -f tests/fuzz/fuzz.mk run T=fuzz_javaser SECS=60
#                                      run one target from its corpus
#   make -f tests/fuzz/fuzz.mk regress replay every corpus through the
#                                      libFuzzer builds (no fuzzing)
#
# The library is compiled once with -fsanitize=fuzzer-no-link plus ASan
# and UBSan into build-fuzz/lib/; each target links it with libFuzzer.
# New targets need no edit here: tests/fuzz/fuzz_*.c is a wildcard.
# Corpora live in tests/fuzz/corpus/<target>/ (see its README); new
# findings go to build-fuzz/corpus/<target>/, crashes to
# build-fuzz/crash-<target>-*.  Without libFuzzer, the normal build's
# $(BUILD)/fuzz/<target> (regression_driver.c) replays the corpora in
# `make check` (tests/cli/fuzz.bats).

FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
PKG_CONFIG ?= pkg-config
PKGS       := libarchive libcurl libcjson libzstd liblz4 libxxhash zlib
SECS       ?= 60
T          ?= fuzz_javaser

FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 \
	-fno-omit-frame-pointer $(FUZZ_SAN) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_LIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm -lpthread

FUZZ_LIB_SRC := $(sort $(wildcard lib/*.c lib/*/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

.PHONY: all run regress clean

all: $(FUZZ_BIN)

$(FUZZ_BUILD)/%.o: %.c lib/ckpt.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libckpt-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libckpt-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilib -o $@ $< \
		$(FUZZ_BUILD)/libckpt-fuzz.a $(FUZZ_LIBS)

# Fuzz one target: its checked-in corpus seeds a scratch corpus.
run: $(FUZZ_BUILD)/$(T)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(T)
	$(FUZZ_BUILD)/$(T) -max_total_time=$(SECS) -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/crash-$(T)- \
		$(FUZZ_BUILD)/corpus/$(T) tests/fuzz/corpus/$(T)

regress: $(FUZZ_BIN)
	@for b in $(FUZZ_BIN); do \
		t=$$(basename $$b); \
		[ -d tests/fuzz/corpus/$$t ] || continue; \
		$$b -runs=0 tests/fuzz/corpus/$$t >/dev/null 2>&1 || \
			{ echo "$$t: corpus replay failed"; exit 1; }; \
		echo "$$t: ok"; \
	done

clean:
	rm -rf $(FUZZ_BUILD)
