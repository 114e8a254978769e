/* \summary: hotline-ctl indicators list|add|retract (docs/hotline-ctl.md)
 *
 * "add" reads the file here, with the rules library, in any format it
 * knows: a bad record is reported as FILE:LINE and nothing is sent, so a
 * file is stored whole or not at all. What is sent is each indicator's
 * canonical native object; the sharer reads those again.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl_int.h"
#include "hotline/err.h"
#include "hotline/export.h"
#include "hotline/iset.h"
#include "hotline/parse.h"

static const char USAGE[] =
        "hotline-ctl: indicators list [--status active|quarantined|retracted|all] [--json]\n"
        "             indicators list --peer NAME [--status active|retracted|all] [--json]\n"
        "             indicators add FILE [--format F] [--source S] [--tlp T]\n"
        "             indicators retract ID...\n";

static json_int_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *gets_(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "-";
}

static void print_version(const json_t *r)
{
	if (geti(r, "set_version") == 0)
		printf("set version: none yet\n");
	else
		printf("set version: %lld (%lld active), hash %s\n",
		       (long long)geti(r, "set_version"), (long long)geti(r, "count"),
		       gets_(r, "set_hash"));
}

static void print_lines(const json_t *list)
{
	size_t i;
	json_t *ind;
	json_array_foreach(list, i, ind)
	{
		char *line = json_dumps(ind, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (line != NULL)
			puts(line);
		free(line);
	}
}

/* What peer's set holds, as we received it: its version, not ours. */
static int list_peer(struct ctl *c, const char *peer, const char *status)
{
	json_t *req = json_pack("{s:s,s:s}", "cmd", "indicators-list", "peer", peer);
	if (req != NULL && status != NULL)
		json_object_set_new(req, "status", json_string(status));
	json_t *r = ctl_call(c, req);
	if (r == NULL)
		return EXIT_FAIL;
	const json_t *list = json_object_get(r, "indicators");
	if (c->json) {
		print_lines(list);
		json_decref(r);
		return 0;
	}
	printf("peer %s%s: %lld active, %lld retracted; %zu listed (%s)\n", gets_(r, "peer"),
	       json_is_true(json_object_get(r, "configured")) ? "" : " (not configured)",
	       (long long)geti(r, "active"), (long long)geti(r, "retracted"), json_array_size(list),
	       status != NULL ? status : "active");
	printf("%-38s %-7s %-11s %-9s %7s  %-27s  %s\n", "ID", "TYPE", "TLP", "STATUS", "VERSION",
	       "RECEIVED", "VALUE");
	size_t i;
	json_t *ind;
	json_array_foreach(list, i, ind)
	{
		printf("%-38s %-7s %-11s %-9s %7lld  %-27s  %s\n", gets_(ind, "id"),
		       gets_(ind, "type"), gets_(ind, "tlp"), gets_(ind, "status"),
		       (long long)geti(ind, "set_version"), gets_(ind, "updated_at"),
		       gets_(ind, "value"));
	}
	json_decref(r);
	return 0;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"status", required_argument, NULL, 's'},
	        {"peer", required_argument, NULL, 'p'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	const char *status = NULL, *peer = NULL;
	int o;
	/* From "list" on, with getopt reset (main's "+" would stop at the
	 * first operand). */
	argc--, argv++;
	optind = 0;
	while ((o = getopt_long(argc, argv, "s:p:j", longopts, NULL)) != -1) {
		if (o == 's')
			status = optarg;
		else if (o == 'p')
			peer = optarg;
		else if (o == 'j')
			c->json = true;
		else
			return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "hotline-ctl: indicators list: unexpected \"%s\"\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (peer != NULL)
		return list_peer(c, peer, status);
	if (status == NULL)
		status = "active";
	json_t *r = ctl_call(c, json_pack("{s:s,s:s}", "cmd", "indicators-list", "status", status));
	if (r == NULL)
		return EXIT_FAIL;
	const json_t *list = json_object_get(r, "indicators");
	if (c->json) {
		print_lines(list);
		json_decref(r);
		return 0;
	}
	printf("set version: %lld, hash %s; %zu listed (%s)\n", (long long)geti(r, "set_version"),
	       gets_(r, "set_hash"), json_array_size(list), status);
	printf("%-38s %-7s %-11s %-9s %7s  %s\n", "ID", "TYPE", "TLP", "STATUS", "VERSION",
	       "VALUE");
	size_t i;
	json_t *ind;
	json_array_foreach(list, i, ind)
	{
		printf("%-38s %-7s %-11s %-9s %7lld  %s\n", gets_(ind, "id"), gets_(ind, "type"),
		       gets_(ind, "tlp"), gets_(ind, "status"), (long long)geti(ind, "set_version"),
		       gets_(ind, "value"));
	}
	json_decref(r);
	return 0;
}

/* The file's indicators as canonical native objects; NULL with the reason
 * printed (FILE:LINE for each bad record). */
static json_t *read_file(const char *path, const struct hl_parse_opts *po)
{
	hl_iset_t *set = hl_iset_new();
	struct hl_diag diag = {.emit = hl_diag_emit_stream, .ctx = stderr};
	int rc = set != NULL ? hl_parse_file(path, po, set, &diag) : HL_ENOMEM;
	json_t *arr = NULL;
	if (rc != 0) {
		fprintf(stderr, "hotline-ctl: %s: %s; nothing stored\n", path, hl_strerror(rc));
	} else if (diag.errors > 0) {
		fprintf(stderr, "hotline-ctl: %s: %lu bad record(s); nothing stored\n", path,
		        diag.errors);
	} else if (hl_iset_count(set) == 0) {
		fprintf(stderr, "hotline-ctl: %s: no indicators; nothing stored\n", path);
	} else {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < hl_iset_count(set); i++) {
			char *line = hl_indicator_to_native(hl_iset_at(set, i));
			json_t *obj = line != NULL ? json_loads(line, 0, NULL) : NULL;
			free(line);
			if (obj == NULL || json_array_append_new(arr, obj) != 0) {
				fprintf(stderr, "hotline-ctl: out of memory\n");
				json_decref(arr);
				arr = NULL;
			}
		}
	}
	hl_iset_destroy(&set);
	return arr;
}

