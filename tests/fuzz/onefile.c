/* \summary: replay fuzz corpus files through a LLVMFuzzerTestOneInput target
 *
 * Built instead of libFuzzer's driver when HOTLINE_FUZZ is off, so every
 * corpus file runs as an ordinary regression test (libpcap's pattern).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		fclose(f);
		return 1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				free(buf);
				fclose(f);
				return 1;
			}
			buf = grown;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	int failed = ferror(f);
	fclose(f);
	if (!failed)
		LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return failed;
}

int main(int argc, char **argv)
{
	int failures = 0;
	for (int i = 1; i < argc; i++)
		failures += run_file(argv[i]);
	printf("%d passed, %d failed\n", argc - 1 - failures, failures);
	return failures != 0;
}
