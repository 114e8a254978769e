/* \summary: hotline-ctl: talk to a running sharer over its control socket
 *
 * Usage: hotline-ctl (--socket PATH | --config FILE) COMMAND ...
 * See docs/hotline-ctl.md.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "ctl_int.h"
#include "hotline/err.h"
#include "hotline/timefmt.h"

#define DEFAULT_TIMEOUT_MS 5000

static void usage(FILE *out)
{
	fputs("usage: hotline-ctl (--socket PATH | --config FILE) [--timeout MS] COMMAND\n"
	      "\n"
	      "commands:\n"
	      "  status [--json]                        counters of the running sharer\n"
	      "  peers [--json]                         each peer's connection and queue\n"
	      "  sightings list [--since TIME] [--limit N] [--by received|first_seen] [--json]\n"
	      "                                         stored sightings, oldest first\n"
	      "  audit verify                           check the audit log's hash chain\n"
	      "  indicators list [--status active|quarantined|retracted|all] [--json]\n"
	      "                                         the local indicator set\n"
	      "  indicators list --peer NAME [--status active|retracted|all] [--json]\n"
	      "                                         what peer NAME's set holds, as received\n"
	      "  indicators add FILE [--format F] [--source S] [--tlp T]\n"
	      "                                         add (or update) a file's indicators\n"
	      "  indicators retract ID...               take indicators out of the set\n"
	      "\n"
	      "  -s, --socket PATH   the sharer's control socket\n"
	      "  -c, --config FILE   read the socket path from the sharer's config\n"
	      "  -t, --timeout MS    wait this long for an answer (5000)\n"
	      "\n"
	      "Exit: 0 done, 1 failed (no answer, an error, a broken audit chain), 2 usage.\n",
	      out);
}

static int socket_from_config(struct ctl *c, const char *path)
{
	struct hl_diag diag = {.emit = hl_diag_emit_stream, .ctx = stderr};
	struct hl_sharer_config cfg;
	if (hl_sharer_config_load(path, &cfg, &diag) != 0)
		return EXIT_FAIL;
	int rc = 0;
	if (cfg.control == NULL) {
		fprintf(stderr, "hotline-ctl: %s sets no control socket\n", path);
		rc = EXIT_FAIL;
	} else {
		snprintf(c->socket_buf, sizeof c->socket_buf, "%s", cfg.control);
		c->socket = c->socket_buf;
	}
	hl_sharer_config_free(&cfg);
	return rc;
}

/* Send req (stolen) and get an "ok" reply, or print why not. */
json_t *ctl_call(const struct ctl *c, json_t *req)
{
	json_t *rep = NULL;
	int rc = hl_control_call(c->socket, req, c->timeout_ms, &rep);
	json_decref(req);
	if (rc == HL_EAGAIN) {
		fprintf(stderr, "hotline-ctl: no answer from %s within %d ms\n", c->socket,
		        c->timeout_ms);
		return NULL;
	}
	if (rc != 0) {
		fprintf(stderr, "hotline-ctl: %s: %s\n", c->socket, hl_strerror(rc));
		return NULL;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *e = json_string_value(json_object_get(rep, "error"));
		fprintf(stderr, "hotline-ctl: %s\n", e ? e : "request failed");
		json_decref(rep);
		return NULL;
	}
	return rep;
}

void ctl_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL)
		puts(s);
	free(s);
}

static json_int_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *gets_(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "-";
}

