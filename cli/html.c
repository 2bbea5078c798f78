/* html.c -- the report's output: a file replaced atomically, and the little HTML it needs. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "html.h"
#include "msg.h"

int outfile_open(const cli_t *cli, const char *path, outfile_t *o)
{
	char q[CLI_QUOTE_MAX];
	int fd;

	memset(o, 0, sizeof(*o));
	if (path == NULL || strcmp(path, "-") == 0) {
		o->f = stdout;
		return RC_OK;
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + sizeof(".tmp-XXXXXX"));
	if (o->path == NULL || o->tmp == NULL) {
		cli_err(cli, "out of memory");
		goto fail;
	}
	sprintf(o->tmp, "%s.tmp-XXXXXX", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		cli_err(cli, "cannot write '%s' (%s)", quote(path, q), strerror(errno));
		goto fail;
	}
	o->f = fdopen(fd, "w");
	if (o->f == NULL) {
		cli_err(cli, "cannot write '%s' (%s)", quote(path, q), strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return RC_OK;
fail:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return RC_STORE;
}

int outfile_close(const cli_t *cli, outfile_t *o, bool ok)
{
	char q[CLI_QUOTE_MAX];
	int rc = RC_OK;

	if (o->tmp == NULL) {
		return RC_OK;	/* stdout: main() checks it at exit */
	}
	/* Readable by whoever serves or scrapes it; the data is the
	 * operator's, as the store's directory decides. */
	if (ok && (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0 ||
	           fchmod(fileno(o->f), 0644) != 0)) {
		cli_err(cli, "cannot write '%s' (%s)", quote(o->path, q), strerror(errno));
		ok = false;
		rc = RC_STORE;
	}
	if (fclose(o->f) != 0 && ok) {
		cli_err(cli, "cannot write '%s' (%s)", quote(o->path, q), strerror(errno));
		ok = false;
		rc = RC_STORE;
	}
	if (ok && rename(o->tmp, o->path) != 0) {
		cli_err(cli, "cannot replace '%s' (%s)", quote(o->path, q), strerror(errno));
		ok = false;
		rc = RC_STORE;
	}
	if (!ok) {
		unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return rc;
}

void html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':  fputs("&amp;", f); break;
		case '<':  fputs("&lt;", f); break;
		case '>':  fputs("&gt;", f); break;
		case '"':  fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* The store keeps printable ASCII; anything else is not ours. */
			fputc((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?', f);
		}
	}
}

void html_begin(FILE *f, const char *title, const char *style)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>", f);
	html_text(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
}

void html_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}
