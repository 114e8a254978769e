/* \summary: unit tests for the flow table and the symmetric flow hash */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "flow.h"

#define FIN 0x01u
#define SYN 0x02u
#define RST 0x04u
#define ACK 0x10u
#define SEC ((int64_t)1000000)
#define T0 (1700000000 * SEC)

static const uint8_t l4_dummy[8];

static struct hl_packet pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                            uint8_t proto, uint8_t flags, int64_t ts)
{
	struct hl_packet p;
	memset(&p, 0, sizeof(p));
	bool v6 = strchr(src, ':') != NULL;
	p.family = v6 ? 6 : 4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, src, p.src), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, dst, p.dst), 1);
	p.proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	p.ts = ts;
	p.wirelen = 100;
	p.caplen = 100;
	p.l4 = l4_dummy;
	return p;
}

static struct hl_packet tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                            uint8_t flags, int64_t ts)
{
	return pkt(src, sport, dst, dport, 6, flags, ts);
}

/* Records every end: the id the test stored in the user area, and why. */
struct ends {
	size_t n;
	uint32_t id[256];
	enum hl_flow_end_reason why[256];
	uint32_t per_id[1024];
};

struct user {
	uint32_t id;
	uint32_t scribble[7];
};

static void on_end(void *ctx, struct hl_flow *flow, enum hl_flow_end_reason why)
{
	struct ends *e = ctx;
	const struct user *u = flow->user;
	if (e->n < 256) {
		e->id[e->n] = u->id;
		e->why[e->n] = why;
	}
	if (u->id < 1024)
		e->per_id[u->id]++;
	e->n++;
}

static struct hl_flow_table *table(uint32_t max_flows, struct ends *e)
{
	/* Strict LRU, so that orders can be asserted to the microsecond. */
	struct hl_flow_config cfg = {
	        .max_flows = max_flows, .user_size = sizeof(struct user), .lru_step_us = 1};
	struct hl_flow_table *t = hl_flow_table_new(&cfg, on_end, e);
	assert_non_null(t);
	return t;
}

static struct hl_flow *look(struct hl_flow_table *t, const struct hl_packet *p, int want_dir,
                            bool want_created)
{
	int dir = -1;
	bool created = !want_created;
	struct hl_flow *f = hl_flow_lookup(t, p, &dir, &created);
	assert_non_null(f);
	assert_int_equal(dir, want_dir);
	assert_int_equal(created, want_created);
	return f;
}

static void both_directions(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet syn = tcp("10.0.0.1", 40000, "192.0.2.7", 80, SYN, T0);
	struct hl_packet synack = tcp("192.0.2.7", 80, "10.0.0.1", 40000, SYN | ACK, T0 + 10);
	struct hl_packet ack = tcp("10.0.0.1", 40000, "192.0.2.7", 80, ACK, T0 + 20);
	struct hl_flow *f = look(t, &syn, 0, true);
	assert_ptr_equal(look(t, &synack, 1, false), f);
	assert_ptr_equal(look(t, &ack, 0, false), f);
	assert_memory_equal(f->tuple.addr_a, syn.src, 16);
	assert_memory_equal(f->tuple.addr_b, syn.dst, 16);
	assert_int_equal(f->tuple.port_a, 40000);
	assert_int_equal(f->tuple.port_b, 80);
	assert_int_equal(f->pkts[0], 2);
	assert_int_equal(f->pkts[1], 1);
	assert_int_equal(f->bytes[0], 200);
	assert_int_equal(f->bytes[1], 100);
	assert_int_equal(f->first_seen, T0);
	assert_int_equal(f->last_seen, T0 + 20);
	assert_int_equal(f->tcp_flags, HL_FLOW_TCP_SYN | HL_FLOW_TCP_SYNACK);
	assert_int_equal(f->tclass, HL_FLOW_T_TCP);

	/* Another source port is another flow. */
	struct hl_packet other = tcp("10.0.0.1", 40001, "192.0.2.7", 80, SYN, T0);
	assert_ptr_not_equal(look(t, &other, 0, true), f);

	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.active, 2);
	assert_int_equal(st.created[HL_FLOW_P_TCP], 2);
	assert_int_equal(st.packets, 4);
	hl_flow_table_destroy(&t);
	assert_null(t);
	assert_int_equal(e.n, 0); /* destroy does not call back */
}

