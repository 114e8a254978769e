/* \summary: sightings (dedup, derived fields, since-listing), indicators, set versions */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "hotline/indicator.h"
#include "sighting.h"
#include "test_store_util.h"

/* Python: sha256(json.dumps(r, sort_keys=True, separators=(",", ":"))) */
#define REC_A                                                          \
	"{\"first_seen\":\"2016-05-11T10:00:00.123456Z\",\"count\":2," \
	"\"indicator\":{\"id\":\"fx-domain-evil\",\"type\":\"domain\"},\"final\":false}"
#define REC_A_REORDERED                                                                            \
	"{ \"final\": false, \"indicator\": {\"type\": \"domain\", \"id\": \"fx-domain-evil\"},\n" \
	"  \"count\": 2, \"first_seen\": \"2016-05-11T10:00:00.123456Z\" }"
#define REC_A_ID "d5997b96c4ff0370665fd2c6dd495b6a555994afbfa5f84b0ca0443070479ea3"
#define T_2016 1462960800123456

struct fixture {
	struct tmpdb t;
	hl_store_t *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	tmpdb_make(&f->t);
	f->s = open_ok(f->t.path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hl_store_close(&f->s);
	tmpdb_remove(&f->t);
	free(f);
	return 0;
}

/* What a listing passed, copied. */
struct seen {
	int n;
	char ids[16][72];
	char origin[16][32];
	char iid[16][64];
	int64_t received[16], first[16];
	char record[512];
	int stop_at;
};

static int collect(void *ud, const struct hl_store_sighting *sg)
{
	struct seen *s = ud;
	assert_true(s->n < 16);
	snprintf(s->ids[s->n], sizeof s->ids[0], "%s", sg->id);
	snprintf(s->origin[s->n], sizeof s->origin[0], "%s", sg->origin);
	snprintf(s->iid[s->n], sizeof s->iid[0], "%s", sg->indicator_id ? sg->indicator_id : "-");
	s->received[s->n] = sg->received_at;
	s->first[s->n] = sg->first_seen;
	snprintf(s->record, sizeof s->record, "%s", sg->record);
	s->n++;
	return s->stop_at != 0 && s->n == s->stop_at ? 1 : 0;
}

static void same_sighting_twice_stores_once(void **state)
{
	struct fixture *f = *state;
	struct hl_store_sighting sg = {.origin = "local", .received_at = 500, .record = REC_A};
	bool added = false;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_true(added);
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_false(added);
	/* The same record with other key order and spacing is the same sighting. */
	sg.record = REC_A_REORDERED;
	sg.origin = "peer:bravo";
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_false(added);
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(f->s, &n), 0);
	assert_int_equal(n, 1);

	/* The derived id, first_seen and indicator id are the record's. */
	struct seen seen = {0};
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 0, 0, collect, &seen, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(seen.ids[0], REC_A_ID);
	assert_string_equal(seen.origin[0], "local"); /* the first one stays */
	assert_string_equal(seen.iid[0], "fx-domain-evil");
	assert_int_equal(seen.first[0], T_2016);
	assert_int_equal(seen.received[0], 500);
	assert_string_equal(seen.record, REC_A); /* kept as given */

	char id[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_sighting_derive_id(REC_A_REORDERED, id), 0);
	assert_string_equal(id, REC_A_ID);
	assert_int_equal(hl_store_sighting_derive_id("[1,2]", id), HL_EPARSE);
	assert_int_equal(hl_store_sighting_derive_id("{\"a\":1,\"a\":2}", id), HL_EPARSE);
	assert_int_equal(hl_store_sighting_derive_id("{\"a\":", id), HL_EPARSE);
	assert_int_equal(hl_store_sighting_derive_id(NULL, id), HL_EINVAL);
}

static void given_fields_win_and_skip_parsing(void **state)
{
	struct fixture *f = *state;
	/* Not JSON at all: stored opaquely when nothing must be derived. */
	struct hl_store_sighting sg = {.id = "peer-sg-1",
	                               .origin = "peer:bravo",
	                               .received_at = 10,
	                               .first_seen = 7,
	                               .indicator_id = "hl--1",
	                               .record = "opaque"};
	bool added = false;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_true(added);
	/* The same id again (a re-delivery): stored once. */
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_false(added);
	/* The same id with another first_seen is another record (the key is
	 * (first_seen, id); docs/store.md). */
	sg.first_seen = 8;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_true(added);
	size_t total = 0;
	assert_int_equal(hl_store_sighting_count(f->s, &total), 0);
	assert_int_equal(total, 2);
	sg.first_seen = 7;
	/* Something must be derived: now the record has to parse. */
	sg.id = NULL;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), HL_EPARSE);
	assert_false(added);
	sg.id = "x";
	sg.first_seen = 0;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), HL_EPARSE);
	/* No first_seen in the record: 0 (unknown); a bad one: refused. */
	sg.record = "{\"indicator_id\":\"hl--top\"}";
	sg.indicator_id = NULL;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	sg.id = "y";
	sg.record = "{\"first_seen\":\"yesterday\"}";
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), HL_EPARSE);
	sg.record = "{\"first_seen\":12345,\"indicator\":{\"id\":7}}";
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);

	struct seen seen = {0};
	size_t n = 0;
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 0, 0, collect, &seen, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(seen.ids[0], "peer-sg-1");
	assert_int_equal(seen.first[0], 7);
	assert_int_equal(seen.first[1], 8);
	assert_string_equal(seen.ids[2], "x");
	assert_int_equal(seen.first[2], 0);
	assert_string_equal(seen.iid[2], "hl--top");
	assert_string_equal(seen.ids[3], "y");
	assert_int_equal(seen.first[3], 12345);
	assert_string_equal(seen.iid[3], "-"); /* not a string: none */
}

