#!/usr/bin/env bats
# install.bats - `make install` puts the binary, libckpt (static and
# shared), ckpt.h, libckpt.pc, man pages and completions under
# DESTDIR/PREFIX, and a program built only from what was installed
# links and runs.

load helpers

setup() {
	[[ -z ${CKPT_SANITIZE:-} ]] || skip "install is checked in the plain build, not the sanitizer one"
	BUILD_REL=$(realpath --relative-to="$CKPT_TOP" "$(dirname "$CKPT")")
	DEST=$BATS_TEST_TMPDIR/root
	run make -s -C "$CKPT_TOP" BUILD="$BUILD_REL" install DESTDIR="$DEST" PREFIX=/usr/local
	assert_success
}

@test "install: every installed part is in place" {
	for f in bin/ckpt lib/libckpt.a lib/libckpt.so include/ckpt.h \
	    lib/pkgconfig/libckpt.pc share/man/man1/ckpt.1 \
	    share/man/man5/ckpt-format.5 \
	    share/bash-completion/completions/ckpt \
	    share/zsh/site-functions/_ckpt \
	    share/fish/vendor_completions.d/ckpt.fish; do
		assert_file_exists "$DEST/usr/local/$f"
	done
	for m in "$CKPT_TOP"/man/*.1; do
		assert_file_exists "$DEST/usr/local/share/man/man1/$(basename "$m")"
	done
	run -0 "$DEST/usr/local/bin/ckpt" --version
	assert_output --partial "0.1.0"
}

@test "install: a program built from the installed ckpt.h and libckpt.pc links against libckpt.so and runs" {
	cat > "$BATS_TEST_TMPDIR/v.c" <<'C'
#include <ckpt.h>
#include <stdio.h>
#include <string.h>
int
main(void)
{
	struct ckpt_error err;
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *c = NULL;
	int rc;

	memset(&err, 0, sizeof(err));
	printf("%s\n", ckpt_version());
	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK)
		return 2;
	rc = ckpt_open(ctx, "/nonexistent/ckpt-install-test", &c, &err);
	printf("%d %s\n", err.kind == CKPT_E_NOTFOUND, err.msg);
	ckpt_ctx_free(ctx);
	return rc < 0 && c == NULL ? 0 : 1;
}
C
	pc=$DEST/usr/local/lib/pkgconfig
	cflags=$(PKG_CONFIG_PATH=$pc pkg-config --define-variable=prefix="$DEST/usr/local" --cflags libckpt)
	libs=$(PKG_CONFIG_PATH=$pc pkg-config --define-variable=prefix="$DEST/usr/local" --libs libckpt)
	# shellcheck disable=SC2086
	run -0 cc -std=c11 -Wall -Werror $cflags -o "$BATS_TEST_TMPDIR/v" "$BATS_TEST_TMPDIR/v.c" $libs
	LD_LIBRARY_PATH=$DEST/usr/local/lib run -0 "$BATS_TEST_TMPDIR/v"
	assert_line --index 0 "0.1.0"
	assert_line --index 1 --regexp "^1 .*nonexistent"
}

@test "install: make uninstall removes everything install put there" {
	run -0 make -s -C "$CKPT_TOP" BUILD="$BUILD_REL" uninstall DESTDIR="$DEST" PREFIX=/usr/local
	run find "$DEST" -type f
	assert_output ""
}