static int cmd_add(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"format", required_argument, NULL, 'f'},
	        {"source", required_argument, NULL, 's'},
	        {"tlp", required_argument, NULL, 't'},
	        {"json", no_argument, NULL, 'j'},
	        {NULL, 0, NULL, 0},
	};
	struct hl_parse_opts po;
	hl_parse_opts_init(&po);
	int o;
	argc--, argv++; /* as in cmd_list */
	optind = 0;
	while ((o = getopt_long(argc, argv, "f:s:t:j", longopts, NULL)) != -1) {
		if (o == 'j') {
			c->json = true;
			continue;
		}
		if (o == 'f' && hl_format_parse(optarg, &po.format) == 0)
			continue;
		if (o == 's') {
			po.default_source = optarg;
			continue;
		}
		if (o == 't' && hl_tlp_parse(optarg, &po.default_tlp) == 0)
			continue;
		if (o == 'f' || o == 't')
			fprintf(stderr, "hotline-ctl: --%s %s: not known\n",
			        o == 'f' ? "format" : "tlp", optarg);
		return EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	json_t *arr = read_file(path, &po);
	if (arr == NULL)
		return EXIT_FAIL;
	json_t *req = json_pack("{s:s,s:o}", "cmd", "indicators-add", "indicators", arr);
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	size_t len = text != NULL ? strlen(text) : 0;
	free(text);
	if (len == 0 || len > HL_CONTROL_REQUEST_MAX) {
		fprintf(stderr,
		        "hotline-ctl: %s: too large for one request (%zu bytes, at most %d); "
		        "split the file\n",
		        path, len, HL_CONTROL_REQUEST_MAX);
		json_decref(req);
		return EXIT_FAIL;
	}
	json_t *r = ctl_call(c, req);
	if (r == NULL)
		return EXIT_FAIL;
	if (c->json) {
		ctl_print_json(r);
	} else {
		printf("%s: %lld added, %lld updated, %lld unchanged\n", path,
		       (long long)geti(r, "added"), (long long)geti(r, "updated"),
		       (long long)geti(r, "unchanged"));
		print_version(r);
	}
	json_decref(r);
	return 0;
}

static int cmd_retract(struct ctl *c, int argc, char **argv)
{
	if (argc < 3) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	json_t *ids = json_array();
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") != 0)
			json_array_append_new(ids, json_string(argv[i]));
	json_t *r = ctl_call(c, json_pack("{s:s,s:o}", "cmd", "indicators-retract", "ids", ids));
	if (r == NULL)
		return EXIT_FAIL;
	if (c->json) {
		ctl_print_json(r);
	} else {
		printf("%lld retracted, %lld already retracted\n", (long long)geti(r, "retracted"),
		       (long long)geti(r, "unchanged"));
		print_version(r);
	}
	json_decref(r);
	return 0;
}

int ctl_indicators(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_add(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "retract") == 0) {
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--json") == 0)
				c->json = true;
		return cmd_retract(c, argc, argv);
	}
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}