static void fields_from_a_parsed_record(void **state)
{
	struct fixture *f = *state;
	json_t *rec = json_loads(REC_A_REORDERED, 0, NULL);
	assert_non_null(rec);
	struct hl_store_sighting sg = {.origin = "local", .received_at = 9, .record = REC_A};
	char id[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_sighting_fields(rec, &sg, id), 0);
	assert_ptr_equal(sg.id, id);
	assert_string_equal(id, REC_A_ID);
	assert_int_equal(sg.first_seen, T_2016);
	assert_string_equal(sg.indicator_id, "fx-domain-evil");
	bool added = false;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_true(added);
	/* The same record, derived inside the store: the same sighting. */
	struct hl_store_sighting again = {.origin = "local", .received_at = 10, .record = REC_A};
	assert_int_equal(hl_store_sighting_add(f->s, &again, &added), 0);
	assert_false(added);
	json_decref(rec);

	json_t *arr = json_array();
	assert_int_equal(hl_store_sighting_fields(arr, &sg, id), HL_EPARSE);
	json_decref(arr);
	rec = json_loads("{\"first_seen\":\"soon\"}", 0, NULL);
	assert_int_equal(hl_store_sighting_fields(rec, &sg, id), HL_EPARSE);
	json_decref(rec);
	rec = json_loads("{\"indicator\":{\"id\":\"\"}}", 0, NULL);
	assert_int_equal(hl_store_sighting_fields(rec, &sg, id), 0);
	assert_null(sg.indicator_id); /* an empty id is no id */
	assert_int_equal(sg.first_seen, 0);
	json_decref(rec);
}

static void bad_sightings_are_refused(void **state)
{
	struct fixture *f = *state;
	const char *bad_origins[] = {NULL, "", "peer:", "peer", "remote", "Peer:bravo", "local "};
	for (size_t i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++) {
		struct hl_store_sighting sg = {
		        .id = "a", .origin = bad_origins[i], .first_seen = 1, .record = "{}"};
		assert_int_equal(hl_store_sighting_add(f->s, &sg, NULL), HL_EINVAL);
	}
	struct hl_store_sighting sg = {
	        .id = "", .origin = "local", .first_seen = 1, .record = "{}"};
	assert_int_equal(hl_store_sighting_add(f->s, &sg, NULL), HL_EINVAL);
	sg.id = "a";
	sg.record = NULL;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, NULL), HL_EINVAL);
	assert_int_equal(hl_store_sighting_add(f->s, NULL, NULL), HL_EINVAL);
	size_t n = 1;
	assert_int_equal(hl_store_sighting_count(f->s, &n), 0);
	assert_int_equal(n, 0);
}

static void add_at(hl_store_t *s, const char *id, int64_t received, int64_t first)
{
	struct hl_store_sighting sg = {.id = id,
	                               .origin = "local",
	                               .received_at = received,
	                               .first_seen = first,
	                               .indicator_id = "hl--i",
	                               .record = "{}"};
	assert_int_equal(hl_store_sighting_add(s, &sg, NULL), 0);
}