static void initiator_from_answers(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);

	/* SYN-ACK first: its receiver is the client. */
	struct hl_packet synack = tcp("192.0.2.7", 443, "10.0.0.1", 50000, SYN | ACK, T0);
	struct hl_flow *f = look(t, &synack, 1, true);
	assert_memory_equal(f->tuple.addr_a, synack.dst, 16);
	assert_int_equal(f->tuple.port_a, 50000);
	assert_int_equal(f->tuple.port_b, 443);
	assert_int_equal(f->pkts[1], 1);
	assert_int_equal(f->tcp_flags, HL_FLOW_TCP_SYNACK);
	struct hl_packet ack = tcp("10.0.0.1", 50000, "192.0.2.7", 443, ACK, T0 + 1);
	assert_ptr_equal(look(t, &ack, 0, false), f);

	/* Mid-stream data: the first sender is taken as the initiator. */
	struct hl_packet mid = tcp("192.0.2.7", 443, "10.0.0.1", 50001, ACK, T0);
	f = look(t, &mid, 0, true);
	assert_memory_equal(f->tuple.addr_a, mid.src, 16);

	/* ICMP echo: keyed by id, a reply first makes its receiver the client. */
	struct hl_packet reply = pkt("192.0.2.7", 0, "10.0.0.1", 0, 1, 0, T0);
	reply.icmp_type = 0;
	reply.icmp_id = 77;
	f = look(t, &reply, 1, true);
	assert_memory_equal(f->tuple.addr_a, reply.dst, 16);
	assert_int_equal(f->tuple.port_a, 77);
	struct hl_packet req = pkt("10.0.0.1", 0, "192.0.2.7", 0, 1, 0, T0 + 1);
	req.icmp_type = 8;
	req.icmp_id = 77;
	assert_ptr_equal(look(t, &req, 0, false), f);
	req.icmp_id = 78;
	assert_ptr_not_equal(look(t, &req, 0, true), f);

	/* UDP: the first sender. */
	struct hl_packet dns = pkt("10.0.0.1", 5353, "192.0.2.53", 53, 17, 0, T0);
	f = look(t, &dns, 0, true);
	assert_int_equal(f->tclass, HL_FLOW_T_UDP);
	struct hl_packet ans = pkt("192.0.2.53", 53, "10.0.0.1", 5353, 17, 0, T0 + 1);
	assert_ptr_equal(look(t, &ans, 1, false), f);
	hl_flow_table_destroy(&t);
}

static void vlans_separate(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet p = pkt("10.0.0.1", 1000, "10.0.0.2", 2000, 17, 0, T0);
	struct hl_flow *none = look(t, &p, 0, true);
	p.vlan_count = 1;
	p.vlan[0] = 10;
	struct hl_flow *v10 = look(t, &p, 0, true);
	p.vlan[0] = 20;
	struct hl_flow *v20 = look(t, &p, 0, true);
	p.vlan_count = 2;
	p.vlan[1] = 5;
	struct hl_flow *v20_5 = look(t, &p, 0, true);
	assert_ptr_not_equal(none, v10);
	assert_ptr_not_equal(v10, v20);
	assert_ptr_not_equal(v20, v20_5);
	/* The reverse direction on outer 20, inner 5 finds its flow. */
	struct hl_packet r = pkt("10.0.0.2", 2000, "10.0.0.1", 1000, 17, 0, T0 + 1);
	r.vlan_count = 2;
	r.vlan[0] = 20;
	r.vlan[1] = 5;
	assert_ptr_equal(look(t, &r, 1, false), v20_5);
	assert_int_equal(v20_5->tuple.vlan[0], 20);
	assert_int_equal(v20_5->tuple.vlan[1], 5);
	assert_int_equal(v20_5->vlan_count, 2);
	assert_int_equal(v10->vlan_count, 1);
	assert_int_equal(none->vlan_count, 0);
	hl_flow_table_destroy(&t);
}

