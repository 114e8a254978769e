/* \summary: messages for the HL_E* codes of include/hotline/err.h */
#include "hotline/err.h"

const char *hl_strerror(int err)
{
	switch (err) {
	case HL_OK:
		return "success";
#define HL_ERR_MSG(name, msg) \
	case HL_E##name:      \
		return msg;
		HL_ERRNO_MAP(HL_ERR_MSG)
#undef HL_ERR_MSG
	}
	return "unknown error";
}

const char *hl_err_name(int err)
{
	switch (err) {
	case HL_OK:
		return "HL_OK";
#define HL_ERR_NAME(name, msg) \
	case HL_E##name:       \
		return "HL_E" #name;
		HL_ERRNO_MAP(HL_ERR_NAME)
#undef HL_ERR_NAME
	}
	return "HL_EUNKNOWN";
}
