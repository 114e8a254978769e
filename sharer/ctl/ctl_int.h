/* \summary: hotline-ctl internals shared by its command files */
#ifndef HOTLINE_CTL_INT_H
#define HOTLINE_CTL_INT_H

#include <jansson.h>
#include <stdbool.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct ctl {
	const char *socket;
	char socket_buf[512];
	int timeout_ms;
	bool json;
};

/* Send req (stolen) and get an "ok" reply, or print why not (NULL). */
json_t *ctl_call(const struct ctl *c, json_t *req);
void ctl_print_json(const json_t *v);
/* hotline-ctl indicators list|add|retract (indicators.c); argv[0] is "indicators". */
int ctl_indicators(struct ctl *c, int argc, char **argv);

#endif