static void ipv4_and_ipv6(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet v4 = pkt("10.0.0.1", 1000, "10.0.0.2", 2000, 17, 0, T0);
	/* Same 32 bytes of address storage as the IPv4 packet: family keys. */
	struct hl_packet v6 = v4;
	v6.family = 6;
	struct hl_flow *f4 = look(t, &v4, 0, true);
	struct hl_flow *f6 = look(t, &v6, 0, true);
	assert_ptr_not_equal(f4, f6);
	struct hl_packet a = tcp("2001:db8::1", 443, "2001:db8:ffff::2", 51000, SYN | ACK, T0);
	struct hl_packet b = tcp("2001:db8:ffff::2", 51000, "2001:db8::1", 443, ACK, T0 + 1);
	struct hl_flow *f = look(t, &a, 1, true);
	assert_ptr_equal(look(t, &b, 0, false), f);
	assert_memory_equal(f->tuple.addr_a, b.src, 16);
	assert_int_equal(f->tuple.family, 6);
	hl_flow_table_destroy(&t);
}

static void count_visit(void *ctx, struct hl_flow *flow)
{
	(void)flow;
	(*(int *)ctx)++;
}

static void foreach_visits_every_live_flow(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	int visits = 0;
	hl_flow_table_foreach(t, count_visit, &visits);
	assert_int_equal(visits, 0);
	struct hl_packet u = pkt("10.0.0.1", 1000, "10.0.0.2", 53, 17, 0, T0);
	struct hl_packet c = tcp("10.0.0.1", 1001, "10.0.0.2", 80, SYN, T0);
	struct hl_packet i = pkt("10.0.0.1", 0, "10.0.0.3", 0, 47, 0, T0);
	look(t, &u, 0, true);
	look(t, &c, 0, true);
	look(t, &i, 0, true);
	hl_flow_table_foreach(t, count_visit, &visits);
	assert_int_equal(visits, 3);
	hl_flow_table_flush(t);
	visits = 0;
	hl_flow_table_foreach(t, count_visit, &visits);
	assert_int_equal(visits, 0);
	hl_flow_table_destroy(&t);
}

static void no_key(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet p = pkt("10.0.0.1", 1, "10.0.0.2", 2, 6, 0, T0);
	int dir = 5;
	bool created = true;
	p.l4 = NULL;
	assert_null(hl_flow_lookup(t, &p, &dir, &created));
	assert_false(created);
	p.family = 0;
	p.l4 = l4_dummy;
	assert_null(hl_flow_lookup(t, &p, &dir, NULL));
	/* An undecoded protocol (GRE) keys on the addresses. */
	struct hl_packet gre = pkt("10.0.0.1", 0, "10.0.0.2", 0, 47, 0, T0);
	gre.l4 = NULL;
	struct hl_flow *f = look(t, &gre, 0, true);
	assert_int_equal(f->tclass, HL_FLOW_T_OTHER);
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.no_key, 2);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.created[HL_FLOW_P_OTHER], 1);
	hl_flow_table_destroy(&t);
}

static void set_id(struct hl_flow *f, uint32_t id)
{
	struct user *u = f->user;
	assert_int_equal(u->id, 0); /* zeroed at creation */
	u->id = id;
}

static void expect_ends(const struct ends *e, size_t from, size_t n, const uint32_t *ids,
                        enum hl_flow_end_reason why)
{
	assert_int_equal(e->n, from + n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e->id[from + i], ids[i]);
		assert_int_equal(e->why[from + i], why);
	}
}

