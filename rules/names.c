/* \summary: host and DNS name normalisation, done once per observation */
#include <stddef.h>
#include <string.h>

#include "hotline/indicator.h"

size_t hl_name_normalise(char *name, size_t len)
{
	size_t original = len;
	/* A port only follows a host when there is exactly one ':'; an IPv6
	 * literal has several and may sit in brackets ("[::1]:8080"). */
	if (len > 0 && name[0] == '[') {
		char *close = memchr(name, ']', len);
		if (close != NULL) {
			size_t inner = (size_t)(close - name) - 1;
			memmove(name, name + 1, inner);
			len = inner;
		}
	} else {
		char *colon = memchr(name, ':', len);
		if (colon != NULL &&
		    memchr(colon + 1, ':', len - (size_t)(colon - name) - 1) == NULL)
			len = (size_t)(colon - name);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch >= 'A' && ch <= 'Z')
			name[i] = (char)(ch + ('a' - 'A'));
	}
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* Terminate only inside the caller's bytes: when nothing was cut, a
	 * terminated input is still terminated. */
	if (len < original)
		name[len] = '\0';
	return len;
}
