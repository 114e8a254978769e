/* \summary: CURVE key files (see keys.h) */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "hotline/err.h"

/* A key file is one 40-character line; anything much longer is not a key. */
#define KEY_FILE_MAX 128

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

bool hl_peer_name_valid(const char *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	size_t n = 0;
	for (const char *p = name; *p != '\0'; p++, n++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok || n >= HL_PEER_NAME_MAX)
			return false;
	}
	return true;
}

int hl_key_decode(const char *z85, uint8_t bin[HL_KEY_BIN_LEN])
{
	if (z85 == NULL || strlen(z85) != HL_KEY_Z85_LEN)
		return HL_EPARSE;
	for (size_t i = 0; i < HL_KEY_Z85_LEN; i++)
		if (z85[i] == '\0' || strchr(z85_alphabet, z85[i]) == NULL)
			return HL_EPARSE;
	uint8_t tmp[HL_KEY_BIN_LEN];
	/* Z85 can encode values above 2^32 per group ("#####"); libzmq's
	 * decoder rejects those, which is the last check of well-formedness. */
	if (zmq_z85_decode(tmp, z85) == NULL)
		return HL_EPARSE;
	if (bin != NULL)
		memcpy(bin, tmp, sizeof tmp);
	sodium_memzero(tmp, sizeof tmp);
	return 0;
}

void hl_key_fingerprint(const uint8_t pub[HL_KEY_BIN_LEN], char out[HL_KEY_FPR_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, pub, HL_KEY_BIN_LEN);
	sodium_bin2hex(out, HL_KEY_FPR_LEN + 1, h, HL_KEY_FPR_LEN / 2);
}

int hl_key_fingerprint_z85(const char *z85, char out[HL_KEY_FPR_LEN + 1])
{
	uint8_t bin[HL_KEY_BIN_LEN];
	if (hl_key_decode(z85, bin) != 0) {
		snprintf(out, HL_KEY_FPR_LEN + 1, "invalid");
		return HL_EPARSE;
	}
	hl_key_fingerprint(bin, out);
	return 0;
}

int hl_keypair_generate(struct hl_keypair *kp)
{
	if (kp == NULL)
		return HL_EINVAL;
	if (zmq_curve_keypair(kp->public_z85, kp->secret_z85) != 0)
		return HL_EIO;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return HL_EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create path exclusively with exactly mode (fchmod: the umask may only
 * narrow it, and a 0600 secret must not depend on the caller's umask) and
 * write one key line. On failure nothing is left at path. */
static int write_key_file(const char *path, const char *z85, mode_t mode, struct hl_diag *diag)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EEXIST) {
			hl_diag_report(diag, HL_DIAG_ERROR, path, 0,
			               "exists; refusing to overwrite a key file");
			return HL_EEXISTS;
		}
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot create: %s", strerror(errno));
		return HL_EIO;
	}
	char line[HL_KEY_Z85_LEN + 2];
	int len = snprintf(line, sizeof line, "%s\n", z85);
	int rc = len == HL_KEY_Z85_LEN + 1 ? 0 : HL_EINVAL;
	if (rc == 0 && fchmod(fd, mode) != 0)
		rc = HL_EIO;
	if (rc == 0)
		rc = write_all(fd, line, (size_t)len);
	if (rc == 0 && fsync(fd) != 0)
		rc = HL_EIO;
	sodium_memzero(line, sizeof line);
	if (close(fd) != 0 && rc == 0)
		rc = HL_EIO;
	if (rc != 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot write: %s",
		               rc == HL_EINVAL ? "malformed key" : strerror(errno));
		unlink(path);
	}
	return rc;
}

static int key_path(char *buf, size_t size, const char *dir, const char *name, const char *ext)
{
	int n = snprintf(buf, size, "%s/%s%s", dir != NULL ? dir : ".", name, ext);
	return n > 0 && (size_t)n < size ? 0 : HL_ERANGE;
}

int hl_keypair_write(const char *dir, const char *name, const struct hl_keypair *kp,
                     struct hl_diag *diag)
{
	if (kp == NULL || !hl_peer_name_valid(name)) {
		hl_diag_report(diag, HL_DIAG_ERROR, name, 0,
		               "invalid key name (use 1-64 of A-Z a-z 0-9 _ . -)");
		return HL_EINVAL;
	}
	if (hl_key_decode(kp->public_z85, NULL) != 0 || hl_key_decode(kp->secret_z85, NULL) != 0)
		return HL_EINVAL;
	char sec_path[4096], pub_path[4096];
	if (key_path(sec_path, sizeof sec_path, dir, name, ".key") != 0 ||
	    key_path(pub_path, sizeof pub_path, dir, name, ".pub") != 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, dir, 0, "path too long");
		return HL_ERANGE;
	}
	int rc = write_key_file(sec_path, kp->secret_z85, 0600, diag);
	if (rc != 0)
		return rc;
	rc = write_key_file(pub_path, kp->public_z85, 0644, diag);
	if (rc != 0) {
		/* The secret alone would be half a key set: take it back. */
		unlink(sec_path);
		return rc;
	}
	return 0;
}