static void timeouts_by_proto(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet p;

	p = tcp("10.0.0.1", 1, "10.0.0.2", 80, SYN, T0);
	set_id(look(t, &p, 0, true), 1);
	p = tcp("10.0.0.1", 2, "10.0.0.2", 80, SYN, T0 + 1);
	set_id(look(t, &p, 0, true), 2);
	p = tcp("10.0.0.2", 80, "10.0.0.1", 2, RST | ACK, T0 + 2);
	struct hl_flow *f = look(t, &p, 1, false);
	assert_int_equal(f->tclass, HL_FLOW_T_TCP_CLOSED);
	assert_int_equal(hl_flow_timeout(t, f), HL_FLOW_DEFAULT_TIMEOUT_TCP_CLOSED_US);
	p = pkt("10.0.0.1", 3, "10.0.0.2", 53, 17, 0, T0 + 3);
	set_id(look(t, &p, 0, true), 3);
	p = pkt("10.0.0.1", 0, "10.0.0.2", 0, 1, 0, T0 + 4);
	p.icmp_type = 3; /* unreachable: not an echo reply */
	set_id(look(t, &p, 0, true), 4);
	p = pkt("10.0.0.1", 0, "10.0.0.2", 0, 47, 0, T0 + 5);
	set_id(look(t, &p, 0, true), 5);
	/* FIN each way closes too; one FIN does not. */
	p = tcp("10.0.0.1", 6, "10.0.0.2", 80, ACK | FIN, T0 + 6);
	f = look(t, &p, 0, true);
	set_id(f, 6);
	assert_int_equal(f->tclass, HL_FLOW_T_TCP);
	p = tcp("10.0.0.2", 80, "10.0.0.1", 6, ACK | FIN, T0 + 7);
	look(t, &p, 1, false);
	assert_int_equal(f->tclass, HL_FLOW_T_TCP_CLOSED);

	/* Exactly the timeout is not more than it. */
	assert_int_equal(hl_flow_table_expire(t, T0 + 2 + 10 * SEC, 100), 0);
	assert_int_equal(hl_flow_table_expire(t, T0 + 8 + 10 * SEC, 100), 2);
	expect_ends(&e, 0, 2, (uint32_t[]){2, 6}, HL_FLOW_END_TIMEOUT);
	assert_int_equal(hl_flow_table_expire(t, T0 + 4 + 30 * SEC, 100), 0);
	assert_int_equal(hl_flow_table_expire(t, T0 + 5 + 30 * SEC, 100), 1);
	expect_ends(&e, 2, 1, (uint32_t[]){4}, HL_FLOW_END_TIMEOUT);
	assert_int_equal(hl_flow_table_expire(t, T0 + 5 + 60 * SEC, 100), 1);
	assert_int_equal(hl_flow_table_expire(t, T0 + 6 + 60 * SEC, 100), 1);
	expect_ends(&e, 3, 2, (uint32_t[]){3, 5}, HL_FLOW_END_TIMEOUT);
	assert_int_equal(hl_flow_table_expire(t, T0 + 600 * SEC, 100), 0);
	assert_int_equal(hl_flow_table_expire(t, T0 + 600 * SEC + 1, 100), 1);
	expect_ends(&e, 5, 1, (uint32_t[]){1}, HL_FLOW_END_TIMEOUT);

	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.expired[HL_FLOW_P_TCP], 3);
	assert_int_equal(st.expired[HL_FLOW_P_UDP], 1);
	assert_int_equal(st.expired[HL_FLOW_P_ICMP], 1);
	assert_int_equal(st.expired[HL_FLOW_P_OTHER], 1);
	hl_flow_table_destroy(&t);
}

