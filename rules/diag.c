/* \summary: diagnostics sink (see include/hotline/diag.h) */
#include "hotline/diag.h"

#include <stdarg.h>
#include <stdio.h>

const char *hl_diag_level_name(enum hl_diag_level level)
{
	switch (level) {
	case HL_DIAG_ERROR:
		return "error";
	case HL_DIAG_WARNING:
		return "warning";
	case HL_DIAG_SKIP:
		return "skipped";
	case HL_DIAG_NOTE:
		return "note";
	}
	return "?";
}

void hl_diag_report(struct hl_diag *diag, enum hl_diag_level level, const char *file,
                    unsigned long line, const char *fmt, ...)
{
	if (diag == NULL)
		return;
	switch (level) {
	case HL_DIAG_ERROR:
		diag->errors++;
		break;
	case HL_DIAG_WARNING:
		diag->warnings++;
		break;
	case HL_DIAG_SKIP:
		diag->skipped++;
		break;
	case HL_DIAG_NOTE:
		diag->notes++;
		break;
	}
	if (diag->emit == NULL)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag->emit(diag->ctx, level, file != NULL ? file : "<input>", line, msg);
}

void hl_diag_emit_stream(void *ctx, enum hl_diag_level level, const char *file, unsigned long line,
                         const char *msg)
{
	FILE *out = ctx != NULL ? ctx : stderr;
	if (line > 0)
		fprintf(out, "%s:%lu: %s: %s\n", file, line, hl_diag_level_name(level), msg);
	else
		fprintf(out, "%s: %s: %s\n", file, hl_diag_level_name(level), msg);
}
