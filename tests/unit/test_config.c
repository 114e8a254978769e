/* \summary: YAML configs: the examples load; every error kind, at its line */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hotline/err.h"
#include "packet.h"
#include "tcp_reorder.h"
#include "yaml_reader.h"

#define CONFIGS HOTLINE_SOURCE_DIR "/configs"

/* Diagnostics as "FILE:LINE: message" lines. */
struct rec {
	char text[16384];
	size_t len;
};

static void rec_emit(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                     const char *msg)
{
	(void)level;
	struct rec *r = ctx;
	int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s:%lu: %s\n", file, line,
	                 msg);
	if (n > 0 && (size_t)n < sizeof r->text - r->len)
		r->len += (size_t)n;
}

static struct hl_diag rec_diag(struct rec *r)
{
	memset(r, 0, sizeof *r);
	struct hl_diag d = {.emit = rec_emit, .ctx = r};
	return d;
}

/* ---- the examples ---------------------------------------------------- */

static void test_example_sharer(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sharer_config c;
	int rc = hl_sharer_config_load(CONFIGS "/sharer.yaml", &c, &d);
	if (rc != 0)
		fail_msg("%s", r.text);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c.name, "alpha");
	assert_string_equal(c.listen, "tcp://0.0.0.0:7701");
	assert_string_equal(c.sensor_listen, "ipc:///run/hotline/alpha-sensors.sock");
	assert_string_equal(c.control, "/run/hotline/alpha-ctl.sock");
	assert_string_equal(c.store, "/var/lib/hotline/alpha.db");
	assert_string_equal(c.agreement, CONFIGS "/agreement.yaml");
	assert_int_equal(c.log_level, HL_LOG_INFO);
	assert_string_equal(c.keys.secret_key_file, CONFIGS "/keys/alpha.key");
	assert_string_equal(c.keys.public_key_file, CONFIGS "/keys/alpha.pub");
	assert_int_equal(c.n_peers, 1);
	const struct hl_sharer_peer *p = hl_sharer_config_peer(&c, "bravo");
	assert_non_null(p);
	assert_null(p->endpoint);
	assert_null(p->public_key);
	assert_string_equal(p->public_key_file, CONFIGS "/keys/bravo.pub");
	assert_int_equal(p->heartbeat, 10000000);
	assert_int_equal(p->dead_after, 30000000);
	assert_int_equal(p->max_message, 1048576);
	assert_null(hl_sharer_config_peer(&c, "charlie"));
	assert_int_equal(c.n_sensors, 2);
	assert_string_equal(c.sensors[0].name, "edge1");
	assert_null(c.sensors[0].public_key_file);
	assert_string_equal(c.sensors[1].name, "dmz1");
	assert_string_equal(c.sensors[1].public_key_file, CONFIGS "/keys/dmz1.pub");
	assert_int_equal(c.limits.outbox_batch, 100);
	assert_int_equal(c.limits.resend_min, 1000000);
	assert_int_equal(c.limits.resend_max, 300000000);
	assert_int_equal(c.limits.max_message, 1048576);
	hl_sharer_config_free(&c);
	assert_null(c.name);
	assert_null(c.peers);
	assert_int_equal(c.n_peers, 0);
	hl_sharer_config_free(&c); /* twice is harmless */
}

static void test_example_bravo(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sharer_config c;
	int rc = hl_sharer_config_load(CONFIGS "/sharer-bravo.yaml", &c, &d);
	if (rc != 0)
		fail_msg("%s", r.text);
	assert_string_equal(c.name, "bravo");
	assert_null(c.listen);
	assert_int_equal(c.n_peers, 1);
	assert_string_equal(c.peers[0].name, "alpha");
	assert_string_equal(c.peers[0].endpoint, "tcp://alpha.example.net:7701");
	assert_int_equal(c.peers[0].dead_after, 30000000); /* 3 heartbeats */
	assert_int_equal(c.limits.outbox_batch, 50);
	assert_int_equal(c.limits.resend_max, 600000000);
	hl_sharer_config_free(&c);
}

