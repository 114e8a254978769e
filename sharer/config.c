/* \summary: the sharer's configuration (configs/sharer.yaml) and the checks
 * the three config schemas share
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "hotline/err.h"
#include "hotline/wire.h"
#include "yaml_int.h"

static int why_set(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return HL_EINVAL;
}

int hl_cfg_check_party(const char *s, char *why, size_t whylen)
{
	if (hl_wire_name_valid(s))
		return 0;
	return why_set(why, whylen,
	               "not a party name (1..64 of A-Z a-z 0-9 _ . -, not starting with . or -)");
}

int hl_cfg_check_z85_key(const char *s, char *why, size_t whylen)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          ".-:+=^!/*?&<>()[]{}@%$#";
	if (strlen(s) != 40 || strspn(s, z85) != 40)
		return why_set(why, whylen, "not a CURVE public key (40 Z85 characters; quote it)");
	return 0;
}

int hl_cfg_check_endpoint(const char *s, char *why, size_t whylen)
{
	static const char syntax[] = "expected tcp://HOST:PORT or ipc:///PATH";
	if (strncmp(s, "ipc://", 6) == 0) {
		/* sun_path holds 108 bytes with the NUL */
		if (s[6] == '\0' || strlen(s + 6) > 107)
			return why_set(why, whylen, "ipc:// needs a socket path of 1..107 bytes");
		return 0;
	}
	if (strncmp(s, "tcp://", 6) != 0)
		return why_set(why, whylen, syntax);
	const char *colon = strrchr(s + 6, ':');
	if (colon == NULL || colon == s + 6)
		return why_set(why, whylen, syntax);
	if (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return why_set(why, whylen, "tcp:// needs a port 1..65535");
	for (const char *p = s + 6; p < colon; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '/')
			return why_set(why, whylen, syntax);
	}
	return 0;
}

int hl_cfg_check_cidr(const char *s, char *why, size_t whylen)
{
	struct hl_cidr c;
	char reason[128] = "";
	if (hl_cidr_parse(s, &c, reason, sizeof reason) == 0)
		return 0;
	snprintf(why, whylen, "not an address or network: %s", reason[0] ? reason : s);
	return HL_EINVAL;
}

int hl_cfg_check_line(const char *s, char *why, size_t whylen)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return why_set(why, whylen, "contains a control character");
	}
	return 0;
}

/* ---- the sharer schema ----------------------------------------------- */

#define F(key, kind, flags, member) key, kind, flags, offsetof(struct hl_sharer_config, member)

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};

static void peer_init(void *obj)
{
	struct hl_sharer_peer *p = obj;
	p->heartbeat = 10 * CFG_SECOND;
	p->dead_after = 0; /* 3 heartbeats, set in sharer_check */
}

static void peer_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	struct hl_sharer_peer *p = obj;
	if ((p->public_key == NULL) == (p->public_key_file == NULL))
		hl_yaml_error(ctx, node, NULL,
		              "give exactly one of public_key and public_key_file");
	if (p->dead_after != 0 && p->dead_after <= p->heartbeat)
		hl_yaml_error(ctx, hl_ynode_get(node, "dead_after"), "dead_after",
		              "must be longer than heartbeat");
}

static const struct hl_yfield peer_fields[] = {
        {"endpoint", HL_YK_STR, 0, offsetof(struct hl_sharer_peer, endpoint), 0, 0, 0, NULL,
         hl_cfg_check_endpoint, NULL, NULL, 0},
        {"public_key", HL_YK_STR, 0, offsetof(struct hl_sharer_peer, public_key), 0, 0, 0, NULL,
         hl_cfg_check_z85_key, NULL, NULL, 0},
        {"public_key_file", HL_YK_PATH, 0, offsetof(struct hl_sharer_peer, public_key_file), 0, 0,
         0, NULL, NULL, NULL, NULL, 0},
        {"heartbeat", HL_YK_DURATION, 0, offsetof(struct hl_sharer_peer, heartbeat), CFG_SECOND,
         CFG_HOUR, 0, NULL, NULL, NULL, NULL, 0},
        {"dead_after", HL_YK_DURATION, 0, offsetof(struct hl_sharer_peer, dead_after),
         2 * CFG_SECOND, CFG_DAY, 0, NULL, NULL, NULL, NULL, 0},
        {"max_message", HL_YK_SIZE, 0, offsetof(struct hl_sharer_peer, max_message), 4 * CFG_KIB,
         64 * CFG_MIB, 0, NULL, NULL, NULL, NULL, 0},
};

