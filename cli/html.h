/* html.h -- the report's output: a file replaced atomically, and the little HTML it needs (escaped text, page, inline SVG). */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdio.h>

#include "cli.h"

/* An output file being written: a temporary beside it, renamed at the end. */
typedef struct {
	FILE *f;
	char *path, *tmp;	/* tmp NULL: standard output */
} outfile_t;

/*!
 * Start writing path ("-" or NULL: standard output) through a temporary
 * file in the same directory, so that readers (node_exporter's textfile
 * collector, a web server) see the old file or the new one, never half.
 * \return RC_OK, or RC_STORE with the message printed.
 */
int outfile_open(const cli_t *cli, const char *path, outfile_t *o);

/*!
 * Finish: flush, sync, mode 0644, rename over path.  With ok false (or on
 * any error) the temporary is removed and path left as it was.
 * \return RC_OK, or RC_STORE with the message printed.
 */
int outfile_close(const cli_t *cli, outfile_t *o, bool ok);

/* Text made safe for HTML content and attribute values: & < > " ' escaped. */
void html_text(FILE *f, const char *s);

/* The head of a page with its title (escaped) and inline style; the end. */
void html_begin(FILE *f, const char *title, const char *style);
void html_end(FILE *f);
