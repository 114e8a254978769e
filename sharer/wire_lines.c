/* \summary: a JSON array as JSON lines (indicator bodies for the native reader) */
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"
#include "hotline/wire.h"

int hl_wire_json_lines(const json_t *arr, char **out, size_t *len)
{
	size_t i, used = 0, cap = 0;
	char *buf = NULL;
	const json_t *o;
	*out = NULL;
	*len = 0;
	json_array_foreach(arr, i, o)
	{
		char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		size_t n = line != NULL ? strlen(line) : 0;
		if (line != NULL && used + n + 2 > cap) {
			size_t nc = cap ? cap : 4096;
			while (nc < used + n + 2)
				nc *= 2;
			char *nb = realloc(buf, nc);
			if (nb == NULL) {
				free(line);
				line = NULL;
			} else {
				buf = nb;
				cap = nc;
			}
		}
		if (line == NULL) {
			free(buf);
			return HL_ENOMEM;
		}
		memcpy(buf + used, line, n);
		used += n;
		buf[used++] = '\n';
		free(line);
	}
	*out = buf;
	*len = used;
	return 0;
}
