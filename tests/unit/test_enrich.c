/* \summary: unit tests for GeoIP/ASN enrichment
 *
 * The databases are built at test time by tests/fixtures/mmdb/
 * make_test_mmdb.pl (nothing is committed); its fixed content is asserted
 * value by value here. Without perl or MaxMind::DB::Writer the database
 * tests are skipped, saying why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "enrich.h"
#include "home_net.h"
#include "hotline/err.h"
#include "hotline/indicator.h"
#include "sighting.h"

extern char **environ;

#define SCRIPT HOTLINE_SOURCE_DIR "/tests/fixtures/mmdb/make_test_mmdb.pl"
#define BUILD_DEADLINE_S 60

struct fixture {
	char dir[64];
	char city[128], country[128], asn[128], odd[128], log[128];
	const char *skip_why; /* non-NULL: the databases could not be made */
	char why[256];
};

static struct fixture fx; /* test-only: set once by the group setup */

/* --- running the builder ------------------------------------------------ */

/* Wait for pid at most deadline_s, without sleeping: SIGCHLD is blocked by
 * the caller and collected with sigtimedwait. Returns the wait status, or
 * -1 after killing a child that overran. */
static int wait_deadline(pid_t pid, int deadline_s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += deadline_s;
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		struct timespec now, left;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sigtimedwait(&set, NULL, &left);
	}
}

/* Run argv with stdout and stderr to fx.log. 0 on exit status 0, 1 on
 * another exit status, -errno when it could not run (ENOENT: no perl). */
