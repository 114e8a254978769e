/* \summary: integration tests of hotline-rules: the built binary, run as a process
 *
 * Each test writes its inputs into a fresh temporary directory, runs the
 * real program with posix_spawn (stdout and stderr captured to files), waits
 * for it with a deadline (pidfd + poll, no sleeps) and asserts exit codes and
 * exact output lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#ifndef HOTLINE_RULES_BIN
#error "HOTLINE_RULES_BIN must name the hotline-rules binary"
#endif

extern char **environ;

#define RUN_DEADLINE_MS 30000
#define MAX_ARGS 32

struct ctx {
	char dir[256];
};

struct result {
	int status; /* exit code, or 128 + signal */
	char *out;
	char *err;
};

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strdup("");
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void path_in(const struct ctx *c, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", c->dir, name);
	assert_true(n > 0 && (size_t)n < outlen);
}

static void write_file(const struct ctx *c, const char *name, const char *data, size_t len)
{
	char p[512];
	path_in(c, name, p, sizeof p);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const struct ctx *c, const char *name, const char *text)
{
	write_file(c, name, text, strlen(text));
}

/* Wait for pid, at most RUN_DEADLINE_MS; a program that hangs is killed
 * and the test fails. */
static int wait_deadline(pid_t pid)
{
	int pfd = pidfd_open(pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, RUN_DEADLINE_MS);
		while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("hotline-rules did not finish within %d ms", RUN_DEADLINE_MS);
		}
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run hotline-rules with NULL-terminated arguments; "@name" is replaced by
 * the path of name in the test directory. */
static void run(const struct ctx *c, struct result *r, ...)
{
	char paths[MAX_ARGS][512];
	char *argv[MAX_ARGS + 2];
	size_t n = 0;
	argv[n++] = (char *)HOTLINE_RULES_BIN;
	va_list ap;
	va_start(ap, r);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(n < MAX_ARGS);
		if (a[0] == '@') {
			path_in(c, a + 1, paths[n], sizeof paths[n]);
			argv[n] = paths[n];
			n++;
		} else {
			argv[n++] = (char *)a;
		}
	}
	va_end(ap);
	argv[n] = NULL;

	char out[512], err[512];
	path_in(c, ".stdout", out, sizeof out);
	path_in(c, ".stderr", err, sizeof err);
	posix_spawn_file_actions_t fa;
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	r->status = wait_deadline(pid);
	r->out = read_all(out);
	r->err = read_all(err);
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Assert the status, showing the program's output when it differs. */
#define assert_status(r, expected)                                                       \
	do {                                                                             \
		if ((r)->status != (expected))                                           \
			print_message("stdout:\n%s\nstderr:\n%s\n", (r)->out, (r)->err); \
		assert_int_equal((r)->status, (expected));                               \
	} while (0)

#define assert_contains(hay, needle)                                          \
	do {                                                                  \
		if (strstr((hay), (needle)) == NULL)                          \
			fail_msg("expected \"%s\" in:\n%s", (needle), (hay)); \
	} while (0)

#define assert_lacks(hay, needle)                                                   \
	do {                                                                        \
		if (strstr((hay), (needle)) != NULL)                                \
			fail_msg("did not expect \"%s\" in:\n%s", (needle), (hay)); \
	} while (0)

