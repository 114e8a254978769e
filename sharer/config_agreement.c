/* \summary: the sharing agreement (configs/agreement.yaml)
 *
 * What the two parties agreed, as the sanitiser and the request and
 * hotline workflows read it. Beyond each key's own type, the file must be
 * coherent: it must let through what the wire requires in every message
 * (an agreement that strips indicator.id would make every sighting a
 * rejected message), deadlines must shrink as priority grows, evidence
 * fields only with evidence on, and home networks need a pseudonym key.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "hotline/err.h"
#include "yaml_int.h"

const char *const hl_agreement_indicator_fields[] = {
        "id",          "type",   "value",  "tlp",  "confidence",  "severity", "valid_from",
        "valid_until", "nocase", "source", "tags", "description", NULL,
};

/* The sighting record's keys (sensor/sighting.h), whole objects or one of
 * their members. evidence.path is not here: a local path never leaves. */
const char *const hl_agreement_sighting_fields[] = {
        "first_seen",
        "last_seen",
        "count",
        "final",
        "sensor",
        "indicator",
        "indicator.id",
        "indicator.type",
        "indicator.value",
        "indicator.source",
        "indicator.tlp",
        "match",
        "match.field",
        "match.value",
        "match.offset",
        "flow",
        "flow.proto",
        "flow.src_ip",
        "flow.src_port",
        "flow.dst_ip",
        "flow.dst_port",
        "flow.vlan",
        "tls",
        "tls.sni",
        "tls.ja3",
        "tls.ja3_hash",
        "tls.ja4",
        "geo",
        "geo.country",
        "geo.city",
        "geo.lat",
        "geo.lon",
        "asn",
        "asn.number",
        "asn.org",
        "evidence",
        "evidence.sha256",
        "evidence.packets",
        NULL,
};

const char *const hl_agreement_sighting_required[] = {
        "first_seen",     "last_seen",       "count",       "indicator.id",
        "indicator.type", "indicator.value", "match.field", NULL,
};

static const char *const indicator_required[] = {"id", "type", "value", "tlp", NULL};

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return 1;
	}
	return 0;
}

static int check_indicator_field(const char *s, char *why, size_t whylen)
{
	if (in_list(s, hl_agreement_indicator_fields))
		return 0;
	snprintf(why, whylen, "\"%.60s\" is not an indicator field (see docs/configuration.md)", s);
	return HL_EINVAL;
}

static int check_sighting_field(const char *s, char *why, size_t whylen)
{
	if (in_list(s, hl_agreement_sighting_fields))
		return 0;
	snprintf(why, whylen, "\"%.60s\" is not a sighting field (see docs/configuration.md)", s);
	return HL_EINVAL;
}

/* "indicator.id" is shared when listed, or when "indicator" is. */
static bool shared(const struct hl_strv *fields, const char *name)
{
	if (hl_strv_contains(fields, name))
		return true;
	const char *dot = strchr(name, '.');
	if (dot == NULL)
		return false;
	char parent[32];
	snprintf(parent, sizeof parent, "%.*s", (int)(dot - name), name);
	return hl_strv_contains(fields, parent);
}

#define A(member) offsetof(struct hl_agreement, member)
#define R(member) (offsetof(struct hl_agreement, requests.member) - A(requests))
#define W(prio) (A(requests.respond_within[prio]) - A(requests.respond_within))
#define H(member) (offsetof(struct hl_agreement, hotline.member) - A(hotline))
#define SH(member) (offsetof(struct hl_agreement, share.member) - A(share))

static const char *const tlp_names[] = {"clear", "green", "amber", "amber+strict", "red", NULL};

static const struct hl_yfield share_fields[] = {
        {"indicator_fields", HL_YK_STRLIST, HL_YF_REQUIRED, SH(indicator_fields), 0, 64, 32, NULL,
         check_indicator_field, NULL, NULL, 0},
        {"sighting_fields", HL_YK_STRLIST, HL_YF_REQUIRED, SH(sighting_fields), 0, 64, 32, NULL,
         check_sighting_field, NULL, NULL, 0},
};
static const struct hl_yschema share_schema = {share_fields, 2, 0, 0, NULL, NULL, NULL, NULL};

