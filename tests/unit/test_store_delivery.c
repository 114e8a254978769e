/* \summary: outbox order, backoff, ack, depth; inbox dedup (at-least-once) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "test_store_util.h"

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

/* What next_due passed, in order. */
struct due {
	int n;
	char ids[16][32];
	int64_t attempts[16];
	int stop_after;      /* 0: never */
	int ret_on_stop;     /* returned by the callback at stop_after */
	hl_store_t *mark_in; /* mark_sent each message from inside the callback */
};

static int collect(void *ud, const struct hl_outbox_msg *m)
{
	struct due *d = ud;
	assert_true(d->n < 16);
	snprintf(d->ids[d->n], sizeof d->ids[0], "%s", m->msg_id);
	d->attempts[d->n] = m->attempts;
	d->n++;
	if (d->mark_in != NULL)
		assert_int_equal(hl_store_outbox_mark_sent(d->mark_in, m->msg_id, 50, 1000), 0);
	if (d->stop_after != 0 && d->n == d->stop_after)
		return d->ret_on_stop;
	return 0;
}

static void enqueue(hl_store_t *s, const char *peer, int prio, const char *id, int64_t now)
{
	assert_int_equal(hl_store_outbox_enqueue(s, peer, "t", prio, id, "{\"env\":1}", "{}", now),
	                 0);
}

static void due_order_is_priority_then_age(void **state)
{
	struct fixture *f = *state;
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "s1", 1);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "s2", 2);
	enqueue(f->s, "bravo", HL_PRIO_INDICATOR, "i1", 3);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "s0", 0);
	enqueue(f->s, "bravo", HL_PRIO_HOTLINE, "h1", 4);   /* newest, jumps the queue */
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "s2b", 2); /* same age: enqueue order */
	enqueue(f->s, "charlie", HL_PRIO_HOTLINE, "c1", 0);

	struct due d = {0};
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 10, 0, collect, &d, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(d.n, 6);
	const char *want[] = {"h1", "i1", "s0", "s1", "s2", "s2b"};
	for (int i = 0; i < 6; i++)
		assert_string_equal(d.ids[i], want[i]);

	/* limit */
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 10, 2, collect, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d.ids[1], "i1");

	/* not yet due: created in the future relative to now */
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 1, 0, collect, &d, &n), 0);
	assert_int_equal(n, 2); /* s0 (t=0), s1 (t=1) */
	assert_string_equal(d.ids[0], "s0");
	assert_string_equal(d.ids[1], "s1");
}

struct copy {
	struct hl_outbox_msg m;
	char peer[32], type[32], env[32], body[32];
	bool env_null;
};

static int copy_one(void *ud, const struct hl_outbox_msg *m)
{
	struct copy *c = ud;
	c->m = *m;
	snprintf(c->peer, sizeof c->peer, "%s", m->peer);
	snprintf(c->type, sizeof c->type, "%s", m->type);
	c->env_null = m->envelope == NULL;
	snprintf(c->env, sizeof c->env, "%s", m->envelope != NULL ? m->envelope : "");
	snprintf(c->body, sizeof c->body, "%s", m->body);
	return 1; /* stop after one: the call still returns 0 */
}

static void message_fields_come_back(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_store_outbox_enqueue(f->s, "bravo", "hotline.escalate", HL_PRIO_HOTLINE,
	                                         "m1", NULL, "{\"x\":\"\xc3\xa9\"}", 42),
	                 0);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "m2", 42);
	struct copy c = {0};
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 42, 0, copy_one, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c.peer, "bravo");
	assert_string_equal(c.type, "hotline.escalate");
	assert_int_equal(c.m.priority, HL_PRIO_HOTLINE);
	assert_true(c.env_null);
	assert_string_equal(c.body, "{\"x\":\"\xc3\xa9\"}");
	assert_int_equal(c.m.created_at, 42);
	assert_int_equal(c.m.next_attempt_at, 42);
	assert_int_equal(c.m.attempts, 0);
}