static void expire_bounded_and_on_lookup(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_config cfg = {.user_size = sizeof(struct user), .lru_step_us = 1};
	cfg.timeout_us[HL_FLOW_T_UDP] = 5 * SEC;
	struct hl_flow_table *t = hl_flow_table_new(&cfg, on_end, &e);
	assert_non_null(t);
	struct hl_packet p;
	for (uint16_t i = 1; i <= 3; i++) {
		p = pkt("10.0.0.1", i, "10.0.0.2", 53, 17, 0, T0 + i);
		set_id(look(t, &p, 0, true), i);
	}
	/* A packet moves its flow to the back of the line. */
	p = pkt("10.0.0.2", 53, "10.0.0.1", 1, 17, 0, T0 + 4);
	look(t, &p, 1, false);
	assert_int_equal(hl_flow_table_expire(t, T0 + 4 + 5 * SEC, 1), 1);
	assert_int_equal(hl_flow_table_expire(t, T0 + 4 + 5 * SEC, 1), 1);
	assert_int_equal(hl_flow_table_expire(t, T0 + 4 + 5 * SEC, 1), 0);
	expect_ends(&e, 0, 2, (uint32_t[]){2, 3}, HL_FLOW_END_TIMEOUT);

	/* Found but idle: ended, and a new flow made for the packet. */
	p = pkt("10.0.0.1", 1, "10.0.0.2", 53, 17, 0, T0 + 5 + 5 * SEC);
	struct hl_flow *f = look(t, &p, 0, true);
	expect_ends(&e, 2, 1, (uint32_t[]){1}, HL_FLOW_END_TIMEOUT);
	assert_int_equal(f->pkts[0], 1);
	assert_int_equal(f->pkts[1], 0);
	assert_int_equal(f->first_seen, T0 + 5 + 5 * SEC);
	set_id(f, 9);
	/* Timestamps going backwards neither expire nor rewind a flow. */
	p.ts = T0;
	assert_ptr_equal(look(t, &p, 0, false), f);
	assert_int_equal(f->last_seen, T0 + 5 + 5 * SEC);
	assert_int_equal(hl_flow_table_expire(t, INT64_MIN, 10), 0);

	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.expired[HL_FLOW_P_UDP], 3);
	assert_int_equal(st.active, 1);
	hl_flow_table_flush(t);
	expect_ends(&e, 3, 1, (uint32_t[]){9}, HL_FLOW_END_FLUSH);
	hl_flow_table_destroy(&t);
}

static void tcp_port_reuse(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(0, &e);
	struct hl_packet p = tcp("10.0.0.1", 40000, "10.0.0.2", 80, SYN, T0);
	struct hl_flow *f = look(t, &p, 0, true);
	set_id(f, 1);
	p = tcp("10.0.0.2", 80, "10.0.0.1", 40000, RST | ACK, T0 + 1);
	look(t, &p, 1, false);
	/* Data or a SYN-ACK on a closed flow stays with it; a new SYN starts
	 * a new one (here from the other side). */
	p = tcp("10.0.0.1", 40000, "10.0.0.2", 80, ACK, T0 + 2);
	assert_ptr_equal(look(t, &p, 0, false), f);
	p = tcp("10.0.0.2", 80, "10.0.0.1", 40000, SYN, T0 + 3);
	f = look(t, &p, 0, true);
	expect_ends(&e, 0, 1, (uint32_t[]){1}, HL_FLOW_END_REUSED);
	assert_memory_equal(f->tuple.addr_a, p.src, 16);
	assert_int_equal(f->tclass, HL_FLOW_T_TCP);
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.reused, 1);
	assert_int_equal(st.created[HL_FLOW_P_TCP], 2);
	hl_flow_table_destroy(&t);
}

