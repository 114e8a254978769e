/* \summary: the canonical native line of an indicator, and native set output
 *
 * The native line is also what hl_iset_hash() digests, so every choice here
 * (which keys appear when, how arrays are ordered) is part of the set hash
 * that two parties compare: change it only with a format version bump.
 */
#include "hotline/export.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/timefmt.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted JSON array of the strings, so that insertion order (which
 * depends on which file was read first) never changes the line. */
static json_t *sorted_array(const struct hl_strv *sv)
{
	const char **v = malloc(sv->n * sizeof *v);
	json_t *arr = json_array();
	if (v == NULL || arr == NULL) {
		free(v);
		json_decref(arr);
		return NULL;
	}
	memcpy(v, sv->v, sv->n * sizeof *v);
	qsort(v, sv->n, sizeof *v, cmp_str);
	for (size_t i = 0; i < sv->n; i++) {
		if (json_array_append_new(arr, json_string(v[i])) != 0) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	}
	free(v);
	return arr;
}

static int set_new(json_t *obj, const char *key, json_t *val)
{
	return val != NULL && json_object_set_new(obj, key, val) == 0 ? 0 : HL_ENOMEM;
}

static int set_time(json_t *obj, const char *key, int64_t us)
{
	char buf[HL_TIME_ISO_MAX];
	if (hl_time_format(us, buf, sizeof buf) != 0)
		return HL_ERANGE;
	return set_new(obj, key, json_string(buf));
}

char *hl_indicator_to_native(const struct hl_indicator *ind)
{
	if (ind == NULL || ind->id == NULL || ind->value == NULL)
		return NULL;
	json_t *obj = json_object();
	if (obj == NULL)
		return NULL;
	int rc = set_new(obj, "id", json_string(ind->id));
	if (rc == 0)
		rc = set_new(obj, "type", json_string(hl_ind_type_name(ind->type)));
	if (rc == 0)
		rc = set_new(obj, "value", json_string(ind->value));
	if (rc == 0)
		rc = set_new(obj, "tlp", json_string(hl_tlp_name(ind->tlp)));
	if (rc == 0 && ind->confidence != HL_CONFIDENCE_UNSET)
		rc = set_new(obj, "confidence", json_integer(ind->confidence));
	if (rc == 0 && ind->severity != HL_SEV_UNKNOWN)
		rc = set_new(obj, "severity", json_string(hl_severity_name(ind->severity)));
	if (rc == 0 && ind->valid_from != 0)
		rc = set_time(obj, "valid_from", ind->valid_from);
	if (rc == 0 && ind->valid_until != 0)
		rc = set_time(obj, "valid_until", ind->valid_until);
	if (rc == 0 && ind->nocase)
		rc = set_new(obj, "nocase", json_true());
	if (rc == 0 && ind->sources.n > 0)
		rc = set_new(obj, "source", sorted_array(&ind->sources));
	if (rc == 0 && ind->tags.n > 0)
		rc = set_new(obj, "tags", sorted_array(&ind->tags));
	if (rc == 0 && ind->description != NULL)
		rc = set_new(obj, "description", json_string(ind->description));
	char *line = rc == 0 ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	return line;
}

static int cmp_ind(const void *a, const void *b)
{
	const struct hl_indicator *x = *(const struct hl_indicator *const *)a;
	const struct hl_indicator *y = *(const struct hl_indicator *const *)b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return strcmp(x->value, y->value);
}

int hl_write_native(FILE *out, const hl_iset_t *set)
{
	size_t n = hl_iset_count(set);
	const struct hl_indicator **v = malloc((n > 0 ? n : 1) * sizeof *v);
	if (v == NULL)
		return HL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = hl_iset_at(set, i);
	/* Canonical order whatever the set's order, as hl_iset_hash digests. */
	qsort(v, n, sizeof *v, cmp_ind);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *line = hl_indicator_to_native(v[i]);
		if (line == NULL)
			rc = HL_ENOMEM;
		else if (fputs(line, out) == EOF || fputc('\n', out) == EOF)
			rc = HL_EIO;
		free(line);
	}
	free(v);
	if (rc == 0 && fflush(out) != 0)
		rc = HL_EIO;
	return rc;
}
