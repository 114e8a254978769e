/* \summary: the sensor's configuration (configs/sensor.yaml)
 *
 * The keys are the sensor's long options with '-' as '_' (and "outputs"
 * for the repeatable --output, "promisc" for --no-promisc turned around),
 * so a file and a command line say the same thing; the sharer's options
 * are under "sharer" without their "sharer-" prefix. Only test modes
 * (--expect, --deterministic), --config itself and the negations that
 * undo the file (--no-sharer) stay on the command line.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "hotline/err.h"
#include "yaml_int.h"

#define F(key, kind, flags, member) key, kind, flags, offsetof(struct hl_sensor_config, member)
#define S(member) \
	offsetof(struct hl_sensor_config, sharer.member) - offsetof(struct hl_sensor_config, sharer)

static int set_format(void *field, const char *value, char *why, size_t whylen)
{
	if (hl_format_parse(value, (enum hl_format *)field) == 0)
		return 0;
	snprintf(why, whylen, "unknown format (auto, native, list, stix, misp-csv, misp-json)");
	return HL_EINVAL;
}

static void sharer_link_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	/* obj is the embedded "sharer" struct */
	const struct hl_sensor_config *c =
	        (const void *)((const char *)obj - offsetof(struct hl_sensor_config, sharer));
	if (c->sharer.endpoint == NULL) {
		if (c->sharer.server_key != NULL || c->sharer.server_key_file != NULL ||
		    c->sharer.secret_key_file != NULL)
			hl_yaml_error(ctx, node, "endpoint", "missing (keys are given)");
		return;
	}
	if (strncmp(c->sharer.endpoint, "tcp://", 6) != 0)
		return;
	if ((c->sharer.server_key == NULL) == (c->sharer.server_key_file == NULL))
		hl_yaml_error(
		        ctx, node, NULL,
		        "a tcp:// endpoint needs exactly one of server_key and server_key_file");
	if (c->sharer.secret_key_file == NULL)
		hl_yaml_error(ctx, node, "secret_key_file",
		              "missing (needed for a tcp:// endpoint)");
}