/* Read one key line from fd into out (NUL-terminated Z85). */
static int read_key_line(int fd, const char *path, char out[HL_KEY_Z85_LEN + 1],
                         struct hl_diag *diag)
{
	char buf[KEY_FILE_MAX + 1];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot read: %s",
			               strerror(errno));
			return HL_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf - 1)
			break;
	}
	int rc = 0;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len != HL_KEY_Z85_LEN) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 1,
		               "expected one %d-character Z85 key, found %zu characters%s",
		               HL_KEY_Z85_LEN, len, len >= KEY_FILE_MAX - 2 ? " or more" : "");
		rc = HL_EPARSE;
	} else if (hl_key_decode(buf, NULL) != 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 1, "not a valid Z85 key");
		rc = HL_EPARSE;
	} else {
		memcpy(out, buf, HL_KEY_Z85_LEN + 1);
	}
	sodium_memzero(buf, sizeof buf);
	return rc;
}

static int open_key_file(const char *path, struct stat *st, struct hl_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return HL_EIO;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		hl_diag_report(diag, HL_DIAG_ERROR, path, 0, "not a regular file");
		close(fd);
		return HL_EIO;
	}
	return fd;
}

int hl_key_read_public(const char *path, char out[HL_KEY_Z85_LEN + 1], struct hl_diag *diag)
{
	if (path == NULL || out == NULL)
		return HL_EINVAL;
	struct stat st;
	int fd = open_key_file(path, &st, diag);
	if (fd < 0)
		return fd;
	int rc = read_key_line(fd, path, out, diag);
	close(fd);
	return rc;
}

/* "DIR/NAME.key" -> "DIR/NAME.pub"; HL_ENOTFOUND for another suffix. */
static int sibling_pub(const char *secret_path, char *buf, size_t size)
{
	size_t len = strlen(secret_path);
	if (len < 4 || strcmp(secret_path + len - 4, ".key") != 0 || len >= size)
		return HL_ENOTFOUND;
	memcpy(buf, secret_path, len - 4);
	memcpy(buf + len - 4, ".pub", 5);
	return 0;
}

int hl_keypair_read(const char *secret_path, struct hl_keypair *kp, struct hl_diag *diag)
{
	if (secret_path == NULL || kp == NULL)
		return HL_EINVAL;
	memset(kp, 0, sizeof *kp);
	struct stat st;
	int fd = open_key_file(secret_path, &st, diag);
	if (fd < 0)
		return fd;
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		hl_diag_report(
		        diag, HL_DIAG_ERROR, secret_path, 0,
		        "secret key file is accessible by group or others (mode %04o); "
		        "refusing to use it: run chmod 600 %s (and consider the key exposed)",
		        (unsigned)(st.st_mode & 07777), secret_path);
		close(fd);
		return HL_EPERM;
	}
	int rc = read_key_line(fd, secret_path, kp->secret_z85, diag);
	close(fd);
	if (rc == 0 && zmq_curve_public(kp->public_z85, kp->secret_z85) != 0) {
		hl_diag_report(diag, HL_DIAG_ERROR, secret_path, 0, "cannot derive the public key");
		rc = HL_EIO;
	}
	char pub_path[4096], pub[HL_KEY_Z85_LEN + 1];
	if (rc == 0 && sibling_pub(secret_path, pub_path, sizeof pub_path) == 0 &&
	    access(pub_path, F_OK) == 0) {
		rc = hl_key_read_public(pub_path, pub, diag);
		if (rc == 0 && strcmp(pub, kp->public_z85) != 0) {
			hl_diag_report(diag, HL_DIAG_ERROR, pub_path, 0,
			               "is not the public key of %s", secret_path);
			rc = HL_EINVAL;
		}
	}
	if (rc != 0)
		sodium_memzero(kp, sizeof *kp);
	return rc;
}

static void keygen_usage(FILE *out)
{
	fprintf(out, "usage: hotline-sharer keygen [-d DIR] NAME\n"
	             "  writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public);\n"
	             "  refuses to overwrite either. DIR defaults to the current directory.\n");
}

int hl_keygen_main(int argc, char **argv)
{
	const char *dir = ".";
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			keygen_usage(stdout);
			return 0;
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--dir") == 0) {
			if (++i >= argc) {
				keygen_usage(stderr);
				return 2;
			}
			dir = argv[i];
		} else if (strncmp(a, "--dir=", 6) == 0) {
			dir = a + 6;
		} else if (a[0] == '-' || name != NULL) {
			keygen_usage(stderr);
			return 2;
		} else {
			name = a;
		}
	}
	if (name == NULL) {
		keygen_usage(stderr);
		return 2;
	}
	struct hl_diag diag = {.emit = hl_diag_emit_stream, .ctx = stderr};
	if (!hl_peer_name_valid(name)) {
		fprintf(stderr,
		        "hotline-sharer keygen: invalid NAME '%s' (use 1-%d of A-Z a-z 0-9 "
		        "_ . -, not starting with . or -)\n",
		        name, HL_PEER_NAME_MAX);
		return 2;
	}
	struct hl_keypair kp;
	if (hl_keypair_generate(&kp) != 0) {
		fprintf(stderr, "hotline-sharer keygen: cannot generate a CURVE keypair "
		                "(is libzmq built with CURVE?)\n");
		return 1;
	}
	int rc = hl_keypair_write(dir, name, &kp, &diag);
	char fpr[HL_KEY_FPR_LEN + 1];
	hl_key_fingerprint_z85(kp.public_z85, fpr);
	if (rc == 0)
		printf("wrote %s/%s.key (secret, mode 0600) and %s/%s.pub\n"
		       "public key:  %s\nfingerprint: %s\n",
		       dir, name, dir, name, kp.public_z85, fpr);
	sodium_memzero(&kp, sizeof kp);
	return rc == 0 ? 0 : 1;
}