static void backoff_is_respected(void **state)
{
	struct fixture *f = *state;
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "a", 10);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "b", 11);
	int64_t at = 0;
	assert_int_equal(hl_store_outbox_next_wakeup(f->s, "bravo", &at), 0);
	assert_int_equal(at, 10);
	assert_int_equal(hl_store_outbox_mark_sent(f->s, "a", 20, 1020), 0);
	assert_int_equal(hl_store_outbox_next_wakeup(f->s, "bravo", &at), 0);
	assert_int_equal(at, 11);
	assert_int_equal(hl_store_outbox_mark_sent(f->s, "b", 20, 520), 0);
	assert_int_equal(hl_store_outbox_next_wakeup(f->s, "bravo", &at), 0);
	assert_int_equal(at, 520);

	struct due d = {0};
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 519, 0, collect, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 520, 0, collect, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d.ids[0], "b");
	assert_int_equal(d.attempts[0], 1);
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 1020, 0, collect, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d.ids[0], "a"); /* older wins among equals */

	/* A second attempt counts. */
	assert_int_equal(hl_store_outbox_mark_sent(f->s, "a", 1020, 3020), 0);
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 5000, 0, collect, &d, &n), 0);
	assert_int_equal(d.attempts[0], 2);
	assert_int_equal(hl_store_outbox_mark_sent(f->s, "nope", 1, 2), HL_ENOTFOUND);

	/* A reconnect makes everything due again at once. */
	assert_int_equal(hl_store_outbox_reschedule(f->s, "bravo", 30, &n), 0);
	assert_int_equal(n, 2);
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 30, 0, collect, &d, &n), 0);
	assert_int_equal(n, 2);
	/* Rescheduling never delays what is already due. */
	assert_int_equal(hl_store_outbox_reschedule(f->s, "bravo", 5000, &n), 0);
	assert_int_equal(n, 0);
}

static void mark_sent_from_inside_the_callback(void **state)
{
	struct fixture *f = *state;
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "a", 1);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "b", 2);
	enqueue(f->s, "bravo", HL_PRIO_SIGHTING, "c", 3);
	struct due d = {.mark_in = f->s};
	size_t n = 0;
	assert_int_equal(hl_store_begin(f->s), 0);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 100, 0, collect, &d, &n), 0);
	assert_int_equal(hl_store_commit(f->s), 0);
	assert_int_equal(n, 3);
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 999, 0, collect, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 1000, 0, collect, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(d.attempts[2], 1);
}

static void callback_stops_and_errors_propagate(void **state)
{
	struct fixture *f = *state;
	enqueue(f->s, "bravo", 1, "a", 1);
	enqueue(f->s, "bravo", 1, "b", 2);
	enqueue(f->s, "bravo", 1, "c", 3);
	struct due d = {.stop_after = 2, .ret_on_stop = 7};
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 10, 0, collect, &d, &n), 0);
	assert_int_equal(n, 2);
	memset(&d, 0, sizeof d);
	d.stop_after = 1;
	d.ret_on_stop = HL_EIO;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 10, 0, collect, &d, &n), HL_EIO);
	assert_int_equal(n, 1);
	/* The statement was reset: the next call starts from the top. */
	memset(&d, 0, sizeof d);
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 10, 0, collect, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(d.ids[0], "a");
}

