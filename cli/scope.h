/* scope.h -- what one writer key may do: the domains and operations of 'acmezone serve --scope FILE'. */
/* SPDX-License-Identifier: MIT */

/*
 * A scope file, one item a line, '#' comments:
 *
 *   domain example.org        that domain exactly
 *   domain *.example.org      every domain below it (not itself)
 *   ops add del               the operations allowed (default: add del)
 *
 * At least one domain line; at most SCOPE_MAX_DOMAINS.  Any other line is
 * a syntax error and serve refuses to run.
 */

#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "cli.h"

#define SCOPE_MAX_DOMAINS	4096
#define SCOPE_LINE_MAX		1024

typedef struct {
	char (*domain)[AZ_DOMAIN_BUFLEN];	/* canonical (az_domain_parse) */
	bool *below;				/* "*.": below it, not itself */
	int n;
	bool add, del;
	const char *file;			/* for messages */
	struct stat sb;				/* the file as read */
} scope_t;

/*!
 * Read the scope file.  \return true, or false with the reason in why
 * ("FILE line N: ...", escaped).  scope_free() either way.
 */
bool scope_load(scope_t *s, const char *file, char *why, size_t size);
void scope_free(scope_t *s);

/*! Is the scope file no longer the one loaded (replaced, or written to)? */
bool scope_changed(const scope_t *s);

/*!
 * May the writer do this operation on a name as given (a customer domain,
 * _acme-challenge.<domain> or *.<domain>)?  zone (wire, may be NULL):
 * names at or below the challenge zone are outside every scope (they
 * would name another customer's delegation directly).  \return true, or
 * false with the reason in why.
 */
bool scope_allows(const scope_t *s, const uint8_t *zone, bool add,
                  const char *name, char *why, size_t size);