static void since_lists_in_time_order(void **state)
{
	struct fixture *f = *state;
	add_at(f->s, "a", 300, 30);
	add_at(f->s, "b", 100, 50);
	add_at(f->s, "c", 200, 10);
	add_at(f->s, "d", 200, 40); /* same received_at as c: insertion order */
	add_at(f->s, "e", 50, 20);

	struct seen seen = {0};
	size_t n = 0;
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 100, 0, collect, &seen, &n),
	        0);
	assert_int_equal(n, 4);
	assert_string_equal(seen.ids[0], "b");
	assert_string_equal(seen.ids[1], "c");
	assert_string_equal(seen.ids[2], "d");
	assert_string_equal(seen.ids[3], "a");

	memset(&seen, 0, sizeof seen);
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_FIRST_SEEN, 20, 0, collect, &seen, &n),
	        0);
	assert_int_equal(n, 4);
	assert_string_equal(seen.ids[0], "e");
	assert_string_equal(seen.ids[1], "a");
	assert_string_equal(seen.ids[2], "d");
	assert_string_equal(seen.ids[3], "b");

	/* limit, a stopping callback, nothing after the end */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 0, 2, collect, &seen, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(seen.ids[1], "b");
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 3;
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 0, 0, collect, &seen, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(
	        hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 301, 0, collect, &seen, &n),
	        0);
	assert_int_equal(n, 0);
	assert_int_equal(
	        hl_store_sightings_since(f->s, (enum hl_store_time)5, 0, 0, collect, &seen, &n),
	        HL_EINVAL);
	assert_int_equal(hl_store_sightings_since(f->s, HL_STORE_BY_RECEIVED, 0, 0, NULL, NULL, &n),
	                 HL_EINVAL);
}

