/* \summary: harness for the sharer integration tests: real processes, keys, configs
 *
 * Everything lives in a fresh temporary directory. Programs are started
 * with posix_spawn (stderr to DIR/NAME.log) and waited for with a deadline
 * (pidfd + poll). Conditions on a running sharer are polled through its
 * control socket, every POLL_MS, until a deadline (Redis's
 * wait_for_condition): a test never sleeps for a fixed time, and never
 * waits for ever.
 */
#ifndef HOTLINE_TEST_SHARER_HARNESS_H
#define HOTLINE_TEST_SHARER_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef HOTLINE_SHARER_BIN
#error "HOTLINE_SHARER_BIN must name the hotline-sharer binary"
#endif
#ifndef HOTLINE_CTL_BIN
#error "HOTLINE_CTL_BIN must name the hotline-ctl binary"
#endif

#define H_DEADLINE_MS 60000 /* any one wait */
#define H_POLL_MS 20

struct h_party {
	char name[32];
	int port;          /* its CURVE listener on 127.0.0.1 */
	char config[512];  /* DIR/NAME.yaml */
	char control[512]; /* DIR/NAME-ctl.sock */
	char sensor[512];  /* ipc://DIR/NAME-sensor.sock */
	char log[512];     /* DIR/NAME.log (stderr, appended) */
	char pub[64];      /* its public key, Z85 */
	pid_t pid;         /* 0 when not running */
	bool not_dialled;  /* others list it without endpoint: it connects to them */
};

struct h_env {
	char dir[256];
};

/* mkdtemp under TMPDIR; h_env_cleanup removes it (kills nothing). */
void h_env_init(struct h_env *e);
void h_env_cleanup(struct h_env *e);
void h_path(const struct h_env *e, const char *name, char *out, size_t outlen);
char *h_read_file(const char *path); /* "" if missing; free() */

/* Run a program to completion (argv NULL-terminated), stdout and stderr to
 * files in the directory; returns its exit code (128 + signal). */
int h_run(const struct h_env *e, char *const argv[], char **out, char **err);

/* `hotline-sharer keygen -d DIR NAME`; pub gets the public key (Z85). */
void h_keygen(const struct h_env *e, const char *name, char pub[64]);

/* An unused TCP port on 127.0.0.1 (bound to port 0, then released). */
int h_free_port(void);

/* Fill p and write DIR/NAME.yaml: listen on p->port, the local sensor
 * socket, control socket, store DIR/NAME.db, peers[i] (endpoint and public
 * key) for each of the n peers. extra: more YAML lines appended (or NULL). */
void h_party_setup(const struct h_env *e, struct h_party *p, const char *name);
void h_write_config(const struct h_env *e, const struct h_party *p,
                    const struct h_party *const *peers, size_t n, const char *extra);

/* Start `hotline-sharer run --config` and wait until its control socket
 * answers. */
void h_start(struct h_party *p);
/* SIGTERM and wait for a clean exit (code 0). */
void h_stop(struct h_party *p);
/* SIGKILL and reap. */
void h_kill9(struct h_party *p);

/* A control request; fails the test when there is no "ok" answer. */
json_t *h_ctl(const struct h_party *p, const char *cmd);
/* status.KEY (dotted path, e.g. "exchange.rejected.json") as an integer;
 * "A+B" sums two keys. */
long long h_status_int(const struct h_party *p, const char *path);
/* Poll status until KEY >= want (== with h_wait_eq); fail at the deadline. */
void h_wait_ge(const struct h_party *p, const char *path, long long want);
void h_wait_eq(const struct h_party *p, const char *path, long long want);
/* Whether p's log has a line containing text. */
bool h_log_has(const struct h_party *p, const char *text);

/* From p's store (DIR/NAME.db, opened read-only): its audit rows with
 * direction dir ("local", "sent", "received"), and how many distinct
 * message ids they name. */
void h_audit_count(const struct h_env *e, const struct h_party *p, const char *dir, long long *rows,
                   long long *ids);

/* The i-th test sighting record (distinct for distinct i), as a JSON line. */
void h_sighting_line(unsigned i, const char *tag, char *out, size_t outlen);

/* A raw client of p's CURVE listener, for hostile tests. secret_file NULL:
 * plaintext (no CURVE). The caller closes the socket; ctx is the caller's. */
void *h_raw_client(void *ctx, const struct h_party *p, const char *secret_file);
/* Send two frames; receive one two-frame reply within timeout_ms (false if
 * none). */
void h_raw_send(void *sock, const char *env, const char *body, size_t body_len);
bool h_raw_recv(void *sock, int timeout_ms, json_t **env, json_t **body);

/* ---- background programs (test_sensor_sharer.c: the real hotline-sensor) -- */

/* Start argv[0] (stdin /dev/null, stdout to out, stderr to err, both
 * truncated); returns its pid. */
pid_t h_spawn(char *const argv[], const char *out, const char *err);
/* Wait for pid at most H_DEADLINE_MS (killed and failed after); its exit
 * code, or 128 + signal. */
int h_wait(pid_t pid);

#endif
