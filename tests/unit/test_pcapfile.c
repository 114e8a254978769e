/* \summary: unit tests for the classic pcap parser (headers, records, damage) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hotline/err.h"
#include "pcapfile.h"

static void put32(uint8_t *p, uint32_t v, bool big)
{
	for (int i = 0; i < 4; i++)
		p[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v, bool big)
{
	p[big ? 1 : 0] = (uint8_t)v;
	p[big ? 0 : 1] = (uint8_t)(v >> 8);
}

static void file_header(uint8_t *p, uint32_t magic, uint16_t major, uint16_t minor, uint32_t snap,
                        uint32_t link, bool big)
{
	memset(p, 0, HL_PCAPFILE_HEADER);
	put32(p, magic, big);
	put16(p + 4, major, big);
	put16(p + 6, minor, big);
	put32(p + 16, snap, big);
	put32(p + 20, link, big);
}

static void rec_header(uint8_t *p, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
                       bool big)
{
	put32(p, sec, big);
	put32(p + 4, frac, big);
	put32(p + 8, caplen, big);
	put32(p + 12, len, big);
}

static void headers_of_both_orders_and_precisions(void **state)
{
	(void)state;
	uint8_t h[HL_PCAPFILE_HEADER];
	struct hl_pcapfile_info info;

	file_header(h, 0xa1b2c3d4u, 2, 4, 65535, 1, false);
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), 0);
	assert_false(info.swapped);
	assert_false(info.nsec);
	assert_int_equal(info.snapshot, 65535);
	assert_int_equal(info.linktype, 1);

	file_header(h, 0xa1b23c4du, 2, 4, 1500, 113, true);
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), 0);
	assert_true(info.swapped);
	assert_true(info.nsec);
	assert_int_equal(info.snapshot, 1500);
	assert_int_equal(info.linktype, 113);

	/* a snapshot length of 0 or past the maximum means the maximum */
	file_header(h, 0xa1b2c3d4u, 2, 4, 0, 1, false);
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), 0);
	assert_int_equal(info.snapshot, HL_PCAPFILE_MAX_SNAP);
	file_header(h, 0xa1b2c3d4u, 2, 4, 0x7fffffffu, 1, false);
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), 0);
	assert_int_equal(info.snapshot, HL_PCAPFILE_MAX_SNAP);
}

static void other_files_are_left_to_libpcap(void **state)
{
	(void)state;
	uint8_t h[HL_PCAPFILE_HEADER];
	struct hl_pcapfile_info info;
	file_header(h, 0xa1b2c3d4u, 2, 3, 65535, 1, false); /* lengths maybe swapped */
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), HL_EFORMAT);
	file_header(h, 0xa1b2c3d4u, 1, 4, 65535, 1, false);
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), HL_EFORMAT);
	file_header(h, 0xa1b2cd34u, 2, 4, 65535, 1, false); /* Kuznetzov's patched format */
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), HL_EFORMAT);
	file_header(h, 0x0a0d0d0au, 2, 4, 65535, 1, false); /* pcapng */
	assert_int_equal(hl_pcapfile_header(h, sizeof h, &info), HL_EFORMAT);
	file_header(h, 0xa1b2c3d4u, 2, 4, 65535, 1, false);
	assert_int_equal(hl_pcapfile_header(h, sizeof h - 1, &info), HL_EFORMAT);
	assert_int_equal(hl_pcapfile_header(h, 0, &info), HL_EFORMAT);
}

static void records_whole_partial_and_at_the_end(void **state)
{
	(void)state;
	struct hl_pcapfile_info info = {false, false, 65535, 1};
	uint8_t buf[16 + 60 + 16 + 4];
	memset(buf, 0xab, sizeof buf);
	rec_header(buf, 1462960800u, 123456u, 60, 60, false);
	rec_header(buf + 76, 1462960801u, 0, 4, 1514, false);
	struct hl_pcapfile_rec rec;
	char why[160] = "";

	assert_int_equal(hl_pcapfile_record(&info, buf, sizeof buf, true, &rec, why, sizeof why),
	                 1);
	assert_true(rec.ts == 1462960800123456LL);
	assert_int_equal(rec.caplen, 60);
	assert_int_equal(rec.wirelen, 60);
	assert_int_equal(rec.size, 76);
	assert_int_equal(hl_pcapfile_record(&info, buf + 76, 20, true, &rec, why, sizeof why), 1);
	assert_int_equal(rec.caplen, 4);
	assert_int_equal(rec.wirelen, 1514);
	assert_int_equal(rec.size, 20);

	/* every cut short of a whole record asks for more, unless at the end */
	for (size_t len = 0; len < 76; len++) {
		assert_int_equal(hl_pcapfile_record(&info, buf, len, false, &rec, why, sizeof why),
		                 HL_EAGAIN);
		int rc = hl_pcapfile_record(&info, buf, len, true, &rec, why, sizeof why);
		assert_int_equal(rc, len == 0 ? 0 : HL_EFORMAT);
	}
	assert_int_equal(hl_pcapfile_record(&info, buf, 0, true, &rec, why, sizeof why), 0);
}

