/* \summary: starting lines of selected JSON values, for "FILE:LINE" errors
 *
 * jansson reports a position only for syntax errors. To name the line of a
 * bad object inside a well-formed document, this scanner walks the raw text
 * once more and records the line where each value selected by a path
 * starts. It decodes nothing, keeps no per-depth state beyond the path, and
 * never reads past len.
 *
 * A path is a dotted list of steps: a member name, or "*" for every element
 * of an array. "objects.*" selects the elements of the top-level "objects"
 * array, "response.*.Event.Attribute.*" every attribute of every event of a
 * MISP response, "" the document itself. Values are listed in document
 * order, which is also the order of walking the decoded jansson tree along
 * the same path.
 */
#ifndef HOTLINE_JSON_POS_H
#define HOTLINE_JSON_POS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hotline/diag.h"

#define HL_JSON_POS_MAX_STEPS 16
#define HL_JSON_POS_MAX_PATH 256

struct hl_json_pos {
	unsigned long *lines; /* owned; one per selected value, document order */
	size_t n;
	bool valid; /* false: positions unknown; every line reads 0 */
};

/* Scan data for the values path selects. 0 with pos->valid set; on failure
 * pos is left invalid (every line reads 0) and the code says why: HL_EPARSE
 * (not scannable JSON), HL_EFORMAT (a member on the path occurs twice in one
 * object, so which one a decoder keeps is not the scanner's to guess),
 * HL_EINVAL (bad path), HL_ENOMEM. */
int hl_json_pos_scan(struct hl_json_pos *pos, const char *data, size_t len, const char *path);

/* Number of values path selects in a decoded document, with the scanner's
 * rules: a member step on a non-object or "*" on a non-array selects
 * nothing. */
size_t hl_json_path_count(const json_t *root, const char *path);

/* hl_json_pos_scan, then compare with the decoded root: when the counts
 * disagree (an escaped member name, a decoder quirk), the positions are
 * dropped rather than attached to the wrong values. The return value is
 * that of the scan; callers may ignore it, since lines then read 0. */
int hl_json_pos_match(struct hl_json_pos *pos, const char *data, size_t len, const json_t *root,
                      const char *path);

/* Line of the i-th selected value (1-based), or 0 when unknown. */
unsigned long hl_json_pos_line(const struct hl_json_pos *pos, size_t i);

/* Free the lines; pos reads as invalid afterwards. Accepts a cleared pos. */
void hl_json_pos_clear(struct hl_json_pos *pos);

/* Parse a whole JSON document read from an indicator file: refuses input
 * over HL_PARSE_MAX_INPUT (*rc = HL_ELIMIT), skips a UTF-8 byte order
 * mark (advancing *data and *len past it, so that positions found later
 * in the same bytes agree with jansson's), and reports a syntax error as "NAME:LINE: not valid
 * JSON: ..."
 * (*rc = HL_EPARSE). NULL on failure. Shared by the STIX and MISP readers. */
json_t *hl_json_load_document(const char *name, const char **data, size_t *len,
                              struct hl_diag *diag, int *rc);

#endif