static int cmd_status(const struct ctl *c)
{
	json_t *r = ctl_call(c, json_pack("{s:s}", "cmd", "status"));
	if (r == NULL)
		return EXIT_FAIL;
	if (c->json) {
		ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	const json_t *x = json_object_get(r, "exchange");
	const json_t *z = json_object_get(r, "zap");
	const json_t *l = json_object_get(r, "listener");
	printf("name:          %s\n", gets_(r, "name"));
	printf("started:       %s (up %lld s)\n", gets_(r, "started_at"),
	       (long long)geti(r, "uptime_s"));
	printf("sightings:     %lld stored (%lld local, %lld from peers this run)\n",
	       (long long)geti(r, "sightings"), (long long)geti(x, "sightings_local"),
	       (long long)geti(x, "sightings_peer"));
	printf("outbox:        %lld pending\n", (long long)geti(r, "outbox_depth"));
	const json_t *ind = json_object_get(r, "indicators");
	if (ind != NULL)
		printf("indicators:    %lld active, set version %lld; %lld active in peers' sets\n",
		       (long long)geti(ind, "active"), (long long)geti(ind, "set_version"),
		       (long long)geti(ind, "peer_active"));
	const json_t *ip = json_object_get(r, "indicator_push");
	if (ip != NULL) {
		printf("to sensors:    %lld sets pushed in %lld parts (%lld acked, %lld refused), "
		       "%lld resent, %lld failed; %lld sensor hellos\n",
		       (long long)geti(ip, "pushes"), (long long)geti(ip, "push_parts"),
		       (long long)geti(ip, "push_acked"), (long long)geti(ip, "push_nacked"),
		       (long long)geti(ip, "push_resent"), (long long)geti(ip, "push_failed"),
		       (long long)geti(ip, "sensor_hellos"));
		printf("peer sets:     %lld messages stored (%lld indicators, %lld retracted), "
		       "%lld refused\n",
		       (long long)geti(ip, "peer_messages"), (long long)geti(ip, "peer_stored"),
		       (long long)geti(ip, "peer_retracted"), (long long)geti(ip, "peer_refused"));
	}
	printf("messages:      %lld received, %lld duplicates, %lld sent, %lld resent\n",
	       (long long)geti(x, "received"), (long long)geti(x, "duplicates"),
	       (long long)geti(x, "sent"), (long long)geti(x, "resent"));
	printf("acks:          %lld sent, %lld received; nacks %lld sent, %lld received\n",
	       (long long)geti(x, "acks_sent"), (long long)geti(x, "acks_received"),
	       (long long)geti(x, "nacks_sent"), (long long)geti(x, "nacks_received"));
	printf("refused:       %lld", (long long)geti(x, "rejected_total"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(x, "rejected"), k, v)
	{
		if (json_integer_value(v) > 0)
			printf(", %s %lld", k, (long long)json_integer_value(v));
	}
	printf("; from-mismatch %lld, to-mismatch %lld\n", (long long)geti(x, "from_mismatch"),
	       (long long)geti(x, "to_mismatch"));
	printf("handshakes:    %lld refused by key (ZAP), %lld failed protocol (e.g. plaintext), "
	       "%lld failed otherwise\n",
	       (long long)geti(z, "refused"), (long long)geti(l, "handshakes_failed_protocol"),
	       (long long)geti(l, "handshakes_failed_other"));
	json_decref(r);
	return 0;
}

static int cmd_peers(const struct ctl *c)
{
	json_t *r = ctl_call(c, json_pack("{s:s}", "cmd", "peers"));
	if (r == NULL)
		return EXIT_FAIL;
	if (c->json) {
		ctl_print_json(r);
		json_decref(r);
		return 0;
	}
	size_t i;
	json_t *p;
	printf("%-16s %-10s %8s %8s %8s %8s  %s\n", "PEER", "STATE", "OUTBOX", "SENT", "ACKED",
	       "RECEIVED", "LAST RECEIVED");
	json_array_foreach(json_object_get(r, "peers"), i, p)
	{
		printf("%-16s %-10s %8lld %8lld %8lld %8lld  %s\n", gets_(p, "name"),
		       gets_(p, "state"), (long long)geti(p, "outbox_depth"),
		       (long long)geti(p, "sent"), (long long)geti(p, "acked"),
		       (long long)geti(p, "received"), gets_(p, "last_received"));
	}
	json_decref(r);
	return 0;
}

static int cmd_sightings(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"since", required_argument, NULL, 's'},
	        {"limit", required_argument, NULL, 'n'},
	        {"by", required_argument, NULL, 'b'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		fputs("hotline-ctl: sightings list [--since TIME] [--limit N] [--json]\n", stderr);
		return EXIT_USAGE;
	}
	json_t *req = json_pack("{s:s,s:i}", "cmd", "sightings", "limit", 0);
	int o;
	optind = 2;
	while ((o = getopt_long(argc, argv, "s:n:b:j", longopts, NULL)) != -1) {
		int64_t us;
		char *end;
		long long n;
		switch (o) {
		case 's':
			if (hl_time_parse(optarg, &us) != 0) {
				fprintf(stderr, "hotline-ctl: --since %s: not an RFC 3339 time\n",
				        optarg);
				json_decref(req);
				return EXIT_USAGE;
			}
			json_object_set_new(req, "since", json_integer(us));
			break;
		case 'n':
			n = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0) {
				fprintf(stderr, "hotline-ctl: --limit %s: not a count\n", optarg);
				json_decref(req);
				return EXIT_USAGE;
			}
			json_object_set_new(req, "limit", json_integer(n));
			break;
		case 'b':
			json_object_set_new(req, "by", json_string(optarg));
			break;
		case 'j':
			c->json = true;
			break;
		default:
			json_decref(req);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		json_decref(req);
		fprintf(stderr, "hotline-ctl: sightings list: unexpected \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	json_t *r = ctl_call(c, req);
	if (r == NULL)
		return EXIT_FAIL;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "sightings"), i, s)
	{
		if (c->json) {
			char *line = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (line != NULL)
				puts(line);
			free(line);
		} else {
			printf("%s  %-14s %-24s %s\n", gets_(s, "received_at"), gets_(s, "origin"),
			       gets_(s, "indicator_id"), gets_(s, "id"));
		}
	}
	if (json_is_true(json_object_get(r, "more")))
		fprintf(stderr,
		        "hotline-ctl: more sightings than one answer holds (%lld); "
		        "use --since to page\n",
		        (long long)geti(r, "count"));
	json_decref(r);
	return 0;
}

static int cmd_audit(const struct ctl *c, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		fputs("hotline-ctl: audit verify\n", stderr);
		return EXIT_USAGE;
	}
	json_t *r = ctl_call(c, json_pack("{s:s}", "cmd", "audit-verify"));
	if (r == NULL)
		return EXIT_FAIL;
	int rc = 0;
	if (c->json)
		ctl_print_json(r);
	if (json_is_true(json_object_get(r, "intact"))) {
		if (!c->json)
			printf("audit: OK, %lld rows, head %s\n", (long long)geti(r, "rows"),
			       gets_(r, "head"));
	} else {
		if (!c->json)
			printf("audit: BROKEN at row %lld: %s\n", (long long)geti(r, "first_bad"),
			       gets_(r, "reason"));
		rc = EXIT_FAIL;
	}
	json_decref(r);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"socket", required_argument, NULL, 's'},  {"config", required_argument, NULL, 'c'},
	        {"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct ctl c = {.timeout_ms = DEFAULT_TIMEOUT_MS};
	const char *config = NULL;
	int o;
	/* "+": options end at the command, whose own options follow it. */
	while ((o = getopt_long(argc, argv, "+s:c:t:jh", longopts, NULL)) != -1) {
		switch (o) {
		case 's':
			c.socket = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 't':
			c.timeout_ms = atoi(optarg);
			if (c.timeout_ms <= 0) {
				fprintf(stderr, "hotline-ctl: --timeout %s: not a positive count\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || (c.socket == NULL) == (config == NULL)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (config != NULL && socket_from_config(&c, config) != 0)
		return EXIT_FAIL;
	int sub_argc = argc - optind;
	char **sub = argv + optind;
	for (int i = 1; i < sub_argc; i++)
		if (strcmp(sub[i], "--json") == 0 && strcmp(sub[0], "sightings") != 0 &&
		    strcmp(sub[0], "indicators") != 0)
			c.json = true;
	if (strcmp(sub[0], "status") == 0)
		return cmd_status(&c);
	if (strcmp(sub[0], "peers") == 0)
		return cmd_peers(&c);
	if (strcmp(sub[0], "sightings") == 0)
		return cmd_sightings(&c, sub_argc, sub);
	if (strcmp(sub[0], "indicators") == 0)
		return ctl_indicators(&c, sub_argc, sub);
	if (strcmp(sub[0], "audit") == 0) {
		int n = sub_argc;
		if (n > 0 && strcmp(sub[n - 1], "--json") == 0)
			n--;
		return cmd_audit(&c, n, sub);
	}
	fprintf(stderr, "hotline-ctl: unknown command \"%s\"\n", sub[0]);
	usage(stderr);
	return EXIT_USAGE;
}