static int run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, fx.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == 0) {
		int status = wait_deadline(pid, BUILD_DEADLINE_S);
		rc = (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
	} else {
		rc = -rc;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void log_tail(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen(fx.log, "r");
	if (f == NULL)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	char *nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
}

static int group_setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(fx.dir, sizeof fx.dir, "%s/hl-enrich-XXXXXX",
	         tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.city, sizeof fx.city, "%s/city.mmdb", fx.dir);
	snprintf(fx.country, sizeof fx.country, "%s/country.mmdb", fx.dir);
	snprintf(fx.asn, sizeof fx.asn, "%s/asn.mmdb", fx.dir);
	snprintf(fx.odd, sizeof fx.odd, "%s/odd.mmdb", fx.dir);
	snprintf(fx.log, sizeof fx.log, "%s/build.log", fx.dir);

	char *probe[] = {"perl", "-MMaxMind::DB::Writer::Tree", "-e1", NULL};
	int rc = run(probe);
	if (rc == -ENOENT) {
		fx.skip_why = "perl not found; the test databases need it";
		return 0;
	}
	if (rc != 0) {
		char line[160];
		log_tail(line, sizeof line);
		snprintf(fx.why, sizeof fx.why,
		         "MaxMind::DB::Writer::Tree unusable (apt-get install "
		         "libmaxmind-db-writer-perl): %s",
		         line);
		fx.skip_why = fx.why;
		return 0;
	}
	char *build[] = {"perl", SCRIPT, fx.dir, NULL};
	if (run(build) != 0) {
		/* The module is there, so the script itself is broken: fail. */
		char line[200];
		log_tail(line, sizeof line);
		print_error("%s failed: %s\n", SCRIPT, line);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	const char *files[] = {fx.city, fx.country, fx.asn, fx.odd, fx.log};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir(fx.dir);
	return 0;
}

#define NEED_DATABASES()                                             \
	do {                                                         \
		if (fx.skip_why != NULL) {                           \
			print_message("skipped: %s\n", fx.skip_why); \
			skip();                                      \
		}                                                    \
	} while (0)

/* --- helpers ------------------------------------------------------------ */

static const uint8_t ams[4] = {198, 51, 100, 7};
static const uint8_t jp[4] = {203, 0, 113, 9};
static const uint8_t doc1[4] = {192, 0, 2, 5};
static const uint8_t doc2[4] = {192, 0, 2, 200};
static const uint8_t koeln[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
static const uint8_t brazil[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t nowhere6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ams_mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
static const uint8_t doc1_mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 5};
/* 6to4 (2002::/16) of 198.51.100.7: reaches IPv4 data only through the
 * writer's alias, as the address is not converted by the sensor. */
static const uint8_t ams_6to4[16] = {0x20, 0x02, 198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static hl_enrich_t *open_ok(const char *geo, const char *asn)
{
	char err[512] = "";
	hl_enrich_t *e = hl_enrich_open(geo, asn, err, sizeof err);
	if (e == NULL)
		print_error("open: %s\n", err);
	assert_non_null(e);
	return e;
}

static void assert_geo(const struct hl_sighting_geo *g, const char *country, const char *city,
                       bool has_location, double lat, double lon)
{
	assert_true(g->present);
	assert_string_equal(g->country, country);
	assert_string_equal(g->city, city);
	assert_int_equal(g->has_location, has_location);
	if (has_location) {
		/* Exact: the writer stores doubles and libmaxminddb returns them. */
		assert_true(g->lat == lat);
		assert_true(g->lon == lon);
	} else {
		assert_true(g->lat == 0.0 && g->lon == 0.0);
	}
}

static void assert_geo_absent(const struct hl_sighting_geo *g)
{
	struct hl_sighting_geo zero;
	memset(&zero, 0, sizeof zero);
	assert_false(g->present);
	assert_memory_equal(g, &zero, sizeof zero);
}

static void assert_asn_absent(const struct hl_sighting_asn *a)
{
	struct hl_sighting_asn zero;
	memset(&zero, 0, sizeof zero);
	assert_false(a->present);
	assert_memory_equal(a, &zero, sizeof zero);
}

/* --- opening ------------------------------------------------------------ */

static void open_needs_a_database(void **state)
{
	(void)state;
	char err[128] = "";
	assert_null(hl_enrich_open(NULL, NULL, err, sizeof err));
	assert_string_equal(err, "enrichment: neither --geoip nor --asn given");
}

static void open_missing_file_names_it(void **state)
{
	(void)state;
	char err[512] = "";
	assert_null(hl_enrich_open("/nonexistent/hl/GeoLite2-City.mmdb", NULL, err, sizeof err));
	assert_string_equal(err, "--geoip /nonexistent/hl/GeoLite2-City.mmdb: Error opening the "
	                         "specified MaxMind DB file (No such file or directory)");
	assert_null(hl_enrich_open(NULL, "/nonexistent/asn.mmdb", err, sizeof err));
	assert_string_equal(err, "--asn /nonexistent/asn.mmdb: Error opening the specified "
	                         "MaxMind DB file (No such file or directory)");
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void open_not_an_mmdb_names_it(void **state)
{
	(void)state;
	char path[128], err[512] = "";
	snprintf(path, sizeof path, "%s/not.mmdb", fx.dir);
	const char text[] = "this is not a MaxMind DB file\n";
	write_file(path, text, sizeof text - 1);
	assert_null(hl_enrich_open(path, NULL, err, sizeof err));
	char want[512];
	snprintf(want, sizeof want, "--geoip %s: The MaxMind DB file contains invalid metadata",
	         path);
	assert_string_equal(err, want);

	write_file(path, "", 0);
	assert_null(hl_enrich_open(NULL, path, err, sizeof err));
	assert_true(strncmp(err, "--asn ", 6) == 0);
	assert_non_null(strstr(err, path));
	unlink(path);
}

static void open_asn_failure_after_good_geoip(void **state)
{
	(void)state;
	NEED_DATABASES();
	char err[512] = "";
	/* The geoip database opened first is closed again (ASan: no leak). */
	assert_null(hl_enrich_open(fx.city, "/nonexistent/asn.mmdb", err, sizeof err));
	assert_true(strncmp(err, "--asn /nonexistent/asn.mmdb: ", 29) == 0);
}

static void describe_names_each_database(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	assert_true(hl_enrich_has_geo(e));
	assert_true(hl_enrich_has_asn(e));
	char buf[1024];
	assert_int_equal(hl_enrich_describe(e, buf, sizeof buf), 0);
	assert_non_null(strstr(buf, "--geoip "));
	assert_non_null(strstr(buf, "city.mmdb (Hotline-Test-City, built "));
	assert_non_null(strstr(buf, ", IPv6), --asn "));
	assert_non_null(strstr(buf, "asn.mmdb (Hotline-Test-ASN, built "));
	char small[16];
	assert_int_equal(hl_enrich_describe(e, small, sizeof small), HL_ERANGE);
	assert_int_equal(strlen(small), sizeof small - 1);
	hl_enrich_close(&e);
	assert_null(e);
	hl_enrich_close(&e);
	hl_enrich_close(NULL);

	e = open_ok(NULL, fx.country);
	assert_false(hl_enrich_has_geo(e));
	assert_int_equal(hl_enrich_describe(e, buf, sizeof buf), 0);
	assert_true(strncmp(buf, "--asn ", 6) == 0);
	assert_non_null(strstr(buf, "(Hotline-Test-Country, built "));
	assert_non_null(strstr(buf, ", IPv4)"));
	hl_enrich_close(&e);
}

/* --- lookups ------------------------------------------------------------ */

static void ipv4_hit_with_city_and_location(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, ams, &g, &a), 0);
	assert_geo(&g, "NL", "Amsterdam", true, 52.375, 4.875);
	assert_true(a.present);
	assert_int_equal(a.number, 64496);
	assert_string_equal(a.org, "Example Transit B.V.");

	/* Country only inside a City database; an ASN without organisation. */
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, jp, &g, &a), 0);
	assert_geo(&g, "JP", "", false, 0, 0);
	assert_true(a.present);
	assert_int_equal(a.number, 64511);
	assert_string_equal(a.org, "");
	hl_enrich_close(&e);
}

static void ipv4_hit_in_country_only_database(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.country, NULL);
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	memset(&a, 0xa5, sizeof a); /* written even without an ASN database */
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, ams, &g, &a), 0);
	assert_geo(&g, "FR", "", false, 0, 0);
	assert_asn_absent(&a);
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, doc1, &g, NULL), 0);
	assert_geo(&g, "CA", "", false, 0, 0);
	hl_enrich_close(&e);
}