static void test_example_sensor(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sensor_config c;
	int rc = hl_sensor_config_load(CONFIGS "/sensor.yaml", &c, &d);
	if (rc != 0)
		fail_msg("%s", r.text);
	assert_string_equal(c.interface, "eth1");
	assert_int_equal(c.read.n, 0);
	assert_string_equal(c.bpf, "not port 22");
	assert_int_equal(c.snaplen, 65535);
	assert_true(c.promisc);
	assert_int_equal(c.buffer_size, 64 * 1024 * 1024);
	assert_false(c.immediate);
	assert_int_equal(c.rules.n, 1);
	assert_string_equal(c.rules.v[0], "/etc/hotline/indicators.jsonl");
	assert_int_equal(c.format, HL_FMT_AUTO);
	assert_int_equal(c.allowlist.n, 0);
	assert_int_equal(c.home_net.n, 3);
	assert_string_equal(c.home_net.v[2], "2001:db8:a::/48");
	assert_int_equal(c.outputs.n, 1);
	assert_string_equal(c.sensor_name, "edge1");
	assert_true(c.sighting_updates);
	assert_string_equal(c.geoip, "/usr/share/GeoIP/GeoLite2-City.mmdb");
	assert_string_equal(c.evidence_dir, "/var/lib/hotline/evidence");
	assert_int_equal(c.evidence_max_bytes, 1ULL << 30);
	assert_int_equal(c.evidence_packets_before, 16);
	assert_int_equal(c.evidence_memory, 32ULL << 20);
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.max_flows, 65536);
	assert_int_equal(c.stream_depth, 1048576);
	assert_int_equal(c.stats_interval, 60000000);
	assert_false(c.stats_json);
	assert_string_equal(c.sharer.endpoint, "ipc:///run/hotline/alpha-sensors.sock");
	assert_null(c.sharer.server_key);
	assert_null(c.user); /* commented out */
	assert_true(c.watch);
	/* the example spells out the engine's defaults */
	assert_int_equal(c.frag_max, HL_DEFRAG_DEFAULT_MAX_REASSEMBLIES);
	assert_int_equal(c.frag_memory, HL_DEFRAG_DEFAULT_MAX_MEM);
	assert_int_equal(c.frag_timeout, HL_DEFRAG_DEFAULT_TIMEOUT_US);
	assert_int_equal(c.reorder_memory, HL_TCP_REORDER_DEFAULT_MAX_TOTAL);
	assert_int_equal(c.reorder_dir_bytes, HL_TCP_REORDER_DEFAULT_MAX_DIR);
	assert_string_equal(c.sharer.name, "alpha");
	assert_int_equal(c.sharer.queue, 10000);
	assert_int_equal(c.sharer.flush_timeout, 5000000);
	assert_int_equal(c.sharer.batch_bytes, 256 * 1024); /* the link's BATCH_BYTES */
	assert_null(c.sharer.set);
	assert_int_equal(hl_sensor_config_check(&c, "sensor.yaml", &d), 0);
	hl_sensor_config_free(&c);
}

static void test_example_agreement(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_agreement a;
	int rc = hl_agreement_load(CONFIGS "/agreement.yaml", &a, &d);
	if (rc != 0)
		fail_msg("%s", r.text);
	assert_int_equal(a.parties.n, 2);
	assert_true(hl_agreement_has_party(&a, "alpha"));
	assert_true(hl_agreement_has_party(&a, "bravo"));
	assert_false(hl_agreement_has_party(&a, "charlie"));
	assert_int_equal(a.tlp_ceiling, HL_TLP_AMBER);
	assert_true(hl_strv_contains(&a.share.indicator_fields, "tlp"));
	assert_false(hl_strv_contains(&a.share.indicator_fields, "source"));
	assert_true(hl_strv_contains(&a.share.sighting_fields, "indicator"));
	assert_false(hl_strv_contains(&a.share.sighting_fields, "sensor"));
	assert_int_equal(a.n_home_nets, 3);
	assert_int_equal(a.home_nets[0].family, 4);
	assert_int_equal(a.home_nets[0].plen, 8);
	assert_int_equal(a.home_nets[2].family, 6);
	assert_string_equal(a.pseudonym_key_file, CONFIGS "/keys/pseudonym.key");
	assert_false(a.evidence);
	assert_int_equal(a.requests.acknowledge_within, 3600LL * 1000000);
	assert_int_equal(a.requests.respond_within[HL_AGR_LOW], 10 * 86400LL * 1000000);
	assert_int_equal(a.requests.respond_within[HL_AGR_NORMAL], 3 * 86400LL * 1000000);
	assert_int_equal(a.requests.respond_within[HL_AGR_HIGH], 86400LL * 1000000);
	assert_int_equal(a.requests.respond_within[HL_AGR_CRITICAL], 4 * 3600LL * 1000000);
	assert_int_equal(a.hotline.ack_timeout, 15 * 60LL * 1000000);
	assert_int_equal(a.hotline.retry_interval, 60LL * 1000000);
	hl_agreement_free(&a);
	assert_null(a.home_nets);
}

/* ---- error reporting --------------------------------------------------- */

#define SHARER_HEAD           \
	"name: alpha\n"       \
	"store: s.db\n"       \
	"agreement: a.yaml\n" \
	"keys:\n"             \
	"  secret_key_file: k\n"

static int sharer_text(const char *yaml, struct rec *r, unsigned long *errors)
{
	struct hl_diag d = rec_diag(r);
	struct hl_sharer_config c;
	int rc = hl_sharer_config_parse("t.yaml", yaml, strlen(yaml), NULL, &c, &d);
	if (errors != NULL)
		*errors = d.errors;
	if (rc == 0)
		hl_sharer_config_free(&c);
	else
		assert_null(c.name); /* nothing left to free after a failure */
	return rc;
}

/* The text must be exactly one diagnostic, equal to want. */
static void expect_sharer_error(const char *yaml, const char *want)
{
	struct rec r;
	unsigned long errors;
	assert_int_equal(sharer_text(yaml, &r, &errors), HL_EINVAL);
	if (errors != 1 || strcmp(r.text, want) != 0)
		fail_msg("got %lu error(s):\n%swanted:\n%s", errors, r.text, want);
}

static void test_minimal_sharer(void **state)
{
	(void)state;
	struct rec r;
	assert_int_equal(sharer_text(SHARER_HEAD, &r, NULL), 0);
	assert_int_equal(r.len, 0);
	/* A relative path from a buffer with a base directory. */
	struct hl_diag d = rec_diag(&r);
	struct hl_sharer_config c;
	assert_int_equal(hl_sharer_config_parse("t.yaml", SHARER_HEAD, strlen(SHARER_HEAD),
	                                        "/etc/hotline", &c, &d),
	                 0);
	assert_string_equal(c.store, "/etc/hotline/s.db");
	assert_int_equal(c.version, 1);
	assert_int_equal(c.log_level, HL_LOG_INFO);
	hl_sharer_config_free(&c);
}

