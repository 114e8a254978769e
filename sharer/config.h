/* \summary: sharer, sensor and sharing-agreement configuration (YAML)
 *
 * Three files, each read by the schema-driven reader (yaml_reader.h) into
 * a plain struct the caller owns: no globals, nothing read behind the
 * caller's back. Every key, its type, range and default:
 * docs/configuration.md; annotated examples: configs/.
 *
 * Durations are int64_t microseconds, sizes uint64_t bytes. Relative paths
 * in a file are resolved against that file's directory when it is loaded.
 * Each load function initialises cfg (defaults) first, so cfg need not be
 * initialised; on failure (HL_EINVAL after errors were reported through
 * diag, HL_EIO, HL_ELIMIT, HL_ENOMEM) cfg holds nothing that needs freeing.
 * After success, free with the matching _free().
 */
#ifndef HOTLINE_SHARER_CONFIG_H
#define HOTLINE_SHARER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/diag.h"
#include "hotline/indicator.h"
#include "hotline/ipaddr.h"
#include "hotline/parse.h"

#define HL_CONFIG_VERSION 1 /* the "version" every config file may state */

enum hl_log_level { HL_LOG_ERROR, HL_LOG_WARNING, HL_LOG_INFO, HL_LOG_DEBUG };

/* ---- sharer (configs/sharer.yaml) --------------------------------------- */

struct hl_sharer_peer {
	char *name;            /* the counterpart party (the map key) */
	char *endpoint;        /* "tcp://host:port" to connect to; NULL: it connects to us */
	char *public_key;      /* its CURVE public key, Z85 (40 characters) */
	char *public_key_file; /* or a file holding it (exactly one of the two) */
	int64_t heartbeat;     /* µs between heartbeats */
	int64_t dead_after;    /* µs without traffic before the link counts as down */
	uint64_t max_message;  /* bytes; 0 in the file: limits.max_message */
};

struct hl_sharer_sensor {
	char *name;            /* the sensor's name (the map key) */
	char *public_key;      /* Z85, for a sensor connecting over tcp with CURVE */
	char *public_key_file; /* or a file; neither: only accepted over ipc */
};

struct hl_sharer_limits {
	int64_t outbox_batch; /* messages per peer per send round */
	int64_t resend_min;   /* µs: first resend delay, doubled per attempt ... */
	int64_t resend_max;   /* ... up to this */
	uint64_t max_message; /* bytes: the largest message sent or accepted */
};

struct hl_sharer_config {
	int64_t version;
	char *name;          /* this party, as the counterpart knows it */
	char *listen;        /* where counterparts connect (tcp://...); NULL: we only connect */
	char *sensor_listen; /* where local sensors push sightings (ipc:// or tcp://) */
	char *control;       /* path of hotline-ctl's unix socket */
	char *store;         /* path of the SQLite store */
	char *agreement;     /* path of the sharing agreement (agreement.yaml) */
	int log_level;       /* enum hl_log_level */
	struct {
		char *secret_key_file; /* this party's CURVE secret key (0600) */
		char *public_key_file; /* optional: checked against the secret */
	} keys;
	struct hl_sharer_peer *peers;
	size_t n_peers;
	struct hl_sharer_sensor *sensors;
	size_t n_sensors;
	struct hl_sharer_limits limits;
};

int hl_sharer_config_load(const char *path, struct hl_sharer_config *cfg, struct hl_diag *diag);
int hl_sharer_config_parse(const char *name, const char *data, size_t len, const char *base_dir,
                           struct hl_sharer_config *cfg, struct hl_diag *diag);
void hl_sharer_config_free(struct hl_sharer_config *cfg);
const struct hl_sharer_peer *hl_sharer_config_peer(const struct hl_sharer_config *cfg,
                                                   const char *name);

/* ---- sensor (configs/sensor.yaml; the same keys as the long options) ---- */