/* The 64 hex digits after the first occurrence of label in text. */
static void hash_after(const char *text, const char *label, char out[65])
{
	const char *p = strstr(text, label);
	if (p == NULL)
		fail_msg("no \"%s\" in:\n%s", label, text);
	p += strlen(label);
	while (*p == ' ' || *p == ':')
		p++;
	for (int i = 0; i < 64; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			fail_msg("no hash after \"%s\" in:\n%s", label, text);
		out[i] = p[i];
	}
	out[64] = '\0';
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	const char *tmp = getenv("TMPDIR");
	snprintf(c->dir, sizeof c->dir, "%s/hotline-rules-cli-XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(c->dir) == NULL) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	nftw(c->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

/* Inputs shared by several tests. */
static const char set_native[] =
        "{\"type\":\"domain\",\"value\":\"evil.example\",\"tlp\":\"amber\",\"source\":[\"alpha\"]}"
        "\n"
        "{\"type\":\"ip\",\"value\":\"203.0.113.0/24\",\"tlp\":\"green\",\"source\":[\"alpha\"]}\n"
        "{\"type\":\"url\",\"value\":\"malware.example/payload.bin\",\"tlp\":\"amber\","
        "\"source\":[\"alpha\"]}\n"
        "{\"type\":\"url\",\"value\":\"shop.example/cart?item=42\",\"tlp\":\"amber\","
        "\"source\":[\"alpha\"]}\n"
        "{\"type\":\"uri\",\"value\":\"/gate.php\",\"tlp\":\"amber\",\"source\":[\"alpha\"]}\n"
        "{\"type\":\"ip\",\"value\":\"2001:db8:bad::/48\",\"tlp\":\"amber\","
        "\"source\":[\"alpha\"]}\n";

static const char set_list[] = "# a list\n"
                               "tracker.example\n"
                               "198.51.100.23\n"
                               "evil.example\n";

static void cli_help_version_usage(void **state)
{
	struct ctx *c = *state;
	struct result r;

	run(c, &r, "--help", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "usage: hotline-rules");
	assert_contains(r.out, "  check ");
	assert_contains(r.out, "  match ");
	result_free(&r);

	run(c, &r, "--version", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "hotline-rules ");
	result_free(&r);

	const char *cmds[] = {"check", "compile", "stats", "convert", "diff", "match"};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "usage: hotline-rules %s ", cmds[i]);
		run(c, &r, cmds[i], "--help", NULL);
		assert_status(&r, 0);
		assert_contains(r.out, want);
		result_free(&r);
	}

	run(c, &r, NULL);
	assert_status(&r, 2);
	result_free(&r);

	run(c, &r, "frobnicate", "x", NULL);
	assert_status(&r, 2);
	assert_contains(r.err, "unknown subcommand 'frobnicate'");
	result_free(&r);

	write_text(c, "a.txt", set_list);
	run(c, &r, "check", "--bogus", "@a.txt", NULL);
	assert_status(&r, 2);
	assert_contains(r.err, "unknown option '--bogus'");
	result_free(&r);

	run(c, &r, "check", NULL);
	assert_status(&r, 2);
	assert_contains(r.err, "missing operand");
	result_free(&r);

	run(c, &r, "check", "--format", "yaml", "@a.txt", NULL);
	assert_status(&r, 2);
	result_free(&r);

	/* An option of another subcommand is a usage error, not ignored. */
	run(c, &r, "check", "--to", "stix", "@a.txt", NULL);
	assert_status(&r, 2);
	result_free(&r);

	run(c, &r, "diff", "@a.txt", NULL);
	assert_status(&r, 2);
	result_free(&r);

	run(c, &r, "compile", "@a.txt", NULL);
	assert_status(&r, 2);
	assert_contains(r.err, "-o");
	result_free(&r);
}