static void ipv6_hit(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	assert_int_equal(hl_enrich_lookup(e, NULL, 6, koeln, &g, &a), 0);
	assert_geo(&g, "DE", "K\xc3\xb6ln", true, 50.9375, 6.9603);
	assert_true(a.present);
	assert_int_equal(a.number, 4200000001u);
	assert_string_equal(a.org, "Beispiel Netz GmbH");

	/* A location without a city. */
	assert_int_equal(hl_enrich_lookup(e, NULL, 6, brazil, &g, &a), 0);
	assert_geo(&g, "BR", "", true, -10.0, -55.0);
	assert_asn_absent(&a);
	hl_enrich_close(&e);
}

static void mapped_ipv6_is_looked_up_as_ipv4(void **state)
{
	(void)state;
	NEED_DATABASES();
	struct hl_sighting_geo g4, g6;
	struct hl_sighting_asn a4, a6;
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, ams, &g4, &a4), 0);
	assert_int_equal(hl_enrich_lookup(e, NULL, 6, ams_mapped, &g6, &a6), 0);
	assert_memory_equal(&g4, &g6, sizeof g4);
	assert_memory_equal(&a4, &a6, sizeof a4);
	assert_string_equal(g6.country, "NL");
	/* Other IPv4-embedding ranges reach the IPv4 data through the
	 * database's own aliases. */
	assert_int_equal(hl_enrich_lookup(e, NULL, 6, ams_6to4, &g6, &a6), 0);
	assert_string_equal(g6.country, "NL");
	assert_int_equal(a6.number, 64496);
	hl_enrich_close(&e);

	/* An IPv4-only database has no IPv6 tree and no aliases: the mapped
	 * address is found only because it is converted first. */
	e = open_ok(fx.country, NULL);
	assert_int_equal(hl_enrich_lookup(e, NULL, 6, doc1_mapped, &g6, NULL), 0);
	assert_geo(&g6, "CA", "", false, 0, 0);
	hl_enrich_close(&e);
}

static void missing_entry_is_absent(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	hl_enrich_cache_t *c = hl_enrich_cache_new(16);
	assert_non_null(c);
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	memset(&g, 0x5a, sizeof g);
	memset(&a, 0x5a, sizeof a);
	assert_int_equal(hl_enrich_lookup(e, c, 4, doc1, &g, &a), 0);
	assert_geo_absent(&g);
	assert_asn_absent(&a);
	assert_int_equal(hl_enrich_lookup(e, c, 6, nowhere6, &g, &a), 0);
	assert_geo_absent(&g);
	assert_asn_absent(&a);
	assert_int_equal(hl_enrich_lookup(e, c, 4, (uint8_t[]){10, 0, 0, 1}, &g, &a), 0);
	assert_geo_absent(&g);
	struct hl_enrich_stats st;
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.cache_hits, 0);
	assert_int_equal(st.not_found, 6); /* two databases, three addresses */
	assert_int_equal(st.errors, 0);
	hl_enrich_close(&e);

	/* IPv6 in an IPv4-only database: not found, not an error. */
	e = open_ok(fx.country, NULL);
	assert_int_equal(hl_enrich_lookup(e, c, 6, koeln, &g, &a), 0);
	assert_geo_absent(&g);
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.not_found, 7);
	assert_int_equal(st.errors, 0);
	hl_enrich_close(&e);
	hl_enrich_cache_destroy(&c);
}