static const struct hl_yfield respond_fields[] = {
        {"low", HL_YK_DURATION, HL_YF_REQUIRED, W(HL_AGR_LOW), CFG_MINUTE, 90 * CFG_DAY, 0, NULL,
         NULL, NULL, NULL, 0},
        {"normal", HL_YK_DURATION, HL_YF_REQUIRED, W(HL_AGR_NORMAL), CFG_MINUTE, 90 * CFG_DAY, 0,
         NULL, NULL, NULL, NULL, 0},
        {"high", HL_YK_DURATION, HL_YF_REQUIRED, W(HL_AGR_HIGH), CFG_MINUTE, 90 * CFG_DAY, 0, NULL,
         NULL, NULL, NULL, 0},
        {"critical", HL_YK_DURATION, HL_YF_REQUIRED, W(HL_AGR_CRITICAL), CFG_MINUTE, 90 * CFG_DAY,
         0, NULL, NULL, NULL, NULL, 0},
};
static const struct hl_yschema respond_schema = {respond_fields, 4, 0, 0, NULL, NULL, NULL, NULL};

static const struct hl_yfield requests_fields[] = {
        {"acknowledge_within", HL_YK_DURATION, HL_YF_REQUIRED, R(acknowledge_within), CFG_MINUTE,
         7 * CFG_DAY, 0, NULL, NULL, NULL, NULL, 0},
        {"respond_within", HL_YK_MAP, HL_YF_REQUIRED, R(respond_within), 0, 0, 0, NULL, NULL, NULL,
         &respond_schema, 0},
};
static const struct hl_yschema requests_schema = {requests_fields, 2, 0, 0, NULL, NULL, NULL, NULL};

static const struct hl_yfield hotline_fields[] = {
        {"ack_timeout", HL_YK_DURATION, HL_YF_REQUIRED, H(ack_timeout), 10 * CFG_SECOND, CFG_DAY, 0,
         NULL, NULL, NULL, NULL, 0},
        {"retry_interval", HL_YK_DURATION, HL_YF_REQUIRED, H(retry_interval), CFG_SECOND, CFG_HOUR,
         0, NULL, NULL, NULL, NULL, 0},
};
static const struct hl_yschema hotline_schema = {hotline_fields, 2, 0, 0, NULL, NULL, NULL, NULL};

static void agreement_init(void *obj)
{
	struct hl_agreement *a = obj;
	memset(a, 0, sizeof *a);
	a->version = HL_CONFIG_VERSION;
}

static void agreement_release(void *obj)
{
	struct hl_agreement *a = obj;
	free(a->home_nets);
	a->home_nets = NULL;
	a->n_home_nets = 0;
}

static void check_requests(struct hl_agreement *a, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	static const char *const names[HL_AGR_PRIO_COUNT] = {"low", "normal", "high", "critical"};
	const struct hl_ynode *req = hl_ynode_get(node, "requests");
	const struct hl_ynode *within = hl_ynode_get(req, "respond_within");
	if (req == NULL || within == NULL)
		return; /* already reported missing */
	const int64_t *w = a->requests.respond_within;
	for (int p = HL_AGR_NORMAL; p < HL_AGR_PRIO_COUNT; p++) {
		if (w[p] > w[p - 1]) {
			char key[64];
			snprintf(key, sizeof key, "requests.respond_within.%s", names[p]);
			hl_yaml_error(
			        ctx, hl_ynode_get(within, names[p]), key,
			        "longer than for '%s': a higher priority must not wait longer",
			        names[p - 1]);
		}
	}
	if (a->requests.acknowledge_within > w[HL_AGR_CRITICAL] && w[HL_AGR_CRITICAL] > 0)
		hl_yaml_error(ctx, hl_ynode_get(req, "acknowledge_within"),
		              "requests.acknowledge_within",
		              "longer than respond_within.critical: acknowledge before answering");
}