static void cli_check_good_and_bad(void **state)
{
	struct ctx *c = *state;
	struct result r;
	write_text(c, "a.jsonl", set_native);
	write_text(c, "b.txt", set_list);

	run(c, &r, "check", "@a.jsonl", "@b.txt", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "9 indicators (8 after merge) from 2 files: 0 errors, 0 warnings, "
	                       "0 skipped, 0 expired\n");
	result_free(&r);

	/* Line 3 is broken JSON, line 4 an impossible address: both named by
	 * file and line, and the good lines are still read. */
	write_text(c, "bad.jsonl",
	           "{\"type\":\"domain\",\"value\":\"ok.example\"}\n"
	           "\n"
	           "{\"type\":\"domain\",\"value\":\n"
	           "{\"type\":\"ip\",\"value\":\"300.1.2.3\"}\n"
	           "{\"type\":\"domain\",\"value\":\"ok2.example\"}\n");
	run(c, &r, "check", "@bad.jsonl", NULL);
	assert_status(&r, 1);
	assert_contains(r.err, "/bad.jsonl:3: error: ");
	assert_contains(r.err, "/bad.jsonl:4: error: ");
	assert_lacks(r.err, "/bad.jsonl:5:");
	assert_contains(r.out, "2 indicators (2 after merge) from 1 files: 2 errors, ");
	result_free(&r);

	/* -q: errors only, no summary */
	run(c, &r, "check", "-q", "@bad.jsonl", NULL);
	assert_status(&r, 1);
	assert_string_equal(r.out, "");
	assert_contains(r.err, "/bad.jsonl:3: error: ");
	result_free(&r);

	run(c, &r, "check", "@does-not-exist.jsonl", NULL);
	assert_status(&r, 1);
	assert_contains(r.err, "does-not-exist.jsonl");
	result_free(&r);

	/* A list line that is no indicator at all. */
	write_text(c, "bad.txt", "evil.example\nthis is not a value\n");
	run(c, &r, "check", "--format", "list", "@bad.txt", NULL);
	assert_status(&r, 1);
	assert_contains(r.err, "/bad.txt:2: error: ");
	result_free(&r);
}

static void cli_check_allowlist_and_expiry(void **state)
{
	struct ctx *c = *state;
	struct result r;
	write_text(c, "set.jsonl",
	           "{\"type\":\"ip\",\"value\":\"192.0.2.53\"}\n"
	           "{\"type\":\"domain\",\"value\":\"evil.example\","
	           "\"valid_until\":\"2030-01-01T00:00:00Z\"}\n");
	write_text(c, "allow.txt", "# resolvers\ncidr 192.0.2.0/24\nsuffix resolver.example\n");

	run(c, &r, "check", "--allowlist", "@allow.txt", "--now", "2025-01-01T00:00:00Z",
	    "@set.jsonl", NULL);
	assert_status(&r, 0);
	assert_contains(r.err, "192.0.2.53");
	assert_contains(r.err, "allowlisted whole");
	assert_contains(r.out, "2 indicators (2 after merge) from 1 files: 0 errors, 1 warnings, "
	                       "0 skipped, 0 expired\n");
	result_free(&r);

	run(c, &r, "check", "--now", "2031-01-01T00:00:00Z", "@set.jsonl", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, ": 0 errors, 0 warnings, 0 skipped, 1 expired\n");
	result_free(&r);

	run(c, &r, "check", "--now", "yesterday", "@set.jsonl", NULL);
	assert_status(&r, 2);
	result_free(&r);
}

/* compile -> stats hash equals check's hash of the same inputs in another
 * order, and stats of the indicator files themselves. */
static void cli_compile_stats_hash(void **state)
{
	struct ctx *c = *state;
	struct result r;
	char h_compile[65], h_stats[65], h_check[65], h_files[65];
	write_text(c, "a.jsonl", set_native);
	write_text(c, "b.txt", set_list);

	run(c, &r, "compile", "-o", "@set.hlx", "--set-version", "7", "@a.jsonl", "@b.txt", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "indicators:   8 in, 8 compiled\n");
	assert_contains(r.out, "by type:      ip 3, domain 2, url 2, uri 1, content 0, regex 0\n");
	assert_contains(r.out, "version:      7\n");
	hash_after(r.out, "sha256:", h_compile);
	result_free(&r);

	run(c, &r, "stats", "@set.hlx", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "(compiled)");
	assert_contains(r.out, "indicators:   8\n");
	assert_contains(r.out, "version:      7\n");
	assert_contains(r.out, "by source:    (none) 2, alpha 6\n");
	hash_after(r.out, "sha256:", h_stats);
	result_free(&r);

	run(c, &r, "check", "@b.txt", "@a.jsonl", NULL);
	assert_status(&r, 0);
	hash_after(r.out, "sha256 ", h_check);
	result_free(&r);

	run(c, &r, "stats", "@b.txt", "@a.jsonl", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "(indicator files)");
	hash_after(r.out, "sha256:", h_files);
	result_free(&r);

	assert_string_equal(h_compile, h_stats);
	assert_string_equal(h_stats, h_check);
	assert_string_equal(h_check, h_files);

	run(c, &r, "stats", "--json", "@set.hlx", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "\"sha256\": \"");
	assert_contains(r.out, h_stats);
	assert_contains(r.out, "\"indicators\": 8");
	result_free(&r);

	/* An .hlx is not an indicator file. */
	run(c, &r, "compile", "-o", "@again.hlx", "@set.hlx", NULL);
	assert_status(&r, 1);
	result_free(&r);
}

