/* acmezone.c -- the acmezone CLI: writes ACME DNS-01 tokens into the LMDB store. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "cli.h"

#define CLI_DEFAULT_WAIT_MS	5000
#define CLI_MAX_WAIT_MS		(3600 * 1000)
#define CLI_DEFAULT_GROUP	"knot"
#define CLI_DIR_MODE		0750
#define CLI_LINE_MAX		4096		/* batch line, newline excluded */
#define CLI_MAX_FIELDS		4		/* add NAME VALUE DURATION */
#define CLI_MAX_NAMES		2		/* named positional arguments */
#define CLI_PROGRESS		100000		/* batch lines between progress notes */
#define CLI_TIME_MAX		32

/* Options; a command lists the ones it takes as a mask. */
enum {
	OPT_DB      = 1 << 0,
	OPT_WAIT    = 1 << 1,
	OPT_NO_WAIT = 1 << 2,
	OPT_HELP    = 1 << 3,
	OPT_VERSION = 1 << 4,
	OPT_GROUP   = 1 << 5,
	OPT_EXPIRE  = 1 << 6,
	OPT_RAW     = 1 << 7,
	OPT_JSON    = 1 << 8,
	OPT_VERBOSE = 1 << 9,
	OPT_ZONE    = 1 << 10,
	OPT_SCHEME  = 1 << 11,
	OPT_FORCE   = 1 << 12,
	OPT_SERVER  = 1 << 13,
	OPT_WAIT_AT = 1 << 14,		/* --wait SERVER (not --wait-timeout) */
	OPT_PROPAGATION = 1 << 15,
};

/* Accepted before the command and after it. */
#define OPT_GLOBAL	(OPT_DB | OPT_WAIT | OPT_NO_WAIT | OPT_HELP)

typedef struct {
	const char *name;	/* long form without "--" */
	char short_name;	/* 0: none */
	bool has_arg;
	unsigned id;
} opt_t;

static const opt_t cli_opts[] = {
	{ "db",           0,   true,  OPT_DB },
	{ "wait-timeout", 0,   true,  OPT_WAIT },
	{ "no-wait",      0,   false, OPT_NO_WAIT },
	{ "help",         'h', false, OPT_HELP },
	{ "version",      0,   false, OPT_VERSION },
	{ "group",        0,   true,  OPT_GROUP },
	{ "expire",       0,   true,  OPT_EXPIRE },
	{ "raw",          0,   false, OPT_RAW },
	{ "json",         0,   false, OPT_JSON },
	{ "verbose",      'v', false, OPT_VERBOSE },
	{ "zone",         0,   true,  OPT_ZONE },
	{ "scheme",       0,   true,  OPT_SCHEME },
	{ "force",        0,   false, OPT_FORCE },
	{ "server",       0,   true,  OPT_SERVER },
	{ "wait",         0,   true,  OPT_WAIT_AT },
	{ "propagation-timeout", 0, true, OPT_PROPAGATION },
};

const unsigned cli_hook_opts = OPT_EXPIRE | OPT_VERBOSE | OPT_WAIT_AT | OPT_PROPAGATION;

#define CMD_ANY		(-1)		/* max_pos: no limit */

typedef struct {
	const char *name;
	int (*run)(cli_t *cli);
	unsigned opts;			/* besides OPT_GLOBAL */
	int min_pos, max_pos;
	const char *pos_names[CLI_MAX_NAMES];
	int verbatim;			/* > 0: arguments after this many
					 * positional ones are not options */
	const char *synopsis;		/* after "acmezone [OPTIONS] " */
	const char *help;
} cmd_t;

/*** Messages. ***/

static void cli_vmsg(const cli_t *cli, const char *fmt, va_list ap)
{
	fputs("acmezone: ", stderr);
	if (cli->cmd != NULL) {
		fprintf(stderr, "%s: ", cli->cmd);
	}
	if (cli->line != 0) {
		fprintf(stderr, "line %lu: ", cli->line);
	}
	vfprintf(stderr, fmt, ap);
}