static void test_error_types(void **state)
{
	(void)state;
	expect_sharer_error(SHARER_HEAD "listen: [a]\n",
	                    "t.yaml:6: column 9: key 'listen': expected a string, got a list\n");
	expect_sharer_error(SHARER_HEAD "peers:\n"
	                                "  bravo:\n"
	                                "    endpoint: {host: x}\n"
	                                "    public_key_file: b.pub\n",
	                    "t.yaml:8: column 15: key 'peers.bravo.endpoint': expected a string, "
	                    "got a mapping\n");
	expect_sharer_error(SHARER_HEAD "peers:\n"
	                                "  bravo:\n"
	                                "    endpoint: http://x\n"
	                                "    public_key_file: b.pub\n",
	                    "t.yaml:8: column 15: key 'peers.bravo.endpoint': expected "
	                    "tcp://HOST:PORT or ipc:///PATH\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  outbox_batch: 0\n",
	                    "t.yaml:7: column 17: key 'limits.outbox_batch': 0 is out of range "
	                    "(1..1000)\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  outbox_batch: \"5\"\n",
	                    "t.yaml:7: column 17: key 'limits.outbox_batch': expected an integer, "
	                    "got a quoted string\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  outbox_batch: 0x10\n",
	                    "t.yaml:7: column 17: key 'limits.outbox_batch': expected a decimal "
	                    "integer (no leading zeros, no 0x/0o)\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  resend_min: 10\n",
	                    "t.yaml:7: column 15: key 'limits.resend_min': expected a duration: a "
	                    "number and a unit (us, ms, s, m, h, d), e.g. 250ms, 30s, 1h30m\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  resend_min: 2h\n",
	                    "t.yaml:7: column 15: key 'limits.resend_min': 2h is out of range "
	                    "(100ms..1h)\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  max_message: 100\n",
	                    "t.yaml:7: column 16: key 'limits.max_message': 100 is out of range "
	                    "(4096..67108864 bytes)\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  max_message: 1 MiB\n",
	                    "t.yaml:7: column 16: key 'limits.max_message': expected a size: a "
	                    "number and an optional unit (B, kB, KiB, MB, MiB, GB, GiB, TB, TiB), "
	                    "e.g. 64MiB\n");
	expect_sharer_error(SHARER_HEAD "log_level: verbose\n",
	                    "t.yaml:6: column 12: key 'log_level': \"verbose\" is not one of: "
	                    "error, warning, info, debug\n");
	expect_sharer_error(SHARER_HEAD "name: bob\n", "t.yaml:6: column 1: key 'name': given "
	                                               "twice\n");
	expect_sharer_error(SHARER_HEAD "version: 2\n",
	                    "t.yaml:6: column 10: key 'version': 2 is out of range (1..1)\n");
	expect_sharer_error("name: al pha\nstore: s\nagreement: a\nkeys: {secret_key_file: k}\n",
	                    "t.yaml:1: column 7: key 'name': not a party name (1..64 of A-Z a-z "
	                    "0-9 _ . -, not starting with . or -)\n");
	expect_sharer_error(SHARER_HEAD "store: \"\"\n",
	                    "t.yaml:6: column 1: key 'store': given twice\n");
	expect_sharer_error(SHARER_HEAD "control: \"\"\n",
	                    "t.yaml:6: column 10: key 'control': empty string\n");
	expect_sharer_error(SHARER_HEAD "control: \"a\\0b\"\n",
	                    "t.yaml:6: column 10: key 'control': contains a NUL character\n");
}

static void test_error_missing_and_unknown(void **state)
{
	(void)state;
	expect_sharer_error("name: alpha\nagreement: a\nkeys: {secret_key_file: k}\n",
	                    "t.yaml:1: column 1: key 'store': missing\n");
	expect_sharer_error("name: alpha\nstore: s\nagreement: a\nkeys:\n  public_key_file: p\n",
	                    "t.yaml:5: column 3: key 'keys.secret_key_file': missing\n");
	expect_sharer_error(SHARER_HEAD "peers:\n"
	                                "  bravo:\n"
	                                "    endpont: tcp://b:1\n"
	                                "    public_key_file: b.pub\n",
	                    "t.yaml:8: column 5: key 'peers.bravo.endpont': unknown key (did you "
	                    "mean 'endpoint'?)\n");
	expect_sharer_error(SHARER_HEAD "colour: blue\n",
	                    "t.yaml:6: column 1: key 'colour': unknown key\n");
	/* null counts as not given */
	expect_sharer_error(SHARER_HEAD "store: ~\n", "t.yaml:6: column 1: key 'store': given "
	                                              "twice\n");
	expect_sharer_error("name: alpha\nstore:\nagreement: a\nkeys: {secret_key_file: k}\n",
	                    "t.yaml:1: column 1: key 'store': missing\n");

	/* Empty file: every required key, with no line to point at. */
	struct rec r;
	unsigned long errors;
	assert_int_equal(sharer_text("", &r, &errors), HL_EINVAL);
	assert_int_equal(errors, 4);
	assert_string_equal(r.text, "t.yaml:0: key 'name': missing\n"
	                            "t.yaml:0: key 'store': missing\n"
	                            "t.yaml:0: key 'agreement': missing\n"
	                            "t.yaml:0: key 'keys': missing\n");
	assert_int_equal(sharer_text("- a\n- b\n", &r, &errors), HL_EINVAL);
	assert_string_equal(r.text, "t.yaml:1: column 1: expected a mapping of keys at the top, "
	                            "got a list\n");
}