static void sensor_record_round_trips(void **state)
{
	struct fixture *f = *state;
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = "evil.example";
	ind.id = "fx-domain-evil";
	struct hl_sighting s = {0};
	s.first_seen = T_2016;
	s.last_seen = T_2016 + 1;
	s.count = 1;
	s.indicator = &ind;
	s.field = HL_FIELD_DNS_QUERY;
	s.value = "www.evil.example";
	s.value_len = strlen(s.value);
	s.flow.family = 4;
	s.flow.proto = 17;
	char *line = hl_sighting_to_json(&s, "s1");
	assert_non_null(line);
	struct hl_store_sighting sg = {
	        .origin = "local", .received_at = T_2016 + 5, .record = line};
	bool added = false;
	assert_int_equal(hl_store_sighting_add(f->s, &sg, &added), 0);
	assert_true(added);
	struct seen seen = {0};
	size_t n = 0;
	assert_int_equal(hl_store_sightings_since(f->s, HL_STORE_BY_FIRST_SEEN, T_2016, 0, collect,
	                                          &seen, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(seen.iid[0], "fx-domain-evil");
	assert_int_equal(seen.first[0], T_2016);
	assert_string_equal(seen.record, line);
	char id[HL_STORE_HASH_HEX];
	assert_int_equal(hl_store_sighting_derive_id(line, id), 0);
	assert_string_equal(seen.ids[0], id);
	free(line);
}

/* ---- indicators -------------------------------------------------------- */

struct inds {
	int n;
	char ids[8][32];
	char status[8][16];
	char record[256];
	char source[32];
	uint64_t set_version;
};

static int collect_ind(void *ud, const struct hl_store_indicator *ind)
{
	struct inds *s = ud;
	assert_true(s->n < 8);
	snprintf(s->ids[s->n], sizeof s->ids[0], "%s", ind->id);
	snprintf(s->status[s->n], sizeof s->status[0], "%s", hl_ind_status_name(ind->status));
	snprintf(s->record, sizeof s->record, "%s", ind->record);
	snprintf(s->source, sizeof s->source, "%s", ind->source != NULL ? ind->source : "-");
	s->set_version = ind->set_version;
	s->n++;
	return 0;
}

static void put(hl_store_t *s, const char *id, const char *type, const char *value,
                enum hl_ind_status st)
{
	struct hl_store_indicator ind = {.id = id,
	                                 .type = type,
	                                 .value = value,
	                                 .tlp = "amber",
	                                 .record = "{}",
	                                 .status = st,
	                                 .set_version = 1,
	                                 .updated_at = 5};
	assert_int_equal(hl_store_indicator_put(s, &ind), 0);
}

static void indicators_by_id_and_status(void **state)
{
	struct fixture *f = *state;
	put(f->s, "i1", "ip", "10.0.0.1", HL_IND_ACTIVE);
	put(f->s, "i2", "domain", "b.example", HL_IND_ACTIVE);
	put(f->s, "i3", "domain", "a.example", HL_IND_ACTIVE);
	put(f->s, "i4", "url", "x.example/p", HL_IND_QUARANTINED);
	/* Replace by id: i1 retracted. */
	put(f->s, "i1", "ip", "10.0.0.1", HL_IND_RETRACTED);

	struct inds got = {0};
	size_t n = 0;
	assert_int_equal(hl_store_indicators_list(f->s, HL_IND_ACTIVE, collect_ind, &got, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got.ids[0], "i3"); /* (type, value) order */
	assert_string_equal(got.ids[1], "i2");
	assert_int_equal(hl_store_indicator_count(f->s, HL_IND_RETRACTED, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hl_store_indicator_count(f->s, HL_IND_QUARANTINED, &n), 0);
	assert_int_equal(n, 1);

	/* Policy accepts the quarantined one. */
	assert_int_equal(hl_store_indicator_set_status(f->s, "i4", HL_IND_ACTIVE, 9), 0);
	assert_int_equal(hl_store_indicator_count(f->s, HL_IND_ACTIVE, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(hl_store_indicator_count(f->s, HL_IND_QUARANTINED, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hl_store_indicator_set_status(f->s, "nope", HL_IND_ACTIVE, 9),
	                 HL_ENOTFOUND);

	memset(&got, 0, sizeof got);
	assert_int_equal(hl_store_indicator_get(f->s, "i1", collect_ind, &got), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.status[0], "retracted");
	assert_string_equal(got.source, "-");
	assert_int_equal(hl_store_indicator_get(f->s, "zz", collect_ind, &got), HL_ENOTFOUND);

	struct hl_store_indicator bad = {.id = "b",
	                                 .type = "ip",
	                                 .value = "v",
	                                 .tlp = "amber",
	                                 .record = "{}",
	                                 .status = (enum hl_ind_status)9};
	assert_int_equal(hl_store_indicator_put(f->s, &bad), HL_EINVAL);
	bad.status = HL_IND_ACTIVE;
	bad.record = NULL;
	assert_int_equal(hl_store_indicator_put(f->s, &bad), HL_EINVAL);

	enum hl_ind_status st;
	assert_int_equal(hl_ind_status_parse("quarantined", &st), 0);
	assert_int_equal(st, HL_IND_QUARANTINED);
	assert_int_equal(hl_ind_status_parse("Active", &st), HL_EINVAL);
	assert_int_equal(hl_ind_status_parse(NULL, &st), HL_EINVAL);
}

static void native_indicator_is_stored_as_its_line(void **state)
{
	struct fixture *f = *state;
	struct hl_indicator ind;
	hl_indicator_init(&ind);
	ind.type = HL_IND_DOMAIN;
	ind.value = strdup("Evil.Example.");
	assert_int_equal(hl_strv_push(&ind.sources, "bravo"), 0);
	char why[128];
	assert_int_equal(hl_indicator_normalise(&ind, why, sizeof why), 0);
	assert_int_equal(hl_store_indicator_put_native(f->s, &ind, HL_IND_QUARANTINED, 3, 77), 0);
	struct inds got = {0};
	assert_int_equal(hl_store_indicator_get(f->s, ind.id, collect_ind, &got), 0);
	assert_string_equal(got.status[0], "quarantined");
	assert_string_equal(got.source, "bravo");
	assert_int_equal(got.set_version, 3);
	assert_non_null(strstr(got.record, "\"value\":\"evil.example\""));
	assert_non_null(strstr(got.record, "\"type\":\"domain\""));
	hl_indicator_clear(&ind);
}

static void set_versions_record_once(void **state)
{
	struct fixture *f = *state;
	struct hl_store_set_version v;
	assert_int_equal(hl_store_set_version_latest(f->s, &v), HL_ENOTFOUND);
	const char *h1 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	const char *h2 = "5d483fcdc0a4b0733b19709dfe74bf22fb2167782e19f1d7be5de94a18028f43";
	assert_int_equal(hl_store_set_version_record(f->s, 1, h1, 10, 100), 0);
	assert_int_equal(hl_store_set_version_record(f->s, 2, h2, 12, 200), 0);
	assert_int_equal(hl_store_set_version_record(f->s, 1, h1, 10, 300), 0); /* again: fine */
	assert_int_equal(hl_store_set_version_record(f->s, 1, h2, 10, 300), HL_EEXISTS);
	assert_int_equal(hl_store_set_version_record(f->s, 0, h1, 1, 1), HL_EINVAL);
	assert_int_equal(hl_store_set_version_record(f->s, 3, "E3B0", 1, 1), HL_EINVAL);
	assert_int_equal(hl_store_set_version_record(f->s, UINT64_MAX, h1, 1, 1), HL_EINVAL);
	assert_int_equal(hl_store_set_version_latest(f->s, &v), 0);
	assert_int_equal(v.version, 2);
	assert_string_equal(v.hash, h2);
	assert_int_equal(v.count, 12);
	assert_int_equal(v.created_at, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(same_sighting_twice_stores_once, setup, teardown),
	        cmocka_unit_test_setup_teardown(given_fields_win_and_skip_parsing, setup, teardown),
	        cmocka_unit_test_setup_teardown(fields_from_a_parsed_record, setup, teardown),
	        cmocka_unit_test_setup_teardown(bad_sightings_are_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(since_lists_in_time_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(sensor_record_round_trips, setup, teardown),
	        cmocka_unit_test_setup_teardown(indicators_by_id_and_status, setup, teardown),
	        cmocka_unit_test_setup_teardown(native_indicator_is_stored_as_its_line, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(set_versions_record_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
