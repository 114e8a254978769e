/* \summary: harness for the sharer integration tests (sharer_harness.h) */
#define _GNU_SOURCE
#include "sharer_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zmq.h>

#include "control.h"
#include "hotline/err.h"

extern char **environ;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bounded polling: wait H_POLL_MS between two looks at a condition. */
static void pause_poll(void)
{
	poll(NULL, 0, H_POLL_MS);
}

void h_env_init(struct h_env *e)
{
	/* /tmp, not TMPDIR: unix socket paths must stay under 108 bytes. */
	snprintf(e->dir, sizeof e->dir, "/tmp/hl-sharer-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	char p[512];
	h_path(e, "agreement.yaml", p, sizeof p);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("version: 1\n", f);
	assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void h_env_cleanup(struct h_env *e)
{
	if (e->dir[0] != '\0' && getenv("HL_TEST_KEEP") == NULL)
		nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void h_path(const struct h_env *e, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", e->dir, name);
	assert_true(n > 0 && (size_t)n < outlen);
}

char *h_read_file(const char *path)
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

/* Wait for pid at most H_DEADLINE_MS; a hung program is killed and fails. */
static int wait_exit(pid_t pid)
{
	int pfd = pidfd_open(pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, H_DEADLINE_MS);
		while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("process %d did not exit within %d ms", (int)pid, H_DEADLINE_MS);
		}
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t spawn(char *const argv[], const char *out, const char *err, bool append)
{
	posix_spawn_file_actions_t fa;
	int fl = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, fl, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, fl, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	return pid;
}

int h_run(const struct h_env *e, char *const argv[], char **out, char **err)
{
	char po[512], pe[512];
	h_path(e, ".stdout", po, sizeof po);
	h_path(e, ".stderr", pe, sizeof pe);
	int rc = wait_exit(spawn(argv, po, pe, false));
	if (out != NULL)
		*out = h_read_file(po);
	if (err != NULL)
		*err = h_read_file(pe);
	return rc;
}

void h_keygen(const struct h_env *e, const char *name, char pub[64])
{
	char *argv[] = {
	        (char *)HOTLINE_SHARER_BIN, "keygen", "-d", (char *)e->dir, (char *)name, NULL};
	char *out = NULL, *err = NULL;
	int rc = h_run(e, argv, &out, &err);
	if (rc != 0)
		fail_msg("keygen %s: exit %d: %s", name, rc, err);
	free(out);
	free(err);
	char p[512], file[256];
	snprintf(file, sizeof file, "%s.pub", name);
	h_path(e, file, p, sizeof p);
	char *k = h_read_file(p);
	assert_true(strlen(k) >= 40);
	memcpy(pub, k, 40);
	pub[40] = '\0';
	free(k);
}

int h_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

void h_party_setup(const struct h_env *e, struct h_party *p, const char *name)
{
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->port = h_free_port();
	char f[128];
	snprintf(f, sizeof f, "%s.yaml", name);
	h_path(e, f, p->config, sizeof p->config);
	snprintf(f, sizeof f, "%s-ctl.sock", name);
	h_path(e, f, p->control, sizeof p->control);
	snprintf(f, sizeof f, "%s.log", name);
	h_path(e, f, p->log, sizeof p->log);
	int n = snprintf(p->sensor, sizeof p->sensor, "ipc://%s/%s-sensor.sock", e->dir, name);
	assert_true(n > 0 && (size_t)n < sizeof p->sensor);
	h_keygen(e, name, p->pub);
}

void h_write_config(const struct h_env *e, const struct h_party *p,
                    const struct h_party *const *peers, size_t n, const char *extra)
{
	FILE *f = fopen(p->config, "w");
	assert_non_null(f);
	fprintf(f,
	        "version: 1\n"
	        "name: %s\n"
	        "listen: tcp://127.0.0.1:%d\n"
	        "sensor_listen: %s\n"
	        "control: %s\n"
	        "store: %s/%s.db\n"
	        "agreement: agreement.yaml\n"
	        "log_level: info\n"
	        "keys:\n"
	        "  secret_key_file: %s.key\n",
	        p->name, p->port, p->sensor, p->control, e->dir, p->name, p->name);
	if (n > 0)
		fputs("peers:\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  %s:\n    public_key_file: %s.pub\n", peers[i]->name, peers[i]->name);
		if (!peers[i]->not_dialled)
			fprintf(f, "    endpoint: tcp://127.0.0.1:%d\n", peers[i]->port);
	}
	if (extra != NULL)
		fputs(extra, f);
	assert_int_equal(fclose(f), 0);
}

static json_t *try_ctl(const struct h_party *p, const char *cmd, int timeout_ms)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	json_t *rep = NULL;
	int rc = hl_control_call(p->control, req, timeout_ms, &rep);
	json_decref(req);
	if (rc != 0)
		return NULL;
	if (!json_is_true(json_object_get(rep, "ok"))) {
		json_decref(rep);
		return NULL;
	}
	return rep;
}

void h_start(struct h_party *p)
{
	char *argv[] = {(char *)HOTLINE_SHARER_BIN, "run", "--config", p->config, NULL};
	p->pid = spawn(argv, p->log, p->log, true);
	int64_t deadline = mono_ms() + H_DEADLINE_MS;
	for (;;) {
		int status;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			char *log = h_read_file(p->log);
			fail_msg("%s exited at start (status %d): %s", p->name, status, log);
		}
		json_t *r = try_ctl(p, "status", 200);
		if (r != NULL) {
			json_decref(r);
			return;
		}
		if (mono_ms() > deadline)
			fail_msg("%s: control socket did not answer within %d ms", p->name,
			         H_DEADLINE_MS);
		pause_poll();
	}
}

