/* \summary: give up root once the capture handle is open (--user) */
#ifndef HOTLINE_SENSOR_PRIVDROP_H
#define HOTLINE_SENSOR_PRIVDROP_H

#include <stddef.h>

/* Switch the whole process (every thread: glibc's setuid/setgid apply to
 * all) to user's uid, gid and supplementary groups, and check that root
 * cannot be regained. 0, or a negative HL_E* code with the reason in err. */
int hl_drop_privileges(const char *user, char *err, size_t errlen);

#endif