static void agreement_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	struct hl_agreement *a = obj;
	const struct hl_ynode *share = hl_ynode_get(node, "share");
	if (hl_ynode_get(node, "parties") != NULL && a->parties.n < 2)
		hl_yaml_error(ctx, hl_ynode_get(node, "parties"), "parties",
		              "an agreement needs at least two parties");
	const struct hl_ynode *ifields = hl_ynode_get(share, "indicator_fields");
	for (size_t i = 0; ifields != NULL && indicator_required[i] != NULL; i++) {
		if (!shared(&a->share.indicator_fields, indicator_required[i]))
			hl_yaml_error(ctx, ifields, "share.indicator_fields",
			              "must include \"%s\" (every indicator on the wire has it)",
			              indicator_required[i]);
	}
	const struct hl_ynode *sfields = hl_ynode_get(share, "sighting_fields");
	for (size_t i = 0; sfields != NULL && hl_agreement_sighting_required[i] != NULL; i++) {
		if (!shared(&a->share.sighting_fields, hl_agreement_sighting_required[i]))
			hl_yaml_error(ctx, sfields, "share.sighting_fields",
			              "must include \"%s\" (every sighting on the wire has it)",
			              hl_agreement_sighting_required[i]);
	}
	for (size_t i = 0; !a->evidence && i < a->share.sighting_fields.n; i++) {
		if (strncmp(a->share.sighting_fields.v[i], "evidence", 8) == 0)
			hl_yaml_error(ctx, sfields, "share.sighting_fields",
			              "lists \"%s\" but evidence is not shared (evidence: false)",
			              a->share.sighting_fields.v[i]);
	}
	check_requests(a, ctx, node);
	if (a->hotline.retry_interval > a->hotline.ack_timeout && a->hotline.ack_timeout > 0)
		hl_yaml_error(ctx, hl_ynode_get(hl_ynode_get(node, "hotline"), "retry_interval"),
		              "hotline.retry_interval", "longer than hotline.ack_timeout");

	if (a->home_networks.n > 0 && a->pseudonym_key_file == NULL)
		hl_yaml_error(ctx, hl_ynode_get(node, "home_networks"), "pseudonym_key_file",
		              "missing (home_networks are pseudonymised with a keyed hash)");
	if (a->home_networks.n == 0)
		return;
	a->home_nets = calloc(a->home_networks.n, sizeof *a->home_nets);
	if (a->home_nets == NULL) {
		ctx->nomem = true;
		return;
	}
	for (size_t i = 0; i < a->home_networks.n; i++) {
		if (hl_cidr_parse(a->home_networks.v[i], &a->home_nets[a->n_home_nets], NULL, 0) ==
		    0)
			a->n_home_nets++;
	}
}

static const struct hl_yfield agreement_fields[] = {
        {"version", HL_YK_INT, 0, A(version), 1, 1, 0, NULL, NULL, NULL, NULL, 0},
        {"parties", HL_YK_STRLIST, HL_YF_REQUIRED, A(parties), 0, 16, 64, NULL, hl_cfg_check_party,
         NULL, NULL, 0},
        {"tlp_ceiling", HL_YK_ENUM, HL_YF_REQUIRED, A(tlp_ceiling), 0, 0, 0, tlp_names, NULL, NULL,
         NULL, 0},
        {"share", HL_YK_MAP, HL_YF_REQUIRED, A(share), 0, 0, 0, NULL, NULL, NULL, &share_schema, 0},
        {"home_networks", HL_YK_STRLIST, 0, A(home_networks), 0, 1024, 64, NULL, hl_cfg_check_cidr,
         NULL, NULL, 0},
        {"pseudonym_key_file", HL_YK_PATH, 0, A(pseudonym_key_file), 0, 0, 0, NULL, NULL, NULL,
         NULL, 0},
        {"evidence", HL_YK_BOOL, 0, A(evidence), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {"requests", HL_YK_MAP, HL_YF_REQUIRED, A(requests), 0, 0, 0, NULL, NULL, NULL,
         &requests_schema, 0},
        {"hotline", HL_YK_MAP, HL_YF_REQUIRED, A(hotline), 0, 0, 0, NULL, NULL, NULL,
         &hotline_schema, 0},
};

static const struct hl_yschema agreement_schema = {
        .fields = agreement_fields,
        .nfields = sizeof agreement_fields / sizeof agreement_fields[0],
        .init = agreement_init,
        .check = agreement_check,
        .release = agreement_release,
};

int hl_agreement_load(const char *path, struct hl_agreement *agr, struct hl_diag *diag)
{
	return hl_yaml_load_file(path, &agreement_schema, agr, diag);
}

int hl_agreement_parse(const char *name, const char *data, size_t len, const char *base_dir,
                       struct hl_agreement *agr, struct hl_diag *diag)
{
	return hl_yaml_load_buffer(name, data, len, base_dir, &agreement_schema, agr, diag);
}

void hl_agreement_free(struct hl_agreement *agr)
{
	if (agr != NULL)
		hl_yaml_free(&agreement_schema, agr);
}

bool hl_agreement_has_party(const struct hl_agreement *agr, const char *name)
{
	return name != NULL && hl_strv_contains(&agr->parties, name);
}