static struct hl_packet nth(uint32_t i, int64_t ts)
{
	char src[32];
	snprintf(src, sizeof(src), "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	return pkt(src, (uint16_t)(1024 + i), "192.0.2.1", 443, 6, SYN, ts);
}

static void eviction_oldest_first(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(16, &e);
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.capacity, 16);
	for (uint32_t i = 1; i <= 16; i++) {
		struct hl_packet p = nth(i, T0 + i);
		set_id(look(t, &p, 0, true), i);
	}
	assert_int_equal(e.n, 0);
	/* Touch flow 1: now 2 is the oldest. */
	struct hl_packet p = nth(1, T0 + 100);
	look(t, &p, 0, false);
	for (uint32_t i = 17; i <= 21; i++) {
		p = nth(i, T0 + 100 + i);
		set_id(look(t, &p, 0, true), i); /* the reused slot's user area is zeroed */
	}
	expect_ends(&e, 0, 5, (uint32_t[]){2, 3, 4, 5, 6}, HL_FLOW_END_EVICTED);
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.evicted, 5);
	assert_int_equal(st.active, 16);
	assert_int_equal(st.active_max, 16);
	/* Survivors are all still found. */
	p = nth(1, T0 + 200);
	look(t, &p, 0, false);
	for (uint32_t i = 7; i <= 21; i++) {
		p = nth(i, T0 + 200);
		look(t, &p, 0, false);
	}
	hl_flow_table_flush(t);
	assert_int_equal(e.n, 21);
	for (uint32_t i = 1; i <= 21; i++)
		assert_int_equal(e.per_id[i], 1);
	for (size_t i = 5; i < 21; i++)
		assert_int_equal(e.why[i], HL_FLOW_END_FLUSH);
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.flushed, 16);
	/* Still usable after a flush. */
	p = nth(1, T0 + 300);
	look(t, &p, 0, true);
	hl_flow_table_destroy(&t);
}

/* With the default step, a flow moves back in line at most once a second:
 * a touch within the second does not save it from eviction, a later one
 * does. */
static void lru_step(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_config cfg = {.max_flows = 16, .user_size = sizeof(struct user)};
	struct hl_flow_table *t = hl_flow_table_new(&cfg, on_end, &e);
	assert_non_null(t);
	for (uint32_t i = 1; i <= 16; i++) {
		struct hl_packet p = nth(i, T0 + i);
		set_id(look(t, &p, 0, true), i);
	}
	struct hl_packet p = nth(1, T0 + 100);
	look(t, &p, 0, false);
	p = nth(2, T0 + 2 + SEC);
	look(t, &p, 0, false);
	p = nth(17, T0 + 3 + SEC);
	set_id(look(t, &p, 0, true), 17);
	p = nth(18, T0 + 4 + SEC);
	set_id(look(t, &p, 0, true), 18);
	expect_ends(&e, 0, 2, (uint32_t[]){1, 3}, HL_FLOW_END_EVICTED);
	hl_flow_table_destroy(&t);
}

/* Churn: many inserts, timeouts and evictions; the index must keep finding
 * every live flow (backward-shift deletion) and nothing else. */
static void churn(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_config cfg = {.max_flows = 512, .user_size = sizeof(struct user)};
	cfg.timeout_us[HL_FLOW_T_TCP] = 1000;
	struct hl_flow_table *t = hl_flow_table_new(&cfg, on_end, &e);
	assert_non_null(t);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int64_t now = T0;
	uint64_t creates = 0;
	for (int round = 0; round < 20000; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t i = (uint32_t)(x % 1000);
		now += (int64_t)(x >> 60);
		struct hl_packet p = nth(i, now);
		p.tcp_flags = ACK;
		int dir;
		bool created;
		struct hl_flow *f = hl_flow_lookup(t, &p, &dir, &created);
		assert_non_null(f);
		struct user *u = f->user;
		if (created) {
			assert_int_equal(u->id, 0);
			u->id = i + 1;
			creates++;
		} else {
			assert_int_equal(u->id, i + 1);
		}
		if ((round & 15) == 0)
			hl_flow_table_expire(t, now, 8);
	}
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.created[HL_FLOW_P_TCP], creates);
	assert_int_equal(st.active + st.evicted + st.expired[HL_FLOW_P_TCP], creates);
	assert_true(st.evicted > 0);
	assert_true(st.expired[HL_FLOW_P_TCP] > 0);
	hl_flow_table_flush(t);
	assert_int_equal(e.n, creates);
	hl_flow_table_destroy(&t);
}

/* The index starts small and doubles with the active flows: every flow
 * is still found across the growths, nothing is evicted before the table
 * is full, and deletions after a growth keep the others findable. */