void h_stop(struct h_party *p)
{
	if (p->pid == 0)
		return;
	assert_int_equal(kill(p->pid, SIGTERM), 0);
	int rc = wait_exit(p->pid);
	p->pid = 0;
	assert_int_equal(rc, 0);
}

void h_kill9(struct h_party *p)
{
	if (p->pid == 0)
		return;
	assert_int_equal(kill(p->pid, SIGKILL), 0);
	int rc = wait_exit(p->pid);
	p->pid = 0;
	assert_int_equal(rc, 128 + SIGKILL);
}

json_t *h_ctl(const struct h_party *p, const char *cmd)
{
	json_t *r = try_ctl(p, cmd, 30000); /* slow under sanitizers and load */
	if (r == NULL)
		fail_msg("%s: no ok answer to %s", p->name, cmd);
	return r;
}

static long long get_one(const json_t *o, const char *path);

/* "a.b+c.d": the sum of two or more integers. */
static long long get_path(const json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	long long sum = 0;
	for (char *save = NULL, *t = strtok_r(buf, "+", &save); t != NULL;
	     t = strtok_r(NULL, "+", &save))
		sum += get_one(o, t);
	return sum;
}

static long long get_one(const json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", path);
	const json_t *v = o;
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k != NULL;
	     k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	if (!json_is_integer(v))
		fail_msg("status has no integer %s", path);
	return json_integer_value(v);
}

long long h_status_int(const struct h_party *p, const char *path)
{
	json_t *r = h_ctl(p, "status");
	long long v = get_path(r, path);
	json_decref(r);
	return v;
}

/* The deadline is for progress, not for the whole wait: a sharer that is
 * merely slow (ASan on a loaded host: 60 sightings/s were seen) keeps
 * moving the value and is waited for; one that stalls fails after
 * H_DEADLINE_MS without a change. CTest's TIMEOUT bounds the whole. */
static void wait_cmp(const struct h_party *p, const char *path, long long want, bool eq)
{
	int64_t deadline = mono_ms() + H_DEADLINE_MS;
	long long v = h_status_int(p, path), last = v;
	for (;;) {
		if (eq ? v == want : v >= want)
			return;
		if (v != last) {
			last = v;
			deadline = mono_ms() + H_DEADLINE_MS;
		}
		if (mono_ms() > deadline)
			break;
		pause_poll();
		v = h_status_int(p, path);
	}
	fail_msg("%s: status %s is %lld, unchanged for %d ms, waiting for %s %lld", p->name, path,
	         v, H_DEADLINE_MS, eq ? "==" : ">=", want);
}