static void odd_values_are_left_out(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.odd, fx.odd);
	hl_enrich_cache_t *c = hl_enrich_cache_new(16);
	struct hl_sighting_geo g;
	struct hl_sighting_asn a;
	assert_int_equal(hl_enrich_lookup(e, c, 4, doc1, &g, &a), 0);
	/* "NLD" is no ISO 3166-1 alpha-2 code; latitude is a string; the
	 * 120-byte city keeps 47 whole two-byte characters, not 47.5. */
	char city[96] = "";
	for (int i = 0; i < 47; i++)
		memcpy(city + 2 * i, "\xc3\xa9", 2);
	assert_geo(&g, "", city, false, 0, 0);
	assert_int_equal(strlen(g.city), 94);
	/* The ASN number is a string ("AS64496"): no number, no ASN. */
	assert_asn_absent(&a);

	/* An entry with none of the fields looked for. */
	assert_int_equal(hl_enrich_lookup(e, c, 4, doc2, &g, &a), 0);
	assert_geo_absent(&g);
	assert_asn_absent(&a);
	struct hl_enrich_stats st;
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.not_found, 0);
	assert_int_equal(st.errors, 0);
	hl_enrich_cache_destroy(&c);
	hl_enrich_close(&e);
}

static void bad_arguments(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, NULL);
	struct hl_sighting_geo g;
	memset(&g, 0x5a, sizeof g);
	assert_int_equal(hl_enrich_lookup(e, NULL, 5, ams, &g, NULL), HL_EINVAL);
	assert_geo_absent(&g);
	assert_int_equal(hl_enrich_lookup(NULL, NULL, 4, ams, &g, NULL), HL_EINVAL);
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, NULL, &g, NULL), HL_EINVAL);
	assert_int_equal(hl_enrich_lookup(e, NULL, 4, ams, NULL, NULL), 0);
	assert_int_equal(hl_enrich_sighting(e, NULL, NULL, NULL), HL_EINVAL);
	hl_enrich_close(&e);
}

/* Overwrite the search tree: lookups fail, are counted, are not cached. */
static void corrupt_tree_is_an_error(void **state)
{
	(void)state;
	NEED_DATABASES();
	char path[128];
	snprintf(path, sizeof path, "%s/corrupt.mmdb", fx.dir);
	FILE *f = fopen(fx.country, "rb");
	assert_non_null(f);
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(n > 64 && n < sizeof buf);
	memset(buf, 0xff, 48); /* the first nodes: 24-bit records far past the data */
	write_file(path, buf, n);

	hl_enrich_t *e = open_ok(path, NULL);
	hl_enrich_cache_t *c = hl_enrich_cache_new(4);
	struct hl_sighting_geo g;
	assert_int_equal(hl_enrich_lookup(e, c, 4, ams, &g, NULL), HL_EFORMAT);
	assert_geo_absent(&g);
	assert_int_equal(hl_enrich_lookup(e, c, 4, ams, &g, NULL), HL_EFORMAT);
	struct hl_enrich_stats st;
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.cache_hits, 0);
	assert_int_equal(st.errors, 2);
	hl_enrich_cache_destroy(&c);
	hl_enrich_close(&e);
	unlink(path);
}

/* --- the cache ---------------------------------------------------------- */

