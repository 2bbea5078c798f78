/* cmd_list.c -- 'list': every value in the store, or those at one name, with expiry. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "db.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "opts.h"

typedef struct {
	const cli_t *cli;
	int64_t now;
	json_t json;
} list_t;

/* Human form of a value: bare, or quoted when it holds a blank or quote. */
static void human_value(const uint8_t *v, size_t len)
{
	bool plain = len > 0;

	for (size_t i = 0; i < len && plain; i++) {
		plain = v[i] != ' ' && v[i] != '"' && v[i] != '\\';
	}
	if (plain) {
		fwrite(v, 1, len, stdout);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\') {
			putchar('\\');
		}
		putchar(v[i]);
	}
	putchar('"');
}

static void list_value(void *ctx, const char *name, const az_val_t *val)
{
	list_t *ls = ctx;
	char when[CLI_TIME_MAX], span[CLI_TIME_MAX];
	bool when_ok = fmt_time(val->expire, when);
	/* Same test as the store: not served once the expiry has passed. */
	bool expired = val->expire <= ls->now;

	if (ls->cli->json) {
		json_begin(&ls->json, '{');
		json_key(&ls->json, "name");
		json_str(&ls->json, name);
		json_key(&ls->json, "value");
		json_strn(&ls->json, (const char *)val->data, val->len);
		json_key(&ls->json, "expires");
		if (val->expire == AZ_EXPIRE_NEVER) {
			json_str_or_null(&ls->json, NULL);	/* never */
		} else {
			json_int(&ls->json, (long long)val->expire);
		}
		json_key(&ls->json, "expires_at");
		json_str_or_null(&ls->json, when_ok ? when : NULL);
		json_key(&ls->json, "expired");
		json_bool(&ls->json, expired);
		json_end(&ls->json);
		return;
	}
	if (val->expire == AZ_EXPIRE_NEVER) {
		printf("%s  ", name);
		human_value(val->data, val->len);
		printf("  never expires\n");
		return;
	}
	/* Unsigned: an expiry read back from the file may be any i64. */
	fmt_span(expired ? (uint64_t)ls->now - (uint64_t)val->expire :
	                   (uint64_t)val->expire - (uint64_t)ls->now, span);
	printf("%s  ", name);
	human_value(val->data, val->len);
	printf(expired ? "  expired %s (%s ago)\n" : "  expires %s (in %s)\n",
	       when_ok ? when : "(out of range)", span);
}

/* A name as add takes it, mapped as add maps it. */
static int list_name(const cli_t *cli, const az_config_t *cfg, const char *text,
                     uint8_t name[AZ_NAME_MAXLEN])
{
	return names_owner(cli, cfg, text, false, name, NULL);
}

static int run_list(cli_t *cli)
{
	list_t ls = { .cli = cli, .now = (int64_t)time(NULL) };
	const char *text = cli->npos > 0 ? cli->pos[0] : NULL;

	if (text != NULL && names_syntax(cli, text) != RC_OK) {
		return RC_INPUT;
	}
	return db_list(cli, text, list_name, NULL, list_value, &ls, &ls.json);
}

const cmd_t cmd_list = {
	"list", run_list, OPT_JSON, 0, 1, { "NAME", NULL }, 0,
	"list [NAME] [--json]",
	"Show every value (or the values at NAME, named as for add) with its\n"
	"expiry; expired values, which are no longer served, are marked.\n"
	"\n"
	"  --json   one JSON array of {name, value, expires, expires_at, expired}\n"
	"           (expires null: never, as a dns-persist-01 record without\n"
	"           --until)\n"
};
