/* \summary: a sightings body read record by record, each with the text it was sent as
 *
 * A "sightings" body is {"records":[R1,R2,...]}. A sharer stores each
 * record's text, hashes it into the sighting's id and forwards it; writing
 * every record out again from its parsed tree (as this code did) cost a
 * fifth of a sharer's CPU. Here each record is parsed alone
 * (JSON_DISABLE_EOF_CHECK, whose error position on success is the record's
 * length; duplicate keys and \u0000 refused as in every frame) and its own
 * bytes are its text. hotline-sensor writes records in canonical form
 * (compact, keys sorted) and a sharer forwards the text it stored, so along
 * the way a record's id stays the SHA-256 of its canonical text. A body
 * that does not have exactly this layout (white space between records,
 * other keys, a "sighting" body) is parsed whole, as before, so its errors
 * read the same; its records' texts are then written out canonically.
 */
#include <string.h>

#include "hotline/err.h"
#include "wire_int.h"

static const char PREFIX[] = "{\"records\":[";

static int put_text(const char *buf, size_t size, void *data)
{
	struct hl_wire_texts *t = data;
	if (t->len + size + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 64 * 1024;
		while (cap < t->len + size + 1)
			cap *= 2;
		char *nb = realloc(t->buf, cap);
		if (nb == NULL)
			return -1;
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, buf, size);
	t->len += size;
	return 0;
}

static int add_offset(struct hl_wire_texts *t)
{
	if (t->n == t->n_cap) {
		size_t cap = t->n_cap ? t->n_cap * 2 : 256;
		size_t *no = realloc(t->off, cap * sizeof *no);
		if (no == NULL)
			return HL_ENOMEM;
		t->off = no;
		t->n_cap = cap;
	}
	t->off[t->n++] = t->len;
	return 0;
}

/* Append rec's canonical text and its NUL. */
static int add_canonical(struct hl_wire_texts *t, const json_t *rec)
{
	size_t at = t->len;
	if (add_offset(t) != 0 ||
	    json_dump_callback(rec, put_text, t, JSON_COMPACT | JSON_SORT_KEYS) != 0 ||
	    put_text("", 1, t) != 0) {
		t->len = at;
		return HL_ENOMEM;
	}
	return 0;
}

/* Append the bytes a record was sent as, and a NUL. */
static int add_as_sent(struct hl_wire_texts *t, const char *text, size_t len)
{
	if (add_offset(t) != 0 || put_text(text, len, t) != 0 || put_text("", 1, t) != 0)
		return HL_ENOMEM;
	return 0;
}

void hl_wire_texts_reset(struct hl_wire_texts *t)
{
	t->n = 0;
	t->len = 0;
}

void hl_wire_texts_free(struct hl_wire_texts *t)
{
	free(t->buf);
	free(t->off);
	memset(t, 0, sizeof *t);
}

const char *hl_wire_record_text(const struct hl_wire_texts *t, size_t i)
{
	return i < t->n ? t->buf + t->off[i] : NULL;
}

/* The fast path. 1: done, *out set; 0: not this shape (or a record needs
 * the full parse's error), nothing kept; HL_ENOMEM. */
static int read_split(const char *body, size_t len, json_t **out, struct hl_wire_texts *t)
{
	size_t pl = sizeof PREFIX - 1;
	if (len < pl + 2 || memcmp(body, PREFIX, pl) != 0 || body[pl] == ']')
		return 0;
	json_t *arr = json_array();
	json_t *obj = json_object();
	if (arr == NULL || obj == NULL || json_object_set(obj, "records", arr) != 0) {
		json_decref(arr);
		json_decref(obj);
		return HL_ENOMEM;
	}
	json_decref(arr);
	size_t first = t->n, len0 = t->len, pos = pl;
	int rc = 0;
	for (;;) {
		if (json_array_size(arr) == HL_WIRE_BATCH_MAX)
			break; /* one too many: the full parse names it */
		json_error_t je;
		json_t *rec = json_loadb(body + pos, len - pos,
		                         JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
		if (rec == NULL)
			break;
		size_t used = (size_t)je.position;
		if (!json_is_object(rec) || used < 2 || used > len - pos) {
			json_decref(rec);
			break;
		}
		if (add_as_sent(t, body + pos, used) != 0) {
			json_decref(rec);
			rc = HL_ENOMEM;
			break;
		}
		if (json_array_append_new(arr, rec) != 0) { /* rec is released */
			rc = HL_ENOMEM;
			break;
		}
		pos += used;
		if (pos < len && body[pos] == ',') {
			pos++;
			continue;
		}
		if (pos + 2 == len && body[pos] == ']' && body[pos + 1] == '}') {
			*out = obj;
			return 1;
		}
		break;
	}
	json_decref(obj);
	t->n = first;
	t->len = len0;
	return rc;
}

static int out_of_memory(struct hl_wire_error *err)
{
	struct hl_wpath p;
	hl_wpath_init(&p, "body");
	hl_wire_fail(err, HL_WIRE_E_INTERNAL, &p, "out of memory");
	return HL_ENOMEM;
}

int hl_wire_load_records(const char *body, size_t len, json_t **out, struct hl_wire_texts *t,
                         struct hl_wire_error *err)
{
	*out = NULL;
	int rc = read_split(body, len, out, t);
	if (rc == HL_ENOMEM)
		return out_of_memory(err);
	if (rc == 1)
		return 0;
	/* Any other shape: the whole body as any frame, then its records. */
	json_t *b = NULL;
	rc = hl_wire_load_frame("body", body, len, &b, err);
	if (rc != 0)
		return rc;
	json_t *one = json_object_get(b, "record");
	json_t *many = json_object_get(b, "records");
	size_t n = json_is_object(one) ? 1 : json_array_size(many);
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *rec = json_is_object(one) ? one : json_array_get(many, i);
		/* Not records yet (the schema check says so): no text. */
		if (!json_is_object(rec))
			break;
		rc = add_canonical(t, rec);
	}
	if (rc != 0) {
		json_decref(b);
		return out_of_memory(err);
	}
	*out = b;
	return 0;
}
