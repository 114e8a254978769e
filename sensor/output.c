/* \summary: sighting sinks (see output.h) */
#include "output.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/err.h"

struct hl_output {
	pthread_mutex_t lock;
	FILE *file; /* NULL for a function sink */
	hl_output_fn fn;
	void *fn_ctx;
	char *path; /* NULL for stdout */
	bool deterministic;
	bool keep_lines;
	bool finished;
	atomic_bool reopen;
	char **lines;
	size_t n_lines, cap_lines;
	struct hl_output_stats stats;
};

static FILE *open_append(const char *path)
{
	FILE *f = fopen(path, "a");
	if (f != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

hl_output_t *hl_output_open(const char *path, bool deterministic, bool keep_lines, int *err)
{
	hl_output_t *out = calloc(1, sizeof *out);
	if (out == NULL) {
		*err = HL_ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&out->lock, NULL);
	out->deterministic = deterministic;
	out->keep_lines = keep_lines || deterministic;
	atomic_init(&out->reopen, false);
	if (strcmp(path, "-") == 0) {
		out->file = stdout;
	} else {
		out->path = strdup(path);
		out->file = out->path != NULL ? open_append(path) : NULL;
		if (out->file == NULL) {
			*err = out->path == NULL ? HL_ENOMEM : HL_EIO;
			hl_output_close(&out);
			return NULL;
		}
	}
	return out;
}

hl_output_t *hl_output_open_fn(hl_output_fn fn, void *ctx, int *err)
{
	hl_output_t *out = calloc(1, sizeof *out);
	if (out == NULL) {
		*err = HL_ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&out->lock, NULL);
	atomic_init(&out->reopen, false);
	out->fn = fn;
	out->fn_ctx = ctx;
	return out;
}

static int keep(hl_output_t *out, const char *line, size_t len)
{
	if (out->n_lines == out->cap_lines) {
		size_t cap = out->cap_lines ? out->cap_lines * 2 : 256;
		char **grown = realloc(out->lines, cap * sizeof *grown);
		if (grown == NULL)
			return HL_ENOMEM;
		out->lines = grown;
		out->cap_lines = cap;
	}
	char *copy = strndup(line, len);
	if (copy == NULL)
		return HL_ENOMEM;
	out->lines[out->n_lines++] = copy;
	return 0;
}

static int emit(hl_output_t *out, const char *line, size_t len)
{
	if (out->fn != NULL) {
		if (out->fn(out->fn_ctx, line, len) == 0)
			return 0;
		out->stats.write_errors++;
		return HL_EIO;
	}
	if (atomic_exchange(&out->reopen, false) && out->path != NULL) {
		FILE *f = open_append(out->path);
		if (f != NULL) {
			fclose(out->file);
			out->file = f;
			out->stats.reopens++;
		} else {
			out->stats.write_errors++; /* keep writing to the old file */
		}
	}
	if (fwrite(line, 1, len, out->file) != len || fputc('\n', out->file) == EOF) {
		out->stats.write_errors++;
		return HL_EIO;
	}
	return 0;
}

int hl_output_write(hl_output_t *out, const char *line, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&out->lock);
	out->stats.lines++;
	if (out->keep_lines)
		rc = keep(out, line, len);
	if (rc == 0 && !out->deterministic)
		rc = emit(out, line, len);
	pthread_mutex_unlock(&out->lock);
	return rc;
}

void hl_output_request_reopen(hl_output_t *out)
{
	atomic_store(&out->reopen, true);
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hl_output_finish(hl_output_t *out)
{
	int rc = 0;
	pthread_mutex_lock(&out->lock);
	if (out->deterministic && !out->finished) {
		if (out->n_lines > 1)
			qsort(out->lines, out->n_lines, sizeof *out->lines, compare_lines);
		for (size_t i = 0; i < out->n_lines && rc == 0; i++)
			rc = emit(out, out->lines[i], strlen(out->lines[i]));
	}
	out->finished = true;
	if (out->file != NULL && fflush(out->file) != 0) {
		out->stats.write_errors++;
		rc = HL_EIO;
	}
	pthread_mutex_unlock(&out->lock);
	return rc;
}

size_t hl_output_lines(const hl_output_t *out, const char *const **lines)
{
	*lines = (const char *const *)out->lines;
	return out->n_lines;
}

void hl_output_stats(hl_output_t *out, struct hl_output_stats *st)
{
	pthread_mutex_lock(&out->lock);
	*st = out->stats;
	pthread_mutex_unlock(&out->lock);
}

void hl_output_close(hl_output_t **out_p)
{
	hl_output_t *out = *out_p;
	if (out == NULL)
		return;
	if (out->file != NULL && out->file != stdout)
		fclose(out->file);
	else if (out->file == stdout)
		fflush(stdout);
	for (size_t i = 0; i < out->n_lines; i++)
		free(out->lines[i]);
	free(out->lines);
	free(out->path);
	pthread_mutex_destroy(&out->lock);
	free(out);
	*out_p = NULL;
}