static const struct hl_yschema peer_schema = {
        .fields = peer_fields,
        .nfields = sizeof peer_fields / sizeof peer_fields[0],
        .size = sizeof(struct hl_sharer_peer),
        .name_offset = offsetof(struct hl_sharer_peer, name),
        .name_check = hl_cfg_check_party,
        .init = peer_init,
        .check = peer_check,
};

static void sensor_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	struct hl_sharer_sensor *s = obj;
	if (s->public_key != NULL && s->public_key_file != NULL)
		hl_yaml_error(ctx, node, NULL,
		              "give at most one of public_key and public_key_file");
}

static const struct hl_yfield sensor_fields[] = {
        {"public_key", HL_YK_STR, 0, offsetof(struct hl_sharer_sensor, public_key), 0, 0, 0, NULL,
         hl_cfg_check_z85_key, NULL, NULL, 0},
        {"public_key_file", HL_YK_PATH, 0, offsetof(struct hl_sharer_sensor, public_key_file), 0, 0,
         0, NULL, NULL, NULL, NULL, 0},
};

static const struct hl_yschema sensor_schema = {
        .fields = sensor_fields,
        .nfields = sizeof sensor_fields / sizeof sensor_fields[0],
        .size = sizeof(struct hl_sharer_sensor),
        .name_offset = offsetof(struct hl_sharer_sensor, name),
        .name_check = hl_cfg_check_party,
        .check = sensor_check,
};

