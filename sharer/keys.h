/* \summary: CURVE key files: generate, write, read back, fingerprint
 *
 * A sharer's identity is a CURVE (Curve25519) keypair in two files:
 *   NAME.key  the secret key, Z85 (40 characters) and a newline, mode 0600,
 *             created with O_CREAT|O_EXCL so an existing key is never
 *             overwritten; read back only if neither group nor others have
 *             any permission on it;
 *   NAME.pub  the public key, Z85 and a newline, for the counterpart's
 *             allowlist (safe to publish).
 * The public key is derived from the secret on reading, so the two files
 * cannot disagree silently: a NAME.pub next to the key is checked against it.
 *
 * A key's fingerprint, used in logs, is the first 16 hex characters of the
 * SHA-256 of the 32-byte public key (never the secret).
 *
 * Errors name the file ("PATH: what is wrong") through a struct hl_diag.
 */
#ifndef HOTLINE_SHARER_KEYS_H
#define HOTLINE_SHARER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotline/diag.h"

#define HL_KEY_BIN_LEN 32
#define HL_KEY_Z85_LEN 40
#define HL_KEY_FPR_LEN 16
/* A peer name is a routing id and a file name: [A-Za-z0-9_.-]{1,64}, not
 * starting with '.' or '-'. */
#define HL_PEER_NAME_MAX 64

struct hl_keypair {
	char public_z85[HL_KEY_Z85_LEN + 1];
	char secret_z85[HL_KEY_Z85_LEN + 1];
};

/* A fresh keypair from libzmq (libsodium's RNG). 0 or HL_EIO. */
int hl_keypair_generate(struct hl_keypair *kp);

/* Write DIR/NAME.key (0600) and DIR/NAME.pub (0644). Refuses (HL_EEXISTS)
 * if either exists, leaving both untouched. HL_EINVAL for a bad name,
 * HL_EIO for a write failure (nothing is left behind). */
int hl_keypair_write(const char *dir, const char *name, const struct hl_keypair *kp,
                     struct hl_diag *diag);

/* Read a secret key file and derive its public key. HL_EPERM when group or
 * others have any permission on it (the message says how to fix it),
 * HL_EPARSE when it is not one Z85 key, HL_EIO when it cannot be read. */
int hl_keypair_read(const char *secret_path, struct hl_keypair *kp, struct hl_diag *diag);

/* Read a public key file (one Z85 key and an optional newline).
 * HL_EPARSE when malformed, HL_EIO when unreadable. */
int hl_key_read_public(const char *path, char out[HL_KEY_Z85_LEN + 1], struct hl_diag *diag);

/* Whether z85 (NUL-terminated) is exactly one valid Z85 key; if so and bin
 * is not NULL, its 32 bytes. 0 or HL_EPARSE. */
int hl_key_decode(const char *z85, uint8_t bin[HL_KEY_BIN_LEN]);

/* First 16 hex characters of SHA-256(public key), NUL-terminated. */
void hl_key_fingerprint(const uint8_t pub[HL_KEY_BIN_LEN], char out[HL_KEY_FPR_LEN + 1]);
/* The same from a Z85 public key; HL_EPARSE (and out = "invalid") if bad. */
int hl_key_fingerprint_z85(const char *z85, char out[HL_KEY_FPR_LEN + 1]);

bool hl_peer_name_valid(const char *name);

/* `hotline-sharer keygen [-d DIR] NAME`: argv[0] is "keygen". Writes
 * DIR/NAME.key and DIR/NAME.pub and prints the fingerprint. Returns the
 * process exit code: 0 done, 1 refused or failed, 2 usage. */
int hl_keygen_main(int argc, char **argv);

#endif