static void test_error_hostile_yaml(void **state)
{
	(void)state;
	expect_sharer_error(SHARER_HEAD "listen: *addr\n",
	                    "t.yaml:6: column 9: aliases (*addr) are not supported: write each "
	                    "value out\n");
	expect_sharer_error("name: &n alpha\n",
	                    "t.yaml:1: column 7: anchors (&n) are not supported: write each value "
	                    "out\n");
	expect_sharer_error(SHARER_HEAD "listen: !!str tcp://a:1\n",
	                    "t.yaml:6: column 9: tags (tag:yaml.org,2002:str) are not supported\n");
	expect_sharer_error(SHARER_HEAD "---\nname: b\n",
	                    "t.yaml:6: column 1: only one YAML document per file\n");
	expect_sharer_error(SHARER_HEAD "listen: \"tcp://a:1\n",
	                    "t.yaml:7: column 1: YAML syntax: found unexpected end of stream while "
	                    "scanning a quoted scalar\n");
	expect_sharer_error(SHARER_HEAD "? [a]\n: b\n",
	                    "t.yaml:6: column 3: a key must be a plain string\n");

	/* The billion laughs never get past the first alias. */
	expect_sharer_error("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
	                    "t.yaml:1: column 4: anchors (&a) are not supported: write each value "
	                    "out\n");

	/* Deep nesting stops at the cap, not at the end of the input. */
	char deep[256];
	size_t n = (size_t)snprintf(deep, sizeof deep, "name: ");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n++] = '\n';
	deep[n] = '\0';
	expect_sharer_error(deep, "t.yaml:1: column 38: nested deeper than 32 levels\n");

	/* Over 1 MiB: refused before parsing. */
	size_t big = HL_YAML_MAX_FILE + 1;
	char *text = malloc(big + 1);
	memset(text, '#', big);
	text[big] = '\0';
	struct rec r;
	assert_int_equal(sharer_text(text, &r, NULL), HL_ELIMIT);
	assert_string_equal(r.text, "t.yaml:0: larger than 1048576 bytes\n");
	free(text);
}

