/* \summary: Hotline error codes
 *
 * Functions return 0 on success or a negative HL_E* code (libuv's contract).
 * One X-macro generates the enum, hl_strerror() and hl_err_name().
 */
#ifndef HOTLINE_ERR_H
#define HOTLINE_ERR_H

#define HL_ERRNO_MAP(XX)                              \
	XX(NOMEM, "out of memory")                    \
	XX(INVAL, "invalid argument or input")        \
	XX(IO, "input/output error")                  \
	XX(PARSE, "malformed input")                  \
	XX(RANGE, "value out of range")               \
	XX(NOTFOUND, "not found")                     \
	XX(EXISTS, "already exists")                  \
	XX(COMPILE, "pattern compilation failed")     \
	XX(FORMAT, "unsupported or corrupt format")   \
	XX(LIMIT, "configured limit exceeded")        \
	XX(AGAIN, "resource temporarily unavailable") \
	XX(TRUNC, "truncated input")                  \
	XX(PERM, "permission denied")                 \
	XX(STATE, "operation not valid in this state")

enum hl_err {
	HL_OK = 0,
#define HL_ERR_ENUM(name, msg) HL_E##name##_CODE_,
	HL_ERR_BASE_ = 1000,
	HL_ERRNO_MAP(HL_ERR_ENUM)
#undef HL_ERR_ENUM
};

/* The negative values callers compare against: -HL_EINVAL style would read
 * double negative, so the constants are negative already. */
#define HL_ERR_CONST(name, msg) HL_E##name = -(int)HL_E##name##_CODE_,
enum { HL_ERRNO_MAP(HL_ERR_CONST) };
#undef HL_ERR_CONST

/* Human-readable message for a code from this header; "unknown error" else. */
const char *hl_strerror(int err);
/* Symbolic name ("HL_EINVAL") for a code from this header. */
const char *hl_err_name(int err);

#endif
