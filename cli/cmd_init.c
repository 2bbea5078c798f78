/* cmd_init.c -- 'init': create a store, its side files and, if need be, its directory. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cmds.h"
#include "observe.h"
#include "msg.h"
#include "names.h"
#include "opts.h"

#define CLI_DEFAULT_GROUP	"knot"
#define CLI_DIR_MODE		0750

/* --group NAME or numeric id; else "knot" if it exists; else the caller's. */
static int init_group(const cli_t *cli, gid_t *gid)
{
	char q[CLI_QUOTE_MAX], *end = NULL;
	struct group *gr;
	unsigned long n;

	*gid = (gid_t)-1;
	if (cli->group == NULL) {
		gr = getgrnam(CLI_DEFAULT_GROUP);
		if (gr != NULL) {
			*gid = gr->gr_gid;
		}
		return RC_OK;
	}
	gr = getgrnam(cli->group);
	if (gr != NULL) {
		*gid = gr->gr_gid;
		return RC_OK;
	}
	errno = 0;
	n = strtoul(cli->group, &end, 10);
	if (cli->group[0] >= '0' && cli->group[0] <= '9' && *end == '\0' &&
	    errno == 0 && n < (gid_t)-1 && (unsigned long)(gid_t)n == n) {
		*gid = (gid_t)n;
		return RC_OK;
	}
	cli_err(cli, "'%s' is not a known group", quote(cli->group, q));
	return RC_INPUT;
}

static void fmt_owner(const struct stat *st, char *out, size_t size)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);
	char user[32], group[32];

	snprintf(user, sizeof(user), "%lu", (unsigned long)st->st_uid);
	snprintf(group, sizeof(group), "%lu", (unsigned long)st->st_gid);
	snprintf(out, size, "%s:%s", pw != NULL ? pw->pw_name : user,
	         gr != NULL ? gr->gr_name : group);
}

/*
 * "PATH (mode 0640, owner root:knot)", from what is really on disk; the
 * path as the user gave it, escaped.
 */
static void init_describe(const char *path, bool owner)
{
	char who[160], q[CLI_QUOTE_MAX];
	struct stat st;

	quote(path, q);
	if (stat(path, &st) != 0) {
		printf("%s (cannot stat: %s)", q, strerror(errno));
	} else if (owner) {
		fmt_owner(&st, who, sizeof(who));
		printf("%s (mode %04o, owner %s)", q,
		       (unsigned)(st.st_mode & 07777), who);
	} else {
		printf("%s (%04o)", q, (unsigned)(st.st_mode & 07777));
	}
}

static int run_init(cli_t *cli)
{
	char *dir = NULL, *slash, *side = NULL, q[CLI_QUOTE_MAX];
	az_config_t cfg = { .scheme = AZ_SCHEME_READABLE };
	bool made_dir = false, made_obs = false;
	size_t side_size;
	struct stat st;
	gid_t gid;
	int rc, ret;

	rc = init_group(cli, &gid);
	if (rc == RC_OK && cli->zone != NULL) {
		rc = names_zone(cli, cli->zone, &cfg);
	}
	if (rc == RC_OK && cli->scheme != NULL) {
		rc = cli->zone == NULL ?
		     cli_usage(cli, "--scheme needs --zone") :
		     names_scheme(cli, cli->scheme, &cfg.scheme);
	}
	if (rc != RC_OK) {
		return rc;
	}
	if (lstat(cli->db, &st) == 0) {
		cli_err(cli, "'%s' already exists", cli->qdb);
		return RC_STORE;
	}

	/* The parent directory: create it if missing, readable by the group. */
	dir = strdup(cli->db);
	side_size = strlen(cli->db) + sizeof(AZ_OBS_DIR_SUFFIX);
	side = malloc(side_size);
	if (dir == NULL || side == NULL) {
		cli_err(cli, "out of memory");
		rc = RC_STORE;
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) != 0) {
			if (errno != ENOENT || mkdir(dir, CLI_DIR_MODE) != 0) {
				const char *err = strerror(errno);
				cli_err(cli, "cannot create directory '%s' (%s)",
				        quote(dir, q), err);
				rc = RC_STORE;
				goto out;
			}
			made_dir = true;
			/* Not left to the umask: the group must be able to enter. */
			if (chmod(dir, CLI_DIR_MODE) != 0 ||
			    (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) != 0)) {
				const char *err = strerror(errno);
				cli_err(cli, "cannot set the mode or group of '%s' (%s)",
				        quote(dir, q), err);
				rc = RC_STORE;
				goto out;
			}
		}
	}

	/* Where the servers write what they saw (store/observe.h); before
	 * the store, so that a failure leaves no store without it. */
	snprintf(side, side_size, "%s" AZ_OBS_DIR_SUFFIX, cli->db);
	made_obs = lstat(side, &st) != 0;
	ret = az_obs_mkdir(cli->db, gid);
	if (ret != AZ_EOK) {
		made_obs = false;
		cli_store_err(cli, ret, "cannot create '%s'", quote(side, q));
		rc = RC_STORE;
		goto out;
	}
	errno = 0;
	ret = az_store_create_with(cli->db, gid, cfg.has_zone ? &cfg : NULL);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot create '%s'", cli->qdb);
		rc = RC_STORE;
		goto out;
	}

	if (made_dir) {
		fputs("created directory ", stdout);
		init_describe(dir, true);
		putchar('\n');
	}
	fputs("created ", stdout);
	init_describe(cli->db, true);
	fputs(", lock file ", stdout);
	snprintf(side, side_size, "%s-lock", cli->db);
	init_describe(side, false);
	fputs(", sync file ", stdout);
	snprintf(side, side_size, "%s-sync", cli->db);
	init_describe(side, false);
	fputs(", observation directory ", stdout);
	snprintf(side, side_size, "%s" AZ_OBS_DIR_SUFFIX, cli->db);
	init_describe(side, false);
	putchar('\n');
	if (cfg.has_zone) {
		char zone[AZ_NAME_TXTLEN];
		az_name_to_text(cfg.zone, zone, sizeof(zone));
		printf("challenge zone %s, scheme %s\n", zone, az_scheme_name(cfg.scheme));
	}
	rc = RC_OK;
out:
	/* Nothing is left behind on failure: the store cleans up its files. */
	if (rc != RC_OK && made_obs) {
		snprintf(side, side_size, "%s" AZ_OBS_DIR_SUFFIX, cli->db);
		(void)rmdir(side);
	}
	if (rc != RC_OK && made_dir) {
		(void)rmdir(dir);
	}
	free(side);
	free(dir);
	return rc;
}

const cmd_t cmd_init = {
	"init", run_init, OPT_GROUP | OPT_ZONE | OPT_SCHEME, 0, 0, { NULL }, 0,
	"init [--group NAME] [--zone ZONE [--scheme SCHEME]]",
	"Create a new store: the data file (mode 0640) and its lock and sync\n"
	"files (mode 0660) and the directory where servers write what they\n"
	"saw (PATH-observe, mode 2770), owned by group NAME, else by group\n"
	"'knot' if it exists, else by your own group.  The parent directory is created\n"
	"(mode 0750, same group) if it does not exist.  An existing file is\n"
	"never touched.\n"
	"\n"
	"  --group NAME     group (name or numeric id) that may read the store\n"
	"  --zone ZONE      the challenge zone: add, del and the hooks then take\n"
	"                   customer domains and write at their delegation names\n"
	"  --scheme SCHEME  how a domain becomes a label in ZONE: readable\n"
	"                   (default: a-b.example.org -> a--b-example-org),\n"
	"                   reversed (org-example-a--b) or hashed\n"
};