void h_wait_ge(const struct h_party *p, const char *path, long long want)
{
	wait_cmp(p, path, want, false);
}

void h_wait_eq(const struct h_party *p, const char *path, long long want)
{
	wait_cmp(p, path, want, true);
}

bool h_log_has(const struct h_party *p, const char *text)
{
	char *log = h_read_file(p->log);
	bool has = strstr(log, text) != NULL;
	free(log);
	return has;
}

void h_audit_count(const struct h_env *e, const struct h_party *p, const char *dir, long long *rows,
                   long long *ids)
{
	char path[512], f[128];
	snprintf(f, sizeof f, "%s.db", p->name);
	h_path(e, f, path, sizeof path);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT count(*), count(DISTINCT msg_id) FROM audit"
	                                    " WHERE direction = ?1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, dir, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*rows = sqlite3_column_int64(st, 0);
	*ids = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

void h_sighting_line(unsigned i, const char *tag, char *out, size_t outlen)
{
	int n = snprintf(out, outlen,
	                 "{\"first_seen\":\"2026-01-01T00:00:%02u.%06uZ\","
	                 "\"last_seen\":\"2026-01-01T00:00:%02u.%06uZ\",\"count\":1,"
	                 "\"final\":false,\"sensor\":\"s1\",\"indicator\":{\"id\":\"ind-%s-%u\","
	                 "\"type\":\"domain\",\"value\":\"evil-%u.example\",\"source\":null,"
	                 "\"tlp\":\"amber\"},\"match\":{\"field\":\"dns.query\","
	                 "\"value\":\"www.evil-%u.example\"},\"flow\":{\"proto\":\"udp\","
	                 "\"src_ip\":\"192.0.2.10\",\"src_port\":%u,\"dst_ip\":\"198.51.100.53\","
	                 "\"dst_port\":53,\"vlan\":[]}}",
	                 i / 1000000 % 60, i % 1000000, i / 1000000 % 60, i % 1000000, tag, i, i, i,
	                 1024 + i % 60000);
	assert_true(n > 0 && (size_t)n < outlen);
}

void *h_raw_client(void *ctx, const struct h_party *p, const char *secret_file)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	assert_non_null(s);
	int linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (secret_file != NULL) {
		char *k = h_read_file(secret_file);
		char secret[41], public[41];
		assert_true(strlen(k) >= 40);
		memcpy(secret, k, 40);
		secret[40] = '\0';
		free(k);
		assert_int_equal(zmq_curve_public(public, secret), 0);
		assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, p->pub, 40), 0);
		assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public, 40), 0);
		assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40), 0);
	}
	char ep[64];
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p->port);
	assert_int_equal(zmq_connect(s, ep), 0);
	return s;
}

void h_raw_send(void *sock, const char *env, const char *body, size_t body_len)
{
	/* Queued until the handshake completes (or for ever, if it fails). */
	assert_true(zmq_send(sock, env, strlen(env), ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(sock, body, body_len, 0) >= 0);
}

bool h_raw_recv(void *sock, int timeout_ms, json_t **env, json_t **body)
{
	*env = *body = NULL;
	zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return false;
	zmq_msg_t m[2];
	for (int i = 0; i < 2; i++) {
		zmq_msg_init(&m[i]);
		assert_true(zmq_msg_recv(&m[i], sock, 0) >= 0);
	}
	assert_false(zmq_msg_more(&m[1]));
	*env = json_loadb(zmq_msg_data(&m[0]), zmq_msg_size(&m[0]), 0, NULL);
	*body = json_loadb(zmq_msg_data(&m[1]), zmq_msg_size(&m[1]), 0, NULL);
	zmq_msg_close(&m[0]);
	zmq_msg_close(&m[1]);
	assert_non_null(*env);
	assert_non_null(*body);
	return true;
}

pid_t h_spawn(char *const argv[], const char *out, const char *err)
{
	return spawn(argv, out, err, false);
}

int h_wait(pid_t pid)
{
	return wait_exit(pid);
}