struct hl_sensor_config {
	int64_t version;
	/* input */
	char *interface;
	struct hl_strv read; /* pcap/pcapng files, in order */
	char *bpf;
	int64_t snaplen;
	bool promisc;
	uint64_t buffer_size; /* bytes; 0: libpcap's default */
	bool immediate;
	char *user; /* drop root for this user once the capture is open; NULL: stay */
	/* indicators */
	struct hl_strv rules;
	enum hl_format format;
	struct hl_strv allowlist;
	struct hl_strv home_net; /* CIDRs: our own networks */
	bool watch;              /* reload when an indicator file changes */
	/* output */
	struct hl_strv outputs; /* files, "-" for stdout */
	char *sensor_name;      /* NULL: the host name */
	bool sighting_updates;
	/* enrichment */
	char *geoip; /* MaxMind City or Country database */
	char *asn;   /* MaxMind ASN database */
	/* evidence */
	char *evidence_dir; /* NULL: no evidence */
	uint64_t evidence_max_bytes;
	int64_t evidence_packets_before;
	int64_t evidence_packets_after;
	uint64_t evidence_memory; /* bytes per worker */
	/* processing */
	int64_t workers; /* 0: cores - 1 */
	int64_t max_flows;
	uint64_t stream_depth; /* bytes; 0: all */
	/* IP and TCP reassembly bounds, per worker; 0: not in the file, the
	 * engine's default (hl_engine_config_init) stays */
	int64_t frag_max;
	uint64_t frag_memory;       /* bytes */
	int64_t frag_timeout;       /* µs */
	uint64_t reorder_memory;    /* bytes */
	uint64_t reorder_dir_bytes; /* bytes per flow direction */
	/* stats */
	int64_t stats_interval; /* µs; 0: only at exit */
	bool stats_json;
	bool quiet;
	/* the local sharer */
	struct {
		char *endpoint;        /* ipc:///... or tcp://...; NULL: no push */
		char *server_key;      /* the sharer's public key (Z85), tcp only */
		char *server_key_file; /* or a file */
		char *secret_key_file; /* this sensor's key, tcp only */
		char *name;            /* the sharer's party name (the envelopes' "to") */
		int64_t queue;         /* un-ACKed records kept; 0: the link's default */
		int64_t batch_bytes;   /* records' bytes per message; 0: the link's default */
		int64_t flush_timeout; /* µs to wait for ACKs at exit; -1: the default */
		char *set;             /* keep the sets the sharer pushes here; NULL: none */
	} sharer;
};

int hl_sensor_config_load(const char *path, struct hl_sensor_config *cfg, struct hl_diag *diag);
int hl_sensor_config_parse(const char *name, const char *data, size_t len, const char *base_dir,
                           struct hl_sensor_config *cfg, struct hl_diag *diag);
void hl_sensor_config_free(struct hl_sensor_config *cfg);
/* What only makes sense once the command line is merged in: exactly one of
 * interface and read, at least one rules file. 0 or HL_EINVAL (reported
 * through diag under the name "file"). */
int hl_sensor_config_check(const struct hl_sensor_config *cfg, const char *file,
                           struct hl_diag *diag);

/* ---- sharing agreement (configs/agreement.yaml) ------------------------ */

enum hl_agreement_prio {
	HL_AGR_LOW,
	HL_AGR_NORMAL,
	HL_AGR_HIGH,
	HL_AGR_CRITICAL,
	HL_AGR_PRIO_COUNT
};

struct hl_agreement {
	int64_t version;
	struct hl_strv parties; /* the party names, 2 or more */
	int tlp_ceiling;        /* enum hl_tlp: nothing stricter than this leaves */
	struct {
		struct hl_strv indicator_fields; /* native indicator keys that may leave */
		struct hl_strv sighting_fields;  /* sighting record keys ("flow", "flow.src_ip") */
	} share;
	struct hl_strv home_networks; /* CIDRs pseudonymised before leaving */
	struct hl_cidr *home_nets;    /* the same, parsed */
	size_t n_home_nets;
	char *pseudonym_key_file; /* the keyed hash's key; required with home_networks */
	bool evidence;            /* whether evidence pcaps may be shared */
	struct {
		int64_t acknowledge_within;                /* µs */
		int64_t respond_within[HL_AGR_PRIO_COUNT]; /* µs, by priority */
	} requests;
	struct {
		int64_t ack_timeout;    /* µs: an escalation unacknowledged this long ... */
		int64_t retry_interval; /* µs: ... is sent again this often */
	} hotline;
};

int hl_agreement_load(const char *path, struct hl_agreement *agr, struct hl_diag *diag);
int hl_agreement_parse(const char *name, const char *data, size_t len, const char *base_dir,
                       struct hl_agreement *agr, struct hl_diag *diag);
void hl_agreement_free(struct hl_agreement *agr);
bool hl_agreement_has_party(const struct hl_agreement *agr, const char *name);

/* The vocabularies share.* is checked against (NULL-terminated). */
extern const char *const hl_agreement_indicator_fields[];
extern const char *const hl_agreement_sighting_fields[];
/* Sighting keys the wire requires in every record (docs/protocol.md): an
 * agreement must share them. */
extern const char *const hl_agreement_sighting_required[];

#endif