static void test_error_cross_checks(void **state)
{
	(void)state;
	expect_sharer_error(SHARER_HEAD "peers:\n  bravo:\n    endpoint: tcp://b:1\n",
	                    "t.yaml:8: column 5: key 'peers.bravo': give exactly one of public_key "
	                    "and public_key_file\n");
	expect_sharer_error(SHARER_HEAD "peers:\n  bravo:\n    public_key_file: b.pub\n",
	                    "t.yaml:8: column 5: key 'peers.bravo': neither side would connect: "
	                    "give an endpoint here or 'listen'\n");
	expect_sharer_error(SHARER_HEAD "listen: tcp://*:7701\npeers:\n  alpha:\n"
	                                "    public_key_file: b.pub\n",
	                    "t.yaml:9: column 5: key 'peers.alpha': a peer cannot be this party "
	                    "itself\n");
	expect_sharer_error(SHARER_HEAD "listen: tcp://*:7701\npeers:\n  bravo:\n"
	                                "    public_key: \"abc\"\n",
	                    "t.yaml:9: column 17: key 'peers.bravo.public_key': not a CURVE public "
	                    "key (40 Z85 characters; quote it)\n");
	expect_sharer_error(SHARER_HEAD
	                    "listen: tcp://*:7701\npeers:\n  bravo:\n"
	                    "    public_key: \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n"
	                    "    heartbeat: 10s\n    dead_after: 5s\n",
	                    "t.yaml:11: column 17: key 'peers.bravo.dead_after': must be longer "
	                    "than heartbeat\n");
	expect_sharer_error(SHARER_HEAD "listen: tcp://*:7701\npeers:\n  -bravo:\n"
	                                "    public_key_file: b.pub\n",
	                    "t.yaml:8: column 3: key 'peers.-bravo': not a party name (1..64 of "
	                    "A-Z a-z 0-9 _ . -, not starting with . or -)\n");
	expect_sharer_error(SHARER_HEAD "sensors:\n  edge1: {}\n",
	                    "t.yaml:7: column 3: key 'sensors': sensors are listed but "
	                    "'sensor_listen' is not set\n");
	expect_sharer_error(SHARER_HEAD "limits:\n  resend_min: 10m\n  resend_max: 5m\n",
	                    "t.yaml:7: column 15: key 'limits.resend_min': longer than "
	                    "limits.resend_max\n");

	/* A good peer with an inline key and per-peer defaults. */
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sharer_config c;
	const char *ok =
	        SHARER_HEAD "listen: tcp://*:7701\npeers:\n  bravo:\n"
	                    "    public_key: \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n"
	                    "limits: {max_message: 2MiB}\n";
	assert_int_equal(hl_sharer_config_parse("t.yaml", ok, strlen(ok), NULL, &c, &d), 0);
	assert_string_equal(c.peers[0].public_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
	assert_int_equal(c.peers[0].max_message, 2 * 1024 * 1024);
	assert_int_equal(c.peers[0].dead_after, 30000000);
	hl_sharer_config_free(&c);
}

static void test_errors_all_reported(void **state)
{
	(void)state;
	struct rec r;
	unsigned long errors;
	assert_int_equal(sharer_text("name: alpha\n"
	                             "store: 5\n"
	                             "agreement: [a]\n"
	                             "keys: {secret_key_file: k, extra: 1}\n"
	                             "log_level: loud\n",
	                             &r, &errors),
	                 HL_EINVAL);
	assert_int_equal(errors, 3);
	assert_string_equal(r.text,
	                    "t.yaml:3: column 12: key 'agreement': expected a string, got a list\n"
	                    "t.yaml:4: column 28: key 'keys.extra': unknown key\n"
	                    "t.yaml:5: column 12: key 'log_level': \"loud\" is not one of: error, "
	                    "warning, info, debug\n");
}

static void test_files(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sharer_config c;
	assert_int_equal(hl_sharer_config_load("/nonexistent/sharer.yaml", &c, &d), HL_EIO);
	assert_string_equal(r.text, "/nonexistent/sharer.yaml:0: cannot open: No such file or "
	                            "directory\n");
	d = rec_diag(&r);
	assert_int_equal(hl_sharer_config_load("/", &c, &d), HL_EIO);

	char path[] = "/tmp/hotline-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t big = HL_YAML_MAX_FILE + 10;
	char *junk = calloc(1, big);
	memset(junk, '\n', big);
	assert_int_equal(write(fd, junk, big), (ssize_t)big);
	close(fd);
	free(junk);
	d = rec_diag(&r);
	assert_int_equal(hl_sharer_config_load(path, &c, &d), HL_ELIMIT);
	unlink(path);
}

/* ---- sensor and agreement errors --------------------------------------- */

static void expect_sensor_error(const char *yaml, const char *want)
{
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sensor_config c;
	assert_int_equal(hl_sensor_config_parse("s.yaml", yaml, strlen(yaml), NULL, &c, &d),
	                 HL_EINVAL);
	unsigned long lines = 0;
	for (const char *p = want; *p != '\0'; p++)
		lines += *p == '\n';
	if (d.errors != lines || strcmp(r.text, want) != 0)
		fail_msg("got %lu error(s):\n%swanted:\n%s", d.errors, r.text, want);
}

static void test_sensor_config(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sensor_config c;
	const char *ok = "read: a.pcap\nrules: [x.jsonl, y.jsonl]\noutputs: [\"-\", out.jsonl]\n"
	                 "format: stix\npromisc: false\nstats_interval: 1m30s\n";
	assert_int_equal(hl_sensor_config_parse("s.yaml", ok, strlen(ok), "/d", &c, &d), 0);
	assert_int_equal(c.read.n, 1);
	assert_string_equal(c.read.v[0], "/d/a.pcap");
	assert_int_equal(c.rules.n, 2);
	assert_string_equal(c.rules.v[1], "/d/y.jsonl");
	assert_string_equal(c.outputs.v[0], "-");
	assert_string_equal(c.outputs.v[1], "/d/out.jsonl");
	assert_int_equal(c.format, HL_FMT_STIX);
	assert_false(c.promisc);
	assert_int_equal(c.stats_interval, 90000000);
	assert_int_equal(hl_sensor_config_check(&c, "s.yaml", &d), 0);
	hl_sensor_config_free(&c);

	/* Checks left for after the command line is merged. */
	const char *empty = "quiet: true\n";
	d = rec_diag(&r);
	assert_int_equal(hl_sensor_config_parse("s.yaml", empty, strlen(empty), NULL, &c, &d), 0);
	assert_int_equal(hl_sensor_config_check(&c, "s.yaml", &d), HL_EINVAL);
	assert_string_equal(r.text, "s.yaml:0: give either 'interface' or 'read'\n"
	                            "s.yaml:0: no indicators: give 'rules'\n");
	hl_sensor_config_free(&c);

	expect_sensor_error("interface: eth0\nread: a.pcap\n",
	                    "s.yaml:2: column 7: key 'read': give either interface or read, not "
	                    "both\n");
	expect_sensor_error("promisc: yes\n",
	                    "s.yaml:1: column 10: key 'promisc': expected true or false (YAML 1.1 "
	                    "spellings like yes/no/on/off are not accepted)\n");
	expect_sensor_error("format: yaml\n",
	                    "s.yaml:1: column 9: key 'format': unknown format (auto, native, list, "
	                    "stix, misp-csv, misp-json)\n");
	expect_sensor_error("home_net: [10.0.0.0/8, 10.0.0.1/8]\n",
	                    "s.yaml:1: column 24: key 'home_net[1]': not an address or network: "
	                    "host bits set beyond the prefix length\n");
	expect_sensor_error("rules: [a, a]\n",
	                    "s.yaml:1: column 12: key 'rules[1]': \"a\" is listed twice\n");
	expect_sensor_error(
	        "snaplen: 10\n",
	        "s.yaml:1: column 10: key 'snaplen': 10 is out of range (64..262144)\n");
	expect_sensor_error(
	        "sharer:\n  endpoint: tcp://sharer:7702\n",
	        "s.yaml:2: column 3: key 'sharer': a tcp:// endpoint needs exactly one "
	        "of server_key and server_key_file\n"
	        "s.yaml:2: column 3: key 'sharer.secret_key_file': missing (needed for a "
	        "tcp:// endpoint)\n");
}

#define SIZE_SYNTAX                                                                                \
	"expected a size: a number and an optional unit (B, kB, KiB, MB, MiB, GB, GiB, TB, TiB), " \
	"e.g. 64MiB"
#define DURATION_SYNTAX \
	"expected a duration: a number and a unit (us, ms, s, m, h, d), e.g. 250ms, 30s, 1h30m"

/* The keys of the deployment options that once were command line only:
 * each with a good value, the defaults when absent, a wrong type and the
 * ends of its range. */
static void test_sensor_config_deployment_keys(void **state)
{
	(void)state;
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_sensor_config c;
	const char *ok = "watch: true\n"
	                 "user: hotline\n"
	                 "frag_max: 16\n"
	                 "frag_memory: 64KiB\n"
	                 "frag_timeout: 250ms\n"
	                 "reorder_memory: 1TiB\n"
	                 "reorder_dir_bytes: 4KiB\n"
	                 "sharer:\n"
	                 "  endpoint: ipc:///run/a.sock\n"
	                 "  name: alpha\n"
	                 "  queue: 10000000\n"
	                 "  flush_timeout: 0\n"
	                 "  batch_bytes: 4KiB\n"
	                 "  set: pushed.jsonl\n";
	assert_int_equal(hl_sensor_config_parse("s.yaml", ok, strlen(ok), "/d", &c, &d), 0);
	assert_true(c.watch);
	assert_string_equal(c.user, "hotline");
	assert_int_equal(c.frag_max, 16);
	assert_int_equal(c.frag_memory, 65536);
	assert_int_equal(c.frag_timeout, 250000);
	assert_int_equal(c.reorder_memory, 1ULL << 40);
	assert_int_equal(c.reorder_dir_bytes, 4096);
	assert_string_equal(c.sharer.name, "alpha");
	assert_int_equal(c.sharer.queue, 10000000);
	assert_int_equal(c.sharer.flush_timeout, 0); /* a value: do not wait */
	assert_int_equal(c.sharer.batch_bytes, 4096);
	assert_string_equal(c.sharer.set, "/d/pushed.jsonl");
	assert_int_equal(d.errors, 0);
	hl_sensor_config_free(&c);

	/* Absent: "not given", so that the options keep their defaults. */
	const char *none = "quiet: true\n";
	assert_int_equal(hl_sensor_config_parse("s.yaml", none, strlen(none), "/d", &c, &d), 0);
	assert_false(c.watch);
	assert_null(c.user);
	assert_int_equal(c.frag_max, 0);
	assert_int_equal(c.frag_memory, 0);
	assert_int_equal(c.frag_timeout, 0);
	assert_int_equal(c.reorder_memory, 0);
	assert_int_equal(c.reorder_dir_bytes, 0);
	assert_null(c.sharer.name);
	assert_int_equal(c.sharer.queue, 0);
	assert_int_equal(c.sharer.flush_timeout, -1);
	assert_int_equal(c.sharer.batch_bytes, 0);
	assert_null(c.sharer.set);
	hl_sensor_config_free(&c);

	/* The sharer's settings without its endpoint: the endpoint may come
	 * from --sharer. */
	const char *no_ep = "sharer:\n  name: alpha\n  queue: 5\n";
	assert_int_equal(hl_sensor_config_parse("s.yaml", no_ep, strlen(no_ep), NULL, &c, &d), 0);
	assert_null(c.sharer.endpoint);
	assert_int_equal(c.sharer.queue, 5);
	hl_sensor_config_free(&c);

	/* Wrong types. */
	expect_sensor_error("watch: 1\n"
	                    "user: [a]\n"
	                    "frag_max: \"64\"\n"
	                    "frag_memory: lots\n"
	                    "frag_timeout: 30\n"
	                    "reorder_memory: true\n"
	                    "reorder_dir_bytes: {a: 1}\n",
	                    "s.yaml:1: column 8: key 'watch': expected true or false\n"
	                    "s.yaml:2: column 7: key 'user': expected a string, got a list\n"
	                    "s.yaml:3: column 11: key 'frag_max': expected an integer, got a "
	                    "quoted string\n"
	                    "s.yaml:4: column 14: key 'frag_memory': " SIZE_SYNTAX "\n"
	                    "s.yaml:5: column 15: key 'frag_timeout': " DURATION_SYNTAX "\n"
	                    "s.yaml:6: column 17: key 'reorder_memory': " SIZE_SYNTAX "\n"
	                    "s.yaml:7: column 20: key 'reorder_dir_bytes': expected a size, got "
	                    "a mapping\n");
	expect_sensor_error("sharer:\n"
	                    "  name: {a: 1}\n"
	                    "  queue: many\n"
	                    "  flush_timeout: 5\n"
	                    "  set: [a, b]\n"
	                    "  batch_bytes: big\n",
	                    "s.yaml:2: column 9: key 'sharer.name': expected a string, got a "
	                    "mapping\n"
	                    "s.yaml:3: column 10: key 'sharer.queue': expected an integer\n"
	                    "s.yaml:4: column 18: key 'sharer.flush_timeout': " DURATION_SYNTAX "\n"
	                    "s.yaml:5: column 8: key 'sharer.set': expected a string, got a "
	                    "list\n"
	                    "s.yaml:6: column 16: key 'sharer.batch_bytes': " SIZE_SYNTAX "\n");
	/* Bad strings. */
	expect_sensor_error("user: \"a\\nb\"\nsharer:\n  name: \"-alpha\"\n",
	                    "s.yaml:1: column 7: key 'user': contains a control character\n"
	                    "s.yaml:3: column 9: key 'sharer.name': not a party name (1..64 of A-Z "
	                    "a-z 0-9 _ . -, "
	                    "not starting with . or -)\n");
	/* Below and above each range. */
	expect_sensor_error(
	        "frag_max: 15\n"
	        "frag_memory: 65535\n"
	        "frag_timeout: 0\n"
	        "reorder_memory: 65535\n"
	        "reorder_dir_bytes: 4095\n"
	        "sharer:\n"
	        "  queue: 0\n"
	        "  flush_timeout: 1h1s\n"
	        "  batch_bytes: 4095\n",
	        "s.yaml:1: column 11: key 'frag_max': 15 is out of range (16..16777216)\n"
	        "s.yaml:2: column 14: key 'frag_memory': 65535 is out of range "
	        "(65536..1099511627776 bytes)\n"
	        "s.yaml:3: column 15: key 'frag_timeout': 0 is out of range (1us..1h)\n"
	        "s.yaml:4: column 17: key 'reorder_memory': 65535 is out of range "
	        "(65536..1099511627776 bytes)\n"
	        "s.yaml:5: column 20: key 'reorder_dir_bytes': 4095 is out of range "
	        "(4096..4294967295 bytes)\n"
	        "s.yaml:7: column 10: key 'sharer.queue': 0 is out of range "
	        "(1..10000000)\n"
	        "s.yaml:8: column 18: key 'sharer.flush_timeout': 1h1s is out of range "
	        "(0..1h)\n"
	        "s.yaml:9: column 16: key 'sharer.batch_bytes': 4095 is out of range "
	        "(4096..67108864 bytes)\n");
	expect_sensor_error("frag_max: 16777217\n"
	                    "frag_memory: 1025GiB\n"
	                    "frag_timeout: 1h1us\n"
	                    "reorder_memory: 2TiB\n"
	                    "reorder_dir_bytes: 4GiB\n"
	                    "sharer:\n"
	                    "  queue: 10000001\n"
	                    "  batch_bytes: 65MiB\n",
	                    "s.yaml:1: column 11: key 'frag_max': 16777217 is out of range "
	                    "(16..16777216)\n"
	                    "s.yaml:2: column 14: key 'frag_memory': 1025GiB is out of range "
	                    "(65536..1099511627776 bytes)\n"
	                    "s.yaml:3: column 15: key 'frag_timeout': 1h1us is out of range "
	                    "(1us..1h)\n"
	                    "s.yaml:4: column 17: key 'reorder_memory': 2TiB is out of range "
	                    "(65536..1099511627776 bytes)\n"
	                    "s.yaml:5: column 20: key 'reorder_dir_bytes': 4GiB is out of range "
	                    "(4096..4294967295 bytes)\n"
	                    "s.yaml:7: column 10: key 'sharer.queue': 10000001 is out of range "
	                    "(1..10000000)\n"
	                    "s.yaml:8: column 16: key 'sharer.batch_bytes': 65MiB is out of range "
	                    "(4096..67108864 bytes)\n");
	/* Misspelt: the near miss is suggested. */
	expect_sensor_error("wacth: true\nsharer:\n  flush_timeot: 1s\n",
	                    "s.yaml:1: column 1: key 'wacth': unknown key (did you mean 'watch'?)\n"
	                    "s.yaml:3: column 3: key 'sharer.flush_timeot': unknown key (did you "
	                    "mean 'flush_timeout'?)\n");
}

static const char agreement_base[] = "parties: [alpha, bravo]\n"
                                     "tlp_ceiling: green\n"
                                     "share:\n"
                                     "  indicator_fields: [id, type, value, tlp]\n"
                                     "  sighting_fields: [first_seen, last_seen, count, "
                                     "indicator, match]\n"
                                     "requests:\n"
                                     "  acknowledge_within: 1h\n"
                                     "  respond_within: {low: 5d, normal: 2d, high: 1d, "
                                     "critical: 2h}\n"
                                     "hotline: {ack_timeout: 10m, retry_interval: 1m}\n";

static void expect_agreement(const char *extra, const char *replace_from, const char *replace_to,
                             const char *want)
{
	char text[4096];
	const char *base = agreement_base;
	char swapped[2048];
	if (replace_from != NULL) {
		const char *at = strstr(base, replace_from);
		assert_non_null(at);
		snprintf(swapped, sizeof swapped, "%.*s%s%s", (int)(at - base), base, replace_to,
		         at + strlen(replace_from));
		base = swapped;
	}
	snprintf(text, sizeof text, "%s%s", base, extra);
	struct rec r;
	struct hl_diag d = rec_diag(&r);
	struct hl_agreement a;
	int rc = hl_agreement_parse("a.yaml", text, strlen(text), NULL, &a, &d);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("%s", r.text);
		assert_int_equal(a.tlp_ceiling, HL_TLP_GREEN);
		hl_agreement_free(&a);
		return;
	}
	assert_int_equal(rc, HL_EINVAL);
	if (strcmp(r.text, want) != 0)
		fail_msg("got:\n%swanted:\n%s", r.text, want);
}