static void cli_convert_roundtrip(void **state)
{
	struct ctx *c = *state;
	struct result r;
	char h_orig[65], h_back[65];
	write_text(c, "a.jsonl", set_native);

	run(c, &r, "check", "@a.jsonl", NULL);
	assert_status(&r, 0);
	hash_after(r.out, "sha256 ", h_orig);
	result_free(&r);

	run(c, &r, "convert", "--to", "stix", "--now", "2025-01-01T00:00:00Z", "-o", "@a.stix.json",
	    "@a.jsonl", NULL);
	assert_status(&r, 0);
	result_free(&r);

	run(c, &r, "convert", "--to", "native", "-o", "@back.jsonl", "@a.stix.json", NULL);
	assert_status(&r, 0);
	result_free(&r);

	run(c, &r, "check", "@back.jsonl", NULL);
	assert_status(&r, 0);
	hash_after(r.out, "sha256 ", h_back);
	result_free(&r);
	assert_string_equal(h_orig, h_back);

	/* Without -o the output is stdout, in canonical order. */
	run(c, &r, "convert", "--to", "native", "@a.jsonl", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "\"value\":\"203.0.113.0/24\"");
	result_free(&r);

	run(c, &r, "convert", "@a.jsonl", NULL);
	assert_status(&r, 2);
	result_free(&r);
}

static void cli_diff(void **state)
{
	struct ctx *c = *state;
	struct result r;
	write_text(c, "old.jsonl",
	           "{\"id\":\"demo-1\",\"type\":\"domain\",\"value\":\"kept.example\",\"tlp\":"
	           "\"green\"}\n"
	           "{\"id\":\"demo-2\",\"type\":\"domain\",\"value\":\"gone.example\"}\n"
	           "{\"id\":\"demo-3\",\"type\":\"domain\",\"value\":\"same.example\"}\n");
	write_text(c, "new.jsonl",
	           "{\"id\":\"demo-1\",\"type\":\"domain\",\"value\":\"kept.example\",\"tlp\":"
	           "\"red\"}\n"
	           "{\"id\":\"demo-3\",\"type\":\"domain\",\"value\":\"same.example\"}\n"
	           "{\"id\":\"demo-4\",\"type\":\"ip\",\"value\":\"198.51.100.7\"}\n");

	run(c, &r, "diff", "@old.jsonl", "@new.jsonl", NULL);
	assert_status(&r, 1);
	assert_string_equal(r.out, "~ demo-1 tlp: green -> red\n"
	                           "- demo-2 domain gone.example\n"
	                           "+ demo-4 ip 198.51.100.7\n"
	                           "1 added, 1 removed, 1 changed, 1 unchanged\n");
	result_free(&r);

	run(c, &r, "diff", "--json", "@old.jsonl", "@new.jsonl", NULL);
	assert_status(&r, 1);
	assert_contains(r.out, "\"id\": \"demo-4\"");
	assert_contains(r.out, "\"old\": \"green\"");
	result_free(&r);

	run(c, &r, "diff", "-q", "@old.jsonl", "@old.jsonl", NULL);
	assert_status(&r, 0);
	assert_string_equal(r.out, "");
	result_free(&r);

	/* A compiled set against its own source: identical. */
	run(c, &r, "compile", "-q", "-o", "@old.hlx", "@old.jsonl", NULL);
	assert_status(&r, 0);
	result_free(&r);
	run(c, &r, "diff", "@old.hlx", "@old.jsonl", NULL);
	assert_status(&r, 0);
	assert_string_equal(r.out, "0 added, 0 removed, 0 changed, 3 unchanged\n");
	result_free(&r);

	run(c, &r, "diff", "@old.jsonl", "@missing.jsonl", NULL);
	assert_status(&r, 2);
	result_free(&r);
}

