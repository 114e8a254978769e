/* \summary: checks shared by the three config schemas */
#ifndef HOTLINE_SHARER_CONFIG_INT_H
#define HOTLINE_SHARER_CONFIG_INT_H

#include <stddef.h>

#include "yaml_reader.h"

#define CFG_SECOND 1000000LL
#define CFG_MINUTE (60 * CFG_SECOND)
#define CFG_HOUR (60 * CFG_MINUTE)
#define CFG_DAY (24 * CFG_HOUR)
#define CFG_KIB 1024LL
#define CFG_MIB (1024 * CFG_KIB)
#define CFG_GIB (1024 * CFG_MIB)

int hl_cfg_check_party(const char *s, char *why, size_t whylen);
int hl_cfg_check_z85_key(const char *s, char *why, size_t whylen);
int hl_cfg_check_endpoint(const char *s, char *why, size_t whylen);
int hl_cfg_check_cidr(const char *s, char *why, size_t whylen);
int hl_cfg_check_line(const char *s, char *why, size_t whylen);

#endif