static void test_agreement_errors(void **state)
{
	(void)state;
	expect_agreement("", NULL, NULL, NULL);
	expect_agreement("", "[alpha, bravo]", "[alpha]",
	                 "a.yaml:1: column 10: key 'parties': an agreement needs at least two "
	                 "parties\n");
	expect_agreement("", "tlp_ceiling: green", "tlp_ceiling: white",
	                 "a.yaml:2: column 14: key 'tlp_ceiling': \"white\" is not one of: clear, "
	                 "green, amber, amber+strict, red\n");
	expect_agreement("", "[id, type, value, tlp]", "[id, type, value]",
	                 "a.yaml:4: column 21: key 'share.indicator_fields': must include \"tlp\" "
	                 "(every indicator on the wire has it)\n");
	expect_agreement("", "[id, type, value, tlp]", "[id, type, value, tlp, colour]",
	                 "a.yaml:4: column 44: key 'share.indicator_fields[4]': \"colour\" is not "
	                 "an indicator field (see docs/configuration.md)\n");
	expect_agreement("", "indicator, match]", "indicator.id, indicator.type, match]",
	                 "a.yaml:5: column 20: key 'share.sighting_fields': must include "
	                 "\"indicator.value\" (every sighting on the wire has it)\n");
	expect_agreement("", "indicator, match]", "indicator, match, evidence.sha256]",
	                 "a.yaml:5: column 20: key 'share.sighting_fields': lists "
	                 "\"evidence.sha256\" but evidence is not shared (evidence: false)\n");
	expect_agreement("evidence: true\n", "indicator, match]", "indicator, match, evidence]",
	                 NULL);
	expect_agreement("home_networks: [10.0.0.0/8]\n", NULL, NULL,
	                 "a.yaml:10: column 16: key 'pseudonym_key_file': missing "
	                 "(home_networks are pseudonymised with a keyed hash)\n");
	expect_agreement("home_networks: [10.0.0.0/8]\npseudonym_key_file: k\n", NULL, NULL, NULL);
	expect_agreement("", "high: 1d", "high: 3d",
	                 "a.yaml:8: column 47: key 'requests.respond_within.high': longer than for "
	                 "'normal': a higher priority must not wait longer\n");
	expect_agreement("", "acknowledge_within: 1h", "acknowledge_within: 3h",
	                 "a.yaml:7: column 23: key 'requests.acknowledge_within': longer than "
	                 "respond_within.critical: acknowledge before answering\n");
	expect_agreement("", "retry_interval: 1m", "retry_interval: 20m",
	                 "a.yaml:9: column 45: key 'hotline.retry_interval': longer than "
	                 "hotline.ack_timeout\n");
	expect_agreement("", "critical: 2h}", "}",
	                 "a.yaml:8: column 19: key 'requests.respond_within.critical': missing\n");
}