static void expect_match(const struct ctx *c, const char *set, const char *field, const char *value,
                         int status, const char *want)
{
	struct result r;
	run(c, &r, "match", set, "--field", field, "--value", value, NULL);
	if (r.status != status)
		fail_msg("match %s %s: status %d, want %d\nstdout:\n%s\nstderr:\n%s", field, value,
		         r.status, status, r.out, r.err);
	if (want != NULL)
		assert_contains(r.out, want);
	else
		assert_string_equal(r.out, "");
	result_free(&r);
}

static void cli_match(void **state)
{
	struct ctx *c = *state;
	write_text(c, "a.jsonl", set_native);
	struct result r;
	run(c, &r, "compile", "-q", "-o", "@a.hlx", "@a.jsonl", NULL);
	assert_status(&r, 0);
	result_free(&r);

	const char *sets[] = {"@a.hlx", "@a.jsonl"};
	for (size_t i = 0; i < 2; i++) {
		const char *s = sets[i];
		/* subdomains match, substrings and parents do not */
		expect_match(c, s, "dns.query", "www.evil.example", 0, "\tdomain\tevil.example\t");
		expect_match(c, s, "dns.query", "WWW.Evil.Example.", 0, "\tevil.example\t");
		expect_match(c, s, "tls.sni", "evil.example", 0, "\tevil.example\tamber\talpha\n");
		expect_match(c, s, "dns.query", "notevil.example", 1, NULL);
		expect_match(c, s, "dns.query", "evil.example.com", 1, NULL);
		expect_match(c, s, "dns.query", "example", 1, NULL);
		/* addresses by prefix */
		expect_match(c, s, "dst_ip", "203.0.113.77", 0, "\tip\t203.0.113.0/24\tgreen\t");
		expect_match(c, s, "src_ip", "2001:db8:bad::1", 0, "2001:db8:bad::/48");
		expect_match(c, s, "dst_ip", "203.0.114.1", 1, NULL);
		/* url: a rule without '?' ignores the query; one with it is exact */
		expect_match(c, s, "http.url", "malware.example/payload.bin?x=1", 0,
		             "malware.example/payload.bin");
		expect_match(c, s, "http.url", "http://MALWARE.example/payload.bin", 0,
		             "malware.example/payload.bin");
		expect_match(c, s, "http.url", "shop.example/cart?item=42", 0, "cart?item=42");
		expect_match(c, s, "http.url", "shop.example/cart?item=43", 1, NULL);
		expect_match(c, s, "http.url", "shop.example/cart", 1, NULL);
		expect_match(c, s, "http.uri", "/gate.php", 0, "/gate.php");
		expect_match(c, s, "http.uri", "/gate.php5", 1, NULL);
	}

	run(c, &r, "match", "@a.hlx", "--field", "dns.query", "--value", "www.evil.example",
	    "--json", NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "\"value\": \"evil.example\"");
	result_free(&r);

	run(c, &r, "match", "@a.hlx", "--field", "dst_ip", "--value", "not-an-ip", NULL);
	assert_status(&r, 2);
	result_free(&r);

	run(c, &r, "match", "@a.hlx", "--field", "smtp.from", "--value", "x", NULL);
	assert_status(&r, 2);
	result_free(&r);
}

/* The bundled demo set (configs/) stays valid, and shows what the demo
 * promises: a merge, skipped MISP attributes, one expired indicator, one
 * allowlisted whole, and the demo's four lookups. */
