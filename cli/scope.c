/* scope.c -- what one writer key may do: the domains and operations of 'acmezone serve --scope FILE'. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "names.h"
#include "scope.h"

#define CHALLENGE	"_acme-challenge."

/* One line (split in place) into s.  \return NULL, or why not. */
static const char *scope_line(scope_t *s, char *line)
{
	char *save = NULL, *kw = strtok_r(line, " \t", &save), *arg;
	const char *why = NULL;

	if (kw == NULL || kw[0] == '#') {
		return NULL;
	}
	if (strcmp(kw, "domain") == 0) {
		arg = strtok_r(NULL, " \t", &save);
		if (arg == NULL || strtok_r(NULL, " \t", &save) != NULL) {
			return "expected 'domain NAME' or 'domain *.NAME'";
		}
		if (s->n == SCOPE_MAX_DOMAINS) {
			return "more than 4096 domains";
		}
		bool below = arg[0] == '*' && arg[1] == '.';
		if ((below && strchr(arg + 2, '*') != NULL) ||
		    (!below && strchr(arg, '*') != NULL)) {
			return "'*' only as a whole first label ('*.example.org')";
		}
		if (az_domain_parse(below ? arg + 2 : arg, s->domain[s->n], &why) != AZ_EOK) {
			return why;
		}
		s->below[s->n++] = below;
		return NULL;
	}
	if (strcmp(kw, "ops") == 0) {
		s->add = s->del = false;
		while ((arg = strtok_r(NULL, " \t", &save)) != NULL) {
			if (strcmp(arg, "add") == 0) {
				s->add = true;
			} else if (strcmp(arg, "del") == 0) {
				s->del = true;
			} else {
				return "an operation is not add or del";
			}
		}
		return s->add || s->del ? NULL : "expected 'ops add', 'ops del' or 'ops add del'";
	}
	return "not a scope line (domain or ops)";
}

bool scope_changed(const scope_t *s)
{
	struct stat now;

	return stat(s->file, &now) != 0 || now.st_ino != s->sb.st_ino ||
	       now.st_dev != s->sb.st_dev || now.st_size != s->sb.st_size ||
	       now.st_mtim.tv_sec != s->sb.st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != s->sb.st_mtim.tv_nsec;
}

bool scope_load(scope_t *s, const char *file, char *why, size_t size)
{
	char line[SCOPE_LINE_MAX + 2], q[CLI_QUOTE_MAX];
	const char *bad = NULL;
	unsigned long n = 0;
	bool ops = false;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->file = file;
	s->add = s->del = true;
	quote(file, q);
	s->domain = calloc(SCOPE_MAX_DOMAINS, sizeof(*s->domain));
	s->below = calloc(SCOPE_MAX_DOMAINS, sizeof(*s->below));
	if (s->domain == NULL || s->below == NULL) {
		snprintf(why, size, "out of memory");
		return false;
	}
	f = fopen(file, "re");
	if (f == NULL || fstat(fileno(f), &s->sb) != 0) {
		snprintf(why, size, "cannot read the scope file '%s' (%s)", q, strerror(errno));
		if (f != NULL) {
			fclose(f);
		}
		return false;
	}
	while (bad == NULL && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		n++;
		if (len > 0 && line[len - 1] == '\n') {
			line[len - 1] = '\0';
		} else if (!feof(f)) {
			bad = "the line is too long";
			break;
		}
		char *kw = line + strspn(line, " \t");
		if (strncmp(kw, "ops", 3) == 0 && (kw[3] == ' ' || kw[3] == '\t' || kw[3] == '\0')) {
			if (ops) {
				bad = "a second 'ops' line";
				break;
			}
			ops = true;
		}
		bad = scope_line(s, line);
	}
	if (bad == NULL && ferror(f)) {
		snprintf(why, size, "cannot read the scope file '%s' (%s)", q, strerror(errno));
		fclose(f);
		return false;
	}
	fclose(f);
	if (bad != NULL) {
		snprintf(why, size, "scope file '%s' line %lu: %s", q, n, bad);
		return false;
	}
	if (s->n == 0) {
		snprintf(why, size, "scope file '%s' names no domain", q);
		return false;
	}
	return true;
}

void scope_free(scope_t *s)
{
	free(s->domain);
	free(s->below);
	memset(s, 0, sizeof(*s));
}

/* Is domain (canonical) the scope's entry i, or below it as that allows? */
static bool matches(const scope_t *s, int i, const char *domain)
{
	size_t dl = strlen(domain), sl = strlen(s->domain[i]);

	if (!s->below[i]) {
		return strcmp(domain, s->domain[i]) == 0;
	}
	return dl > sl + 1 && domain[dl - sl - 1] == '.' &&
	       strcmp(domain + dl - sl, s->domain[i]) == 0;
}

bool scope_allows(const scope_t *s, const uint8_t *zone, bool add,
                  const char *name, char *why, size_t size)
{
	char domain[AZ_DOMAIN_BUFLEN], q[CLI_QUOTE_MAX], fq[CLI_QUOTE_MAX];
	uint8_t wire[AZ_NAME_MAXLEN];
	const char *d = name, *reason = NULL;
	size_t len;

	quote(s->file, fq);
	if (add ? !s->add : !s->del) {
		snprintf(why, size, "'%s' is outside the scope %s (it does not allow %s)",
		         quote(name, q), fq, add ? "add" : "del");
		return false;
	}
	/* dns-account-01: "_<label>._acme-challenge.<domain>" is the
	 * domain's too (the label is checked where the name is mapped). */
	size_t label = names_account_part(d);
	if (label > 0) {
		d += label + 1;
	}
	if (strncasecmp(d, CHALLENGE, strlen(CHALLENGE)) == 0) {
		d += strlen(CHALLENGE);
	}
	if (zone != NULL && az_name_parse(d[0] == '*' && d[1] == '.' ? d + 2 : d,
	                                  wire, &len, &reason) == AZ_EOK &&
	    az_name_under(wire, zone)) {
		snprintf(why, size, "'%s' is outside the scope %s (a name in the "
		         "challenge zone; give the customer's domain)", quote(name, q), fq);
		return false;
	}
	if (az_domain_parse(d, domain, &reason) != AZ_EOK) {
		snprintf(why, size, "'%s' is outside the scope %s (not a domain: %s)",
		         quote(name, q), fq, reason);
		return false;
	}
	for (int i = 0; i < s->n; i++) {
		if (matches(s, i, domain)) {
			return true;
		}
	}
	snprintf(why, size, "'%s' is outside the scope %s (domain %s)", quote(name, q),
	         fq, domain);
	return false;
}