static const struct hl_yfield link_fields[] = {
        {"endpoint", HL_YK_STR, 0, S(endpoint), 0, 0, 0, NULL, hl_cfg_check_endpoint, NULL, NULL,
         0},
        {"server_key", HL_YK_STR, 0, S(server_key), 0, 0, 0, NULL, hl_cfg_check_z85_key, NULL, NULL,
         0},
        {"server_key_file", HL_YK_PATH, 0, S(server_key_file), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {"secret_key_file", HL_YK_PATH, 0, S(secret_key_file), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {"name", HL_YK_STR, 0, S(name), 0, 0, 0, NULL, hl_cfg_check_party, NULL, NULL, 0},
        /* the bounds of --sharer-queue and --sharer-flush-timeout */
        {"queue", HL_YK_INT, 0, S(queue), 1, 10000000, 0, NULL, NULL, NULL, NULL, 0},
        {"flush_timeout", HL_YK_DURATION, 0, S(flush_timeout), 0, CFG_HOUR, 0, NULL, NULL, NULL,
         NULL, 0},
        /* --sharer-batch-bytes: the range of the sharer's limits.max_message */
        {"batch_bytes", HL_YK_SIZE, 0, S(batch_bytes), 4 * CFG_KIB, 64 * CFG_MIB, 0, NULL, NULL,
         NULL, NULL, 0},
        {"set", HL_YK_PATH, 0, S(set), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
};

static const struct hl_yschema link_schema = {
        .fields = link_fields,
        .nfields = sizeof link_fields / sizeof link_fields[0],
        .check = sharer_link_check,
};

static void sensor_init(void *obj)
{
	struct hl_sensor_config *c = obj;
	memset(c, 0, sizeof *c);
	c->version = HL_CONFIG_VERSION;
	c->snaplen = 65535;
	c->promisc = true;
	c->format = HL_FMT_AUTO;
	c->sighting_updates = true;
	c->max_flows = 65536;
	c->stream_depth = 1u << 20;
	c->evidence_max_bytes = 1ull << 30;
	c->evidence_packets_before = 16;
	c->evidence_packets_after = 16;
	c->evidence_memory = 32ull << 20;
	c->sharer.flush_timeout = -1; /* 0 is a value: do not wait */
}

static void sensor_cross_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	struct hl_sensor_config *c = obj;
	if (c->interface != NULL && c->read.n > 0)
		hl_yaml_error(ctx, hl_ynode_get(node, "read"), "read",
		              "give either interface or read, not both");
}

static const struct hl_yfield sensor_fields[] = {
        {F("version", HL_YK_INT, 0, version), 1, 1, 0, NULL, NULL, NULL, NULL, 0},
        {F("interface", HL_YK_STR, 0, interface), 0, 0, 64, NULL, hl_cfg_check_line, NULL, NULL, 0},
        {F("read", HL_YK_PATHLIST, 0, read), 0, 4096, 0, NULL, NULL, NULL, NULL, 0},
        {F("bpf", HL_YK_STR, 0, bpf), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("snaplen", HL_YK_INT, 0, snaplen), 64, 262144, 0, NULL, NULL, NULL, NULL, 0},
        {F("promisc", HL_YK_BOOL, 0, promisc), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("buffer_size", HL_YK_SIZE, 0, buffer_size), 0, 4 * CFG_GIB, 0, NULL, NULL, NULL, NULL,
         0},
        {F("immediate", HL_YK_BOOL, 0, immediate), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("user", HL_YK_STR, 0, user), 0, 0, 255, NULL, hl_cfg_check_line, NULL, NULL, 0},
        {F("rules", HL_YK_PATHLIST, 0, rules), 0, 256, 0, NULL, NULL, NULL, NULL, 0},
        {F("format", HL_YK_CUSTOM, 0, format), 0, 0, 32, NULL, NULL, set_format, NULL, 0},
        {F("allowlist", HL_YK_PATHLIST, 0, allowlist), 0, 256, 0, NULL, NULL, NULL, NULL, 0},
        {F("home_net", HL_YK_STRLIST, 0, home_net), 0, 1024, 64, NULL, hl_cfg_check_cidr, NULL,
         NULL, 0},
        {F("watch", HL_YK_BOOL, 0, watch), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("outputs", HL_YK_PATHLIST, 0, outputs), 0, 256, 0, NULL, NULL, NULL, NULL, 0},
        {F("sensor_name", HL_YK_STR, 0, sensor_name), 0, 0, 255, NULL, hl_cfg_check_line, NULL,
         NULL, 0},
        {F("sighting_updates", HL_YK_BOOL, 0, sighting_updates), 0, 0, 0, NULL, NULL, NULL, NULL,
         0},
        {F("geoip", HL_YK_PATH, 0, geoip), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("asn", HL_YK_PATH, 0, asn), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("evidence_dir", HL_YK_PATH, 0, evidence_dir), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("evidence_max_bytes", HL_YK_SIZE, 0, evidence_max_bytes), 1, INT64_MAX, 0, NULL, NULL,
         NULL, NULL, 0},
        {F("evidence_packets_before", HL_YK_INT, 0, evidence_packets_before), 0, 65536, 0, NULL,
         NULL, NULL, NULL, 0},
        {F("evidence_packets_after", HL_YK_INT, 0, evidence_packets_after), 0, 65536, 0, NULL, NULL,
         NULL, NULL, 0},
        {F("evidence_memory", HL_YK_SIZE, 0, evidence_memory), 1, INT64_MAX, 0, NULL, NULL, NULL,
         NULL, 0},
        {F("workers", HL_YK_INT, 0, workers), 0, 256, 0, NULL, NULL, NULL, NULL, 0},
        {F("max_flows", HL_YK_INT, 0, max_flows), 16, 1 << 24, 0, NULL, NULL, NULL, NULL, 0},
        {F("stream_depth", HL_YK_SIZE, 0, stream_depth), 0, INT64_MAX, 0, NULL, NULL, NULL, NULL,
         0},
        /* the bounds of --frag-* and --reorder-* (docs/operations.md): a
         * floor each, so that a typo cannot refuse all traffic */
        {F("frag_max", HL_YK_INT, 0, frag_max), 16, 1 << 24, 0, NULL, NULL, NULL, NULL, 0},
        {F("frag_memory", HL_YK_SIZE, 0, frag_memory), 64 * CFG_KIB, 1LL << 40, 0, NULL, NULL, NULL,
         NULL, 0},
        {F("frag_timeout", HL_YK_DURATION, 0, frag_timeout), 1, CFG_HOUR, 0, NULL, NULL, NULL, NULL,
         0},
        {F("reorder_memory", HL_YK_SIZE, 0, reorder_memory), 64 * CFG_KIB, 1LL << 40, 0, NULL, NULL,
         NULL, NULL, 0},
        {F("reorder_dir_bytes", HL_YK_SIZE, 0, reorder_dir_bytes), 4 * CFG_KIB, UINT32_MAX, 0, NULL,
         NULL, NULL, NULL, 0},
        {F("stats_interval", HL_YK_DURATION, 0, stats_interval), 0, CFG_DAY, 0, NULL, NULL, NULL,
         NULL, 0},
        {F("stats_json", HL_YK_BOOL, 0, stats_json), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("quiet", HL_YK_BOOL, 0, quiet), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("sharer", HL_YK_MAP, 0, sharer), 0, 0, 0, NULL, NULL, NULL, &link_schema, 0},
};

static const struct hl_yschema sensor_schema = {
        .fields = sensor_fields,
        .nfields = sizeof sensor_fields / sizeof sensor_fields[0],
        .init = sensor_init,
        .check = sensor_cross_check,
};

int hl_sensor_config_load(const char *path, struct hl_sensor_config *cfg, struct hl_diag *diag)
{
	return hl_yaml_load_file(path, &sensor_schema, cfg, diag);
}

int hl_sensor_config_parse(const char *name, const char *data, size_t len, const char *base_dir,
                           struct hl_sensor_config *cfg, struct hl_diag *diag)
{
	return hl_yaml_load_buffer(name, data, len, base_dir, &sensor_schema, cfg, diag);
}

void hl_sensor_config_free(struct hl_sensor_config *cfg)
{
	if (cfg != NULL)
		hl_yaml_free(&sensor_schema, cfg);
}

int hl_sensor_config_check(const struct hl_sensor_config *cfg, const char *file,
                           struct hl_diag *diag)
{
	int rc = 0;
	if ((cfg->interface == NULL) == (cfg->read.n == 0)) {
		hl_diag_report(diag, HL_DIAG_ERROR, file, 0, "give either 'interface' or 'read'");
		rc = HL_EINVAL;
	}
	if (cfg->rules.n == 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, file, 0, "no indicators: give 'rules'");
		rc = HL_EINVAL;
	}
	return rc;
}
