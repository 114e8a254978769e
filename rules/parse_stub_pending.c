/* \summary: TEMPORARY stand-ins for the STIX/MISP readers (h-model only)
 *
 * The real hl_parse_stix/hl_parse_misp_* come from another branch; until
 * they are on main this file lets the dispatcher link. Delete it on merge.
 */
#include "hotline/err.h"
#include "hotline/parse.h"

int hl_parse_stix(const char *name, const char *data, size_t len, const struct hl_parse_opts *opts,
                  hl_iset_t *out, struct hl_diag *diag)
{
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "STIX reader not built in");
	return HL_EFORMAT;
}

int hl_parse_misp_csv(const char *name, const char *data, size_t len,
                      const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "MISP CSV reader not built in");
	return HL_EFORMAT;
}

int hl_parse_misp_json(const char *name, const char *data, size_t len,
                       const struct hl_parse_opts *opts, hl_iset_t *out, struct hl_diag *diag)
{
	hl_diag_report(diag, HL_DIAG_ERROR, name, 0, "MISP JSON reader not built in");
	return HL_EFORMAT;
}