static void cli_bundled_demo_set(void **state)
{
	struct ctx *c = *state;
	struct result r;
	const char *dir = HOTLINE_SOURCE_DIR "/configs/indicators/";
	char alpha[512], community[512], stix[512], misp[512];
	snprintf(alpha, sizeof alpha, "%salpha.jsonl", dir);
	snprintf(community, sizeof community, "%scommunity.txt", dir);
	snprintf(stix, sizeof stix, "%sbravo-stix.json", dir);
	snprintf(misp, sizeof misp, "%sbravo-misp-event.json", dir);
	const char *allow = HOTLINE_SOURCE_DIR "/configs/allowlist.txt";

	run(c, &r, "check", "--now", "2025-06-01T00:00:00Z", "--allowlist", allow, alpha, community,
	    stix, misp, NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "42 indicators (36 after merge) from 4 files: 0 errors, 1 warnings, "
	                       "2 skipped, 1 expired\n");
	assert_contains(r.err, "alpha.jsonl: warning: ");
	assert_contains(r.err, "192.0.2.53");
	result_free(&r);

	run(c, &r, "compile", "--now", "2025-06-01T00:00:00Z", "--allowlist", allow, "-o",
	    "@demo.hlx", alpha, community, stix, misp, NULL);
	assert_status(&r, 0);
	assert_contains(r.out, "indicators:   36 in, 35 compiled\n");
	assert_contains(r.out, "expired:      1\n");
	assert_contains(r.out, "allowlisted:  1\n");
	result_free(&r);

	expect_match(c, "@demo.hlx", "dns.query", "www.evil.example", 0,
	             "\tdomain\tevil.example\tred\talpha,bravo\n");
	expect_match(c, "@demo.hlx", "dns.query", "notevil.example", 1, NULL);
	expect_match(c, "@demo.hlx", "dst_ip", "203.0.113.77", 0, "\t203.0.113.0/25\t");
	expect_match(c, "@demo.hlx", "http.url", "malware.example/payload.bin?x=1", 0,
	             "\turl\tmalware.example/payload.bin\t");
	/* allowlisted: the resolver never produces a sighting */
	expect_match(c, "@demo.hlx", "dst_ip", "192.0.2.53", 1, NULL);
	expect_match(c, "@demo.hlx", "tcp.payload", "GET /HOTLINE-DEMO-EXFIL HTTP/1.1", 0,
	             "\tcontent\thotline-demo-exfil\t");
}

/* Copy from to to, keeping the first keep bytes (0: all) and flipping the
 * middle byte when flip is set. */
static void corrupt_copy(const struct ctx *c, const char *from, const char *to, size_t keep,
                         bool flip)
{
	char p[512];
	path_in(c, from, p, sizeof p);
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(n > 64 && n < sizeof buf);
	if (keep > 0 && keep < n)
		n = keep;
	if (flip)
		buf[n / 2] ^= 0x5a;
	write_file(c, to, buf, n);
}

static void cli_corrupt_hlx(void **state)
{
	struct ctx *c = *state;
	struct result r;
	write_text(c, "a.jsonl", set_native);
	run(c, &r, "compile", "-q", "-o", "@a.hlx", "@a.jsonl", NULL);
	assert_status(&r, 0);
	result_free(&r);

	corrupt_copy(c, "a.hlx", "trunc.hlx", 40, false);
	corrupt_copy(c, "a.hlx", "flip.hlx", 0, true);
	const char *bad[] = {"@trunc.hlx", "@flip.hlx"};
	for (size_t i = 0; i < 2; i++) {
		run(c, &r, "stats", bad[i], NULL);
		assert_status(&r, 1);
		assert_true(strlen(r.err) > 0);
		assert_contains(r.err, bad[i] + 1);
		result_free(&r);

		run(c, &r, "match", bad[i], "--field", "dns.query", "--value", "evil.example",
		    NULL);
		assert_status(&r, 2);
		assert_true(strlen(r.err) > 0);
		result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(cli_help_version_usage, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_check_good_and_bad, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_check_allowlist_and_expiry, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_compile_stats_hash, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_convert_roundtrip, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_diff, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_match, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_bundled_demo_set, setup, teardown),
	        cmocka_unit_test_setup_teardown(cli_corrupt_hlx, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