/* The one line an error gets: "acmezone: CMD: [line N: ]what". */
void cli_err(const cli_t *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A usage error: the same line, pointing at the relevant --help. */
int cli_usage(const cli_t *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	if (cli->cmd != NULL) {
		fprintf(stderr, " (see 'acmezone %s --help')\n", cli->cmd);
	} else {
		fputs(" (see 'acmezone --help')\n", stderr);
	}
	return RC_USAGE;
}

/*
 * A failed store call: "what (reason)", with the system's reason when a
 * system call failed (the store leaves errno set for AZ_EIO).  Call it
 * right after the failure, before anything else can change errno.
 */
void cli_store_err(const cli_t *cli, int ret, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	cli_vmsg(cli, fmt, ap);
	va_end(ap);
	if (ret == AZ_EIO && err != 0) {
		fprintf(stderr, " (%s: %s)\n", az_strerror(ret), strerror(err));
	} else {
		fprintf(stderr, " (%s)\n", az_strerror(ret));
	}
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("acmezone: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Input echoed in a message is untrusted: show at most CLI_QUOTE_IN octets
 * and escape anything that is not printable ASCII, so that a hostile
 * argument or batch line cannot send escape sequences to a terminal.
 */
const char *quote(const char *in, char out[CLI_QUOTE_MAX])
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0'; i++) {
		unsigned char c = (unsigned char)in[i];
		if (i == CLI_QUOTE_IN) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, CLI_QUOTE_MAX - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
	return out;
}

/* "5 s", "0.5 s": the wait timeout as the user wrote it. */
static void fmt_seconds(int ms, char *out, size_t size)
{
	int frac = ms % 1000, digits = 3;

	if (frac == 0) {
		snprintf(out, size, "%d s", ms / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(out, size, "%d.%0*d s", ms / 1000, digits, frac);
}

/* "59m12s", "2d3h", "45s": the two leading units of a span. */
static void fmt_span(uint64_t secs, char *out, size_t size)
{
	static const struct { char unit; uint64_t secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t o = 0;
	int shown = 0;

	out[0] = '\0';
	if (secs < 60) {
		snprintf(out, size, "%llus", (unsigned long long)secs);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && shown < 2; i++) {
		uint64_t n = secs / units[i].secs;
		secs %= units[i].secs;
		if (n == 0) {
			if (shown > 0) {
				break;	/* "3d", not "3d0h" */
			}
			continue;
		}
		o += (size_t)snprintf(out + o, size - o, "%llu%c",
		                      (unsigned long long)n, units[i].unit);
		shown++;
	}
}

/* ISO 8601 in UTC; false if the time cannot be represented. */
static bool fmt_time(int64_t t, char out[CLI_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL) {
		return false;
	}
	return strftime(out, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/*** Validating input: CLI arguments and batch lines alike. ***/

static int check_name(const cli_t *cli, const char *text,
                      uint8_t wire[AZ_NAME_MAXLEN])
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t len = 0;

	if (az_name_parse(text, wire, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid name (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}

int check_value(const cli_t *cli, const char *value)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";

	if (az_value_check(value, strlen(value), cli->raw, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid value (%s)", quote(value, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}

int check_duration(const cli_t *cli, const char *text, int64_t *secs)
{
	char q[CLI_QUOTE_MAX];

	if (az_duration_parse(text, secs) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid duration (1s to 3650d, "
		        "as in 90s, 30m, 2h or 1d)", quote(text, q));
		return RC_INPUT;
	}
	return RC_OK;
}

static int parse_zone(const cli_t *cli, const char *text, az_config_t *cfg);
static int parse_scheme(const cli_t *cli, const char *text, az_scheme_t *scheme);

/* SECONDS with up to three decimals, 0 to one hour, as milliseconds. */
static bool parse_wait(const char *s, int *ms)
{
	long whole = 0;
	int frac = 0, digits = 0, fdigits = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > CLI_MAX_WAIT_MS / 1000) {
			return false;
		}
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			if (fdigits == 3) {
				return false;	/* finer than a millisecond */
			}
			frac = frac * 10 + (*p - '0');
		}
	}
	if (*p != '\0' || digits + fdigits == 0) {
		return false;
	}
	for (int i = fdigits; i < 3; i++) {
		frac *= 10;
	}
	if (whole * 1000 + frac > CLI_MAX_WAIT_MS) {
		return false;
	}
	*ms = (int)(whole * 1000 + frac);
	return true;
}

/*** The option parser. ***/

/* The option an argument names; *inline_arg gets what follows '='. */
static const opt_t *opt_find(const char *arg, const char **inline_arg)
{
	size_t len;

	*inline_arg = NULL;
	if (arg[0] != '-' || arg[1] == '\0') {
		return NULL;
	}
	if (arg[1] != '-') {
		for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++) {
			if (arg[2] == '\0' && cli_opts[i].short_name == arg[1]) {
				return &cli_opts[i];
			}
		}
		return NULL;
	}
	arg += 2;
	len = strcspn(arg, "=");
	for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++) {
		if (strlen(cli_opts[i].name) == len &&
		    strncmp(cli_opts[i].name, arg, len) == 0) {
			if (arg[len] == '=') {
				*inline_arg = arg + len + 1;
			}
			return &cli_opts[i];
		}
	}
	return NULL;
}

/*
 * Take the option at argv[*i] (advancing *i past its argument).  Options
 * outside 'allowed' are usage errors, as are unknown ones.
 */
int cli_opt_take(cli_t *cli, unsigned allowed, char **argv, int *i)
{
	char q[CLI_QUOTE_MAX];
	const char *arg = argv[*i], *val = NULL;
	const opt_t *o = opt_find(arg, &val);

	if (o == NULL) {
		return cli_usage(cli, "unknown option '%s'", quote(arg, q));
	}
	if (!(o->id & allowed)) {
		return cli_usage(cli, "option '%s' does not apply here", quote(arg, q));
	}
	if (o->has_arg && val == NULL) {
		val = argv[*i + 1];
		if (val == NULL) {
			return cli_usage(cli, "option '%s' needs a value", quote(arg, q));
		}
		++*i;
	} else if (!o->has_arg && val != NULL) {
		return cli_usage(cli, "option '--%s' takes no value", o->name);
	}

	switch (o->id) {
	case OPT_DB:
		cli->db = val;
		break;
	case OPT_WAIT:
		if (!parse_wait(val, &cli->wait_ms)) {
			cli_err(cli, "'%s' is not a valid wait timeout (0 to 3600 "
			        "seconds, as in 5 or 0.5)", quote(val, q));
			return RC_INPUT;
		}
		break;
	case OPT_NO_WAIT:
		cli->no_wait = true;
		break;
	case OPT_HELP:
		return RC_HELP;
	case OPT_VERSION:
		return RC_VERSION;
	case OPT_GROUP:
		cli->group = val;
		break;
	case OPT_EXPIRE:
		cli->expire = val;
		break;
	case OPT_RAW:
		cli->raw = true;
		break;
	case OPT_JSON:
		cli->json = true;
		break;
	case OPT_VERBOSE:
		cli->verbose = true;
		break;
	case OPT_ZONE:
		cli->zone = val;
		break;
	case OPT_SCHEME:
		cli->scheme = val;
		break;
	case OPT_FORCE:
		cli->force = true;
		break;
	case OPT_SERVER:
		cli->server = val;
		break;
	case OPT_WAIT_AT:
		if (cli->nwait == CLI_MAX_WAIT) {
			return cli_usage(cli, "at most %d servers for --wait", CLI_MAX_WAIT);
		}
		cli->wait[cli->nwait++] = val;
		break;
	case OPT_PROPAGATION:
		cli->propagation_given = true;
		if (!parse_wait(val, &cli->propagation_ms)) {
			cli_err(cli, "'%s' is not a valid propagation timeout (0 to "
			        "3600 seconds, as in 60 or 0.5)", quote(val, q));
			return RC_INPUT;
		}
		break;
	}
	return RC_OK;
}

/*
 * An argument that starts with '-' but is a well-formed ACME value is a
 * value: base64url has '-' in its alphabet, and a hook that passes its
 * token as-is must not fail one time in 64.
 */
bool cli_is_option(const char *arg)
{
	const char *why;

	return arg[0] == '-' && arg[1] != '\0' &&
	       az_value_check(arg, strlen(arg), false, &why) != AZ_EOK;
}

/* Options before the command; *i ends at the command (or NULL). */
static int parse_global(cli_t *cli, char **argv, int *i)
{
	for (*i = 1; argv[*i] != NULL; ++*i) {
		if (strcmp(argv[*i], "--") == 0) {
			++*i;
			break;
		}
		if (argv[*i][0] != '-') {
			break;
		}
		int rc = cli_opt_take(cli, OPT_GLOBAL | OPT_VERSION, argv, i);
		if (rc != RC_OK) {
			return rc;
		}
	}
	return RC_OK;
}

/*
 * Options and positional arguments after the command, in any order; with
 * cmd->verbatim, whatever follows that many positional arguments is
 * positional too ("hook lego present -- ...": the client's own words).
 */
static int parse_cmd(cli_t *cli, const cmd_t *cmd, char **argv)
{
	char q[CLI_QUOTE_MAX];
	bool opts_done = false;

	for (int i = 0; argv[i] != NULL; i++) {
		if (cmd->verbatim > 0 && cli->npos >= cmd->verbatim) {
			cli->pos[cli->npos++] = argv[i];
		} else if (!opts_done && strcmp(argv[i], "--") == 0) {
			opts_done = true;
		} else if (!opts_done && cli_is_option(argv[i])) {
			int rc = cli_opt_take(cli, OPT_GLOBAL | cmd->opts, argv, &i);
			if (rc != RC_OK) {
				return rc;
			}
		} else if (cli->npos == cmd->max_pos) {
			return cli_usage(cli, "unexpected argument '%s'",
			                 quote(argv[i], q));
		} else {
			cli->pos[cli->npos++] = argv[i];
		}
	}
	if (cli->npos < cmd->min_pos) {
		return cli_usage(cli, "missing %s",
		                 cmd->pos_names[cli->npos < CLI_MAX_NAMES ? cli->npos : 0]);
	}
	return RC_OK;
}

/*** Writing: one transaction per command, then read-your-writes. ***/

static int open_store(cli_t *cli, unsigned flags, az_store_t **store)
{
	char q[CLI_QUOTE_MAX];
	const char *why = NULL;
	int ret, err;

	errno = 0;
	ret = az_store_open(store, cli->db, flags);
	if (ret == AZ_EOK) {
		return RC_OK;
	}
	*store = NULL;
	err = errno;
	if (ret == AZ_ENOENT) {
		cli_err(cli, "no store at '%s' (create one with 'acmezone init')",
		        cli->db);
	} else if (ret == AZ_EINVAL && !(flags & AZ_OPEN_RDONLY) &&
	           getenv(AZ_ENV_MAPSIZE) != NULL) {
		cli_err(cli, "%s='%s' is not a map size (64K to 1024G)", AZ_ENV_MAPSIZE,
		        quote(getenv(AZ_ENV_MAPSIZE), q));
		return RC_INPUT;
	} else if ((ret == AZ_EPERM || ret == AZ_EIO) && !(flags & AZ_OPEN_RDONLY) &&
	           az_store_trust(cli->db, &why) != AZ_EOK && why != NULL) {
		/* Say which of the trust rules the file breaks. */
		cli_err(cli, "cannot open '%s' (not trusted: %s)", cli->db, why);
	} else {
		errno = err;
		cli_store_err(cli, ret, "cannot open '%s'", cli->db);
	}
	return RC_STORE;
}

/*
 * A failed add or delete at name; returns the exit status.  A record that
 * does not decode can only be cleared whole, so say how.
 */
static int op_fail(const cli_t *cli, int ret, const char *verb, const char *name)
{
	char q[CLI_QUOTE_MAX];

	if (ret == AZ_ECORRUPT) {
		cli_err(cli, "cannot %s at '%s' (corrupt record; 'acmezone del "
		        "NAME' removes all of it)", verb, quote(name, q));
	} else {
		cli_store_err(cli, ret, "cannot %s at '%s'", verb, quote(name, q));
	}
	return (ret == AZ_EINVAL || ret == AZ_ETOOMANY) ? RC_INPUT : RC_STORE;
}

static int write_begin(cli_t *cli, az_store_t **store, az_txn_t **txn)
{
	int ret, rc;

	*txn = NULL;
	rc = open_store(cli, 0, store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_txn_begin(*store, txn);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot begin a write transaction on '%s'",
		              cli->db);
		*txn = NULL;
		return RC_STORE;
	}
	return RC_OK;
}

/*
 * Make the committed write visible to the servers before returning, so a
 * hook can tell the ACME server to look right away: ring the doorbell in
 * the sync file and wait for every live reader to acknowledge txnid.  The
 * write is committed whatever happens here, so problems are warnings.
 */
static int wait_readers(const cli_t *cli, uint64_t txnid)
{
	char secs[CLI_TIME_MAX];
	az_notify_t *nt = NULL;
	pid_t late = 0;
	int ret, rc = RC_OK;

	if (cli->no_wait) {
		return RC_OK;
	}
	ret = az_notify_open(&nt, cli->db, false);
	if (ret == AZ_ENOENT) {
		return RC_OK;	/* no sync file: nobody to wait for */
	}
	if (ret != AZ_EOK) {
		cli_warn("cannot open the sync file of '%s' (%s); not waiting "
		         "for readers", cli->db, az_strerror(ret));
		return RC_OK;
	}
	az_notify_ring(nt);
	ret = az_notify_wait(nt, txnid, cli->wait_ms, &late);
	if (ret == AZ_EUNSERVED) {
		/* A server has the zone but cannot read the store: the write
		 * will not be answered, which must not look like success. */
		cli_err(cli, "the write is committed, but the server with pid %ld "
		        "cannot read '%s' (%s) and does not serve it", (long)late,
		        cli->db, strerror(az_errno()));
		rc = RC_DNS;
	} else if (ret == AZ_EBUSY) {
		fmt_seconds(cli->wait_ms, secs, sizeof(secs));
		cli_warn("the reader with pid %ld has not confirmed transaction "
		         "%llu within %s", (long)late, (unsigned long long)txnid, secs);
	} else if (ret != AZ_EOK) {
		cli_warn("cannot wait for the readers of '%s' (%s)", cli->db,
		         az_strerror(ret));
	}
	az_notify_close(nt);
	return rc;
}

/*
 * Commit the transaction (consumed either way) and close the store; then,
 * if the transaction changed anything, wait for the readers.  A commit
 * that changed nothing writes no new transaction, so there is nothing new
 * for a reader to acknowledge.
 */
static int write_commit(cli_t *cli, az_store_t **store, az_txn_t **txn,
                        bool changed)
{
	uint64_t txnid = 0;
	int64_t t0 = az_mono_us();
	int ret = az_txn_commit(*txn, &txnid);
	int64_t t1 = az_mono_us();

	*txn = NULL;
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot commit to '%s'", cli->db);
		return RC_STORE;
	}
	az_store_close(*store);
	*store = NULL;
	int rc = changed ? wait_readers(cli, txnid) : RC_OK;
	if (cli->verbose && changed) {
		/* Timing on stderr, like apply's progress: stdout stays the
		 * one line scripts read. */
		fprintf(stderr, "acmezone: %s: committed transaction %llu in %lld us, "
		        "acknowledged in %lld us\n", cli->cmd,
		        (unsigned long long)txnid, (long long)(t1 - t0),
		        (long long)(az_mono_us() - t1));
	}
	return rc;
}

/*** init ***/

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

/* "PATH (mode 0640, owner root:knot)", from what is really on disk. */
static void init_describe(const char *path, bool owner)
{
	char who[160];
	struct stat st;

	if (stat(path, &st) != 0) {
		printf("%s (cannot stat: %s)", path, strerror(errno));
	} else if (owner) {
		fmt_owner(&st, who, sizeof(who));
		printf("%s (mode %04o, owner %s)", path,
		       (unsigned)(st.st_mode & 07777), who);
	} else {
		printf("%s (%04o)", path, (unsigned)(st.st_mode & 07777));
	}
}

static int cmd_init(cli_t *cli)
{
	char *dir = NULL, *slash, *side = NULL;
	az_config_t cfg = { .scheme = AZ_SCHEME_READABLE };
	bool made_dir = false;
	size_t side_size;
	struct stat st;
	gid_t gid;
	int rc, ret;

	rc = init_group(cli, &gid);
	if (rc == RC_OK && cli->zone != NULL) {
		rc = parse_zone(cli, cli->zone, &cfg);
	}
	if (rc == RC_OK && cli->scheme != NULL) {
		rc = cli->zone == NULL ?
		     cli_usage(cli, "--scheme needs --zone") :
		     parse_scheme(cli, cli->scheme, &cfg.scheme);
	}
	if (rc != RC_OK) {
		return rc;
	}
	if (lstat(cli->db, &st) == 0) {
		cli_err(cli, "'%s' already exists", cli->db);
		return RC_STORE;
	}

	/* The parent directory: create it if missing, readable by the group. */
	dir = strdup(cli->db);
	side_size = strlen(cli->db) + sizeof("-lock");
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
				cli_err(cli, "cannot create directory '%s' (%s)", dir,
				        strerror(errno));
				rc = RC_STORE;
				goto out;
			}
			made_dir = true;
			/* Not left to the umask: the group must be able to enter. */
			if (chmod(dir, CLI_DIR_MODE) != 0 ||
			    (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) != 0)) {
				cli_err(cli, "cannot set the mode or group of '%s' (%s)",
				        dir, strerror(errno));
				rc = RC_STORE;
				goto out;
			}
		}
	}

	errno = 0;
	ret = az_store_create_with(cli->db, gid, cfg.has_zone ? &cfg : NULL);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot create '%s'", cli->db);
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
	putchar('\n');
	if (cfg.has_zone) {
		char zone[AZ_NAME_TXTLEN];
		az_name_to_text(cfg.zone, zone, sizeof(zone));
		printf("challenge zone %s, scheme %s\n", zone, az_scheme_name(cfg.scheme));
	}
	rc = RC_OK;
out:
	/* Nothing is left behind on failure: the store cleans up its files. */
	if (rc != RC_OK && made_dir) {
		(void)rmdir(dir);
	}
	free(side);
	free(dir);
	return rc;
}