static void cache_hit_on_second_lookup(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	hl_enrich_cache_t *c = hl_enrich_cache_new(8);
	assert_int_equal(hl_enrich_cache_slots(c), 8);
	struct hl_sighting_geo g1, g2;
	struct hl_sighting_asn a1, a2;
	assert_int_equal(hl_enrich_lookup(e, c, 4, ams, &g1, &a1), 0);
	assert_int_equal(hl_enrich_lookup(e, c, 4, ams, &g2, &a2), 0);
	assert_memory_equal(&g1, &g2, sizeof g1);
	assert_memory_equal(&a1, &a2, sizeof a1);
	assert_geo(&g2, "NL", "Amsterdam", true, 52.375, 4.875);
	struct hl_enrich_stats st;
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.not_found, 0);
	assert_int_equal(st.errors, 0);

	/* The mapped spelling shares the IPv4 entry. */
	assert_int_equal(hl_enrich_lookup(e, c, 6, ams_mapped, &g2, &a2), 0);
	assert_memory_equal(&g1, &g2, sizeof g1);
	/* A cached "not found" is a hit too, and still absent. */
	assert_int_equal(hl_enrich_lookup(e, c, 4, doc1, &g2, &a2), 0);
	assert_int_equal(hl_enrich_lookup(e, c, 4, doc1, &g2, &a2), 0);
	assert_geo_absent(&g2);
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.cache_hits, 3);
	assert_int_equal(st.not_found, 2);

	/* Another handle: the cache forgets what the first one said. */
	hl_enrich_t *e2 = open_ok(fx.country, NULL);
	assert_int_equal(hl_enrich_lookup(e2, c, 4, ams, &g2, &a2), 0);
	assert_geo(&g2, "FR", "", false, 0, 0);
	assert_asn_absent(&a2);
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.cache_hits, 3);

	/* Cleared: counters stay, results go. */
	hl_enrich_cache_clear(c);
	assert_int_equal(hl_enrich_lookup(e2, c, 4, ams, &g2, NULL), 0);
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 7);
	assert_int_equal(st.cache_hits, 3);
	hl_enrich_close(&e2);
	hl_enrich_close(&e);
	hl_enrich_cache_destroy(&c);
	assert_null(c);
	hl_enrich_cache_destroy(&c);
	hl_enrich_cache_destroy(NULL);
}

/* A one-slot cache: every other address evicts; results stay right. */
static void cache_collisions_evict(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	hl_enrich_cache_t *c = hl_enrich_cache_new(1);
	assert_int_equal(hl_enrich_cache_slots(c), 1);
	struct hl_sighting_geo g;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(hl_enrich_lookup(e, c, 4, ams, &g, NULL), 0);
		assert_string_equal(g.country, "NL");
		assert_int_equal(hl_enrich_lookup(e, c, 6, koeln, &g, NULL), 0);
		assert_string_equal(g.country, "DE");
	}
	struct hl_enrich_stats st;
	hl_enrich_cache_stats(c, &st);
	assert_int_equal(st.lookups, 6);
	assert_int_equal(st.cache_hits, 0);
	hl_enrich_cache_destroy(&c);
	hl_enrich_close(&e);
}

static void cache_sizes(void **state)
{
	(void)state;
	hl_enrich_cache_t *c = hl_enrich_cache_new(0);
	assert_int_equal(hl_enrich_cache_slots(c), HL_ENRICH_CACHE_DEFAULT);
	hl_enrich_cache_destroy(&c);
	c = hl_enrich_cache_new(1000);
	assert_int_equal(hl_enrich_cache_slots(c), 1024);
	hl_enrich_cache_destroy(&c);
	c = hl_enrich_cache_new((size_t)HL_ENRICH_CACHE_MAX * 4);
	assert_int_equal(hl_enrich_cache_slots(c), HL_ENRICH_CACHE_MAX);
	hl_enrich_cache_destroy(&c);
	struct hl_enrich_stats st;
	memset(&st, 0xff, sizeof st);
	hl_enrich_cache_stats(NULL, &st);
	assert_int_equal(st.lookups, 0);
	assert_int_equal(hl_enrich_cache_slots(NULL), 0);
	hl_enrich_cache_clear(NULL);
}

/* --- which endpoint ----------------------------------------------------- */

static struct hl_sighting_flow flow4(const uint8_t src[4], const uint8_t dst[4])
{
	struct hl_sighting_flow f;
	memset(&f, 0, sizeof f);
	f.family = 4;
	f.proto = 6;
	memcpy(f.src, src, 4);
	memcpy(f.dst, dst, 4);
	f.sport = 40000;
	f.dport = 443;
	return f;
}