static void ack_is_idempotent_and_depth_counts(void **state)
{
	struct fixture *f = *state;
	enqueue(f->s, "bravo", 30, "b1", 1);
	enqueue(f->s, "bravo", 30, "b2", 1);
	enqueue(f->s, "bravo", 30, "b3", 1);
	enqueue(f->s, "charlie", 30, "c1", 1);
	size_t depth = 0;
	assert_int_equal(hl_store_outbox_depth(f->s, "bravo", &depth), 0);
	assert_int_equal(depth, 3);
	assert_int_equal(hl_store_outbox_depth(f->s, NULL, &depth), 0);
	assert_int_equal(depth, 4);
	assert_int_equal(hl_store_outbox_depth(f->s, "delta", &depth), 0);
	assert_int_equal(depth, 0);

	assert_int_equal(hl_store_outbox_ack(f->s, "bravo", "b2", 100), 0);
	assert_int_equal(hl_store_outbox_ack(f->s, "bravo", "b2", 500), 0); /* again */
	assert_int_equal(hl_store_outbox_depth(f->s, "bravo", &depth), 0);
	assert_int_equal(depth, 2);
	/* Unknown id, or another peer's message: not found, nothing changes. */
	assert_int_equal(hl_store_outbox_ack(f->s, "bravo", "zz", 100), HL_ENOTFOUND);
	assert_int_equal(hl_store_outbox_ack(f->s, "charlie", "b1", 100), HL_ENOTFOUND);
	assert_int_equal(hl_store_outbox_depth(f->s, "bravo", &depth), 0);
	assert_int_equal(depth, 2);

	/* Acked messages are never due again. */
	struct due d = {0};
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, "bravo", 1000, 0, collect, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d.ids[0], "b1");
	assert_string_equal(d.ids[1], "b3");

	/* The first ack's time is kept: purge before 200 finds it. */
	size_t purged = 0;
	assert_int_equal(hl_store_outbox_purge(f->s, 100, &purged), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(hl_store_outbox_purge(f->s, 200, &purged), 0);
	assert_int_equal(purged, 1);
	/* After the purge an ack is not found any more (the row is gone). */
	assert_int_equal(hl_store_outbox_ack(f->s, "bravo", "b2", 600), HL_ENOTFOUND);
	/* Un-acked rows are never purged. */
	assert_int_equal(hl_store_outbox_purge(f->s, INT64_MAX, &purged), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(hl_store_outbox_depth(f->s, NULL, &depth), 0);
	assert_int_equal(depth, 3);
	int64_t at = 0;
	assert_int_equal(hl_store_outbox_next_wakeup(f->s, "delta", &at), HL_ENOTFOUND);
}

static void outbox_rejects_bad_arguments(void **state)
{
	struct fixture *f = *state;
	char longid[HL_STORE_ID_MAX + 2];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	assert_int_equal(hl_store_outbox_enqueue(f->s, NULL, "t", 0, "m", NULL, "{}", 1),
	                 HL_EINVAL);
	assert_int_equal(hl_store_outbox_enqueue(f->s, "", "t", 0, "m", NULL, "{}", 1), HL_EINVAL);
	assert_int_equal(hl_store_outbox_enqueue(f->s, "b", "t", 0, longid, NULL, "{}", 1),
	                 HL_EINVAL);
	longid[HL_STORE_ID_MAX] = '\0'; /* exactly the maximum is fine */
	assert_int_equal(hl_store_outbox_enqueue(f->s, "b", "t", 0, longid, NULL, "{}", 1), 0);
	assert_int_equal(hl_store_outbox_enqueue(f->s, "b", "t", 0, "m", NULL, NULL, 1), HL_EINVAL);
	size_t n = 0;
	assert_int_equal(hl_store_outbox_next_due(f->s, NULL, 1, 0, collect, NULL, &n), HL_EINVAL);
	assert_int_equal(hl_store_outbox_next_due(f->s, "b", 1, 0, NULL, NULL, &n), HL_EINVAL);
	assert_int_equal(hl_store_outbox_ack(f->s, "b", NULL, 1), HL_EINVAL);
	assert_int_equal(hl_store_outbox_depth(f->s, "", &n), HL_EINVAL);
}

/* ---- inbox ------------------------------------------------------------- */

/* The receiver's rule: record the id and the effect in one transaction,
 * commit, then ACK whether new or not. Returns whether it was new. */
static bool receive(hl_store_t *s, const char *peer, const char *msg_id, const char *sighting_id)
{
	bool is_new = false;
	assert_int_equal(hl_store_begin(s), 0);
	assert_int_equal(hl_store_inbox_record_once(s, peer, msg_id, "sighting", 10, &is_new), 0);
	if (is_new) {
		struct hl_store_sighting sg = {.id = sighting_id,
		                               .origin = "peer:bravo",
		                               .received_at = 10,
		                               .first_seen = 9,
		                               .indicator_id = "hl--a",
		                               .record = "{}"};
		assert_int_equal(hl_store_sighting_add(s, &sg, NULL), 0);
	}
	assert_int_equal(hl_store_commit(s), 0);
	return is_new;
}

static void same_message_twice_stores_its_effect_once(void **state)
{
	struct fixture *f = *state;
	/* Different sighting ids, so only the inbox can dedup. */
	assert_true(receive(f->s, "bravo", "msg-1", "sg-a"));
	assert_false(receive(f->s, "bravo", "msg-1", "sg-b"));
	size_t n = 0;
	assert_int_equal(hl_store_sighting_count(f->s, &n), 0);
	assert_int_equal(n, 1);
	/* The same id from another peer is another message. */
	assert_true(receive(f->s, "charlie", "msg-1", "sg-c"));
	assert_int_equal(hl_store_sighting_count(f->s, &n), 0);
	assert_int_equal(n, 2);
	bool seen = false;
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", "msg-1", 0, &seen), 0);
	assert_true(seen);
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", "msg-2", 0, &seen), 0);
	assert_false(seen);
}

static void rolled_back_receipt_is_not_remembered(void **state)
{
	struct fixture *f = *state;
	bool is_new = false;
	assert_int_equal(hl_store_begin(f->s), 0);
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "m", "t", 1, &is_new), 0);
	assert_true(is_new);
	assert_int_equal(hl_store_rollback(f->s), 0);
	/* The effect failed to commit, so the re-delivery must apply it. */
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "m", "t", 2, &is_new), 0);
	assert_true(is_new);
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "m", "t", 3, &is_new), 0);
	assert_false(is_new);
}

