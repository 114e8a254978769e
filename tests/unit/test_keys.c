/* \summary: unit tests for CURVE key files, fingerprints and keygen */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "keys.h"

/* Test keys, never used anywhere else. */
#define PUB_A "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G"
#define SEC_A "lfZ+yUkPd=u#my6l^%sBLlXMyS]zlmz3rknOaqNx"
#define PUB_B "jO#6IM/BTL?qK8QX84JN>r/&&g0^i-osj?izNgJT"

struct diag_cap {
	char last[1024];
};

static void cap_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                     const char *msg)
{
	struct diag_cap *c = ctx;
	(void)level;
	snprintf(c->last, sizeof c->last, "%s:%lu: %s", file, line, msg);
}

struct dir {
	char path[256];
};

static void dir_make(struct dir *d)
{
	snprintf(d->path, sizeof d->path, "/tmp/hl-keys-XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

static void dir_file(const struct dir *d, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", d->path, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void dir_remove(struct dir *d)
{
	const char *names[] = {"alpha.key", "alpha.pub", "bravo.key", "bravo.pub", "x.pub",
	                       "k.key",     "k.pub",     "m.key",     "m.pub"};
	char p[512];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		dir_file(d, names[i], p, sizeof p);
		unlink(p);
	}
	assert_int_equal(rmdir(d->path), 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void peer_names(void **state)
{
	(void)state;
	assert_true(hl_peer_name_valid("alpha"));
	assert_true(hl_peer_name_valid("cert-bravo_2.example"));
	assert_true(hl_peer_name_valid(
	        "a234567890123456789012345678901234567890123456789012345678901234"));
	assert_false(hl_peer_name_valid(
	        "a2345678901234567890123456789012345678901234567890123456789012345"));
	assert_false(hl_peer_name_valid(""));
	assert_false(hl_peer_name_valid(NULL));
	assert_false(hl_peer_name_valid(".hidden"));
	assert_false(hl_peer_name_valid("-opt"));
	assert_false(hl_peer_name_valid("../etc"));
	assert_false(hl_peer_name_valid("a b"));
	assert_false(hl_peer_name_valid("caf\xc3\xa9"));
}

static void decode_and_fingerprint(void **state)
{
	(void)state;
	uint8_t bin[HL_KEY_BIN_LEN];
	char fpr[HL_KEY_FPR_LEN + 1];
	assert_int_equal(hl_key_decode(PUB_A, bin), 0);
	hl_key_fingerprint(bin, fpr);
	/* sha256 of the 32 decoded bytes, computed independently */
	assert_string_equal(fpr, "b6739087e99c2c9c");
	assert_int_equal(hl_key_fingerprint_z85(PUB_B, fpr), 0);
	assert_string_equal(fpr, "8daa50ddf9577dfa");

	assert_int_equal(hl_key_decode(PUB_A "x", NULL), HL_EPARSE); /* 41 chars */
	assert_int_equal(hl_key_decode("-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4", NULL),
	                 HL_EPARSE); /* 39 chars */
	assert_int_equal(hl_key_decode("~/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G", NULL),
	                 HL_EPARSE); /* not Z85 */
	assert_int_equal(hl_key_decode("%%%%%0000000000000000000000000000000000", NULL),
	                 HL_EPARSE); /* 39 */
	assert_int_equal(hl_key_decode("%%%%%00000000000000000000000000000000000", NULL),
	                 HL_EPARSE); /* > 2^32 */
	assert_int_equal(hl_key_decode(NULL, NULL), HL_EPARSE);
	assert_int_equal(hl_key_fingerprint_z85("short", fpr), HL_EPARSE);
	assert_string_equal(fpr, "invalid");
}

static void round_trip(void **state)
{
	(void)state;
	struct dir d;
	dir_make(&d);
	struct hl_keypair kp, back;
	assert_int_equal(hl_keypair_generate(&kp), 0);
	assert_int_equal(strlen(kp.public_z85), HL_KEY_Z85_LEN);
	assert_int_equal(hl_key_decode(kp.secret_z85, NULL), 0);

	/* a permissive umask must not widen the secret's mode */
	mode_t old = umask(0);
	int rc = hl_keypair_write(d.path, "alpha", &kp, NULL);
	umask(old);
	assert_int_equal(rc, 0);
	char sec[512], pub[512];
	dir_file(&d, "alpha.key", sec, sizeof sec);
	dir_file(&d, "alpha.pub", pub, sizeof pub);
	assert_int_equal(file_mode(sec), 0600);
	assert_int_equal(file_mode(pub), 0644);

	struct stat st;
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_size, HL_KEY_Z85_LEN + 1); /* key and newline */

	assert_int_equal(hl_keypair_read(sec, &back, NULL), 0);
	assert_string_equal(back.secret_z85, kp.secret_z85);
	assert_string_equal(back.public_z85, kp.public_z85);
	char p[HL_KEY_Z85_LEN + 1];
	assert_int_equal(hl_key_read_public(pub, p, NULL), 0);
	assert_string_equal(p, kp.public_z85);

	/* a known secret gives its known public key */
	char known[512];
	dir_file(&d, "k.key", known, sizeof known);
	write_text(known, SEC_A "\n", 0600);
	assert_int_equal(hl_keypair_read(known, &back, NULL), 0);
	assert_string_equal(back.public_z85, PUB_A);
	/* CRLF and a missing newline are tolerated */
	unlink(known);
	write_text(known, SEC_A "\r\n", 0400);
	assert_int_equal(hl_keypair_read(known, &back, NULL), 0);
	unlink(known);
	write_text(known, SEC_A, 0600);
	assert_int_equal(hl_keypair_read(known, &back, NULL), 0);
	dir_remove(&d);
}

static void refuses_to_overwrite(void **state)
{
	(void)state;
	struct dir d;
	dir_make(&d);
	struct diag_cap cap = {0};
	struct hl_diag diag = {.emit = cap_emit, .ctx = &cap};
	struct hl_keypair kp, other, back;
	assert_int_equal(hl_keypair_generate(&kp), 0);
	assert_int_equal(hl_keypair_generate(&other), 0);
	assert_int_equal(hl_keypair_write(d.path, "alpha", &kp, &diag), 0);
	assert_int_equal(hl_keypair_write(d.path, "alpha", &other, &diag), HL_EEXISTS);
	assert_int_equal(diag.errors, 1);
	assert_non_null(strstr(cap.last, "alpha.key"));
	assert_non_null(strstr(cap.last, "refusing to overwrite"));
	char sec[512];
	dir_file(&d, "alpha.key", sec, sizeof sec);
	assert_int_equal(hl_keypair_read(sec, &back, NULL), 0);
	assert_string_equal(back.secret_z85, kp.secret_z85); /* untouched */

	/* only the .pub exists: refused, and no lonely .key is left behind */
	char pub[512], key[512];
	dir_file(&d, "bravo.pub", pub, sizeof pub);
	dir_file(&d, "bravo.key", key, sizeof key);
	write_text(pub, PUB_B "\n", 0644);
	assert_int_equal(hl_keypair_write(d.path, "bravo", &kp, &diag), HL_EEXISTS);
	assert_int_equal(access(key, F_OK), -1);
	char p[HL_KEY_Z85_LEN + 1];
	assert_int_equal(hl_key_read_public(pub, p, NULL), 0);
	assert_string_equal(p, PUB_B);

	/* names that are not file names are refused before any file exists */
	assert_int_equal(hl_keypair_write(d.path, "../alpha", &kp, &diag), HL_EINVAL);
	assert_int_equal(hl_keypair_write(d.path, "", &kp, &diag), HL_EINVAL);
	dir_remove(&d);
}

static void refuses_readable_secret(void **state)
{
	(void)state;
	struct dir d;
	dir_make(&d);
	struct diag_cap cap = {0};
	struct hl_diag diag = {.emit = cap_emit, .ctx = &cap};
	struct hl_keypair kp, back;
	assert_int_equal(hl_keypair_generate(&kp), 0);
	assert_int_equal(hl_keypair_write(d.path, "alpha", &kp, NULL), 0);
	char sec[512];
	dir_file(&d, "alpha.key", sec, sizeof sec);

	assert_int_equal(chmod(sec, 0644), 0);
	assert_int_equal(hl_keypair_read(sec, &back, &diag), HL_EPERM);
	assert_int_equal(diag.errors, 1);
	assert_non_null(strstr(cap.last, "alpha.key"));
	assert_non_null(strstr(cap.last, "mode 0644"));
	assert_non_null(strstr(cap.last, "chmod 600"));
	assert_int_equal(back.secret_z85[0], '\0'); /* nothing half-read */

	assert_int_equal(chmod(sec, 0640), 0); /* group-readable is readable */
	assert_int_equal(hl_keypair_read(sec, &back, &diag), HL_EPERM);
	assert_int_equal(chmod(sec, 0602), 0); /* so is world-writable */
	assert_int_equal(hl_keypair_read(sec, &back, &diag), HL_EPERM);
	assert_int_equal(chmod(sec, 0600), 0);
	assert_int_equal(hl_keypair_read(sec, &back, &diag), 0);
	assert_int_equal(diag.errors, 3);

	/* a missing file says so */
	char none[512];
	dir_file(&d, "m.key", none, sizeof none);
	assert_int_equal(hl_keypair_read(none, &back, &diag), HL_EIO);
	assert_non_null(strstr(cap.last, "cannot open"));
	dir_remove(&d);
}

static void malformed_public(void **state)
{
	(void)state;
	struct dir d;
	dir_make(&d);
	struct diag_cap cap = {0};
	struct hl_diag diag = {.emit = cap_emit, .ctx = &cap};
	char path[512], out[HL_KEY_Z85_LEN + 1];
	dir_file(&d, "x.pub", path, sizeof path);
	static const char *const bad[] = {
	        "",
	        "\n",
	        "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4\n",             /* 39 */
	        "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4GG\n",           /* 41 */
	        "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4 \n",            /* space */
	        "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G\n\n",          /* two lines */
	        " -/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G\n",           /* leading space */
	        "%%%%%00000000000000000000000000000000000\n",            /* overflow */
	        "-/%v>^kFQr(eNgJp2hA9iU?A%i1Pa!9*{rTcPA4G\n" PUB_B "\n", /* two keys */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unlink(path);
		write_text(path, bad[i], 0644);
		memset(out, 'z', sizeof out);
		assert_int_equal(hl_key_read_public(path, out, &diag), HL_EPARSE);
		assert_int_equal(diag.errors, i + 1);
		assert_non_null(strstr(cap.last, "x.pub:1:"));
	}
	/* longer than any key file: bounded read, still a clear error */
	unlink(path);
	char big[4096];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_text(path, big, 0644);
	assert_int_equal(hl_key_read_public(path, out, &diag), HL_EPARSE);
	assert_non_null(strstr(cap.last, "or more"));

	/* a .pub that is not the .key's public key is refused on reading */
	struct hl_keypair kp, back;
	char key[512], pub[512];
	dir_file(&d, "m.key", key, sizeof key);
	dir_file(&d, "m.pub", pub, sizeof pub);
	write_text(key, SEC_A "\n", 0600);
	write_text(pub, PUB_B "\n", 0644);
	assert_int_equal(hl_keypair_read(key, &kp, &diag), HL_EINVAL);
	assert_non_null(strstr(cap.last, "is not the public key of"));
	unlink(pub);
	write_text(pub, "garbage\n", 0644);
	assert_int_equal(hl_keypair_read(key, &back, &diag), HL_EPARSE);
	/* a secret key file that is malformed */
	unlink(key);
	unlink(pub);
	write_text(key, "not a key\n", 0600);
	assert_int_equal(hl_keypair_read(key, &back, &diag), HL_EPARSE);
	dir_remove(&d);
}

static void keygen_command(void **state)
{
	(void)state;
	struct dir d;
	dir_make(&d);
	char *ok[] = {"keygen", "-d", d.path, "bravo"};
	assert_int_equal(hl_keygen_main(4, ok), 0);
	char key[512], pub[512];
	dir_file(&d, "bravo.key", key, sizeof key);
	dir_file(&d, "bravo.pub", pub, sizeof pub);
	assert_int_equal(file_mode(key), 0600);
	struct hl_keypair kp;
	assert_int_equal(hl_keypair_read(key, &kp, NULL), 0);

	assert_int_equal(hl_keygen_main(4, ok), 1); /* exists */
	struct hl_keypair again;
	assert_int_equal(hl_keypair_read(key, &again, NULL), 0);
	assert_string_equal(again.secret_z85, kp.secret_z85);

	char dir_opt[300];
	snprintf(dir_opt, sizeof dir_opt, "--dir=%s", d.path);
	char *eq[] = {"keygen", dir_opt, "alpha"};
	assert_int_equal(hl_keygen_main(3, eq), 0);

	char *bad_name[] = {"keygen", "-d", d.path, "../x"};
	assert_int_equal(hl_keygen_main(4, bad_name), 2);
	char *none[] = {"keygen"};
	assert_int_equal(hl_keygen_main(1, none), 2);
	char *two[] = {"keygen", "a", "b"};
	assert_int_equal(hl_keygen_main(3, two), 2);
	char *dangling[] = {"keygen", "-d"};
	assert_int_equal(hl_keygen_main(2, dangling), 2);
	char *unknown[] = {"keygen", "--force", "a"};
	assert_int_equal(hl_keygen_main(3, unknown), 2);
	char *nodir[] = {"keygen", "-d", "/nonexistent/dir", "alpha"};
	assert_int_equal(hl_keygen_main(4, nodir), 1);
	dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(peer_names),
	        cmocka_unit_test(decode_and_fingerprint),
	        cmocka_unit_test(round_trip),
	        cmocka_unit_test(refuses_to_overwrite),
	        cmocka_unit_test(refuses_readable_secret),
	        cmocka_unit_test(malformed_public),
	        cmocka_unit_test(keygen_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