static const struct hl_yfield keys_fields[] = {
        {"secret_key_file", HL_YK_PATH, HL_YF_REQUIRED,
         offsetof(struct hl_sharer_config, keys.secret_key_file) -
                 offsetof(struct hl_sharer_config, keys),
         0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {"public_key_file", HL_YK_PATH, 0,
         offsetof(struct hl_sharer_config, keys.public_key_file) -
                 offsetof(struct hl_sharer_config, keys),
         0, 0, 0, NULL, NULL, NULL, NULL, 0},
};

static const struct hl_yschema keys_schema = {
        .fields = keys_fields,
        .nfields = sizeof keys_fields / sizeof keys_fields[0],
};

#define L(member) offsetof(struct hl_sharer_limits, member)
static const struct hl_yfield limits_fields[] = {
        {"outbox_batch", HL_YK_INT, 0, L(outbox_batch), 1, 1000, 0, NULL, NULL, NULL, NULL, 0},
        {"resend_min", HL_YK_DURATION, 0, L(resend_min), 100000, CFG_HOUR, 0, NULL, NULL, NULL,
         NULL, 0},
        {"resend_max", HL_YK_DURATION, 0, L(resend_max), CFG_SECOND, CFG_DAY, 0, NULL, NULL, NULL,
         NULL, 0},
        {"max_message", HL_YK_SIZE, 0, L(max_message), 4 * CFG_KIB, 64 * CFG_MIB, 0, NULL, NULL,
         NULL, NULL, 0},
};
#undef L

static const struct hl_yschema limits_schema = {
        .fields = limits_fields,
        .nfields = sizeof limits_fields / sizeof limits_fields[0],
};

static void sharer_init(void *obj)
{
	struct hl_sharer_config *c = obj;
	memset(c, 0, sizeof *c);
	c->version = HL_CONFIG_VERSION;
	c->log_level = HL_LOG_INFO;
	c->limits.outbox_batch = 100;
	c->limits.resend_min = CFG_SECOND;
	c->limits.resend_max = 5 * CFG_MINUTE;
	c->limits.max_message = HL_WIRE_MAX_DEFAULT;
}

static void sharer_check(void *obj, struct hl_yctx *ctx, const struct hl_ynode *node)
{
	struct hl_sharer_config *c = obj;
	const struct hl_ynode *peers = hl_ynode_get(node, "peers");
	for (size_t i = 0; i < c->n_peers; i++) {
		struct hl_sharer_peer *p = &c->peers[i];
		char key[96];
		snprintf(key, sizeof key, "peers.%s", p->name);
		const struct hl_ynode *at = hl_ynode_get(peers, p->name);
		if (c->name != NULL && strcmp(p->name, c->name) == 0)
			hl_yaml_error(ctx, at, key, "a peer cannot be this party itself");
		if (p->endpoint == NULL && c->listen == NULL)
			hl_yaml_error(
			        ctx, at, key,
			        "neither side would connect: give an endpoint here or 'listen'");
		if (p->max_message == 0)
			p->max_message = c->limits.max_message;
		if (p->dead_after == 0)
			p->dead_after = 3 * p->heartbeat;
	}
	if (c->limits.resend_min > c->limits.resend_max)
		hl_yaml_error(ctx, hl_ynode_get(hl_ynode_get(node, "limits"), "resend_min"),
		              "limits.resend_min", "longer than limits.resend_max");
	if (c->n_sensors > 0 && c->sensor_listen == NULL)
		hl_yaml_error(ctx, hl_ynode_get(node, "sensors"), "sensors",
		              "sensors are listed but 'sensor_listen' is not set");
}

static const struct hl_yfield sharer_fields[] = {
        {F("version", HL_YK_INT, 0, version), 1, 1, 0, NULL, NULL, NULL, NULL, 0},
        {F("name", HL_YK_STR, HL_YF_REQUIRED, name), 0, 0, 0, NULL, hl_cfg_check_party, NULL, NULL,
         0},
        {F("listen", HL_YK_STR, 0, listen), 0, 0, 0, NULL, hl_cfg_check_endpoint, NULL, NULL, 0},
        {F("sensor_listen", HL_YK_STR, 0, sensor_listen), 0, 0, 0, NULL, hl_cfg_check_endpoint,
         NULL, NULL, 0},
        {F("control", HL_YK_PATH, 0, control), 0, 0, 107, NULL, NULL, NULL, NULL, 0},
        {F("store", HL_YK_PATH, HL_YF_REQUIRED, store), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("agreement", HL_YK_PATH, HL_YF_REQUIRED, agreement), 0, 0, 0, NULL, NULL, NULL, NULL, 0},
        {F("log_level", HL_YK_ENUM, 0, log_level), 0, 0, 0, log_levels, NULL, NULL, NULL, 0},
        {F("keys", HL_YK_MAP, HL_YF_REQUIRED, keys), 0, 0, 0, NULL, NULL, NULL, &keys_schema, 0},
        {F("peers", HL_YK_NAMED_MAP, 0, peers), 0, 16, 0, NULL, NULL, NULL, &peer_schema,
         offsetof(struct hl_sharer_config, n_peers)},
        {F("sensors", HL_YK_NAMED_MAP, 0, sensors), 0, 256, 0, NULL, NULL, NULL, &sensor_schema,
         offsetof(struct hl_sharer_config, n_sensors)},
        {F("limits", HL_YK_MAP, 0, limits), 0, 0, 0, NULL, NULL, NULL, &limits_schema, 0},
};

static const struct hl_yschema sharer_schema = {
        .fields = sharer_fields,
        .nfields = sizeof sharer_fields / sizeof sharer_fields[0],
        .init = sharer_init,
        .check = sharer_check,
};

int hl_sharer_config_load(const char *path, struct hl_sharer_config *cfg, struct hl_diag *diag)
{
	return hl_yaml_load_file(path, &sharer_schema, cfg, diag);
}

int hl_sharer_config_parse(const char *name, const char *data, size_t len, const char *base_dir,
                           struct hl_sharer_config *cfg, struct hl_diag *diag)
{
	return hl_yaml_load_buffer(name, data, len, base_dir, &sharer_schema, cfg, diag);
}

void hl_sharer_config_free(struct hl_sharer_config *cfg)
{
	if (cfg != NULL)
		hl_yaml_free(&sharer_schema, cfg);
}

const struct hl_sharer_peer *hl_sharer_config_peer(const struct hl_sharer_config *cfg,
                                                   const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_peers; i++) {
		if (strcmp(cfg->peers[i].name, name) == 0)
			return &cfg->peers[i];
	}
	return NULL;
}