static void inbox_purge_and_bad_arguments(void **state)
{
	struct fixture *f = *state;
	bool is_new = false;
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "m1", "t", 100, &is_new), 0);
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "m2", "t", 200, &is_new), 0);
	size_t purged = 0;
	assert_int_equal(hl_store_inbox_purge(f->s, 150, &purged), 0);
	assert_int_equal(purged, 1);
	bool seen = true;
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", "m1", 0, &seen), 0);
	assert_false(seen);
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", "", "t", 1, &is_new), HL_EINVAL);
	assert_int_equal(hl_store_inbox_record_once(f->s, NULL, "m", "t", 1, &is_new), HL_EINVAL);
	assert_int_equal(hl_store_inbox_record_once(f->s, "b", "m", NULL, 1, &is_new), HL_EINVAL);
	assert_false(is_new);
}

static void sent_at_is_part_of_the_key(void **state)
{
	struct fixture *f = *state;
	bool is_new = false;
	const char *id = "0123456789abcdef0123456789abcdef";
	assert_int_equal(hl_store_inbox_record(f->s, "bravo", id, 1000, "sighting", 5, &is_new), 0);
	assert_true(is_new);
	/* A resend repeats the envelope, sent_at included: recognised. */
	assert_int_equal(hl_store_inbox_record(f->s, "bravo", id, 1000, "sighting", 9, &is_new), 0);
	assert_false(is_new);
	bool seen = false;
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", id, 1000, &seen), 0);
	assert_true(seen);
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", id, 0, &seen), 0);
	assert_false(seen);
	/* record_once is sent_at 0: another key. */
	assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", id, "sighting", 9, &is_new), 0);
	assert_true(is_new);
	assert_int_equal(hl_store_inbox_seen(f->s, "bravo", id, 0, &seen), 0);
	assert_true(seen);
}

/* Many inbound messages in one transaction (the exchange's poll round). */
static void batch_of_receipts_in_one_transaction(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(hl_store_begin(f->s), 0);
	int fresh = 0;
	for (int i = 0; i < 300; i++) {
		char id[16];
		snprintf(id, sizeof id, "m%d", i % 200); /* 100 duplicates in the batch */
		bool is_new = false;
		assert_int_equal(hl_store_inbox_record_once(f->s, "bravo", id, "t", i, &is_new), 0);
		fresh += is_new;
	}
	assert_int_equal(hl_store_commit(f->s), 0);
	assert_int_equal(fresh, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(due_order_is_priority_then_age, setup, teardown),
	        cmocka_unit_test_setup_teardown(message_fields_come_back, setup, teardown),
	        cmocka_unit_test_setup_teardown(backoff_is_respected, setup, teardown),
	        cmocka_unit_test_setup_teardown(mark_sent_from_inside_the_callback, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(callback_stops_and_errors_propagate, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(ack_is_idempotent_and_depth_counts, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(outbox_rejects_bad_arguments, setup, teardown),
	        cmocka_unit_test_setup_teardown(same_message_twice_stores_its_effect_once, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(rolled_back_receipt_is_not_remembered, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(inbox_purge_and_bad_arguments, setup, teardown),
	        cmocka_unit_test_setup_teardown(sent_at_is_part_of_the_key, setup, teardown),
	        cmocka_unit_test_setup_teardown(batch_of_receipts_in_one_transaction, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