static void index_grows(void **state)
{
	(void)state;
	struct ends e = {0};
	struct hl_flow_table *t = table(5000, &e);
	for (uint32_t i = 1; i <= 5000; i++) {
		struct hl_packet p = nth(i, T0 + i);
		set_id(look(t, &p, 0, true), i);
	}
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.active, 5000);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(e.n, 0);
	for (uint32_t i = 1; i <= 5000; i++) {
		struct hl_packet p = nth(i, T0 + 10000 + i);
		struct user *u = look(t, &p, 0, false)->user;
		assert_int_equal(u->id, i);
	}
	/* Full: the next flow evicts the least recently touched, flow 1. */
	struct hl_packet p = nth(5001, T0 + 20000);
	set_id(look(t, &p, 0, true), 5001);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.id[0], 1);
	assert_int_equal(e.why[0], HL_FLOW_END_EVICTED);
	for (uint32_t i = 2; i <= 5001; i++) {
		p = nth(i, T0 + 30000 + i);
		struct user *u = look(t, &p, 0, false)->user;
		assert_int_equal(u->id, i);
	}
	hl_flow_table_flush(t);
	assert_int_equal(e.n, 5001);
	hl_flow_table_destroy(&t);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void hash_symmetry(void **state)
{
	(void)state;
	uint8_t key[HL_FLOW_HASH_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t key2[HL_FLOW_HASH_KEY_LEN] = {0};
	uint64_t x = 42;
	unsigned eligible = 0, differs = 0, key_differs = 0;
	unsigned shards[4] = {0};
	for (int n = 0; n < 10000; n++) {
		struct hl_packet p;
		memset(&p, 0, sizeof(p));
		p.family = (rnd(&x) & 1) ? 4 : 6;
		size_t alen = p.family == 4 ? 4 : 16;
		for (size_t i = 0; i < alen; i++) {
			p.src[i] = (uint8_t)rnd(&x);
			/* Often equal prefixes, sometimes equal addresses. */
			p.dst[i] = (rnd(&x) & 3) ? p.src[i] : (uint8_t)rnd(&x);
		}
		static const uint8_t protos[] = {6, 17, 1, 58, 47};
		p.proto = protos[rnd(&x) % 5];
		p.sport = (uint16_t)rnd(&x);
		p.dport = (rnd(&x) & 1) ? p.sport : (uint16_t)rnd(&x);
		p.icmp_id = (uint16_t)rnd(&x);
		p.vlan_count = (uint8_t)(rnd(&x) % 3);
		p.vlan[0] = (uint16_t)(rnd(&x) & 0xfff);
		p.vlan[1] = (uint16_t)(rnd(&x) & 0xfff);
		p.l4 = l4_dummy;
		struct hl_packet r = p;
		memcpy(r.src, p.dst, 16);
		memcpy(r.dst, p.src, 16);
		r.sport = p.dport;
		r.dport = p.sport;
		struct hl_flow_tuple tp, tr;
		assert_int_equal(hl_flow_tuple_from_packet(&p, &tp), 0);
		assert_int_equal(hl_flow_tuple_from_packet(&r, &tr), 0);
		uint32_t hp = hl_flow_hash(&tp, key);
		assert_int_equal(hp, hl_flow_hash(&tr, key));
		/* Swapping ports alone (not addresses) is another flow, unless
		 * the addresses are equal (then it is the reverse direction). */
		struct hl_flow_tuple ts = tp;
		ts.port_a = tp.port_b;
		ts.port_b = tp.port_a;
		if (tp.port_a != tp.port_b && memcmp(tp.addr_a, tp.addr_b, 16) != 0) {
			eligible++;
			if (hp != hl_flow_hash(&ts, key))
				differs++;
		}
		if (hp != hl_flow_hash(&tp, key2))
			key_differs++;
		uint32_t s = hl_flow_shard(hp, 4);
		assert_true(s < 4);
		shards[s]++;
	}
	assert_true(eligible > 1500);
	assert_int_equal(differs, eligible);
	assert_true(key_differs > 9990);
	for (int i = 0; i < 4; i++)
		assert_true(shards[i] > 2300 && shards[i] < 2700);
	uint8_t k1[HL_FLOW_HASH_KEY_LEN], k2[HL_FLOW_HASH_KEY_LEN];
	assert_int_equal(hl_flow_hash_key_random(k1), 0);
	assert_int_equal(hl_flow_hash_key_random(k2), 0);
	assert_memory_not_equal(k1, k2, sizeof(k1));
}

static void config_and_memory(void **state)
{
	(void)state;
	struct hl_flow_config cfg = {0};
	assert_true(hl_flow_config_valid(&cfg));
	cfg.max_flows = 8;
	assert_false(hl_flow_config_valid(&cfg));
	cfg.max_flows = 0;
	cfg.timeout_us[HL_FLOW_T_ICMP] = -1;
	assert_false(hl_flow_config_valid(&cfg));
	cfg.timeout_us[HL_FLOW_T_ICMP] = 0;
	cfg.user_size = HL_FLOW_MAX_USER_SIZE + 1;
	assert_false(hl_flow_config_valid(&cfg));
	assert_null(hl_flow_table_new(&cfg, NULL, NULL));

	/* Default table: 65536 flows; the cost per flow is documented. */
	struct hl_flow_table *t = hl_flow_table_new(NULL, NULL, NULL);
	assert_non_null(t);
	struct hl_flow_stats st;
	hl_flow_table_stats(t, &st);
	assert_int_equal(st.capacity, HL_FLOW_DEFAULT_MAX_FLOWS);
	assert_int_equal(hl_flow_bytes_per_flow(0), 128 + 16);
	assert_int_equal(hl_flow_bytes_per_flow(100), 128 + 112 + 16);
	assert_true(st.memory >= 65536 * hl_flow_bytes_per_flow(0));
	assert_true(st.memory < 65536 * hl_flow_bytes_per_flow(0) + 4096);
	hl_flow_table_destroy(&t);
	hl_flow_table_destroy(&t); /* NULL is fine */
	hl_flow_table_destroy(NULL);

	/* A memory cap picks the capacity, index included, and is kept. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.user_size = 256;
	cfg.max_mem = 10u * 1024 * 1024;
	t = hl_flow_table_new(&cfg, NULL, NULL);
	assert_non_null(t);
	hl_flow_table_stats(t, &st);
	assert_true(st.memory <= cfg.max_mem);
	assert_true(st.capacity > 9u * 1024 * 1024 / hl_flow_bytes_per_flow(256));
	hl_flow_table_destroy(&t);
	cfg.max_mem = 1000;
	assert_false(hl_flow_config_valid(&cfg));

	/* Without a user area, flows carry no pointer. */
	t = hl_flow_table_new(NULL, NULL, NULL);
	struct hl_packet p = pkt("10.0.0.1", 1, "10.0.0.2", 2, 17, 0, T0);
	int dir;
	struct hl_flow *f = hl_flow_lookup(t, &p, &dir, NULL);
	assert_non_null(f);
	assert_null(f->user);
	hl_flow_table_flush(t); /* no callback: fine */
	hl_flow_table_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(both_directions),
	        cmocka_unit_test(initiator_from_answers),
	        cmocka_unit_test(vlans_separate),
	        cmocka_unit_test(ipv4_and_ipv6),
	        cmocka_unit_test(no_key),
	        cmocka_unit_test(foreach_visits_every_live_flow),
	        cmocka_unit_test(timeouts_by_proto),
	        cmocka_unit_test(expire_bounded_and_on_lookup),
	        cmocka_unit_test(tcp_port_reuse),
	        cmocka_unit_test(eviction_oldest_first),
	        cmocka_unit_test(lru_step),
	        cmocka_unit_test(churn),
	        cmocka_unit_test(index_grows),
	        cmocka_unit_test(hash_symmetry),
	        cmocka_unit_test(config_and_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
