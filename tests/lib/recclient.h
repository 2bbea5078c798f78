/* recclient.h -- a sync_client_t for tests that records what the sync thread says and counts. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "rcu.h"
#include "sync.h"
#include "table.h"
#include "tap.h"

typedef struct {
	sync_client_t c;
	pthread_mutex_t lock;
	char logs[32768];	/* log lines, '\n'-terminated; full: dropped */
	sync_stats_t st;	/* last counters published */
} rec_client_t;

static inline void rec_log(sync_client_t *c, int prio, const char *msg)
{
	rec_client_t *r = (rec_client_t *)c;
	(void)prio;
	pthread_mutex_lock(&r->lock);
	if (strlen(r->logs) + strlen(msg) + 2 < sizeof(r->logs)) {
		strcat(r->logs, msg);
		strcat(r->logs, "\n");
	}
	pthread_mutex_unlock(&r->lock);
}

static inline void rec_stats(sync_client_t *c, const sync_stats_t *st)
{
	rec_client_t *r = (rec_client_t *)c;
	pthread_mutex_lock(&r->lock);
	r->st = *st;
	pthread_mutex_unlock(&r->lock);
}

#define REC_CLIENT_INIT	{ .c = { rec_log, rec_stats, NULL }, .lock = PTHREAD_MUTEX_INITIALIZER }

/* The counters last published to r. */
static inline sync_stats_t rec_counters(rec_client_t *r)
{
	pthread_mutex_lock(&r->lock);
	sync_stats_t st = r->st;
	pthread_mutex_unlock(&r->lock);
	return st;
}

/* Occurrences of needle in r's log. */
static inline int rec_count(rec_client_t *r, const char *needle)
{
	int n = 0;
	pthread_mutex_lock(&r->lock);
	for (const char *p = r->logs; (p = strstr(p, needle)) != NULL; p++) {
		n++;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

static inline void rec_clear(rec_client_t *r)
{
	pthread_mutex_lock(&r->lock);
	r->logs[0] = '\0';
	pthread_mutex_unlock(&r->lock);
}

/* r's log as TAP comments. */
static inline void rec_dump(rec_client_t *r)
{
	pthread_mutex_lock(&r->lock);
	char *copy = strdup(r->logs);
	pthread_mutex_unlock(&r->lock);
	for (char *line = copy ? strtok(copy, "\n") : NULL; line != NULL;
	     line = strtok(NULL, "\n")) {
		tap_diag("log: %s", line);
	}
	free(copy);
}

/*
 * Live values at name as a query would see them, -1 if the name is absent;
 * with want (an ACME value), *has_want says whether it is one of them.
 */
static inline int rec_served(sync_src_t *src, const char *text,
                             const char *want, bool *has_want)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	az_name_parse(text, w, &len, NULL);
	int64_t now = (int64_t)time(NULL);
	int ret = -1;
	if (has_want != NULL) {
		*has_want = false;
	}
	az_read_lock();
	table_t *t = sync_table(src);
	const tnode_t *n = t ? table_lookup(t, w, len) : NULL;
	const tvals_t *v = n ? table_vals(n) : NULL;
	if (v != NULL) {
		ret = 0;
		const uint8_t *p = v->data;
		for (unsigned i = 0; i < v->count; i++, p = TVAL_NEXT(p)) {
			ret += TVAL_EXPIRE(p) > now;
			if (want != NULL && has_want != NULL &&
			    TVAL_RDATA(p)[0] == strlen(want) &&
			    memcmp(TVAL_RDATA(p) + 1, want, strlen(want)) == 0) {
				*has_want = true;
			}
		}
	}
	az_read_unlock();
	return ret;
}