/* The messages libpcap 1.10 gives for the same damage. */
static void damage_is_told_as_libpcap_tells_it(void **state)
{
	(void)state;
	struct hl_pcapfile_info info = {false, false, 100, 1};
	uint8_t buf[16 + 300];
	memset(buf, 0, sizeof buf);
	struct hl_pcapfile_rec rec;
	char why[160];

	rec_header(buf, 1, 2, 60, 60, false);
	assert_int_equal(hl_pcapfile_record(&info, buf, 9, true, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why, "truncated dump file; tried to read 16 header bytes, only got 9");
	assert_int_equal(hl_pcapfile_record(&info, buf, 16 + 20, true, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why,
	                    "truncated dump file; tried to read 60 captured bytes, only got 20");

	/* longer than the snapshot: libpcap reads the snapshot length first */
	rec_header(buf, 1, 2, 300, 300, false);
	assert_int_equal(hl_pcapfile_record(&info, buf, 16 + 50, true, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why,
	                    "truncated dump file; tried to read 100 captured bytes, only got 50");
	assert_int_equal(hl_pcapfile_record(&info, buf, 16 + 150, true, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why,
	                    "truncated dump file; tried to read 300 captured bytes, only got 150");
	/* ... and whole, it is cut to the snapshot length but skipped whole */
	assert_int_equal(hl_pcapfile_record(&info, buf, sizeof buf, true, &rec, why, sizeof why),
	                 1);
	assert_int_equal(rec.caplen, 100);
	assert_int_equal(rec.wirelen, 300);
	assert_int_equal(rec.size, 316);

	/* past any sane length: an error at once, not a request for more */
	rec_header(buf, 1, 2, HL_PCAPFILE_MAX_SNAP + 1, 70000, false);
	assert_int_equal(hl_pcapfile_record(&info, buf, 16, false, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why,
	                    "invalid packet capture length 262145, bigger than snaplen of 100");
	rec_header(buf, 1, 2, 0xffffffffu, 70000, false);
	assert_int_equal(hl_pcapfile_record(&info, buf, 16, true, &rec, why, sizeof why),
	                 HL_EFORMAT);
	assert_string_equal(why,
	                    "invalid packet capture length 4294967295, bigger than snaplen of 100");
}

static void time_stamps_signed_scaled_and_swapped(void **state)
{
	(void)state;
	uint8_t buf[16];
	struct hl_pcapfile_rec rec;
	char why[160];

	struct hl_pcapfile_info ns = {true, true, 65535, 1};
	rec_header(buf, 1462960800u, 987654321u, 0, 0, true);
	assert_int_equal(hl_pcapfile_record(&ns, buf, sizeof buf, true, &rec, why, sizeof why), 1);
	assert_true(rec.ts == 1462960800987654LL); /* nanoseconds divided, not rounded */
	assert_int_equal(rec.size, 16);

	/* the format's fields are signed: before 1970 stays before 1970 */
	struct hl_pcapfile_info us = {false, false, 65535, 1};
	rec_header(buf, 0xffffffffu, 500000u, 0, 0, false);
	assert_int_equal(hl_pcapfile_record(&us, buf, sizeof buf, true, &rec, why, sizeof why), 1);
	assert_true(rec.ts == -1000000LL + 500000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(headers_of_both_orders_and_precisions),
	        cmocka_unit_test(other_files_are_left_to_libpcap),
	        cmocka_unit_test(records_whole_partial_and_at_the_end),
	        cmocka_unit_test(damage_is_told_as_libpcap_tells_it),
	        cmocka_unit_test(time_stamps_signed_scaled_and_swapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