/* ---- scalar syntax ------------------------------------------------------- */

static void test_scalars(void **state)
{
	(void)state;
	int64_t v;
	uint64_t u;
	bool b;
	char why[256];
	assert_int_equal(hl_yaml_parse_duration("250ms", &v, why, sizeof why), 0);
	assert_int_equal(v, 250000);
	assert_int_equal(hl_yaml_parse_duration("1h30m", &v, why, sizeof why), 0);
	assert_int_equal(v, 5400LL * 1000000);
	assert_int_equal(hl_yaml_parse_duration("2d", &v, why, sizeof why), 0);
	assert_int_equal(v, 172800LL * 1000000);
	assert_int_equal(hl_yaml_parse_duration("15us", &v, why, sizeof why), 0);
	assert_int_equal(v, 15);
	assert_int_equal(hl_yaml_parse_duration("0", &v, why, sizeof why), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hl_yaml_parse_duration("1.5s", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_duration("-1s", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_duration("5x", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_duration("", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_duration("99999999999999999999d", &v, why, sizeof why),
	                 HL_ERANGE);
	assert_int_equal(hl_yaml_parse_duration("200000000d", &v, why, sizeof why), HL_ERANGE);
	char buf[32];
	assert_int_equal(hl_yaml_format_duration(5400LL * 1000000 + 250000, buf, sizeof buf), 0);
	assert_string_equal(buf, "1h30m250ms");

	assert_int_equal(hl_yaml_parse_size("64MiB", &u, why, sizeof why), 0);
	assert_int_equal(u, 64ULL << 20);
	assert_int_equal(hl_yaml_parse_size("10kB", &u, why, sizeof why), 0);
	assert_int_equal(u, 10000);
	assert_int_equal(hl_yaml_parse_size("4096", &u, why, sizeof why), 0);
	assert_int_equal(u, 4096);
	assert_int_equal(hl_yaml_parse_size("1KB", &u, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_size("1MiBs", &u, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_size("20000000TiB", &u, why, sizeof why), HL_ERANGE);

	assert_int_equal(hl_yaml_parse_int("-42", &v, why, sizeof why), 0);
	assert_int_equal(v, -42);
	assert_int_equal(hl_yaml_parse_int("9223372036854775807", &v, why, sizeof why), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(hl_yaml_parse_int("-9223372036854775808", &v, why, sizeof why), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(hl_yaml_parse_int("9223372036854775808", &v, why, sizeof why), HL_ERANGE);
	assert_int_equal(hl_yaml_parse_int("010", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_int("0", &v, why, sizeof why), 0);
	assert_int_equal(hl_yaml_parse_int("1e3", &v, why, sizeof why), HL_EINVAL);
	assert_int_equal(hl_yaml_parse_int("", &v, why, sizeof why), HL_EINVAL);

	assert_int_equal(hl_yaml_parse_bool("True", &b, why, sizeof why), 0);
	assert_true(b);
	assert_int_equal(hl_yaml_parse_bool("off", &b, why, sizeof why), HL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_example_sharer),
	        cmocka_unit_test(test_example_bravo),
	        cmocka_unit_test(test_example_sensor),
	        cmocka_unit_test(test_example_agreement),
	        cmocka_unit_test(test_minimal_sharer),
	        cmocka_unit_test(test_error_types),
	        cmocka_unit_test(test_error_missing_and_unknown),
	        cmocka_unit_test(test_error_hostile_yaml),
	        cmocka_unit_test(test_error_cross_checks),
	        cmocka_unit_test(test_errors_all_reported),
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_sensor_config),
	        cmocka_unit_test(test_sensor_config_deployment_keys),
	        cmocka_unit_test(test_agreement_errors),
	        cmocka_unit_test(test_scalars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
