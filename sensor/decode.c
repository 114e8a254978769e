/* \summary: decoder object, dispatch by link type, reason names and counting */
#include <assert.h>
#include <string.h>

#include "hotline/err.h"
#include "defrag.h"
#include "packet.h"

static const char *const reason_names[HL_DECODE_REASON_COUNT] = {"ok",
#define HL_REASON_NAME(u, l, k, d) #l,
                                                                 HL_DECODE_REASONS(HL_REASON_NAME)
#undef HL_REASON_NAME
};

static const char *const reason_descs[HL_DECODE_REASON_COUNT] = {"packet delivered",
#define HL_REASON_DESC(u, l, k, d) d,
                                                                 HL_DECODE_REASONS(HL_REASON_DESC)
#undef HL_REASON_DESC
};

static const unsigned char reason_kinds[HL_DECODE_REASON_COUNT] = {HL_DECODE_KIND_OK,
#define HL_REASON_KIND(u, l, k, d) HL_DECODE_KIND_##k,
                                                                   HL_DECODE_REASONS(HL_REASON_KIND)
#undef HL_REASON_KIND
};

const char *hl_decode_reason_name(int reason)
{
	if (reason < 0 || reason >= HL_DECODE_REASON_COUNT)
		return NULL;
	return reason_names[reason];
}

const char *hl_decode_reason_desc(int reason)
{
	if (reason < 0 || reason >= HL_DECODE_REASON_COUNT)
		return NULL;
	return reason_descs[reason];
}

enum hl_decode_kind hl_decode_reason_kind(int reason)
{
	if (reason < 0 || reason >= HL_DECODE_REASON_COUNT)
		return HL_DECODE_KIND_MALFORMED;
	return (enum hl_decode_kind)reason_kinds[reason];
}

bool hl_decode_reason_is_malformed(int reason)
{
	return hl_decode_reason_kind(reason) == HL_DECODE_KIND_MALFORMED;
}

int hl_decoder_init(struct hl_decoder *d, const struct hl_decoder_config *cfg)
{
	if (d == NULL)
		return HL_EINVAL;
	memset(d, 0, sizeof(*d));
	struct hl_defrag_config dc = {0};
	if (cfg != NULL)
		dc = cfg->defrag;
	if (!hl_defrag_config_valid(&dc))
		return HL_EINVAL;
	d->defrag = hl_defrag_new(&dc);
	if (d->defrag == NULL)
		return HL_ENOMEM;
	return 0;
}

void hl_decoder_destroy(struct hl_decoder *d)
{
	if (d == NULL)
		return;
	hl_defrag_destroy(&d->defrag);
}

static int dispatch(struct hl_decoder *d, struct hl_packet *p, int linktype, struct cursor c,
                    uint32_t wire)
{
	switch (linktype) {
	case HL_LINK_ETHERNET:
		return hl_decode_eth(d, p, c, wire);
	case HL_LINK_SLL:
		return hl_decode_sll(d, p, c, wire);
	case HL_LINK_SLL2:
		return hl_decode_sll2(d, p, c, wire);
	case HL_LINK_NULL:
		return hl_decode_null(d, p, c, wire, false);
	case HL_LINK_LOOP:
		return hl_decode_null(d, p, c, wire, true);
	case HL_LINK_RAW:
	case HL_LINK_RAW_FILE:
		return hl_decode_raw(d, p, c, wire);
	case HL_LINK_IPV4:
		return hl_decode_ipv4(d, p, c, wire, false);
	case HL_LINK_IPV6:
		return hl_decode_ipv6(d, p, c, wire, false);
	default:
		return HL_DECODE_UNSUPPORTED_LINKTYPE;
	}
}

int hl_decode(struct hl_decoder *d, int linktype, const uint8_t *data, uint32_t caplen,
              uint32_t wirelen, int64_t ts, struct hl_packet *out)
{
	memset(out, 0, sizeof(*out));
	if (wirelen < caplen)
		wirelen = caplen;
	if (data == NULL)
		caplen = 0;
	out->ts = ts;
	out->caplen = caplen;
	out->wirelen = wirelen;
	out->linktype = linktype;
	d->stats.packets++;
	/* Timeouts follow packet time; cheap when nothing is due. */
	if (d->defrag != NULL)
		hl_defrag_expire(d->defrag, &d->stats, ts);
	int r = dispatch(d, out, linktype, cur_make(data, caplen), wirelen);
	assert(r >= 0 && r < HL_DECODE_REASON_COUNT);
	d->stats.by_reason[r]++;
	return r;
}

int hl_decode_l4(struct hl_decoder *d, struct hl_packet *p, struct cursor c, uint32_t wire)
{
	p->l4 = c.p;
	switch (p->proto) {
	case 6:
		return hl_decode_tcp(d, p, c, wire);
	case 17:
		return hl_decode_udp(d, p, c, wire);
	case 1:
		if (p->family == 4)
			return hl_decode_icmp(d, p, c, wire);
		break;
	case 58:
		if (p->family == 6)
			return hl_decode_icmp(d, p, c, wire);
		break;
	default:
		break;
	}
	/* Not decoded further (ESP, GRE, SCTP, ...): the whole L4 part is payload. */
	hl_decode_set_payload(d, p, c, wire);
	return HL_DECODE_OK;
}