/*** Settings and names: the challenge zone, the scheme, delegation names. ***/

static int parse_zone(const cli_t *cli, const char *text, az_config_t *cfg)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t len = 0;

	if (az_name_parse(text, cfg->zone, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid zone (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	if (len > AZ_ZONE_MAXLEN) {
		cli_err(cli, "'%s' is not a valid zone (longer than %d octets: "
		        "no room for a label below it)", quote(text, q), AZ_ZONE_MAXLEN);
		return RC_INPUT;
	}
	cfg->has_zone = true;
	return RC_OK;
}

static int parse_scheme(const cli_t *cli, const char *text, az_scheme_t *scheme)
{
	char q[CLI_QUOTE_MAX];

	if (az_scheme_parse(text, scheme) != AZ_EOK) {
		cli_err(cli, "'%s' is not a naming scheme (readable, reversed or "
		        "hashed)", quote(text, q));
		return RC_INPUT;
	}
	return RC_OK;
}

/* Read the settings of the store (read-only). */
static int read_config(cli_t *cli, az_config_t *cfg)
{
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	int rc, ret;

	rc = open_store(cli, AZ_OPEN_RDONLY, &store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_reader_begin(store, &rd);
	if (ret == AZ_EOK) {
		ret = az_reader_config(rd, cfg);
		az_reader_end(rd);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->db);
		rc = RC_STORE;
	}
	az_store_close(store);
	return rc;
}

int cli_config(cli_t *cli, az_config_t *cfg, bool need_zone)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->scheme = AZ_SCHEME_READABLE;
	if (cli->zone != NULL) {
		rc = parse_zone(cli, cli->zone, cfg);
	} else {
		rc = read_config(cli, cfg);
	}
	if (rc == RC_OK && cli->scheme != NULL) {
		rc = parse_scheme(cli, cli->scheme, &cfg->scheme);
	}
	if (rc == RC_OK && need_zone && !cfg->has_zone) {
		cli_err(cli, "'%s' has no challenge zone (set it with 'acmezone "
		        "config --zone ZONE', or give --zone)", cli->db);
		rc = RC_STORE;
	}
	return rc;
}

/*
 * A name as add, del and list take it: a domain may have "*." in front,
 * else it must be a valid owner name.  Checked before the store is opened,
 * so that a bad name is an input error whatever state the store is in.
 */
static int check_name_syntax(const cli_t *cli, const char *text)
{
	uint8_t wire[AZ_NAME_MAXLEN];
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid", *t = text;
	size_t len = 0;

	if (t[0] == '*' && t[1] == '.') {
		t += 2;
	}
	if (az_name_parse(t, wire, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid name (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}

int cli_owner(const cli_t *cli, const az_config_t *cfg, const char *text,
              bool strict, uint8_t owner[AZ_NAME_MAXLEN], az_fallback_t *fallback)
{
	static const char prefix[] = "_acme-challenge.";
	char q[CLI_QUOTE_MAX], zone[AZ_NAME_TXTLEN];
	const char *why = "invalid", *t = text;
	size_t len = 0;

	if (fallback != NULL) {
		*fallback = AZ_FALLBACK_NONE;
	}
	if (!cfg->has_zone) {
		return check_name(cli, text, owner);
	}
	if (az_name_parse(text, owner, &len, &why) == AZ_EOK &&
	    az_name_under(owner, cfg->zone)) {
		if (len == az_name_wire_len(cfg->zone, AZ_NAME_MAXLEN)) {
			/* The zone file has the apex: knotd never asks us. */
			cli_err(cli, "'%s' is the apex of the challenge zone; tokens "
			        "go at names below it", quote(text, q));
			return RC_INPUT;
		}
		return RC_OK;		/* already a name in the challenge zone */
	}
	if (strncasecmp(t, prefix, sizeof(prefix) - 1) == 0) {
		t += sizeof(prefix) - 1;
	} else if (strict) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
		cli_err(cli, "'%s' is neither in the challenge zone %s nor an "
		        "_acme-challenge name (does its CNAME point elsewhere?)",
		        quote(text, q), zone);
		return RC_INPUT;
	}
	if (az_delegation(t, cfg->scheme, cfg->zone, owner, &len, fallback,
	                  &why) != AZ_EOK) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
		cli_err(cli, "'%s' is neither a name in the challenge zone %s nor a "
		        "domain (%s)", quote(text, q), zone, why);
		return RC_INPUT;
	}
	return RC_OK;
}

int cli_write_ops(cli_t *cli, cli_op_t *ops, size_t n, int64_t expire)
{
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_config_t cfg;
	bool changed = false;
	int64_t now;
	int rc, ret;

	rc = write_begin(cli, &store, &txn);
	if (rc != RC_OK) {
		goto out;
	}
	/* Read in the write transaction: the names map by what is committed. */
	ret = az_txn_get_config(txn, &cfg);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = cli_owner(cli, &cfg, ops[i].name, ops[i].strict, ops[i].owner,
		               &ops[i].fallback);
		if (rc != RC_OK) {
			goto out;
		}
	}
	now = (int64_t)time(NULL);
	for (size_t i = 0; i < n; i++) {
		cli_op_t *op = &ops[i];
		size_t len = op->value != NULL ? strlen(op->value) : 0;
		if (op->add) {
			op->expire = now + expire;
			ret = az_txn_add(txn, op->owner, (const uint8_t *)op->value,
			                 len, op->expire, now);
			changed = true;
		} else {
			ret = az_txn_del(txn, op->owner, (const uint8_t *)op->value,
			                 len, &op->removed);
			changed = changed || op->removed > 0;
		}
		if (ret != AZ_EOK) {
			rc = op_fail(cli, ret, op->add ? "add" : "delete", op->name);
			goto out;
		}
	}
	/* Deleting what is not there succeeds: cleanup hooks may run twice. */
	rc = write_commit(cli, &store, &txn, changed);
	if (rc == RC_OK) {
		rc = cli_wait_served(cli, ops, n);
	}
out:
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/*** add, del, purge ***/

static int cmd_add(cli_t *cli)
{
	cli_op_t op = { .name = cli->pos[0], .value = cli->pos[1], .add = true };
	int64_t ttl = CLI_DEFAULT_EXPIRE;
	int rc;

	rc = check_name_syntax(cli, op.name);
	if (rc == RC_OK) {
		rc = check_value(cli, op.value);
	}
	if (rc == RC_OK && cli->expire != NULL) {
		rc = check_duration(cli, cli->expire, &ttl);
	}
	if (rc != RC_OK) {
		return rc;
	}
	rc = cli_write_ops(cli, &op, 1, ttl);
	if (rc == RC_OK && cli->verbose) {
		char text[AZ_NAME_TXTLEN], when[CLI_TIME_MAX] = "?";
		az_name_to_text(op.owner, text, sizeof(text));
		(void)fmt_time(op.expire, when);
		printf("added %s at %s, expires %s\n", op.value, text, when);
	}
	return rc;
}

static int cmd_del(cli_t *cli)
{
	cli_op_t op = { .name = cli->pos[0], .value = cli->npos > 1 ? cli->pos[1] : NULL };
	int rc;

	rc = check_name_syntax(cli, op.name);
	if (rc == RC_OK && op.value != NULL) {
		rc = check_value(cli, op.value);
	}
	if (rc != RC_OK) {
		return rc;
	}
	rc = cli_write_ops(cli, &op, 1, 0);
	if (rc == RC_OK && cli->verbose) {
		char text[AZ_NAME_TXTLEN];
		az_name_to_text(op.owner, text, sizeof(text));
		printf("removed %u value(s) at %s\n", op.removed, text);
	}
	return rc;
}

static int cmd_purge(cli_t *cli)
{
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	size_t removed = 0;
	int rc, ret;

	rc = write_begin(cli, &store, &txn);
	if (rc != RC_OK) {
		goto out;
	}
	ret = az_txn_purge(txn, (int64_t)time(NULL), &removed);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot purge '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	rc = write_commit(cli, &store, &txn, removed > 0);
	if (rc == RC_OK && cli->verbose) {
		printf("purged %zu expired value(s)\n", removed);
	}
out:
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/*** list ***/

typedef struct {
	const cli_t *cli;
	int64_t now;
	unsigned long shown;
} list_t;

void json_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c >= 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

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

static void list_value(list_t *ls, const char *name, const az_val_t *val)
{
	char when[CLI_TIME_MAX], span[CLI_TIME_MAX];
	bool when_ok = fmt_time(val->expire, when);
	/* Same test as the store: not served once the expiry has passed. */
	bool expired = val->expire <= ls->now;

	if (ls->cli->json) {
		fputs(ls->shown == 0 ? "[\n  {\"name\": " : ",\n  {\"name\": ", stdout);
		json_string(name, strlen(name));
		fputs(", \"value\": ", stdout);
		json_string((const char *)val->data, val->len);
		printf(", \"expires\": %lld, \"expires_at\": ", (long long)val->expire);
		if (when_ok) {
			json_string(when, strlen(when));
		} else {
			fputs("null", stdout);
		}
		printf(", \"expired\": %s}", expired ? "true" : "false");
	} else {
		/* Unsigned: an expiry read back from the file may be any i64. */
		fmt_span(expired ? (uint64_t)ls->now - (uint64_t)val->expire :
		                   (uint64_t)val->expire - (uint64_t)ls->now,
		         span, sizeof(span));
		printf("%s  ", name);
		human_value(val->data, val->len);
		printf(expired ? "  expired %s (%s ago)\n" : "  expires %s (in %s)\n",
		       when_ok ? when : "(out of range)", span);
	}
	ls->shown++;
}

/* One owner name; a record that does not decode is reported and skipped. */
static int list_record(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	list_t *ls = ctx;
	char text[AZ_NAME_TXTLEN];
	az_val_t val;

	/* The store passes name == NULL for a key that is no wire name. */
	if (name == NULL || az_name_wire_len(name, AZ_NAME_MAXLEN) == 0) {
		cli_warn("'%s' holds a record whose owner name does not decode; "
		         "skipped", ls->cli->db);
		return 0;
	}
	az_name_to_text(name, text, sizeof(text));
	if (rec == NULL) {
		cli_warn("the record at '%s' in '%s' does not decode; skipped",
		         text, ls->cli->db);
		return 0;
	}
	while (az_rec_iter_next(rec, &val)) {
		list_value(ls, text, &val);
	}
	return 0;
}

static int cmd_list(cli_t *cli)
{
	list_t ls = { .cli = cli, .now = (int64_t)time(NULL) };
	uint8_t name[AZ_NAME_MAXLEN];
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	az_config_t cfg;
	az_rec_iter_t it;
	int rc, ret;

	if (cli->npos > 0) {
		rc = check_name_syntax(cli, cli->pos[0]);
		if (rc != RC_OK) {
			return rc;
		}
	}
	rc = open_store(cli, AZ_OPEN_RDONLY, &store);
	if (rc != RC_OK) {
		goto out;
	}
	ret = az_reader_begin(store, &rd);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read '%s'", cli->db);
		rd = NULL;
		rc = RC_STORE;
		goto out;
	}

	if (cli->npos > 0) {
		ret = az_reader_config(rd, &cfg);
		if (ret != AZ_EOK) {
			cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->db);
			rc = RC_STORE;
			goto out;
		}
		rc = cli_owner(cli, &cfg, cli->pos[0], false, name, NULL);
		if (rc != RC_OK) {
			goto out;
		}
		ret = az_reader_get(rd, name, &it);
		if (ret == AZ_EOK) {
			ret = list_record(name, &it, &ls);
		} else if (ret == AZ_ECORRUPT) {
			ret = list_record(name, NULL, &ls);
		} else if (ret == AZ_ENOENT) {
			ret = AZ_EOK;
		}
	} else {
		ret = az_reader_foreach(rd, NULL, list_record, &ls);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	if (cli->json) {
		fputs(ls.shown > 0 ? "\n]\n" : "[]\n", stdout);
	}
	rc = RC_OK;
out:
	az_reader_end(rd);
	az_store_close(store);
	return rc;
}

/*** apply ***/

typedef struct {
	cli_t *cli;
	az_txn_t *txn;
	az_config_t cfg;		/* names map by the store's settings */
	int64_t now, ttl;		/* ttl: for lines without a duration */
	unsigned long ops, added, removed;
} apply_t;

enum { LINE_OK, LINE_EOF, LINE_LONG, LINE_NUL, LINE_ERR };

/*
 * One line into buf (size CLI_LINE_MAX + 1), without its newline.  A fixed
 * buffer rather than getline(): a line over the limit is an error, so no
 * input can make the CLI allocate, however long its lines or how many.
 */
static int read_line(FILE *in, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(in)) != EOF) {
		if (c == '\n') {
			break;
		}
		if (c == '\0') {
			return LINE_NUL;
		}
		if (n == CLI_LINE_MAX) {
			return LINE_LONG;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(in)) {
		return LINE_ERR;
	}
	if (c == EOF && n == 0) {
		return LINE_EOF;
	}
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

/* Split on blanks; returns the field count, CLI_MAX_FIELDS + 1 if more. */
static int split_fields(char *line, char *field[CLI_MAX_FIELDS])
{
	int n = 0;

	for (;;) {
		line += strspn(line, " \t");
		if (*line == '\0') {
			return n;
		}
		if (n == CLI_MAX_FIELDS) {
			return n + 1;
		}
		field[n++] = line;
		line += strcspn(line, " \t");
		if (*line != '\0') {
			*line++ = '\0';
		}
	}
}

/* "add NAME VALUE [DURATION]" or "del NAME [VALUE]", into the transaction. */
static int apply_line(apply_t *ap, char *line, size_t len)
{
	char *f[CLI_MAX_FIELDS], q[CLI_QUOTE_MAX];
	uint8_t name[AZ_NAME_MAXLEN];
	int64_t ttl = ap->ttl;
	unsigned removed = 0;
	int n, rc, ret;
	bool add;

	if (len > 0 && line[len - 1] == '\r') {
		line[len - 1] = '\0';	/* tolerate CRLF files */
	}
	n = split_fields(line, f);
	if (n == 0 || f[0][0] == '#') {
		return RC_OK;
	}
	add = strcmp(f[0], "add") == 0;
	if (!add && strcmp(f[0], "del") != 0) {
		cli_err(ap->cli, "'%s' is not an operation (expected add or del)",
		        quote(f[0], q));
		return RC_INPUT;
	}
	if (add ? (n < 3 || n > 4) : (n < 2 || n > 3)) {
		cli_err(ap->cli, "expected '%s'", add ? "add NAME VALUE [DURATION]" :
		                                        "del NAME [VALUE]");
		return RC_INPUT;
	}

	rc = cli_owner(ap->cli, &ap->cfg, f[1], false, name, NULL);
	if (rc == RC_OK && n > 2) {
		rc = check_value(ap->cli, f[2]);
	}
	if (rc == RC_OK && add && n > 3) {
		rc = check_duration(ap->cli, f[3], &ttl);
	}
	if (rc != RC_OK) {
		return rc;
	}

	if (add) {
		ret = az_txn_add(ap->txn, name, (const uint8_t *)f[2], strlen(f[2]),
		                 ap->now + ttl, ap->now);
	} else {
		ret = az_txn_del(ap->txn, name, (const uint8_t *)(n > 2 ? f[2] : NULL),
		                 n > 2 ? strlen(f[2]) : 0, &removed);
	}
	if (ret != AZ_EOK) {
		return op_fail(ap->cli, ret, add ? "add" : "delete", f[1]);
	}
	ap->ops++;
	ap->added += add ? 1 : 0;
	ap->removed += removed;
	return RC_OK;
}

static int cmd_apply(cli_t *cli)
{
	const char *file = cli->npos > 0 ? cli->pos[0] : "-";
	bool use_stdin = strcmp(file, "-") == 0;
	apply_t ap = { .cli = cli, .ttl = CLI_DEFAULT_EXPIRE };
	char buf[CLI_LINE_MAX + 1];
	az_store_t *store = NULL;
	FILE *in = NULL;
	unsigned long lineno = 0;
	size_t len = 0;
	int rc, st;

	if (cli->expire != NULL) {
		rc = check_duration(cli, cli->expire, &ap.ttl);
		if (rc != RC_OK) {
			return rc;
		}
	}
	in = use_stdin ? stdin : fopen(file, "r");
	if (in == NULL) {
		cli_err(cli, "cannot open '%s' (%s)", file, strerror(errno));
		return RC_STORE;
	}
	rc = write_begin(cli, &store, &ap.txn);
	if (rc != RC_OK) {
		goto out;
	}
	if (az_txn_get_config(ap.txn, &ap.cfg) != AZ_EOK) {
		cli_err(cli, "cannot read the settings of '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	ap.now = (int64_t)time(NULL);

	/* Streamed: each line goes into the one transaction as it is read. */
	while ((st = read_line(in, buf, &len)) != LINE_EOF) {
		cli->line = ++lineno;
		if (st == LINE_ERR) {
			cli->line = 0;
			cli_err(cli, "cannot read '%s' (%s)", file, strerror(errno));
			rc = RC_STORE;
			goto out;
		} else if (st == LINE_LONG) {
			cli_err(cli, "longer than %d bytes", CLI_LINE_MAX);
			rc = RC_INPUT;
			goto out;
		} else if (st == LINE_NUL) {
			cli_err(cli, "contains a NUL byte");
			rc = RC_INPUT;
			goto out;
		}
		rc = apply_line(&ap, buf, len);
		if (rc != RC_OK) {
			goto out;
		}
		if (cli->verbose && lineno % CLI_PROGRESS == 0) {
			cli->line = 0;
			cli_err(cli, "%lu lines read", lineno);	/* progress, not an error */
		}
	}
	cli->line = 0;

	rc = write_commit(cli, &store, &ap.txn, ap.added > 0 || ap.removed > 0);
	if (rc == RC_OK && cli->verbose) {
		printf("applied %lu operation(s) from %lu line(s): %lu added or "
		       "refreshed, %lu value(s) removed\n", ap.ops, lineno,
		       ap.added, ap.removed);
	}
out:
	/* On any error the transaction is aborted: nothing is written. */
	az_txn_abort(ap.txn);
	az_store_close(store);
	if (in != NULL && !use_stdin) {
		(void)fclose(in);	/* read only: nothing to lose */
	}
	return rc;
}

/*** config ***/

static void config_show(const cli_t *cli, const az_config_t *cfg)
{
	char zone[AZ_NAME_TXTLEN];

	if (cfg->has_zone) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
	}
	if (cli->json) {
		fputs("{\"zone\": ", stdout);
		if (cfg->has_zone) {
			json_string(zone, strlen(zone));
		} else {
			fputs("null", stdout);
		}
		printf(", \"scheme\": \"%s\"}\n", az_scheme_name(cfg->scheme));
	} else if (cfg->has_zone) {
		printf("zone %s\nscheme %s\n", zone, az_scheme_name(cfg->scheme));
	} else {
		printf("zone (none: names are written as given)\nscheme %s\n",
		       az_scheme_name(cfg->scheme));
	}
}

static int cmd_config(cli_t *cli)
{
	char old[AZ_NAME_TXTLEN];
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_config_t cur, want;
	int rc, ret;

	if (cli->zone == NULL && cli->scheme == NULL) {
		rc = read_config(cli, &cur);
		if (rc == RC_OK) {
			config_show(cli, &cur);
		}
		return rc;
	}
	memset(&want, 0, sizeof(want));
	if (cli->zone != NULL && (rc = parse_zone(cli, cli->zone, &want)) != RC_OK) {
		return rc;
	}
	if (cli->scheme != NULL &&
	    (rc = parse_scheme(cli, cli->scheme, &want.scheme)) != RC_OK) {
		return rc;
	}

	rc = write_begin(cli, &store, &txn);
	if (rc != RC_OK) {
		goto out;
	}
	ret = az_txn_get_config(txn, &cur);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	if (cli->zone == NULL) {
		want.has_zone = cur.has_zone;
		memcpy(want.zone, cur.zone, sizeof(want.zone));
	}
	if (cli->scheme == NULL) {
		want.scheme = cur.scheme;
	}
	/* Customers' CNAMEs point at the names of the current settings. */
	if (cur.has_zone && !cli->force &&
	    (az_name_wire_len(cur.zone, AZ_NAME_MAXLEN) !=
	     az_name_wire_len(want.zone, AZ_NAME_MAXLEN) ||
	     memcmp(cur.zone, want.zone, az_name_wire_len(cur.zone, AZ_NAME_MAXLEN)) != 0 ||
	     cur.scheme != want.scheme)) {
		az_name_to_text(cur.zone, old, sizeof(old));
		rc = cli_usage(cli, "the challenge zone is %s with scheme %s; a change "
		               "moves every delegation name, so every customer's CNAME "
		               "must change too: add --force to do it", old,
		               az_scheme_name(cur.scheme));
		goto out;
	}
	ret = az_txn_set_config(txn, &want);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot write the settings of '%s'", cli->db);
		rc = RC_STORE;
		goto out;
	}
	rc = write_commit(cli, &store, &txn, true);
	if (rc == RC_OK && cli->verbose) {
		config_show(cli, &want);
	}
out:
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/*** cname ***/

typedef struct {
	char domain[AZ_DOMAIN_BUFLEN];
	char owner[AZ_NAME_TXTLEN], target[AZ_NAME_TXTLEN];
	az_fallback_t fallback;
	bool dup;			/* same owner as an earlier domain */
} cname_t;

/* The record a customer adds for one domain; prints the error. */
static int cname_of(const cli_t *cli, const az_config_t *cfg, const char *text,
                    cname_t *c)
{
	uint8_t target[AZ_NAME_MAXLEN], owner[AZ_NAME_MAXLEN];
	char q[CLI_QUOTE_MAX], otext[AZ_NAME_TXTLEN];
	const char *why = "invalid";
	size_t len;

	if (az_domain_parse(text, c->domain, &why) != AZ_EOK ||
	    az_delegation(c->domain, cfg->scheme, cfg->zone, target, &len,
	                  &c->fallback, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	snprintf(otext, sizeof(otext), "_acme-challenge.%s", c->domain);
	if (az_name_parse(otext, owner, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (_acme-challenge.%s: %s)",
		        quote(text, q), c->domain, why);
		return RC_INPUT;
	}
	az_name_to_text(owner, c->owner, sizeof(c->owner));
	az_name_to_text(target, c->target, sizeof(c->target));
	return RC_OK;
}

static int cmd_cname(cli_t *cli)
{
	cname_t *c = NULL;
	az_config_t cfg;
	int rc, shown = 0;

	rc = cli_config(cli, &cfg, true);
	if (rc != RC_OK) {
		return rc;
	}
	c = calloc((size_t)cli->npos, sizeof(*c));
	if (c == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	/* All or nothing: output meant to be pasted into a zone is whole. */
	for (int i = 0; i < cli->npos; i++) {
		rc = cname_of(cli, &cfg, cli->pos[i], &c[i]);
		if (rc != RC_OK) {
			goto out;
		}
		for (int k = 0; k < i; k++) {
			c[i].dup = c[i].dup || strcmp(c[k].owner, c[i].owner) == 0;
		}
	}
	for (int i = 0; i < cli->npos; i++) {
		if (c[i].dup) {
			continue;	/* *.example.org after example.org */
		}
		if (cli->json) {
			fputs(shown == 0 ? "[\n  {\"domain\": " : ",\n  {\"domain\": ", stdout);
			json_string(c[i].domain, strlen(c[i].domain));
			fputs(", \"owner\": ", stdout);
			json_string(c[i].owner, strlen(c[i].owner));
			fputs(", \"type\": \"CNAME\", \"target\": ", stdout);
			json_string(c[i].target, strlen(c[i].target));
			printf(", \"scheme\": \"%s\", \"hashed_because\": ",
			       c[i].fallback == AZ_FALLBACK_NONE ?
			       az_scheme_name(cfg.scheme) : "hashed");
			if (c[i].fallback == AZ_FALLBACK_NONE) {
				fputs("null}", stdout);
			} else {
				const char *why = az_label_fallback_str(c[i].fallback);
				json_string(why, strlen(why));
				putchar('}');
			}
		} else {
			if (c[i].fallback != AZ_FALLBACK_NONE) {
				printf("; %s: hashed label, not %s: %s\n", c[i].domain,
				       az_scheme_name(cfg.scheme),
				       az_label_fallback_str(c[i].fallback));
			}
			printf("%s\tIN\tCNAME\t%s\n", c[i].owner, c[i].target);
		}
		shown++;
	}
	if (cli->json) {
		fputs(shown > 0 ? "\n]\n" : "[]\n", stdout);
	}
out:
	free(c);
	return rc;
}

/*** Commands, help, main. ***/

static const cmd_t cli_cmds[] = {
	{ "init", cmd_init, OPT_GROUP | OPT_ZONE | OPT_SCHEME, 0, 0, { NULL }, 0,
	  "init [--group NAME] [--zone ZONE [--scheme SCHEME]]",
	  "Create a new store: the data file (mode 0640) and its lock and sync\n"
	  "files (mode 0660), owned by group NAME, else by group 'knot' if it\n"
	  "exists, else by your own group.  The parent directory is created\n"
	  "(mode 0750, same group) if it does not exist.  An existing file is\n"
	  "never touched.\n"
	  "\n"
	  "  --group NAME     group (name or numeric id) that may read the store\n"
	  "  --zone ZONE      the challenge zone: add, del and the hooks then take\n"
	  "                   customer domains and write at their delegation names\n"
	  "  --scheme SCHEME  how a domain becomes a label in ZONE: readable\n"
	  "                   (default: a-b.example.org -> a--b-example-org),\n"
	  "                   reversed (org-example-a--b) or hashed\n" },
	{ "config", cmd_config, OPT_ZONE | OPT_SCHEME | OPT_FORCE | OPT_JSON | OPT_VERBOSE,
	  0, 0, { NULL }, 0,
	  "config [--zone ZONE] [--scheme SCHEME] [--force] [--json] [-v]",
	  "Show the store's challenge zone and naming scheme, or set them.\n"
	  "Changing a zone or scheme that is set moves every delegation name,\n"
	  "so it needs --force.\n"
	  "\n"
	  "  --zone ZONE      set the challenge zone\n"
	  "  --scheme SCHEME  set the scheme: readable, reversed or hashed\n"
	  "  --force          change a zone or scheme that is already set\n"
	  "  --json           show them as {\"zone\": ..., \"scheme\": ...}\n"
	  "  -v, --verbose    show them after setting them\n" },
	{ "add", cmd_add, OPT_EXPIRE | OPT_RAW | OPT_VERBOSE | OPT_WAIT_AT | OPT_PROPAGATION,
	  2, 2, { "NAME", "VALUE" }, 0,
	  "add NAME VALUE [--expire DURATION] [--raw] [--wait SERVER]... [-v]",
	  "Add VALUE as a TXT value of NAME, or refresh its expiry if it is\n"
	  "already there.  Without a challenge zone, NAME is the owner name\n"
	  "(usually _acme-challenge.<domain>).  With one, NAME may be a customer\n"
	  "domain, _acme-challenge.<domain> or *.<domain> (all written at the\n"
	  "domain's delegation name), or a name in the zone (written as is).\n"
	  "The final dot is optional and case does not matter.\n"
	  "\n"
	  "  --expire DURATION  stop serving it after DURATION (90s, 30m, 2h, 1d;\n"
	  "                     default 1h)\n"
	  "  --raw              accept any printable ASCII value of 1-255 octets,\n"
	  "                     not only a 43-character ACME token\n"
	  "  --wait SERVER      then ask this authoritative server (ADDR[@PORT],\n"
	  "                     repeatable) until it serves the value\n"
	  "  --propagation-timeout SECONDS  how long --wait may take (default 60)\n"
	  "  -v, --verbose      say what was added\n" },
	{ "del", cmd_del, OPT_RAW | OPT_VERBOSE, 1, 2, { "NAME", "VALUE" }, 0,
	  "del NAME [VALUE] [--raw] [-v]",
	  "Delete VALUE at NAME, or every value at NAME.  NAME as for add.\n"
	  "Deleting what is not there is not an error.\n"
	  "\n"
	  "  --raw           VALUE need not be an ACME token\n"
	  "  -v, --verbose   say how many values were removed\n" },
	{ "list", cmd_list, OPT_JSON, 0, 1, { "NAME", NULL }, 0,
	  "list [NAME] [--json]",
	  "Show every value (or the values at NAME, named as for add) with its\n"
	  "expiry; expired values, which are no longer served, are marked.\n"
	  "\n"
	  "  --json   one JSON array of {name, value, expires, expires_at, expired}\n" },
	{ "purge", cmd_purge, OPT_VERBOSE, 0, 0, { NULL }, 0,
	  "purge [-v]",
	  "Remove every expired value.\n"
	  "\n"
	  "  -v, --verbose   say how many values were removed\n" },
	{ "apply", cmd_apply, OPT_EXPIRE | OPT_RAW | OPT_VERBOSE, 0, 1,
	  { "FILE", NULL }, 0,
	  "apply [FILE|-] [--expire DURATION] [--raw] [-v]",
	  "Apply a batch of lines from FILE (default: standard input) in one\n"
	  "transaction: all of them, or none if any line is invalid.\n"
	  "\n"
	  "  add NAME VALUE [DURATION]\n"
	  "  del NAME [VALUE]\n"
	  "\n"
	  "NAME as for add.  Fields are separated by blanks; blank lines and\n"
	  "lines starting with '#' are ignored; lines are at most 4096 bytes.\n"
	  "\n"
	  "  --expire DURATION  default for add lines without one (default 1h)\n"
	  "  --raw              values need not be ACME tokens\n"
	  "  -v, --verbose      report progress and counts\n" },
	{ "cname", cmd_cname, OPT_JSON | OPT_ZONE | OPT_SCHEME, 1, CMD_ANY,
	  { "DOMAIN", NULL }, 0,
	  "cname DOMAIN... [--json] [--zone ZONE] [--scheme SCHEME]",
	  "Print the record each customer adds to their zone, once, so that the\n"
	  "challenges for DOMAIN are answered from the challenge zone:\n"
	  "\n"
	  "  _acme-challenge.example.org.  IN  CNAME  example-org.acme.example.net.\n"
	  "\n"
	  "*.DOMAIN needs the same record as DOMAIN.  A label that would be\n"
	  "longer than 63 octets (or a name longer than 255) is hashed instead,\n"
	  "and a comment line says so.\n"
	  "\n"
	  "  --json           one JSON array of {domain, owner, type, target,\n"
	  "                   scheme, hashed_because}\n"
	  "  --zone ZONE      use this challenge zone, not the store's (the\n"
	  "                   store is not read: readable unless --scheme)\n"
	  "  --scheme SCHEME  use this scheme, not the store's\n" },
	{ "check", cmd_check, OPT_JSON | OPT_ZONE | OPT_SCHEME | OPT_SERVER, 1, CMD_ANY,
	  { "DOMAIN", NULL }, 0,
	  "check DOMAIN... [--server ADDR[@PORT]] [--json] [--zone ZONE] [--scheme SCHEME]",
	  "Resolve _acme-challenge.DOMAIN the way a CA does and say, per domain,\n"
	  "whether the CNAME is in place and points at the right name, and\n"
	  "whether the challenge zone answers for that name.  Exit status 0 if\n"
	  "every domain is ready, 4 if not.\n"
	  "\n"
	  "  --server ADDR[@PORT]  the recursive resolver to ask (default: the\n"
	  "                        nameservers of /etc/resolv.conf)\n"
	  "  --json                one JSON array of {domain, status, ...}\n"
	  "  --zone ZONE           use this challenge zone, not the store's\n"
	  "  --scheme SCHEME       use this scheme, not the store's\n" },
	{ "hook", cmd_hook, OPT_EXPIRE | OPT_VERBOSE | OPT_WAIT_AT | OPT_PROPAGATION,
	  1, CMD_ANY, { "CLIENT", NULL }, 1,
	  "hook [OPTIONS] certbot|lego|dehydrated [ARGS...]",
	  "Publish and remove challenges for an ACME client, speaking its hook\n"
	  "protocol; see acmezone(1) and doc/acme-clients.md for each client:\n"
	  "\n"
	  "  certbot     --manual-auth-hook and --manual-cleanup-hook\n"
	  "              'acmezone hook certbot' (the phase follows from the\n"
	  "              environment; 'auth' or 'cleanup' may be given)\n"
	  "  lego        EXEC_PATH=acmezone-lego: present|cleanup FQDN VALUE,\n"
	  "              and with EXEC_MODE=RAW present|cleanup -- DOMAIN TOKEN KEYAUTH\n"
	  "  dehydrated  HOOK=acmezone-dehydrated: deploy_challenge and\n"
	  "              clean_challenge DOMAIN TOKEN VALUE [...] (HOOK_CHAIN too);\n"
	  "              other handlers are ignored\n"
	  "\n"
	  "Options go before the client's name (certbot: after it too); the\n"
	  "environment may give them instead: ACMEZONE_EXPIRE, ACMEZONE_WAIT\n"
	  "(servers separated by blanks or commas), ACMEZONE_PROPAGATION_TIMEOUT.\n"
	  "\n"
	  "  --expire DURATION  lifetime of a value if cleanup never comes\n"
	  "                     (default 1h)\n"
	  "  --wait SERVER      ask this authoritative server (ADDR[@PORT],\n"
	  "                     repeatable) until it serves the value\n"
	  "  --propagation-timeout SECONDS  how long --wait may take (default 60)\n"
	  "  -v, --verbose      say what was written\n" },
};

static void usage_main(FILE *out)
{
	fputs("Usage: acmezone [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Keep ACME DNS-01 challenge tokens in the LMDB store that\n"
	      "mod-acmezone serves from knotd.\n"
	      "\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++) {
		fprintf(out, "  %s\n", cli_cmds[i].synopsis);
	}
	fprintf(out,
	      "\n"
	      "Options (before or after the command):\n"
	      "  --db PATH              the store (default: $%s, else\n"
	      "                         %s)\n"
	      "  --wait-timeout SECONDS wait at most this long for the servers to\n"
	      "                         confirm a write (default 5)\n"
	      "  --no-wait              do not wait for the servers\n"
	      "  -h, --help             this help; 'acmezone COMMAND --help' for one\n"
	      "  --version              print the version\n"
	      "\n"
	      "Exit status: 0 success, 1 store or system error, 2 usage error,\n"
	      "3 invalid input, 4 check found a problem or --wait timed out.\n"
	      "See acmezone(1).\n", AZ_ENV_DB, AZ_DEFAULT_DB);
}

static void usage_cmd(const cmd_t *cmd)
{
	printf("Usage: acmezone [OPTIONS] %s\n\n%s\n"
	       "Global options (--db, --wait-timeout, --no-wait): see "
	       "'acmezone --help'.\n", cmd->synopsis, cmd->help);
}

int main(int argc, char **argv)
{
	cli_t cli = { .wait_ms = CLI_DEFAULT_WAIT_MS,
	              .propagation_ms = CLI_DEFAULT_PROPAGATION * 1000 };
	const cmd_t *cmd = NULL;
	char q[CLI_QUOTE_MAX];
	const char *env;
	int i = 1, rc;

	if (argc < 1) {
		return RC_USAGE;
	}
	/* Never more positional arguments than arguments. */
	cli.pos = calloc((size_t)argc, sizeof(*cli.pos));
	if (cli.pos == NULL) {
		cli_err(&cli, "out of memory");
		return RC_STORE;
	}
	rc = parse_global(&cli, argv, &i);
	if (rc == RC_HELP) {
		usage_main(stdout);
		rc = RC_OK;
		goto out;
	} else if (rc == RC_VERSION) {
		printf("acmezone %s\n", PACKAGE_VERSION);
		rc = RC_OK;
		goto out;
	} else if (rc != RC_OK) {
		goto out;
	}
	if (argv[i] == NULL) {
		rc = cli_usage(&cli, "missing command");
		goto out;
	}
	for (size_t c = 0; c < sizeof(cli_cmds) / sizeof(cli_cmds[0]); c++) {
		if (strcmp(argv[i], cli_cmds[c].name) == 0) {
			cmd = &cli_cmds[c];
		}
	}
	if (cmd == NULL) {
		rc = cli_usage(&cli, "'%s' is not a command", quote(argv[i], q));
		goto out;
	}

	cli.cmd = cmd->name;
	rc = parse_cmd(&cli, cmd, argv + i + 1);
	if (rc == RC_HELP) {
		usage_cmd(cmd);
		rc = RC_OK;
		goto out;
	} else if (rc != RC_OK) {
		goto out;
	}
	if (cli.db == NULL) {
		env = getenv(AZ_ENV_DB);
		cli.db = (env != NULL && env[0] != '\0') ? env : AZ_DEFAULT_DB;
	}
	rc = cmd->run(&cli);
out:
	/* Output that did not reach its destination is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli.line = 0;
		cli_err(&cli, "cannot write the output (%s)", strerror(errno));
		rc = RC_STORE;
	}
	free(cli.pos);
	return rc;
}