static void remote_endpoint_choice(void **state)
{
	(void)state;
	hl_home_net_t *home = hl_home_net_parse("192.0.2.0/24,2001:db8:1::/48", NULL, 0);
	assert_non_null(home);
	const uint8_t in1[4] = {192, 0, 2, 10}, in2[4] = {192, 0, 2, 20};
	const uint8_t out1[4] = {198, 51, 100, 7}, out2[4] = {203, 0, 113, 9};

	struct hl_sighting_flow f = flow4(in1, out1); /* local client, remote server */
	assert_ptr_equal(hl_enrich_remote(&f, home), f.dst);
	f = flow4(out1, in1); /* remote client, local server */
	assert_ptr_equal(hl_enrich_remote(&f, home), f.src);
	f = flow4(in1, in2); /* both local: the responder */
	assert_ptr_equal(hl_enrich_remote(&f, home), f.dst);
	f = flow4(out1, out2); /* neither: the responder */
	assert_ptr_equal(hl_enrich_remote(&f, home), f.dst);
	f = flow4(out1, in1); /* no --home-net: the responder */
	assert_ptr_equal(hl_enrich_remote(&f, NULL), f.dst);

	memset(&f, 0, sizeof f);
	f.family = 6;
	memcpy(f.src, nowhere6, 16);
	memcpy(f.dst, koeln, 16); /* koeln lies in 2001:db8:1::/48 */
	assert_ptr_equal(hl_enrich_remote(&f, home), f.src);
	hl_home_net_destroy(&home);
}

static void sighting_gets_the_remote_endpoint(void **state)
{
	(void)state;
	NEED_DATABASES();
	hl_enrich_t *e = open_ok(fx.city, fx.asn);
	hl_enrich_cache_t *c = hl_enrich_cache_new(64);
	hl_home_net_t *home = hl_home_net_parse("192.0.2.0/24", NULL, 0);
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_IP;
	ind.value = "198.51.100.7";
	ind.id = "fx-ip";

	struct hl_sighting s;
	memset(&s, 0, sizeof s);
	s.first_seen = s.last_seen = 1462960800000000;
	s.count = 1;
	s.indicator = &ind;
	s.field = HL_FIELD_SRC_IP;
	/* The remote host connected in to a local server. */
	s.flow = flow4(ams, (uint8_t[]){192, 0, 2, 10});
	assert_int_equal(hl_enrich_sighting(e, c, home, &s), 0);
	assert_geo(&s.geo, "NL", "Amsterdam", true, 52.375, 4.875);
	assert_int_equal(s.asn.number, 64496);

	char *line = hl_sighting_to_json(&s, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"geo\":{\"city\":\"Amsterdam\",\"country\":\"NL\","
	                             "\"lat\":52.375,\"lon\":4.875}"));
	assert_non_null(
	        strstr(line, "\"asn\":{\"number\":64496,\"org\":\"Example Transit B.V.\"}"));
	free(line);

	/* Neither endpoint known to the databases: no "geo", no "asn". */
	s.flow = flow4((uint8_t[]){192, 0, 2, 10}, (uint8_t[]){10, 9, 9, 9});
	assert_int_equal(hl_enrich_sighting(e, c, home, &s), 0);
	assert_false(s.geo.present);
	assert_false(s.asn.present);
	line = hl_sighting_to_json(&s, NULL);
	assert_non_null(line);
	assert_null(strstr(line, "\"geo\""));
	assert_null(strstr(line, "\"asn\""));
	free(line);
	hl_home_net_destroy(&home);
	hl_enrich_cache_destroy(&c);
	hl_enrich_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(open_needs_a_database),
	        cmocka_unit_test(open_missing_file_names_it),
	        cmocka_unit_test(open_not_an_mmdb_names_it),
	        cmocka_unit_test(open_asn_failure_after_good_geoip),
	        cmocka_unit_test(describe_names_each_database),
	        cmocka_unit_test(ipv4_hit_with_city_and_location),
	        cmocka_unit_test(ipv4_hit_in_country_only_database),
	        cmocka_unit_test(ipv6_hit),
	        cmocka_unit_test(mapped_ipv6_is_looked_up_as_ipv4),
	        cmocka_unit_test(missing_entry_is_absent),
	        cmocka_unit_test(odd_values_are_left_out),
	        cmocka_unit_test(bad_arguments),
	        cmocka_unit_test(corrupt_tree_is_an_error),
	        cmocka_unit_test(cache_hit_on_second_lookup),
	        cmocka_unit_test(cache_collisions_evict),
	        cmocka_unit_test(cache_sizes),
	        cmocka_unit_test(remote_endpoint_choice),
	        cmocka_unit_test(sighting_gets_the_remote_endpoint),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
