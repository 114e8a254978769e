/* \summary: give up root once the capture handle is open (--user)
 *
 * The open capture handle keeps working without privileges; everything the
 * sensor does afterwards (parsing hostile packets above all) then runs as an
 * ordinary user. Outputs opened before the switch stay open; files opened
 * later (evidence, a reopened output after SIGHUP) need the user's rights.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hotline/err.h"

int hl_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int rc = getpwnam_r(user, &pw, buf, sizeof buf, &found);
	if (rc != 0 || found == NULL) {
		snprintf(err, errlen, "--user %s: no such user", user);
		return HL_ENOTFOUND;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw.pw_uid)
			return 0; /* already that user */
		snprintf(err, errlen, "--user %s: only root can switch users", user);
		return HL_EPERM;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 ||
	    setuid(pw.pw_uid) != 0) {
		snprintf(err, errlen, "--user %s: cannot switch: %s", user, strerror(errno));
		return HL_EPERM;
	}
	if (pw.pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errlen, "--user %s: root could be regained; refusing to go on", user);
		return HL_EPERM;
	}
	/* The setuid away from root cleared every capability; this also stops
	 * any later exec (none is planned) from gaining privileges back
	 * through setuid or file-capability binaries. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "--user %s: no_new_privs: %s", user, strerror(errno));
		return HL_EPERM;
	}
	return 0;
}
